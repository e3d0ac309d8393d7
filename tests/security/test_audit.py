"""The audit trail: who did what, when, from which address, with the changed fields
before and after, from every surface (logins, the pages, the API, the admin), and read
in the admin, where nobody, a superuser neither, adds, changes or deletes a row. The
Telegram bot's /pause and /resume: tests/telegram/test_bot_handler.py."""

import json
from datetime import datetime, time

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from brokers.models import BrokerAccount
from hedging.core.clock import IST
from hedging.models import AuditEvent, Control, DailySession, HedgeTransaction
from hedging.services import audit
from schedules.models import StrategySchedule
from tests.api.fixtures import api_client
from tests.factories import BrokerAccountFactory, DailySessionFactory, StaffFactory, StrategyScheduleFactory
from tests.foundation.test_admin import session_form
from tests.security.conftest import PASSWORD

pytestmark = pytest.mark.django_db
WRONG = "hunter2-not-my-password"
PROXY, CLIENT = "10.0.0.5", "203.0.113.9"



@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    AuditEvent.objects.all().delete()  # the login itself
    return client


def trail(*actions: str) -> list[tuple]:
    rows = AuditEvent.objects.filter(action__in=actions) if actions else AuditEvent.objects.all()
    return list(rows.order_by("id").values_list("actor", "action", "object_repr", "before", "after"))


