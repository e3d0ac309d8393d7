"""A login lasts twelve hours from the trader's last request (the dashboard's own refresh
keeps nothing alive), and acting on the pages or in the admin (orders, switches, rows)
asks for the password again once it was given more than AUTOHEDGE_REAUTH_MINUTES ago:
nothing is done, and the page asking sends the trader back to do it again. The API,
with its tokens, is not asked."""

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from brokers.models import BrokerAccount
from config.logins import PASSWORD_AT
from hedging.models import AuditEvent, Control, DailySession, HedgeTransaction
from schedules.models import StrategySchedule
from tests.api.fixtures import api_client
from tests.factories import BrokerAccountFactory, StaffFactory
from tests.foundation.test_admin import session_form

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests"  # the factories'
CONFIRM = "/accounts/confirm/"


@pytest.fixture
def ravi(client):
    """Logged in on the login page, with his password."""
    user = StaffFactory(username="ravi")
    assert client.post("/accounts/login/", {"username": "ravi", "password": PASSWORD}).status_code == 302
    return user


def password_given(client, minutes_ago: float) -> None:
    session = client.session
    session[PASSWORD_AT] = time.time() - minutes_ago * 60
    session.save()


def expires_in(client) -> timedelta:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date - timezone.now()


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- the login's expiry ------------------------------------------------------------------------


def test_a_login_lasts_twelve_hours_from_the_last_request_the_refresh_aside(client, ravi, sim_clock):
    assert timedelta(hours=11, minutes=59) < expires_in(client) <= timedelta(hours=12)
    Session.objects.update(expire_date=timezone.now() + timedelta(hours=1))  # eleven hours without a click
    assert client.get("/status/panel").status_code == 200
    assert expires_in(client) <= timedelta(hours=1)  # the open tab's refresh kept nothing alive
    page = client.get("/schedule/")
    assert page.status_code == 200 and page.cookies["sessionid"]["max-age"] == 12 * 3600
    assert expires_in(client) > timedelta(hours=11, minutes=59)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/schedule/")["Location"].startswith("/accounts/login/")
    assert client.get("/status/panel")["Location"].startswith("/accounts/login/")


# --- the password again --------------------------------------------------------------------------


def test_an_old_password_is_asked_again_then_the_trader_goes_back_to_do_it(client, ravi):
    password_given(client, 241)
    asked = client.post("/toggle", {"enabled": "off"}, HTTP_REFERER="http://testserver/schedule/")
    assert asked.status_code == 302 and asked["Location"] == f"{CONFIRM}?next=%2Fschedule%2F"
    assert Control.get().auto_enabled is True
    page = client.get(asked["Location"]).content.decode()
    assert "You last gave it 241 minutes ago" in page and "within the last 4 hours" in page and 'value="/schedule/"' in page
    assert "Wrong password." in client.post(CONFIRM, {"password": "not-it", "next": "/schedule/"}).content.decode()
    back = client.post(CONFIRM, {"password": PASSWORD, "next": "/schedule/"}, follow=True)
    assert back.redirect_chain == [("/schedule/", 302)] and "Password confirmed. Nothing was done yet" in back.content.decode()
    assert Control.get().auto_enabled is True
    assert client.post("/toggle", {"enabled": "off"})["Location"] == "/"
    assert Control.get().auto_enabled is False
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "login", "login.failed", "login", "global.toggle"
    ]


def test_the_limit_is_a_setting(client, ravi, settings):
    password_given(client, 239)
    assert client.post("/toggle", {"enabled": "off"})["Location"] == "/"
    settings.AUTOHEDGE_REAUTH_MINUTES = 30
    password_given(client, 29)
    assert client.post("/toggle", {"enabled": "on"})["Location"] == "/"
    password_given(client, 31)
    assert client.post("/toggle", {"enabled": "off"})["Location"].startswith(CONFIRM)
    assert Control.get().auto_enabled is True


@pytest.fixture
def rows(trading_day, celery_eager):
    account = trading_day.account
    return {
        "session": trading_day,
        "account": account,
        "row": account.schedules.get(name="P2"),
        "other": BrokerAccountFactory(host=account.host, api_key_env=account.api_key_env),
    }


