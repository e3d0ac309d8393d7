"""The server-rendered SVG charts."""

import re
from datetime import time
from decimal import Decimal

import pytest

from hedging import charts
from hedging.core.clock import MARKET_CLOSE, MARKET_OPEN, at
from hedging.services.analytics import Marker, Point, Series
from tests.fixtures.simbroker import SIM_DAY


class Day:
    date = SIM_DAY


def series(points=(), markers=()):
    return Series(
        session=Day(),
        start=at(SIM_DAY, MARKET_OPEN),
        end=at(SIM_DAY, MARKET_CLOSE),
        points=tuple(Point(at(SIM_DAY, moment), Decimal(pct)) for moment, pct in points),
        markers=tuple(markers),
        thresholds=(("entry trigger", Decimal(95)), ("target", Decimal(85)), ("exit trigger", Decimal(70))),
    )


def polyline(svg: str) -> list[tuple[float, float]]:
    points = re.search(r'<polyline class="util-line" points="([^"]+)"', svg).group(1)
    return [tuple(map(float, pair.split(","))) for pair in points.split()]


def test_utilisation_is_drawn_across_the_session_with_the_thresholds():
    svg = charts.utilisation_chart(series([(time(9, 15), "0"), (time(12, 22, 30), "55"), (time(15, 30), "110")]))
    (x0, y0), (x1, y1), (x2, y2) = polyline(svg)
    assert x0 < x1 < x2 and abs((x1 - x0) - (x2 - x1)) < 0.2  # 12:22:30 is half-way through the session
    assert y0 > y1 > y2  # higher utilisation is drawn higher up
    for label in ("95% entry trigger", "85% target", "70% exit trigger", "100% budget"):
        assert label in svg


def test_markers_are_labelled_and_escaped():
    moment = at(SIM_DAY, time(9, 40))
    svg = charts.utilisation_chart(
        series([(time(9, 16), "40")], [Marker(moment, "<P2>", "entry"), Marker(moment, "BUY 1", "buy")])
    )
    assert "&lt;P2&gt; 09:40" in svg and "<P2>" not in svg
    assert 'class="marker buy"' in svg and "BUY 1 09:40" in svg


def test_no_readings_says_so():
    svg = charts.utilisation_chart(series())
    assert "No margin readings for this session" in svg and "<polyline" not in svg


def test_bars_scale_to_the_largest_value_and_go_below_zero():
    groups = [
        charts.BarGroup("23 Nov", "NIFTY", (Decimal(1000), Decimal(4000))),
        charts.BarGroup("24 Nov", "replay", (Decimal(-500), Decimal(0))),
    ]
    svg = charts.bar_chart(groups, [("actual", "actual"), ("static", "static")], lambda v: f"{v:.0f}", "spend")
    heights = {title: float(h) for h, title in re.findall(r'height="([\d.]+)"><title>([^<]+)</title>', svg)}
    assert heights["23 Nov static: 4000"] == pytest.approx(4 * heights["23 Nov actual: 1000"], abs=0.5)
    assert heights["24 Nov actual: -500"] == pytest.approx(heights["23 Nov actual: 1000"] / 2, abs=0.5)
    assert "replay" in svg


def test_the_gauge_colours_the_utilisation_by_threshold():
    assert 'gauge-fill ok' in charts.gauge(Decimal(60), Decimal(95), Decimal(85), Decimal(70))
    assert 'gauge-fill warn' in charts.gauge(Decimal(90), Decimal(95), Decimal(85), Decimal(70))
    assert 'gauge-fill bad' in charts.gauge(Decimal("96.4"), Decimal(95), Decimal(85), Decimal(70))
    assert "gauge-fill" not in charts.gauge(None, Decimal(95), Decimal(85), Decimal(70))
