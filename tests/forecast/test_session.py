"""A live session's forecast: its schedule, budget and settings, the margin the monitor
sees now, the market from the broker (the pricing model fitted to its option chain)."""

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from brokers.openalgo_types import OptionChain
from brokers.simbroker.scenario import MarginPerBasket
from hedging.core.clock import IST
from hedging.models import Control
from hedging.services.forecast import (
    ForecastError,
    calibrate,
    fit_line,
    forecast_for_session,
    other_margin,
    telegram_message,
)
from hedging.services.sessions import session_ref
from tests.factories import StrategyScheduleFactory
from tests.forecast.helpers import NIFTY_0DTE, before_open, buys, sample, sample_forecast, session_like, sim_broker

pytestmark = pytest.mark.django_db


def test_a_session_before_the_open_plans_what_its_scenario_day_does():
    scenario = sample("one-entry-breach")
    client, _ = sim_broker(scenario)
    session = session_like(scenario)
    StrategyScheduleFactory(account=session.account, name="Off", entry_time=time(11, 0), baskets=5, enabled=False)
    StrategyScheduleFactory(account=session.account, name="Mondays", entry_time=time(11, 0), baskets=5, weekdays=1)

    result = forecast_for_session(session, broker=client, now=before_open(scenario))

    assert [e.name for e in result.entries] == ["P1", "P2"]  # the day's enabled rows only
    assert buys(result.planned) == buys(sample_forecast("one-entry-breach").planned) == [("09:40", 1)]
    buy = result.planned[0]
    assert (buy.for_entries, round(buy.util_projected_pct, 1), round(buy.util_after_pct, 1)) == (
        ("P2",),
        Decimal("99.9"),
        Decimal("81.0"),
    )
    assert result.assumptions.spot == Decimal("24000") and result.assumptions.other_margin == 0
    assert result.cap_covers and result.breaches == ()
    assert 0 < result.cost_low <= result.cost <= result.cost_high


def test_the_margin_outside_the_schedule_counts_as_the_monitor_sees_it():
    scenario = sample("unavoidable-breach")  # ₹1.5L of other margin in a ₹6L budget
    client, _ = sim_broker(replace(scenario, base_used_margin=[(time(9, 15), Decimal(400000))]))
    session = session_like(scenario, baseline_margin=Decimal(100000), excluded_margin=Decimal(150000))

    result = forecast_for_session(session, broker=client, now=before_open(scenario))

    assert result.assumptions.other_margin == Decimal(150000)  # 4L used − 1L baseline − 1.5L excluded
    assert buys(result.planned) == buys(sample_forecast("unavoidable-breach").planned) == [("09:25", 3)]
    assert result.breaches == ("P1",)


def test_before_the_baseline_all_margin_in_use_is_overnight():
    scenario = replace(sample("one-entry-breach"), base_used_margin=[(time(9, 15), Decimal(400000))])
    client, _ = sim_broker(scenario)
    session = session_like(scenario)
    now = before_open(scenario)
    assert other_margin(session, client, NIFTY_0DTE, 65, now) == 0
    session.baseline_margin = Decimal(250000)
    assert other_margin(session, client, NIFTY_0DTE, 65, now) == Decimal(150000)
    session.baseline_margin = Decimal(500000)
    assert other_margin(session, client, NIFTY_0DTE, 65, now) == 0  # never below zero


def test_the_plan_ignores_the_switches_but_says_they_are_off():
    scenario = sample("one-entry-breach")
    client, _ = sim_broker(scenario)
    Control.objects.update_or_create(pk=1, defaults={"auto_enabled": False})
    session = session_like(scenario)

    result = forecast_for_session(session, broker=client, now=before_open(scenario))

    assert buys(result.planned) == [("09:40", 1)]
    assert result.auto_enabled is False and Control.get().auto_enabled is False
    assert "Auto-hedge is off" in telegram_message(result, session_ref(session))


@pytest.mark.parametrize("index, name, margin", [
    ("NIFTY", "one-entry-breach", NIFTY_0DTE),
    ("SENSEX", "sensex-expiry-day", MarginPerBasket(Decimal(367000), Decimal(160000))),
])
def test_calibration_reads_the_simulated_brokers_model_back(index, name, margin):
    scenario = sample(name)
    client, _ = sim_broker(scenario, margin)
    exchange = f"{'NSE' if index == 'NIFTY' else 'BSE'}_INDEX"
    chain = client.option_chain(index, exchange, scenario.expiry)
    spot = scenario.market.spot[0][1]
    spec = calibrate(chain, spot, before_open(scenario), scenario.expiry, Decimal(25) * scenario.market.strike_step)
    assert spec.strike_step == scenario.market.strike_step
    assert abs(spec.iv_atm - Decimal("0.12")) < Decimal("0.002")
    assert abs(spec.iv_wing_slope - Decimal("0.04")) < Decimal("0.002")


def test_calibration_refuses_a_chain_with_nothing_to_read():
    empty = OptionChain("NIFTY", Decimal(24000), "24NOV26", Decimal(24000), ())
    with pytest.raises(ForecastError) as refused:
        calibrate(empty, Decimal(24000), datetime(2026, 11, 24, 9, 5, tzinfo=IST), date(2026, 11, 24), Decimal(1000))
    assert refused.value.field == "option_chain"
    with pytest.raises(ForecastError) as expired:
        calibrate(empty, Decimal(24000), datetime(2026, 11, 24, 15, 31, tzinfo=IST), date(2026, 11, 24), Decimal(1000))
    assert expired.value.field == "expiry"


def test_the_wing_is_fitted_by_least_squares_and_never_falls():
    iv_atm, slope = fit_line([(0.0, 0.10), (1.0, 0.14), (2.0, 0.18)])
    assert (round(iv_atm, 6), round(slope, 6)) == (0.10, 0.04)
    assert fit_line([(0.0, 0.20), (2.0, 0.10)]) == (pytest.approx(0.15), 0.0)
    assert fit_line([(1.0, 0.12)]) == (0.12, 0.0)
