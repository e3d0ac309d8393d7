"""POST /api/hedge/toggle: staff only, records who, raises an auto_hedge_toggled alert."""

import pytest

from hedging import tasks
from hedging.models import Alert, Control
from tests.factories import DailySessionFactory

pytestmark = pytest.mark.django_db
URL = "/api/hedge/toggle"


@pytest.fixture
def delivered(monkeypatch):
    ids = []
    monkeypatch.setattr(tasks, "deliver_alert_later", ids.append)
    return ids


def test_the_global_switch_records_who_and_alerts(staff_api, staff, sim_clock, delivered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(URL, {"enabled": False, "reason": "RBI policy day"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"scope": "global", "session": None, "enabled": False, "changed": True, "auto_global": False}
    control = Control.get()
    assert (control.auto_enabled, control.changed_by) == (False, staff)
    alert = Alert.objects.get(kind="auto_hedge_toggled")
    assert alert.session is None and alert.level == "warning"
    assert f"Turned off by {staff.username}. Reason: RBI policy day" in alert.text
    assert "<b>" not in alert.text  # plain text: the notifier escapes it
    assert delivered == [alert.pk]


def test_a_session_switch(staff_api, staff, sim_clock, delivered):
    session = DailySessionFactory()
    response = staff_api.post(URL, {"enabled": False, "session": session.pk}, format="json")
    assert response.json() == {"scope": "session", "session": session.pk, "enabled": False, "changed": True, "auto_global": True}
    session.refresh_from_db()
    assert session.auto_enabled is False and Control.get().auto_enabled is True
    alert = Alert.objects.get(kind="auto_hedge_toggled", session=session)
    assert "Auto-hedge OFF" in alert.text and f"by {staff.username}" in alert.text


def test_the_same_state_again_changes_nothing_and_alerts_nothing(staff_api, sim_clock, delivered):
    session = DailySessionFactory()
    first = staff_api.post(URL, {"enabled": True, "session": session.pk}, format="json").json()
    assert first["changed"] is False
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "enabled"),
        ({"enabled": "maybe"}, "enabled"),
        ({"enabled": 0.0}, "enabled"),  # JSON says false as false, not as a number (found by fuzzing)
        ({"enabled": "false"}, "enabled"),
        ({"enabled": False, "session": 999999}, "session"),
        ({"enabled": False, "reason": "x" * 201}, "reason"),
        # Counted as sent, as the schema counts it: trimmed it would fit (found by fuzzing).
        ({"enabled": False, "reason": " " + "x" * 200}, "reason"),
    ],
)
def test_bad_input_is_refused_naming_the_field(staff_api, sim_clock, body, field):
    response = staff_api.post(URL, body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Control.get().auto_enabled is True and not Alert.objects.exists()

