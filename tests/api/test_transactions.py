"""GET /api/hedge/transactions: paginated, filtered by date, session, action, status."""

from datetime import time, timedelta

import pytest

from tests.api.fixtures import make_tx
from tests.factories import DailySessionFactory, TRADING_DAY

pytestmark = pytest.mark.django_db
URL = "/api/hedge/transactions"


@pytest.fixture
def two_days(staff):
    today = DailySessionFactory(date=TRADING_DAY)
    yesterday = DailySessionFactory(date=TRADING_DAY - timedelta(days=1), expiry=TRADING_DAY)
    rows = {
        "buy": make_tx(today, time(9, 40), for_entries=["P2"]),
        "exit": make_tx(today, time(14, 0), action="EXIT", cost="120"),
        "failed": make_tx(today, time(10, 30), status="failed", cost="0", origin="manual", requested_by=staff),
        "old": make_tx(yesterday, time(9, 40)),
    }
    return today, yesterday, rows


def ids(response):
    return [row["id"] for row in response.json()["results"]]


def test_every_action_newest_first_with_legs_and_who(trader_api, two_days, staff):
    today, _, rows = two_days
    response = trader_api.get(URL)
    assert response.json()["count"] == 4
    assert ids(response) == [rows[k].pk for k in ("exit", "failed", "buy", "old")]
    failed = response.json()["results"][1]
    assert (failed["requested_by"], failed["origin"], failed["status"], failed["session"]) == (
        staff.username,
        "manual",
        "failed",
        today.pk,
    )
    buy = response.json()["results"][2]
    assert (buy["reason"], buy["for_entries"], buy["cost"], buy["util_after_pct"], buy["latency_ms"]) == (
        "P2: test",
        ["P2"],
        "650.00",
        "81.00",
        120.0,
    )
    assert buy["decided_at"] == "2026-11-24T09:40:00+05:30"
    assert [(o["leg"], o["strike"], o["average_price"]) for o in buy["orders"]] == [
        ("CE", "24500.00", "5.00"),
        ("PE", "23500.00", "5.00"),
    ]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"date": "2026-11-23"}, ["old"]),
        ({"action": "EXIT"}, ["exit"]),
        ({"status": "failed"}, ["failed"]),
        ({"date": "2026-11-24", "action": "BUY", "status": "filled"}, ["buy"]),
    ],
)
def test_filters(trader_api, two_days, params, expected):
    _, _, rows = two_days
    assert ids(trader_api.get(URL, params)) == [rows[k].pk for k in expected]


def test_filter_by_session(trader_api, two_days):
    _, yesterday, rows = two_days
    assert ids(trader_api.get(URL, {"session": yesterday.pk})) == [rows["old"].pk]


def test_pages_of_fifty(trader_api):
    session = DailySessionFactory()
    for minute in range(51):
        make_tx(session, time(10, minute))
    first, second = trader_api.get(URL).json(), trader_api.get(URL, {"page": 2}).json()
    assert (first["count"], len(first["results"]), len(second["results"])) == (51, 50, 1)
    assert first["next"] and second["previous"]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"date": "24-11-2026"}, "date"),
        ({"action": "HOLD"}, "action"),
        ({"status": "done"}, "status"),
        ({"session": "x"}, "session"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(trader_api, params, field):
    response = trader_api.get(URL, params)
    assert response.status_code == 400 and list(response.json()) == [field]


def test_a_filter_given_twice_is_refused_not_read_as_its_last(trader_api, two_days):
    response = trader_api.get(f"{URL}?status=done&status=failed&page=1&page=2")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Give each query parameter once: page, status."]}


def test_one_transaction(trader_api, two_days):
    _, _, rows = two_days
    assert trader_api.get(f"{URL}/{rows['exit'].pk}").json()["action"] == "EXIT"
    assert trader_api.get(f"{URL}/999999").status_code == 404
