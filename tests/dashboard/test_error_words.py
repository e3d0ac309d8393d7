"""Errors on the pages, and the API's messages, are in the trader's words: a field's
label, not its snake_case name, and no "(non field errors)" heading over a refusal of
no one field. (The API keeps field names as its JSON keys.)"""

import re

import pytest

from hedging.models import HedgeTransaction
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db


def test_a_refusal_of_no_one_field_has_no_developer_heading(staff_client, trading_day, celery_eager,
                                                             django_capture_on_commit_callbacks):
    buy = {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1}
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/manual", buy)
    page = text(staff_client.post("/manual", buy, follow=True))
    assert re.search(r"Refused: cooldown: \d+s left before the next hedge action", page)
    assert "non field" not in page and "non_field" not in page
    assert HedgeTransaction.objects.count() == 1


def test_a_bad_switch_is_refused_naming_the_field_by_its_label(staff_client, trading_day):
    page = text(staff_client.post("/toggle", {"enabled": "maybe"}, follow=True))
    assert "Not toggled: Enabled: Select a valid choice. maybe is not one of the available choices." in page
    assert "* enabled" not in page


def test_the_forecasts_refusal_is_under_its_field_without_repeating_the_name(trader_api, trading_day):
    response = trader_api.get("/api/hedge/forecast", {"session": trading_day.pk, "entry_target_pct": "99"})
    assert response.status_code == 400
    assert response.json() == {"entry_target_pct": ["thresholds must be ordered: exit trigger < target < entry trigger"]}
