"""No guessing: a username that fails five times from one address is refused there for
fifteen minutes, the right password too, on the dashboard's login and the admin's; wrong
API tokens lock their address alike. Another user, or the same one from elsewhere, is
not held up, and the lock lifts once the cool-off has passed (the failures' recorded
times moved back, not slept through)."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from rest_framework.authtoken.models import Token
from rest_framework.throttling import UserRateThrottle

from tests.api.fixtures import api_client
from tests.factories import StaffFactory
from tests.security.conftest import PASSWORD

pytestmark = pytest.mark.django_db
LOGINS = ["/accounts/login/", "/admin/login/"]
ELSEWHERE = "10.20.30.40"



def log_in(client, url, password, username="ravi", **extra):
    return client.post(url, {"username": username, "password": password}, **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def time_passes(minutes):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.parametrize("url", LOGINS)
def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, ravi, url):
    answers = [log_in(client, url, f"guess-{n}").status_code for n in range(30)]
    assert answers[:4] == [200] * 4 and set(answers[4:]) == {429}
    refused = log_in(client, url, PASSWORD)
    assert refused.status_code == 429 and not logged_in(client)
    assert "Too many failed logins" in refused.content.decode() and 0 < int(refused["Retry-After"]) <= 900


@pytest.mark.parametrize("url", LOGINS)
def test_another_user_or_address_is_not_held_up(client, ravi, url):
    for n in range(5):
        log_in(client, url, f"guess-{n}")
    other = StaffFactory(username="meera")
    other.set_password(PASSWORD)
    other.save()
    assert log_in(client, url, PASSWORD, username="meera").status_code == 302 and logged_in(client)
    client.logout()
    assert log_in(client, url, PASSWORD, REMOTE_ADDR=ELSEWHERE).status_code == 302 and logged_in(client)


def test_the_lock_lifts_after_fifteen_minutes(client, ravi):
    for n in range(5):
        log_in(client, "/accounts/login/", f"guess-{n}")
    time_passes(14)
    assert log_in(client, "/accounts/login/", PASSWORD).status_code == 429  # and the cool-off starts again
    time_passes(15)
    assert log_in(client, "/accounts/login/", PASSWORD).status_code == 302 and logged_in(client)


def test_a_login_forgets_the_typos_before_it(client, ravi):
    for n in range(4):
        log_in(client, "/accounts/login/", f"typo-{n}")
    assert log_in(client, "/accounts/login/", PASSWORD).status_code == 302
    client.logout()
    for n in range(4):
        log_in(client, "/accounts/login/", f"typo-{n}")
    assert log_in(client, "/accounts/login/", PASSWORD).status_code == 302


def with_token(key, address="127.0.0.1"):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=address)
    return client


def test_wrong_api_tokens_lock_their_address(ravi, sim_clock):
    token = Token.objects.create(user=ravi)
    answers = [with_token(f"{n:040x}").get("/api/hedge/status").status_code for n in range(5)]
    assert answers == [403] * 4 + [429]
    refused = with_token(token.key).get("/api/hedge/status")
    assert refused.status_code == 429 and "Too many wrong tokens" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 900
    assert with_token(token.key, ELSEWHERE).get("/api/hedge/status").status_code == 200
    time_passes(15)
    assert with_token(token.key).get("/api/hedge/status").status_code == 200


def test_a_users_api_calls_are_rate_limited(ravi, sim_clock, monkeypatch):
    monkeypatch.setattr(UserRateThrottle, "rate", "3/min", raising=False)
    ravi, meera = with_token(Token.objects.create(user=ravi).key), api_client(StaffFactory())
    assert [ravi.get("/api/hedge/status").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert meera.get("/api/hedge/status").status_code == 200