def log_in(client, password, username="ravi", **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


# --- logins --------------------------------------------------------------------------------


def test_logins_failures_and_logouts_with_who_and_where_never_the_password(client, ravi):
    log_in(client, WRONG)
    log_in(client, WRONG, username="nobody")
    log_in(client, PASSWORD)
    client.post("/accounts/logout/")
    rows = list(AuditEvent.objects.order_by("id"))
    assert [(e.action, e.actor, e.user, e.address) for e in rows] == [
        ("login.failed", "ravi", ravi, "127.0.0.1"),
        ("login.failed", "nobody", None, "127.0.0.1"),
        ("login", "ravi", ravi, "127.0.0.1"),
        ("logout", "ravi", ravi, "127.0.0.1"),
    ]
    assert all(e.at.tzinfo is not None for e in rows)
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert WRONG not in stored and PASSWORD not in stored


def test_a_login_answered_by_the_lockout_is_recorded_as_locked(client, ravi):
    for n in range(5):
        log_in(client, f"guess-{n}")
    assert log_in(client, PASSWORD).status_code == 429
    assert [after for *_, after in trail("login.failed")] == [None] * 4 + [{"locked": True}] * 2
    assert not trail("login")


def test_the_address_is_the_one_the_proxy_saw_never_one_the_client_wrote(client, ravi, settings):
    settings.AUTOHEDGE_PROXY_IPS = [PROXY]
    log_in(client, WRONG, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.6, {CLIENT}")
    log_in(client, WRONG, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert list(AuditEvent.objects.order_by("id").values_list("address", flat=True)) == [CLIENT, "198.51.100.7"]


def test_a_wrong_api_token_is_a_failed_login(sim_clock):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {'0' * 40}", REMOTE_ADDR=CLIENT)
    assert client.get("/api/hedge/status").status_code == 403
    assert list(AuditEvent.objects.values_list("action", "actor", "address")) == [("login.failed", "(API token)", CLIENT)]


# --- the dashboard and the API ---------------------------------------------------------------


def test_switches_from_the_dashboard_and_the_api(staff_client, staff):
    session = DailySessionFactory()
    staff_client.post("/toggle", {"enabled": "off"})
    staff_client.post("/toggle", {"enabled": "off", "session": session.pk})
    staff_client.post("/toggle", {"enabled": "off", "session": session.pk})  # off already: nothing happened
    api_client(staff).post("/api/hedge/toggle", {"enabled": True}, format="json")
    off, on = {"auto_enabled": False}, {"auto_enabled": True}
    assert trail() == [
        (staff.username, "global.toggle", "Auto-hedge off (global kill switch)", on, off),
        (staff.username, "session.toggle", str(session), on, off),
        (staff.username, "global.toggle", "Auto-hedge on", off, on),
    ]
    assert AuditEvent.objects.get(action="session.toggle").object_id == session.pk


def test_manual_orders_from_the_dashboard_and_the_api(
    staff_client, staff, trading_day, simbroker, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/manual", {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1})
    simbroker.clock.advance(180)  # past the cooldown
    token = Token.objects.create(user=staff)
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}", REMOTE_ADDR=CLIENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.post("/api/hedge/manual/exit", {"session": trading_day.pk, "hedge_baskets": 1}, format="json").status_code == 201
        )
    buy, exit_ = HedgeTransaction.objects.order_by("decided_at", "pk")
    assert trail() == [
        (staff.username, "manual.buy", str(trading_day), None, {"transaction": buy.pk, "hedge_baskets": 1}),
        (staff.username, "manual.exit", str(trading_day), None, {"transaction": exit_.pk, "hedge_baskets": 1}),
    ]
    assert list(AuditEvent.objects.order_by("id").values_list("address", flat=True)) == ["127.0.0.1", CLIENT]


def test_a_manual_buy_at_strikes_chosen_by_hand_records_who_chose_which(
    staff_client, staff, trading_day, simbroker, celery_eager, django_capture_on_commit_callbacks
):
    chosen = {"ce_strike": "24300", "pe_strike": "23700"}
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post("/manual", {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1, **chosen})
    buy = HedgeTransaction.objects.get()
    assert trail() == [
        (staff.username, "manual.buy", str(trading_day), None,
         {"transaction": buy.pk, "hedge_baskets": 1, "strikes": {"CE": "24300", "PE": "23700"}}),
    ]


def test_schedule_rows_added_changed_disabled_and_deleted(staff_client, staff):
    account = BrokerAccountFactory()
    form = {"account": account.pk, "index_name": "NIFTY", "name": "P9", "entry_time": "10:00", "exit_time": "15:00",
            "baskets": "2", "weekdays": ["0", "2"], "enabled": "on", "notes": ""}
    staff_client.post("/schedule/new", form)
    row = StrategySchedule.objects.get()
    staff_client.post(f"/schedule/{row.pk}/edit", {**form, "entry_time": "10:05"})
    staff_client.post(f"/schedule/{row.pk}/edit", {**form, "entry_time": "10:05"})  # saved unchanged: nothing to record
    staff_client.post(f"/schedule/{row.pk}/enabled", {"enabled": "off"})
    api = api_client(staff)
    api.patch(f"/api/hedge/schedule/{row.pk}", {"baskets": 3, "notes": "expiry day"}, format="json")
    api.delete(f"/api/hedge/schedule/{row.pk}")
    added = {"account": account.pk, "index_name": "NIFTY", "name": "P9", "entry_time": "10:00:00", "exit_time": "15:00:00",
             "baskets": 2, "weekdays": 0b00101, "enabled": True, "notes": ""}
    assert [(action, before, after) for _, action, _, before, after in trail()] == [
        ("schedule.create", None, added),
        ("schedule.update", {"entry_time": "10:00:00"}, {"entry_time": "10:05:00"}),
        ("schedule.disable", {"enabled": True}, {"enabled": False}),
        ("schedule.update", {"baskets": 2, "notes": ""}, {"baskets": 3, "notes": "expiry day"}),
        ("schedule.delete", {**added, "entry_time": "10:05:00", "enabled": False, "baskets": 3, "notes": "expiry day"}, None),
    ]
    assert {r[2] for r in trail()} == {"P9 NIFTY 10:00", "P9 NIFTY 10:05"}


def test_sessions_created_from_the_dashboard_and_the_api(staff_client, staff, live_account, sim_clock):
    staff_client.post("/sessions/", {"account": live_account.pk, "index_name": "NIFTY", "num_baskets": 2})
    other = BrokerAccountFactory(host=live_account.host, api_key_env=live_account.api_key_env)
    api_client(staff).post("/api/hedge/session", {"account": other.pk, "index_name": "SENSEX", "num_baskets": 3}, format="json")
    created = trail("session.create")
    assert [(repr_, after["num_baskets"], after["budget"]) for _, _, repr_, _, after in created] == [
        (f"{live_account.name} NIFTY 2026-11-24", 2, "2000000.00"),
        (f"{other.name} SENSEX 2026-11-24", 3, "3000000.00"),
    ]


# --- the admin -------------------------------------------------------------------------------


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_admin_edits_of_schedules_accounts_sessions_and_the_switch(staff_client, staff):
    account = BrokerAccountFactory(name="main")
    row = StrategyScheduleFactory(account=account, name="P1", entry_time=time(9, 20))
    schedule = {"account": account.pk, "index_name": "NIFTY", "name": "P1", "entry_time": "09:30", "exit_time": "15:15",
                "baskets": 1, "weekdays": ["0", "1", "2", "3", "4"], "enabled": "on"}
    assert staff_client.post(admin_url(StrategySchedule, "change", row.pk), schedule).status_code == 302
    changelist = {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": row.pk, "_save": "Save"}  # enabled unticked
    assert staff_client.post(admin_url(StrategySchedule, "changelist"), changelist).status_code == 302
    broker = {
        "name": "main",
        "host": "http://127.0.0.1:5000",
        "api_key_env": "OPENALGO_API_KEY",
        "product": "NRML",
        "mode": "live",
    }
    assert staff_client.post(admin_url(BrokerAccount, "change", account.pk), {**broker, "enabled": "on"}).status_code == 302
    assert staff_client.post(admin_url(BrokerAccount, "change", account.pk), broker).status_code == 302
    assert staff_client.post(admin_url(Control, "change", Control.get().pk), {}).status_code == 302
    assert staff_client.post(admin_url(DailySession, "add"), session_form(account)).status_code == 302
    assert staff_client.post(admin_url(StrategySchedule, "delete", row.pk), {"post": "yes"}).status_code == 302
    assert [(action, before, after) for _, action, _, before, after in trail()][:6] == [
        ("schedule.update", {"entry_time": "09:20:00"}, {"entry_time": "09:30:00"}),
        ("schedule.disable", {"enabled": True}, {"enabled": False}),
        ("account.update", {"mode": "paper"}, {"mode": "live"}),
        ("account.disable", {"enabled": True}, {"enabled": False}),
        ("global.toggle", {"auto_enabled": True}, {"auto_enabled": False}),
        ("session.create", None, trail("session.create")[0][4]),
    ]
    (deleted,) = trail("schedule.delete")
    assert deleted[2] == "P1 NIFTY 09:30" and deleted[3]["enabled"] is False and deleted[4] is None
    assert set(AuditEvent.objects.values_list("actor", "user", "address")) == {(staff.username, staff.pk, "127.0.0.1")}


def test_the_trail_is_read_only_in_the_admin_a_superuser_too(client, staff):
    assert staff.is_superuser
    client.force_login(staff)
    event = AuditEvent.objects.get(action="login")
    change = admin_url(AuditEvent, "change", event.pk)
    page = client.get(change).content.decode()
    assert client.get(change).status_code == 200 and 'name="actor"' not in page and 'name="_save"' not in page
    assert client.get(admin_url(AuditEvent, "add")).status_code == 403
    assert client.post(change, {"actor": "someone else", "action": "logout"}).status_code == 403
    assert client.post(admin_url(AuditEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    client.post(admin_url(AuditEvent, "changelist"), bulk)
    event.refresh_from_db()
    assert (event.actor, event.action) == (staff.username, "login")
    assert "delete_selected" not in client.get(admin_url(AuditEvent, "changelist")).content.decode()


def test_the_admin_filters_by_action_and_user_searches_by_object_and_shows_indian_time(client, staff):
    meera = StaffFactory(username="meera")
    morning = StrategyScheduleFactory(name="Morning straddle")
    evening = StrategyScheduleFactory(name="Evening strangle")
    audit.record(audit.Actor(meera, "meera", CLIENT), "schedule.disable", morning, {"enabled": True}, {"enabled": False})
    audit.record(audit.Actor(staff, staff.username), "schedule.update", evening, {"baskets": 1}, {"baskets": 2})
    AuditEvent.objects.filter(actor="meera").update(at=datetime(2026, 11, 24, 10, 47, tzinfo=IST))
    client.force_login(staff)
    listing = admin_url(AuditEvent, "changelist")

    def shown(**query) -> str:
        return client.get(listing, query).content.decode()

    by_action = shown(action__exact="schedule.disable")
    assert "Morning straddle" in by_action and "Evening strangle" not in by_action
    by_user = shown(user__id__exact=meera.pk)
    assert "Morning straddle" in by_user and "Evening strangle" not in by_user and CLIENT in by_user
    assert "enabled: True → False" in by_user and "10:47 a.m." in by_user and "5:17" not in by_user  # IST, not UTC
    searched = shown(q="evening")
    assert "Evening strangle" in searched and "Morning straddle" not in searched and "baskets: 1 → 2" in searched
