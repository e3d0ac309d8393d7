"""What-if: the same forecast with settings overridden, never saving anything; bad
input refused with the field named."""

from datetime import date
from decimal import Decimal

import pytest

from hedging.models import Alert, BrokerAccount, DailySession, ExchangeHoliday, Forecast, HedgeTransaction, MarginSnapshot
from hedging.services.forecast import ForecastError, forecast_for_session, forecast_scenario
from tests.forecast.helpers import before_open, buys, sample, sample_forecast, session_like, sim_broker

SAVED = (BrokerAccount, DailySession, HedgeTransaction, MarginSnapshot, Alert, Forecast)


def counts() -> list[int]:
    return [model.objects.count() for model in SAVED]


@pytest.mark.django_db
def test_a_budget_raised_enough_plans_no_hedge_and_saves_nothing():
    scenario = sample("one-entry-breach")
    client, _ = sim_broker(scenario)
    session = session_like(scenario)
    before = counts()

    result = forecast_for_session(session, {"budget": "2000000"}, broker=client, now=before_open(scenario))

    assert result.planned == () and result.cap_covers
    assert result.budget == Decimal(2000000) and result.peak_util_pct < result.entry_trigger_pct
    assert counts() == before
    session.refresh_from_db()
    assert session.budget == Decimal(1300000)


@pytest.mark.django_db
def test_a_cap_lowered_reports_the_shortfall_from_the_first_entry_it_hits():
    first, second = sample_forecast("sensex-expiry-day").planned  # S2 at 10:25, S3 at 10:55
    cap = first.cost + second.cost / 2  # pays for S2's hedges and one of S3's two

    result = forecast_scenario(sample("sensex-expiry-day"), {"max_hedge_cost_per_day": cap})

    assert not result.cap_covers and result.shortfall_from == "S3"
    assert buys(result.planned) == [("10:25", 2), ("10:55", 1)]
    assert buys(result.needed) == [("10:25", 2), ("10:55", 2)]
    assert result.cap == cap and result.cost <= cap
    assert result.to_json()["cap_covers"] is False and result.to_json()["shortfall_from"] == "S3"


@pytest.mark.django_db
def test_fewer_baskets_for_an_entry_need_no_hedge():
    result = forecast_scenario(sample("one-entry-breach"), {"baskets": {"P2": 1}, "budget": "", "entry_trigger_pct": None})
    assert result.planned == ()
    assert [(e.name, e.baskets) for e in result.entries] == [("P1", 1), ("P2", 1)]


@pytest.mark.parametrize("overrides, field", [
    ({"budjet": 2000000}, "budjet"),
    ({"budget": "lots"}, "budget"),
    ({"budget": 0}, "budget"),
    ({"budget": 10**11}, "budget"),  # more baskets than the replay session counts
    ({"entry_target_pct": 97}, "entry_target_pct"),  # above the 95% trigger
    ({"max_hedge_cost_per_day": "1e20"}, "max_hedge_cost_per_day"),  # more than the column holds
    ({"lookahead_minutes": "2.5"}, "lookahead_minutes"),
    ({"baskets": 3}, "baskets"),
    ({"baskets": {"P9": 2}}, "baskets.P9"),
    ({"baskets": {"P2": 0}}, "baskets.P2"),
])
def test_a_what_if_names_the_field_it_refuses(overrides, field):
    with pytest.raises(ForecastError) as refused:
        forecast_scenario(sample("one-entry-breach"), overrides)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")


@pytest.mark.django_db
@pytest.mark.parametrize("day, why", [
    (date(2026, 11, 28), "not a trading day"),  # a Saturday
    (date(2026, 11, 23), "not a trading day"),  # a holiday, below
    (date(2026, 11, 25), "after the expiry"),
])
def test_a_day_that_cannot_be_forecast_is_refused(day, why):
    ExchangeHoliday.objects.create(exchange="NSE", date=date(2026, 11, 23), description="test holiday")
    with pytest.raises(ForecastError, match=why) as refused:
        forecast_scenario(sample("one-entry-breach"), day=day)
    assert refused.value.field == "date"
