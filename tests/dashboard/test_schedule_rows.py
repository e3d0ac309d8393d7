"""A schedule row's baskets have one bound and one message on every surface (the page's
form, the admin, the API), and a row is deleted from the schedule page after a question."""


import pytest
from django.test import Client
from django.urls import reverse

from hedging.models import AuditEvent
from schedules.models import StrategySchedule
from tests.factories import BrokerAccountFactory, StrategyScheduleFactory
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db
MESSAGE = "Baskets must be 1 to 100 (or blank for the session&#x27;s number)."
OUT_OF_RANGE = ["-2", "0", "101", "100000", "9223372036854775808"]


def row_form(account, baskets) -> dict:
    return {"account": account.pk, "index_name": "NIFTY", "name": "P1", "entry_time": "10:00", "exit_time": "15:00",
            "baskets": baskets, "weekdays": ["0", "1"], "enabled": "on", "notes": ""}


@pytest.mark.parametrize("baskets", OUT_OF_RANGE)
def test_the_page_and_the_admin_refuse_baskets_out_of_range_in_one_message(staff_client, baskets):
    account = BrokerAccountFactory()
    for url in ("/schedule/new", reverse("admin:schedules_strategyschedule_add")):
        page = text(staff_client.post(url, row_form(account, baskets)))
        assert MESSAGE in page and "≥" not in page and "≤" not in page and "at least" not in page
    assert not StrategySchedule.objects.exists()


@pytest.mark.parametrize("baskets", [*OUT_OF_RANGE, 10**30])
def test_the_api_refuses_baskets_out_of_range_in_the_same_message(staff_api, baskets):
    account = BrokerAccountFactory()
    data = {**row_form(account, baskets), "weekdays": ["Mon"], "enabled": True, "baskets": int(baskets)}
    response = staff_api.post("/api/hedge/schedule", data, format="json")
    assert response.status_code == 400
    assert response.json() == {"baskets": [MESSAGE.replace("&#x27;", "'")]}


def test_a_hundred_baskets_or_blank_is_a_row(staff_client):
    account = BrokerAccountFactory()
    assert staff_client.post("/schedule/new", row_form(account, "100")).status_code == 302
    assert staff_client.post("/schedule/new", {**row_form(account, ""), "name": "P2"}).status_code == 302
    assert sorted(StrategySchedule.objects.values_list("baskets", flat=True), key=str) == [100, None]


def test_deleting_a_row_asks_first_then_deletes_and_audits(staff_client, staff):
    row = StrategyScheduleFactory(name="P3")
    schedule = text(staff_client.get("/schedule/"))
    assert f'href="/schedule/{row.pk}/delete"' in schedule
    question = text(staff_client.get(f"/schedule/{row.pk}/delete"))
    assert "Delete P3?" in question and StrategySchedule.objects.filter(pk=row.pk).exists()
    unconfirmed = staff_client.post(f"/schedule/{row.pk}/delete", {"confirm": "P2"})
    assert "Delete P3?" in text(unconfirmed) and StrategySchedule.objects.filter(pk=row.pk).exists()
    response = staff_client.post(f"/schedule/{row.pk}/delete", {"confirm": "P3"}, follow=True)
    assert "Schedule row P3 deleted." in text(response) and not StrategySchedule.objects.exists()
    event = AuditEvent.objects.get(action="schedule.delete")
    assert (event.user, event.object_id, event.before["name"], event.after) == (staff, row.pk, "P3", None)


def test_a_delete_needs_the_csrf_token(staff):
    row = StrategyScheduleFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.post(f"/schedule/{row.pk}/delete").status_code == 403
    assert StrategySchedule.objects.filter(pk=row.pk).exists()
