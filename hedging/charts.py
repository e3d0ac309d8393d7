"""Server-rendered SVG charts: no JavaScript, no library, legible on a second screen.
Every text placed in the SVG is escaped here."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

from hedging.core.clock import IST
from hedging.messages import counted, format_lakh
from hedging.services.analytics import Series

THRESHOLD_CLASS = {"entry trigger": "trigger", "target": "target", "exit trigger": "exit"}


@dataclass(frozen=True)
class Plot:
    """The drawing area inside the axes, and the value range it maps."""

    left: float
    top: float
    width: float
    height: float
    y_min: float
    y_max: float

    def y(self, value: float) -> float:
        return self.top + self.height * (1 - (value - self.y_min) / (self.y_max - self.y_min))

    @property
    def bottom(self) -> float:
        return self.top + self.height


def svg(width: int, height: int, title: str, body: list[str]) -> SafeString:
    return mark_safe(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def text(x: float, y: float, content: str, cls: str = "", anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{cls}"/>'


def nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks if span > 0 else 1
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def y_axis(plot: Plot, step: float, label: Callable[[float], str], right: float) -> list[str]:
    parts, value = [], math.ceil(plot.y_min / step) * step
    while value <= plot.y_max + 1e-9:
        y = plot.y(value)
        parts += [line(plot.left, y, right, y, "grid"), text(plot.left - 8, y + 4, label(value), "tick", "end")]
        value += step
    return parts


# --- utilisation through the day ---------------------------------------------------------


def utilisation_chart(series: Series, width: int = 960, height: int = 340) -> SafeString:
    peak = max((float(p.utilisation_pct) for p in series.points), default=0.0)
    plot = Plot(52, 44, width - 52 - 118, height - 44 - 34, 0, max(110.0, math.ceil(peak / 10) * 10 + 10))
    span = (series.end - series.start).total_seconds()

    def x(moment: datetime) -> float:
        seconds = (moment - series.start).total_seconds()
        return plot.left + plot.width * min(max(seconds / span, 0), 1)

    right = plot.left + plot.width
    body = y_axis(plot, 20, lambda v: f"{v:.0f}%", right)
    body += time_axis(series.start, series.end, x, plot)
    body.append(line(plot.left, plot.y(100), right, plot.y(100), "budget"))
    body.append(text(right + 6, plot.y(100) + 4, "100% budget", "threshold-label budget-label"))
    for name, pct in series.thresholds:
        y = plot.y(float(pct))
        cls = THRESHOLD_CLASS[name]
        body += [
            line(plot.left, y, right, y, f"threshold {cls}"),
            text(right + 6, y + 4, f"{pct:.0f}% {name}", f"threshold-label {cls}"),
        ]
    body += markers(series, x, plot)
    if series.points:
        coords = " ".join(f"{x(p.at):.1f},{plot.y(float(p.utilisation_pct)):.1f}" for p in series.points)
        first, last = x(series.points[0].at), x(series.points[-1].at)
        body.append(f'<polygon class="area" points="{first:.1f},{plot.bottom:.1f} {coords} {last:.1f},{plot.bottom:.1f}"/>')
        body.append(f'<polyline class="util-line" points="{coords}"/>')
    else:
        body.append(
            text(plot.left + plot.width / 2, plot.top + plot.height / 2, "No margin readings for this session", "empty", "middle")
        )
    return svg(width, height, f"Utilisation through {series.session.date:%d %b %Y}", body)


def time_axis(start: datetime, end: datetime, x: Callable[[datetime], float], plot: Plot) -> list[str]:
    parts = [line(plot.left, plot.bottom, plot.left + plot.width, plot.bottom, "axis")]
    moment = start.replace(minute=0) + timedelta(hours=1)
    ticks = [start] + [moment + timedelta(hours=h) for h in range(int((end - moment).total_seconds() // 3600) + 1)] + [end]
    for tick in ticks:
        parts.append(text(x(tick), plot.bottom + 20, f"{tick.astimezone(IST):%H:%M}", "tick", "middle"))
    return parts


def markers(series: Series, x: Callable[[datetime], float], plot: Plot) -> list[str]:
    """Entries and hedge actions as vertical lines, their labels staggered over three rows."""
    parts = []
    for row, marker in enumerate(series.markers):
        mx = x(marker.at)
        label_y = plot.top - 28 + (row % 3) * 12
        parts.append(line(mx, label_y + 3, mx, plot.bottom, f"marker {marker.kind}"))
        parts.append(text(mx + 3, label_y, f"{marker.label} {marker.at.astimezone(IST):%H:%M}", f"marker-label {marker.kind}"))
    return parts


# --- grouped bars --------------------------------------------------------------------------


@dataclass(frozen=True)
class BarGroup:
    label: str
    sublabel: str  # e.g. "replay" or the account
    values: tuple[Decimal | int, ...]


def bar_chart(
    groups: Sequence[BarGroup],
    series: Sequence[tuple[str, str]],
    value_label: Callable[[float], str],
    title: str,
    width: int = 960,
    height: int = 300,
    min_step: float = 0,
) -> SafeString:
    """One group of bars per day, one bar per series (name, css class), with a legend.
    `min_step`: the smallest gap between two grid lines (1 for counts)."""
    values = [float(v) for g in groups for v in g.values]
    low, high = min(values + [0.0]), max(values + [0.0])
    step = max(nice_step(high - low or 1), min_step)
    plot = Plot(84, 40, width - 84 - 16, height - 40 - 46, math.floor(low / step) * step, math.ceil(high / step) * step or step)
    body = y_axis(plot, step, value_label, plot.left + plot.width)
    body += legend(series, plot)
    body.append(line(plot.left, plot.y(0), plot.left + plot.width, plot.y(0), "axis"))
    if not groups:
        body.append(text(plot.left + plot.width / 2, plot.top + plot.height / 2, "No sessions in this range", "empty", "middle"))
        return svg(width, height, title, body)
    slot = plot.width / len(groups)
    bar = min(slot * 0.8 / len(series), 48)
    for i, group in enumerate(groups):
        centre = plot.left + slot * (i + 0.5)
        start = centre - bar * len(series) / 2
        for j, ((name, cls), value) in enumerate(zip(series, group.values)):
            top, bottom = sorted((plot.y(float(value)), plot.y(0)))
            body.append(
                f'<rect class="bar {cls}" x="{start + j * bar:.1f}" y="{top:.1f}" width="{bar - 2:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}">'
                f'<title>{escape(f"{group.label} {name}: {value_label(float(value))}")}</title></rect>'
            )
        body.append(text(centre, plot.bottom + 18, group.label, "tick", "middle"))
        if group.sublabel:
            body.append(text(centre, plot.bottom + 32, group.sublabel, "tick sub", "middle"))
    return svg(width, height, title, body)


def legend(series: Sequence[tuple[str, str]], plot: Plot) -> list[str]:
    parts, x = [], plot.left
    for name, cls in series:
        parts.append(f'<rect class="bar {cls}" x="{x:.1f}" y="{plot.top - 30:.1f}" width="12" height="12"/>')
        parts.append(text(x + 17, plot.top - 20, name, "legend"))
        x += 30 + 8 * len(name)
    return parts


# --- utilisation gauge ---------------------------------------------------------------------


def gauge(utilisation_pct: Decimal | None, trigger: Decimal, target: Decimal, exit: Decimal, width: int = 420) -> SafeString:
    """A bar from 0 to 110% of the budget, filled to the utilisation, with the exit
    trigger, target and entry trigger marked above it (labels on two rows) and the budget
    below it, so no label meets another or a mark's line."""
    height, top, bar_height, scale = 84, 34, 24, 110.0
    bottom = top + bar_height

    def x(pct: float) -> float:
        return 4 + (width - 8) * min(max(pct, 0), scale) / scale

    body = [f'<rect class="gauge-track" x="4" y="{top}" width="{width - 8}" height="{bar_height}" rx="4"/>']
    if utilisation_pct is not None:
        level = "bad" if utilisation_pct > trigger else "warn" if utilisation_pct > target else "ok"
        fill = x(float(utilisation_pct)) - 4
        body.append(f'<rect class="gauge-fill {level}" x="4" y="{top}" width="{fill:.1f}" height="{bar_height}" rx="4"/>')
    marks = (
        (exit, f"exit {exit:.0f}", "exit"),
        (target, f"target {target:.0f}", "target"),
        (trigger, f"trigger {trigger:.0f}", "trigger"),
    )
    for row, (pct, label, cls) in enumerate(marks):
        mx, label_y = x(float(pct)), 13 + (row % 2) * 15
        body.append(line(mx, label_y + 3, mx, bottom + 4, f"gauge-mark {cls}"))
        body.append(text(mx, label_y, label, f"gauge-label {cls}", "middle"))
    budget_x = x(100.0)
    body.append(line(budget_x, top - 4, budget_x, bottom + 8, "gauge-mark budget"))
    body.append(text(budget_x, bottom + 22, "budget", "gauge-label budget", "middle"))
    title = "Utilisation unknown" if utilisation_pct is None else f"Utilisation {utilisation_pct:.1f}% of budget"
    return svg(width, height, title, body)


