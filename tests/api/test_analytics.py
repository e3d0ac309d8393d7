"""GET /api/hedge/analytics: spend, hedges avoided and savings against "hedge every
basket", per session over a date range; one session's utilisation through the day."""

from datetime import time, timedelta
from decimal import Decimal

import pytest

from hedging.core.clock import at
from hedging.models import MarginSnapshot
from tests.api.fixtures import make_entry, make_tx
from tests.factories import DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db
URL = "/api/hedge/analytics"
MONDAY = SIM_DAY - timedelta(days=1)


@pytest.fixture
def days():
    """Tuesday: P1 and P2 entered, one hedge basket bought for P2 at ₹650, sold for ₹120.
    Monday: one entry, no hedge. A replay on Tuesday, with one entry and no hedge."""
    tuesday = DailySessionFactory(date=SIM_DAY)
    make_entry(tuesday, "P1", time(9, 20))
    make_entry(tuesday, "P2", time(9, 45))
    make_entry(tuesday, "P3", time(14, 0), status="scheduled")  # never entered: not counted
    make_tx(tuesday, time(9, 40), for_entries=["P2"], cost="650")
    make_tx(tuesday, time(14, 30), action="EXIT", cost="120")
    make_tx(tuesday, time(10, 0), status="failed", cost="0")  # nothing paid: not counted
    monday = DailySessionFactory(date=MONDAY, expiry=SIM_DAY)
    make_entry(monday, "P1", time(9, 20), baskets=2)
    replay = DailySessionFactory(date=SIM_DAY, is_replay=True, replay_name="r")
    make_entry(replay, "P1", time(9, 20))
    return tuesday, monday, replay


def by_session(body):
    return {day["session"]["id"]: day for day in body["days"]}


def test_per_session_and_totals(trader_api, sim_clock, days):
    tuesday, monday, replay = days
    body = trader_api.get(URL, {"date_from": "2026-11-23", "date_to": "2026-11-24"}).json()
    rows = by_session(body)
    assert list(rows) == [monday.pk, tuesday.pk, replay.pk]
    t = rows[tuesday.pk]
    assert (t["spent"], t["received"], t["net"], t["hedge_buys"]) == ("650.00", "120.00", "530.00", 1)
    assert (t["entries"], t["entries_hedged"], t["entries_unhedged"]) == (2, 1, 1)
    assert (t["basket_price"], t["price_source"], t["static_cost"], t["saved"]) == ("650.00", "paid", "1300.00", "770.00")
    m = rows[monday.pk]  # no buy that day: the range's average price per hedge basket
    assert (m["entries_unhedged"], m["price_source"], m["static_cost"], m["saved"]) == (1, "range", "1300.00", "1300.00")
    assert body["totals"] == {
        "spent": "650.00", "received": "120.00", "net": "530.00", "static_cost": "3250.00", "saved": "2720.00",
        "hedge_buys": 1, "entries": 4, "entries_hedged": 1, "entries_unhedged": 3,
    }
    assert body["utilisation"] is None


def test_replays_can_be_left_out(trader_api, sim_clock, days):
    tuesday, monday, _ = days
    body = trader_api.get(URL, {"date_from": "2026-11-23", "date_to": "2026-11-24", "include_replays": "false"}).json()
    assert list(by_session(body)) == [monday.pk, tuesday.pk]


def test_without_any_buy_the_estimate_is_the_premium_floor(trader_api, sim_clock):
    session = DailySessionFactory(date=SIM_DAY)  # NIFTY, 1 lot of 65, min premium ₹2
    make_entry(session, "P1", time(9, 20))
    (day,) = trader_api.get(URL).json()["days"]
    assert (day["price_source"], day["basket_price"], day["static_cost"]) == ("floor", "260.00", "260.00")


def test_the_default_range_is_the_last_thirty_days(trader_api, sim_clock):
    body = trader_api.get(URL).json()
    assert (body["date_from"], body["date_to"]) == ("2026-10-25", "2026-11-24")


def test_one_sessions_utilisation_through_the_day(trader_api, sim_clock, days):
    tuesday, _, _ = days
    for minute, pct in ((16, "40"), (40, "60"), (46, "81")):
        MarginSnapshot.objects.create(
            session=tuesday,
            taken_at=at(SIM_DAY, time(9, minute)),
            broker_used_margin=0,
            used_margin=0,
            utilisation_pct=Decimal(pct),
        )
    series = trader_api.get(URL, {"session": tuesday.pk}).json()["utilisation"]
    assert [(p["at"][11:16], p["utilisation_pct"]) for p in series["points"]] == [
        ("09:16", "40.00"),
        ("09:40", "60.00"),
        ("09:46", "81.00"),
    ]
    assert [(m["at"][11:16], m["kind"], m["label"]) for m in series["markers"]] == [
        ("09:20", "entry", "P1"), ("09:40", "buy", "BUY 1"), ("09:45", "entry", "P2"), ("14:30", "exit", "EXIT 1"),
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date_from": "2026-11-25", "date_to": "2026-11-24"}, "date_from"),
        ({"date_from": "2025-01-01", "date_to": "2026-11-24"}, "date_from"),
        ({"date_to": "soon"}, "date_to"),
        ({"include_replays": "perhaps"}, "include_replays"),
        ({"session": 999999}, "session"),
    ],
)
def test_bad_input_is_refused_naming_the_field(trader_api, sim_clock, params, field):
    response = trader_api.get(URL, params)
    assert response.status_code == 400 and list(response.json()) == [field]
