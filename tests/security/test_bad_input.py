"""Hostile input gets a 4xx naming what is wrong, never a 500, on every write endpoint:
JSON nested 50,000 deep, a body over the size limit (413), ids and counts that are not
whole numbers (1e400, 15.9, 1.0, true, "15.9": refused, never rounded to a row that
exists), huge integers, and dates at the ends of the calendar."""

import json

import pytest
from django.conf import settings

from hedging.models import Control, DailySession
from schedules.models import StrategySchedule
from tests.factories import DailySessionFactory, StrategyScheduleFactory
from tests.security.test_every_url import STAFF_ONLY_POSTS, concrete

pytestmark = pytest.mark.django_db
# Each as deep as fits under the 64 KiB body limit (bigger: 413, below); all far past the
# ~1,000 levels where Python's parser raises RecursionError.
NESTED = {
    "unclosed lists": "[" * 50_000,
    "closed lists": "[" * 30_000 + "]" * 30_000,
    "objects": '{"a":' * 10_000 + "1" + "}" * 10_000,
    "lists under a field": '{"session": ' + "[" * 30_000 + "]" * 30_000 + "}",
    "just under the recursion limit": '{"weekdays": ' + "[" * 900 + "]" * 900 + "}",
}
# JSON text, as a client could send it: 1e400 is not even a Python float.
NOT_WHOLE = {"exponent": "1e400", "negative exponent": "-1e400", "small exponent": "1e0", "fraction": "{pk}.9",
             "zero fraction": "{pk}.0", "true": "true", "float string": '"{pk}.9"', "exponent string": '"1e3"',
             "huge": str(10**30), "huge negative": str(-(10**30)), "list": "[{pk}]"}


@pytest.fixture
def rows():
    session = DailySessionFactory()
    schedule = StrategyScheduleFactory(account=session.account, name="P1")
    return session, schedule


def writes(session, schedule):
    """Every API write: (method, url, a valid body, the id and count fields it takes)."""
    account = session.account.pk
    row = {"account": account, "index_name": "NIFTY", "name": "P2", "entry_time": "09:30", "exit_time": "15:00", "baskets": 1}
    manual = {"session": session.pk, "hedge_baskets": 1}
    return [
        ("post", "/api/hedge/toggle", {"enabled": False, "session": session.pk}, ["session"]),
        ("post", "/api/hedge/manual/buy", manual, ["session", "hedge_baskets"]),
        ("post", "/api/hedge/manual/exit", manual, ["session", "hedge_baskets"]),
        ("post", "/api/hedge/schedule", row, ["account", "baskets"]),
        ("put", f"/api/hedge/schedule/{schedule.pk}", row, ["account", "baskets"]),
        ("patch", f"/api/hedge/schedule/{schedule.pk}", row, ["account", "baskets"]),
        ("post", "/api/hedge/session", {"account": account, "index_name": "NIFTY", "num_baskets": 1}, ["account", "num_baskets"]),
    ]


def send(client, method, url, body: str):
    return client.generic(method.upper(), url, body, content_type="application/json")


def unchanged(session, schedule) -> bool:
    session.refresh_from_db()
    return (session.auto_enabled and Control.get().auto_enabled and not session.transactions.exists()
            and list(StrategySchedule.objects.values_list("name", flat=True)) == ["P1"]
            and DailySession.objects.count() == 1)


@pytest.mark.parametrize("body", NESTED.values(), ids=NESTED.keys())
def test_deep_nesting_is_refused_everywhere(staff_api, client, staff, rows, body):
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    answers = {f"{method} {url}": send(staff_api, method, url, body) for method, url, _, _ in writes(*rows)}
    client.force_login(staff)
    for route in STAFF_ONLY_POSTS - {route for route in STAFF_ONLY_POSTS if route.startswith("api/")}:
        answers[f"POST {route}"] = send(client, "post", concrete(route, rows[1].pk), body)
    assert {where: answer.status_code for where, answer in answers.items() if answer.status_code >= 500} == {}
    api = {where: answer for where, answer in answers.items() if "/api/" in where}
    assert all(answer.status_code == 400 and "nested" in answer.json()["detail"]
               for answer in api.values()), {where: answer.content[:200] for where, answer in api.items()}
    assert unchanged(*rows)


def test_a_body_over_the_limit_gets_413(staff_api, rows):
    padding = "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    for method, url, body, _ in writes(*rows):
        answer = send(staff_api, method, url, json.dumps({**body, "reason": padding}))
        assert answer.status_code == 413, (method, url, answer.status_code)
        assert "bytes" in answer.json()["detail"]
    assert unchanged(*rows)


def test_a_body_under_the_limit_is_read(staff_api, rows):
    session, _ = rows
    reason = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 2)
    answer = send(staff_api, "post", "/api/hedge/toggle", json.dumps({"enabled": False, "session": session.pk, "reason": reason}))
    assert answer.status_code == 400 and set(answer.json()) == {"reason"}  # read, and its length refused


@pytest.mark.parametrize("value", NOT_WHOLE.values(), ids=NOT_WHOLE.keys())
def test_ids_and_counts_must_be_whole_numbers(staff_api, rows, value):
    """15.9 is not read as session 15, nor 1.0 as one basket: refused, the field named."""
    session, _ = rows
    for method, url, body, fields in writes(*rows):
        for field in fields:
            text = json.dumps({**body, field: "VALUE"}).replace('"VALUE"', value.format(pk=body.get(field, session.pk)))
            answer = send(staff_api, method, url, text)
            assert answer.status_code == 400, (method, url, field, value, answer.status_code, answer.content[:300])
            assert field in answer.json(), (method, url, field, answer.json())
    assert unchanged(*rows)


@pytest.mark.parametrize("value", ["1e400", "15.9", "1.0", "true", str(10**30)])
@pytest.mark.parametrize("url, field", [
    ("/api/hedge/status", "session"), ("/api/hedge/transactions", "session"), ("/api/hedge/analytics", "account"),
    ("/api/hedge/analytics", "session"), ("/api/hedge/session", "account"), ("/api/hedge/forecast", "session"),
])
def test_ids_in_the_query_must_be_whole_numbers(staff_api, sim_clock, rows, url, field, value):
    answer = staff_api.get(url, {field: value})
    assert answer.status_code == 400 and field in answer.json(), (answer.status_code, answer.content[:300])


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-30", "9999-12-31"])
@pytest.mark.parametrize("url, field", [
    ("/api/hedge/analytics", "date_from"), ("/api/hedge/analytics", "date_to"), ("/api/hedge/transactions", "date"),
    ("/api/hedge/session", "date"), ("/api/hedge/forecast", "date"),
])
def test_dates_at_the_ends_of_the_calendar(staff_api, sim_clock, rows, url, field, day):
    answer = staff_api.get(url, {field: day, **({"session": rows[0].pk} if "forecast" in url else {})})
    assert answer.status_code == 400 and field in answer.json(), (answer.status_code, answer.content[:300])


def test_an_expiry_at_the_end_of_the_calendar(staff_api, sim_clock, rows):
    body = {"account": rows[0].account.pk, "index_name": "NIFTY", "expiry": "9999-12-31"}
    answer = staff_api.post("/api/hedge/session", body, format="json")
    assert answer.status_code == 400 and "expiry" in answer.json()