# --- the day's plan (the morning forecast) -------------------------------------------------


def plan_chart(plan: dict, actual: dict | None = None, width: int = 960, height: int = 420) -> SafeString:
    """The forecast's day (ForecastResult.detail()): projected utilisation, the entries and
    planned hedge buys, trigger and target lines; below, the planned spend against the
    daily cap. `actual` (plan_against_actual) adds each entry's utilisation as it happened
    and the buys made."""
    start, end = minutes("09:15:00"), minutes("15:30:00")
    projected = [(minutes(p["time"]), p["util_pct"]) for p in plan["timeline"]]
    done = [
        (minutes(e["time"]), e["actual_util_pct"]) for e in (actual or {}).get("entries", []) if e["actual_util_pct"] is not None
    ]
    peak = max([u for _, u in projected + done] + [plan["entry_trigger_pct"]])
    plot = Plot(52, 50, width - 52 - 118, 230, 0, max(110.0, math.ceil(peak / 10) * 10 + 10))
    right = plot.left + plot.width

    def x(minute: float) -> float:
        return plot.left + plot.width * min(max((minute - start) / (end - start), 0), 1)

    body = y_axis(plot, 20, lambda v: f"{v:.0f}%", right)
    body += [line(plot.left, plot.bottom, right, plot.bottom, "axis")]
    body += [text(x(m), plot.bottom + 18, f"{m // 60:02.0f}:{m % 60:02.0f}", "tick", "middle") for m in range(start, end + 1, 75)]
    for pct, name, cls in ((plan["entry_trigger_pct"], "trigger", "trigger"), (plan["entry_target_pct"], "target", "target")):
        y = plot.y(pct)
        body += [
            line(plot.left, y, right, y, f"threshold {cls}"),
            text(right + 6, y + 4, f"{pct:.0f}% {name}", f"threshold-label {cls}"),
        ]
    labels = [(minutes(e["time"]), f"{e['name']} ×{e['baskets']}", "entry") for e in plan["entries"]]
    labels += [(minutes(b["time"]), f"+{b['hedge_baskets']} hedge", "buy") for b in plan["planned"]]
    for row, (minute, label, kind) in enumerate(sorted(labels)):
        mx, label_y = x(minute), plot.top - 34 + (row % 3) * 12
        body += [line(mx, label_y + 3, mx, plot.bottom, f"marker {kind}"), text(mx + 3, label_y, label, f"marker-label {kind}")]
    if projected:
        body.append(f'<polyline class="plan-line" points="{steps(projected, end, x, plot)}"/>')
    if done:
        body.append(f'<polyline class="actual-line" points="{" ".join(f"{x(m):.1f},{plot.y(u):.1f}" for m, u in done)}"/>')
        body += [f'<circle class="actual-dot" cx="{x(m):.1f}" cy="{plot.y(u):.1f}" r="4"/>' for m, u in done]
    body += [f'<path class="actual-buy" d="M{x(minutes(b["time"])):.1f},{plot.bottom - 10:.1f} l-6,10 h12 z"/>'
             for b in (actual or {}).get("actual_buys", [])]
    body += cap_strip(plan, x, plot.left, right, plot.bottom + 40)
    return svg(width, height, f"Plan for {plan['day']}: {counted(len(plan['planned']), 'hedge buy')}", body)


