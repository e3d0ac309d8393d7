"""Every endpoint needs a user; whatever can place or cancel an order, toggle, or change
a schedule or session needs a staff user. Anonymous callers get no data."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.api.fixtures import api_client
from tests.factories import DailySessionFactory, StrategyScheduleFactory

pytestmark = pytest.mark.django_db

READS = [
    "/api/hedge/status",
    "/api/hedge/transactions",
    "/api/hedge/schedule",
    "/api/hedge/analytics",
    "/api/hedge/session",
]
WRITES = [
    ("post", "/api/hedge/toggle"),
    ("post", "/api/hedge/manual/buy"),
    ("post", "/api/hedge/manual/exit"),
    ("post", "/api/hedge/schedule"),
    ("put", "/api/hedge/schedule/{row}"),
    ("patch", "/api/hedge/schedule/{row}"),
    ("delete", "/api/hedge/schedule/{row}"),
    ("post", "/api/hedge/session"),
]


@pytest.fixture
def row():
    return StrategyScheduleFactory()


@pytest.mark.parametrize("url", READS + ["/api/hedge/session/{session}", "/api/hedge/forecast?session={session}"])
def test_anonymous_reads_are_refused_without_data(url, row):
    session = DailySessionFactory(account=row.account)
    response = api_client().get(url.format(session=session.pk), {"format": "json"})
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("method, url", WRITES)
def test_anonymous_writes_are_refused(method, url, row):
    response = getattr(api_client(), method)(url.format(row=row.pk), {}, format="json")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("method, url", WRITES)
def test_a_user_who_is_not_staff_cannot_write(method, url, row, trader_api):
    response = getattr(trader_api, method)(url.format(row=row.pk), {}, format="json")
    assert response.status_code == 403
    assert row.__class__.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("url", [*READS, "/api/schema/"])
def test_a_logged_in_user_may_read(url, trader_api, sim_clock):
    assert trader_api.get(url).status_code == 200


def test_token_authentication(trader, sim_clock):
    token = Token.objects.create(user=trader)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/hedge/status").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/hedge/status").status_code in (401, 403)


def test_session_authentication_needs_the_csrf_token(staff):
    """A browser session cannot be ridden by another site: unsafe calls need CSRF."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    response = browser.post("/api/hedge/toggle", {"enabled": False}, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_the_schema_lists_every_endpoint(trader_api):
    schema = trader_api.get("/api/schema/", {"format": "json"}).json()
    assert {
        "/api/hedge/status", "/api/hedge/toggle", "/api/hedge/manual/buy", "/api/hedge/manual/exit",
        "/api/hedge/transactions", "/api/hedge/schedule", "/api/hedge/schedule/{id}", "/api/hedge/analytics",
        "/api/hedge/session", "/api/hedge/forecast",
    } <= set(schema["paths"])
    assert "Token" in str(schema["components"]["securitySchemes"])


def test_the_browsable_schema_page(staff, client):
    client.force_login(staff)
    page = client.get("/api/schema/ui/").content.decode()
    assert "/api/hedge/manual/buy" in page and 'id="schema-Manual"' in page
    client.logout()
    assert client.get("/api/schema/ui/").status_code == 302