def schedule_form(row, **changes):
    form = {"account": row.account.pk, "index_name": "NIFTY", "name": row.name, "entry_time": "10:00", "exit_time": "15:15",
            "baskets": "1", "weekdays": ["0", "1", "2", "3", "4"], "enabled": "on", "notes": ""}
    return {**form, **changes}


ACTING = {
    "switch all": lambda r: ("/toggle", {"enabled": "off"}),
    "switch a session": lambda r: ("/toggle", {"enabled": "off", "session": r["session"].pk}),
    "manual buy": lambda r: ("/manual", {"session": r["session"].pk, "action": "BUY", "hedge_baskets": 1}),
    "schedule row added": lambda r: ("/schedule/new", schedule_form(r["row"], name="P9")),
    "schedule row changed": lambda r: (f"/schedule/{r['row'].pk}/edit", schedule_form(r["row"], entry_time="10:05")),
    "schedule row disabled": lambda r: (f"/schedule/{r['row'].pk}/enabled", {"enabled": "off"}),
    "session created": lambda r: ("/sessions/", {"account": r["other"].pk, "index_name": "NIFTY", "num_baskets": 1}),
    "admin: schedule row changed": lambda r: (
        admin_url(StrategySchedule, "change", r["row"].pk),
        schedule_form(r["row"], entry_time="10:05"),
    ),
    "admin: schedule list's enabled": lambda r: (
        admin_url(StrategySchedule, "changelist"),
        {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": r["row"].pk, "_save": "Save"},
    ),
    "admin: schedule row deleted": lambda r: (admin_url(StrategySchedule, "delete", r["row"].pk), {"post": "yes"}),
    "admin: account changed": lambda r: (
        admin_url(BrokerAccount, "change", r["account"].pk),
        {"name": r["account"].name, "host": r["account"].host, "api_key_env": r["account"].api_key_env, "product": "MIS",
         "mode": "live", "enabled": "on"},
    ),
    "admin: session added": lambda r: (admin_url(DailySession, "add"), session_form(r["other"])),
    "admin: global switch": lambda r: (admin_url(Control, "change", Control.get().pk), {}),
}


def state() -> tuple:
    return (
        list(StrategySchedule.objects.order_by("pk").values()), list(DailySession.objects.order_by("pk").values()),
        list(BrokerAccount.objects.order_by("pk").values()), Control.get().auto_enabled, HedgeTransaction.objects.count(),
    )


@pytest.mark.parametrize("case", sorted(ACTING))
def test_every_action_on_the_pages_and_in_the_admin_asks_first(client, ravi, rows, case, django_capture_on_commit_callbacks):
    url, form = ACTING[case](rows)
    before = state()
    password_given(client, 241)
    asked = client.post(url, form)
    assert asked.status_code == 302 and asked["Location"].startswith(CONFIRM), case
    assert state() == before and not AuditEvent.objects.exclude(action="login").exists()
    password_given(client, 1)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, form)
    assert done.status_code == 302 and not done["Location"].startswith(CONFIRM), case
    assert state() != before and AuditEvent.objects.exclude(action="login").exists()


def test_looking_and_logging_out_are_never_asked(client, ravi, rows):
    password_given(client, 600)
    for url in ("/", "/schedule/", f"/schedule/{rows['row'].pk}/edit", admin_url(StrategySchedule, "change", rows["row"].pk)):
        assert client.get(url).status_code == 200, url
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"


def test_wrong_passwords_on_the_asking_page_count_towards_the_lockout(client, ravi):
    password_given(client, 241)
    answers = [client.post(CONFIRM, {"password": f"guess-{n}"}).status_code for n in range(5)]
    assert answers == [200] * 4 + [429]
    assert client.post(CONFIRM, {"password": PASSWORD}).status_code == 429
    assert client.post("/toggle", {"enabled": "off"})["Location"].startswith(CONFIRM)


def test_it_sends_back_to_this_site_only(client, ravi):
    password_given(client, 241)
    asked = client.post("/toggle", {"enabled": "off"}, HTTP_REFERER="https://evil.example/phish")
    assert asked["Location"] == f"{CONFIRM}?next=%2F"
    assert client.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/phish"})["Location"] == "/"


def test_the_api_with_a_token_is_not_asked(ravi):
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=ravi).key}")
    assert api.post("/api/hedge/toggle", {"enabled": False}, format="json").status_code == 200
    assert Control.get().auto_enabled is False