def minutes(hms: str) -> int:
    hours, mins, _ = hms.split(":")
    return int(hours) * 60 + int(mins)


def steps(points: Sequence[tuple[int, float]], end: int, x: Callable[[float], float], plot: Plot) -> str:
    """A step line: each value holds until the next point (and the last until `end`)."""
    coords = []
    for (minute, value), (until, _) in zip(points, [*points[1:], (end, None)]):
        coords += [f"{x(minute):.1f},{plot.y(value):.1f}", f"{x(until):.1f},{plot.y(value):.1f}"]
    return " ".join(coords)


def cap_strip(plan: dict, x: Callable[[float], float], left: float, right: float, top: float) -> list[str]:
    """The planned buys' cumulative cost (and, when the cap falls short, the needed
    buys') against the daily cap."""
    cap, cost = rupees(plan["cap"]), rupees(plan["cost"])
    needed = sum((rupees(b["cost"]) for b in plan["needed"]), Decimal(0))
    plot = Plot(left, top, right - left, 70, 0, float(max(cap, needed)) * 1.1 or 1)
    cap_y = plot.y(float(cap))
    body = [line(left, plot.bottom, right, plot.bottom, "axis"), line(left, cap_y, right, cap_y, "cap-line"),
            text(right + 6, cap_y + 4, f"cap {format_lakh(cap)}", "threshold-label cap-label"),
            text(left - 8, plot.bottom + 4, "₹0", "tick", "end")]
    for buys, cls in ((plan["needed"], "needed-cost"), (plan["planned"], "planned-cost")):
        total, points = Decimal(0), [(minutes("09:15:00"), 0.0)]
        for buy in buys:
            total += rupees(buy["cost"])
            points.append((minutes(buy["time"]), float(total)))
        body.append(f'<polyline class="{cls}" points="{steps(points, minutes("15:30:00"), x, plot)}"/>')
    spent = f"planned spend {format_lakh(cost)} of the cap" + (
        "" if plan["cap_covers"] else f"; the day needs {format_lakh(needed)}"
    )
    return [*body, text(left, plot.bottom + 18, spent, "legend")]


def rupees(value: float) -> Decimal:
    """A rupee amount from the forecast's JSON (a plain number) as Decimal."""
    return Decimal(str(value))
