"""/api/hedge/schedule: list and create; /api/hedge/schedule/<id>: read, replace,
change, delete. The model's constraints answer under the field they are about."""

import pytest

from schedules.models import StrategySchedule
from tests.factories import BrokerAccountFactory, StrategyScheduleFactory

pytestmark = pytest.mark.django_db
URL = "/api/hedge/schedule"


@pytest.fixture
def account():
    return BrokerAccountFactory()


def row_body(account, **changes):
    body = {"account": account.pk, "index_name": "NIFTY", "name": "P3", "entry_time": "10:25", "exit_time": "15:15",
            "baskets": 2, "weekdays": ["Mon", "Tue"], "enabled": True, "notes": ""}
    return {**body, **changes}


def test_anyone_logged_in_reads_the_schedule(trader_api):
    row = StrategyScheduleFactory(name="P1", weekdays=0b00101)
    (listed,) = trader_api.get(URL).json()
    assert listed == {
        "id": row.pk, "account": row.account.pk, "index_name": "NIFTY", "name": "P1", "entry_time": "09:20:00",
        "exit_time": "15:15:00", "baskets": 1, "weekdays": ["Mon", "Wed"], "enabled": True, "notes": "",
    }
    assert trader_api.get(f"{URL}/{row.pk}").json()["name"] == "P1"


def test_staff_create_a_row(staff_api, account):
    response = staff_api.post(URL, row_body(account), format="json")
    assert response.status_code == 201
    row = StrategySchedule.objects.get(pk=response.json()["id"])
    assert (row.name, row.baskets, row.weekdays, row.weekday_names) == ("P3", 2, 0b00011, "Mon, Tue")


def test_weekdays_default_to_monday_to_friday(staff_api, account):
    body = row_body(account)
    del body["weekdays"]
    assert staff_api.post(URL, body, format="json").json()["weekdays"] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


def test_staff_replace_change_and_delete_a_row(staff_api, account):
    row = StrategyScheduleFactory(account=account, name="P3")
    replaced = staff_api.put(f"{URL}/{row.pk}", row_body(account, entry_time="10:40", baskets=None), format="json")
    assert replaced.status_code == 200 and (replaced.json()["entry_time"], replaced.json()["baskets"]) == ("10:40:00", None)
    assert staff_api.patch(f"{URL}/{row.pk}", {"enabled": False}, format="json").json()["enabled"] is False
    row.refresh_from_db()
    assert (row.entry_time.strftime("%H:%M"), row.enabled) == ("10:40", False)
    assert staff_api.delete(f"{URL}/{row.pk}").status_code == 204
    assert not StrategySchedule.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"exit_time": "10:00"}, "exit_time", "after the entry time"),
        ({"entry_time": "09:00", "exit_time": "10:00"}, "entry_time", "market hours"),
        ({"baskets": 0}, "baskets", "1 to 100"),
        ({"weekdays": []}, "weekdays", "non-empty list"),
        ({"weekdays": ["Sat"]}, "weekdays", "unknown day"),
        ({"entry_time": "25:00"}, "entry_time", "format"),
        ({"index_name": "BANKNIFTY"}, "index_name", "not a valid choice"),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_bad_rows_are_refused_naming_the_field_and_nothing_is_written(staff_api, account, changes, field, words):
    response = staff_api.post(URL, row_body(account, **changes), format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field] and words in response.json()[field][0]
    assert not StrategySchedule.objects.exists()


def test_a_duplicate_name_is_refused_under_name(staff_api, account):
    StrategyScheduleFactory(account=account, name="P3")
    response = staff_api.post(URL, row_body(account), format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["This account already has a schedule row with this name for this index."]}


def test_a_partial_change_is_checked_against_the_rest_of_the_row(staff_api, account):
    row = StrategyScheduleFactory(account=account, entry_time="10:00", exit_time="11:00")
    response = staff_api.patch(f"{URL}/{row.pk}", {"entry_time": "11:30"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["exit_time"]
    row.refresh_from_db()
    assert row.entry_time.strftime("%H:%M") == "10:00"
