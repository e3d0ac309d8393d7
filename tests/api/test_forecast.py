"""GET /api/hedge/forecast: the session's day forecast on the simulated broker, and
what-ifs; nothing is saved."""

from decimal import Decimal

import pytest

from hedging.models import DailySession, Forecast, HedgeTransaction
from tests.factories import DailySessionFactory

pytestmark = pytest.mark.django_db
URL = "/api/hedge/forecast"


def get(api, session, **params):
    return api.get(URL, {"session": session.pk, **params})


def test_the_day_plans_a_hedge_for_p2_and_saves_nothing(trader_api, trading_day):
    response = get(trader_api, trading_day)
    assert response.status_code == 200
    body = response.json()
    assert [(buy["hedge_baskets"], buy["for_entries"]) for buy in body["planned"]] == [(1, ["P2"])]
    assert body["cap_covers"] is True and body["shortfall_from"] is None
    assert [e["name"] for e in body["entries"]] == ["P1", "P2"]
    assert body["budget"] == 900000 and body["entry_trigger_pct"] == 95
    assert not Forecast.objects.exists() and not HedgeTransaction.objects.exists()
    assert not DailySession.objects.filter(is_replay=True).exists()


def test_a_budget_raised_enough_plans_no_hedge(trader_api, trading_day):
    body = get(trader_api, trading_day, budget="2000000").json()
    assert body["planned"] == [] and body["budget"] == 2000000 and body["cap_covers"] is True


def test_a_lower_cap_reports_the_first_entry_it_cannot_hedge(trader_api, trading_day):
    body = get(trader_api, trading_day, max_hedge_cost_per_day="1").json()
    assert body["planned"] == []
    assert body["cap_covers"] is False and body["shortfall_from"] == "P2"
    assert [buy["for_entries"] for buy in body["needed"]] == [["P2"]]


def test_baskets_per_row(trader_api, trading_day):
    body = get(trader_api, trading_day, **{"baskets.P2": "3"}).json()
    assert [e["baskets"] for e in body["entries"]] == [1, 3]
    assert sum(buy["hedge_baskets"] for buy in body["planned"]) > 1


@pytest.mark.parametrize(
    "params, field",
    [
        ({"session": 999999}, "session"),
        ({"entry_trigger_pct": "abc"}, "entry_trigger_pct"),
        ({"entry_target_pct": "99"}, "entry_target_pct"),  # over the trigger
        ({"budget": "0"}, "budget"),
        ({"budget": "15.9"}, "budget"),  # its day's utilisation would not fit the percent columns (a 500 once)
        ({"baskets.P9": "2"}, "baskets.P9"),
        ({"date": "2026-13-01"}, "date"),
    ],
)
def test_bad_input_is_refused_naming_the_field(trader_api, trading_day, params, field):
    response = trader_api.get(URL, {"session": trading_day.pk, **params})
    assert response.status_code == 400 and list(response.json()) == [field]


def test_a_replay_session_is_not_forecast(trader_api, trading_day):
    replay = DailySessionFactory(account=trading_day.account, is_replay=True, replay_name="x")
    response = get(trader_api, replay)
    assert response.status_code == 400 and "session" in response.json()


def test_without_the_api_key_the_broker_is_unavailable(trader_api, trading_day, monkeypatch):
    monkeypatch.delenv("OPENALGO_TEST_SIM_KEY")
    assert get(trader_api, trading_day).status_code == 503


def test_anonymous_is_refused(client, trading_day):
    response = client.get(URL, {"session": trading_day.pk})
    assert response.status_code == 403 and set(response.json()) == {"detail"}


def test_the_plan_costs_money_in_rupees(trader_api, trading_day):
    buy = get(trader_api, trading_day).json()["planned"][0]
    assert Decimal(str(buy["cost_low"])) <= Decimal(str(buy["cost"])) <= Decimal(str(buy["cost_high"]))
    assert buy["cost"] > 0 and {leg["option_type"] for leg in buy["legs"]} == {"CE", "PE"}
