"""/api/hedge/session: list sessions; create today's from the defaults."""

from datetime import timedelta
from decimal import Decimal

import pytest

from hedging.models import DailySession
from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db
URL = "/api/hedge/session"


def test_list_with_filters(trader_api):
    live = DailySessionFactory(date=SIM_DAY)
    replay = DailySessionFactory(date=SIM_DAY, is_replay=True, replay_name="one-entry-breach")
    old = DailySessionFactory(date=SIM_DAY - timedelta(days=1), expiry=SIM_DAY)

    def ids(**params):
        return [row["id"] for row in trader_api.get(URL, params).json()["results"]]

    assert set(ids()) == {live.pk, replay.pk, old.pk}
    assert set(ids(date="2026-11-24")) == {live.pk, replay.pk}
    assert ids(date="2026-11-24", is_replay="true") == [replay.pk]
    assert ids(account=old.account.pk) == [old.pk]
    body = trader_api.get(f"{URL}/{replay.pk}").json()
    assert (body["is_replay"], body["replay_name"], body["budget"]) == (True, "one-entry-breach", "2000000.00")


def test_bad_filters_are_refused_naming_the_field(trader_api):
    response = trader_api.get(URL, {"date": "yesterday"})
    assert response.status_code == 400 and list(response.json()) == ["date"]


@pytest.mark.parametrize("index, lots, distances", [("NIFTY", 1, ("200.00", "1000.00")), ("SENSEX", 10, ("500.00", "2500.00"))])
def test_today_from_the_defaults(staff_api, live_account, sim_clock, index, lots, distances):
    response = staff_api.post(URL, {"account": live_account.pk, "index_name": index, "num_baskets": 3}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["date"], body["expiry"], body["num_baskets"], body["lots_per_basket"], body["budget"]) == (
        "2026-11-24", "2026-11-24", 3, lots, "3000000.00"  # the nearest expiry the broker lists
    )
    assert (body["entry_trigger_pct"], body["entry_target_pct"], body["exit_trigger_pct"]) == ("95.00", "85.00", "70.00")
    assert (body["max_hedge_cost_per_day"], body["cooldown_seconds"], body["lookahead_minutes"]) == ("50000.00", 120, 5)
    assert (body["min_otm_distance"], body["max_otm_distance"]) == distances
    assert (body["is_replay"], body["auto_enabled"], body["status"]) == (False, True, "active")


def test_one_session_per_account_and_day(staff_api, live_account, sim_clock):
    DailySessionFactory(account=live_account, date=SIM_DAY)
    response = staff_api.post(URL, {"account": live_account.pk, "index_name": "NIFTY"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"account": ["This account has a session for this date already."]}


def test_an_expiry_without_margin_constants_needs_them(staff_api, live_account, sim_clock):
    body = {"account": live_account.pk, "index_name": "NIFTY", "expiry": "2026-12-01"}
    refused = staff_api.post(URL, body, format="json")
    assert refused.status_code == 400 and "No margin constants for NIFTY at 5 DTE" in refused.json()["margin_unhedged"][0]
    assert not DailySession.objects.exists()
    given = staff_api.post(URL, {**body, "margin_unhedged": "300000", "margin_hedged": "130000"}, format="json")
    assert given.status_code == 201 and given.json()["margin_hedged"] == "130000.00"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"index_name": "BANKNIFTY"}, "index_name"),
        ({"num_baskets": 0}, "num_baskets"),
        ({"account": 999999}, "account"),
        ({"expiry": "2026-11-20"}, "expiry"),
        ({"margin_unhedged": "100000", "margin_hedged": "200000"}, "margin_hedged"),
    ],
)
def test_bad_input_is_refused_naming_the_field(staff_api, live_account, sim_clock, changes, field):
    response = staff_api.post(URL, {"account": live_account.pk, "index_name": "NIFTY", **changes}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not DailySession.objects.exists()


def test_without_the_brokers_expiries_the_expiry_must_be_given(staff_api, sim_clock, monkeypatch):
    monkeypatch.delenv("OPENALGO_NO_SUCH_KEY", raising=False)
    account = BrokerAccountFactory(api_key_env="OPENALGO_NO_SUCH_KEY")
    response = staff_api.post(URL, {"account": account.pk, "index_name": "NIFTY"}, format="json")
    assert response.status_code == 400 and "give the expiry" in response.json()["expiry"][0]
    given = staff_api.post(URL, {"account": account.pk, "index_name": "NIFTY", "expiry": "2026-11-24"}, format="json")
    assert given.status_code == 201 and Decimal(given.json()["budget"]) == Decimal("1000000")
