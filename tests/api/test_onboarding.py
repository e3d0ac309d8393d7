"""A new user gets going with the API alone: makes their own token on a page (shown once,
then only a hint; replaced or revoked there; audited; the password asked again as for
any other act), reads the schema without a login, and finds on the API page once how
to call, with every endpoint's answers named rather than "object | object"."""

import re

import pytest
from rest_framework.authtoken.models import Token

from hedging.models import AuditEvent
from tests.api.fixtures import api_client
from tests.factories import DailySessionFactory, UserFactory
from tests.security.test_logins import PASSWORD, password_given

pytestmark = pytest.mark.django_db
PAGE = "/accounts/token/"


@pytest.fixture
def meera(client):
    """A trader (not staff), logged in on the login page with her password."""
    user = UserFactory(username="meera")
    assert client.post("/accounts/login/", {"username": "meera", "password": PASSWORD}).status_code == 302
    return user


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def shown_key(response) -> str:
    return re.search(r'id="new-token">Your new token: <code>([0-9a-f]{40})</code>', response.content.decode()).group(1)


def calls_with(key: str) -> int:
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/hedge/transactions").status_code


def test_a_trader_makes_a_token_sees_it_once_and_calls_the_api_with_it(client, meera):
    assert "You have no API token." in text(client.get(PAGE))
    made = client.post(PAGE, {"do": "make"})
    key = shown_key(made)
    assert "Copy it now: it is not shown again." in text(made) and made["Cache-Control"].startswith("max-age=0")
    assert f'curl -H "Authorization: Token {key}" http://testserver/api/hedge/status' in made.content.decode()
    assert calls_with(key) == 200
    later = text(client.get(PAGE))
    assert key not in later and f"You have a token ending in <code>…{key[-4:]}</code>" in later


def test_replacing_the_token_stops_the_old_one_and_revoking_stops_all(client, meera):
    old = shown_key(client.post(PAGE, {"do": "make"}))
    replaced = client.post(PAGE, {"do": "make"})
    new = shown_key(replaced)
    assert "The one you had before no longer works." in text(replaced)
    assert (calls_with(old), calls_with(new)) == (403, 200)
    revoked = client.post(PAGE, {"do": "revoke"}, follow=True)
    assert "Token revoked" in text(revoked) and "You have no API token." in text(revoked)
    assert calls_with(new) == 403 and not Token.objects.filter(user=meera).exists()


def test_each_token_change_is_in_the_audit_trail_with_hints_never_keys(client, meera):
    old = shown_key(client.post(PAGE, {"do": "make"}))
    new = shown_key(client.post(PAGE, {"do": "make"}))
    client.post(PAGE, {"do": "revoke"})
    events = AuditEvent.objects.filter(action__startswith="token.").order_by("pk")
    assert [(e.action, e.actor, e.object_repr, e.before, e.after) for e in events] == [
        ("token.create", "meera", "meera", None, {"token": f"…{old[-4:]}"}),
        ("token.replace", "meera", "meera", {"token": f"…{old[-4:]}"}, {"token": f"…{new[-4:]}"}),
        ("token.revoke", "meera", "meera", {"token": f"…{new[-4:]}"}, None),
    ]
    assert all(e.address == "127.0.0.1" and e.user == meera for e in events)
    assert old not in str(list(events.values())) and new not in str(list(events.values()))


def test_making_a_token_hours_after_the_password_asks_for_it_again(client, meera):
    password_given(client, 241)
    asked = client.post(PAGE, {"do": "make"}, HTTP_REFERER=f"http://testserver{PAGE}")
    assert asked.status_code == 302 and asked["Location"] == "/accounts/confirm/?next=%2Faccounts%2Ftoken%2F"
    assert not Token.objects.exists() and not AuditEvent.objects.filter(action__startswith="token.").exists()


def test_the_token_page_needs_a_login_and_a_clear_choice(client, meera):
    assert client.post(PAGE, {"do": "everything"}).status_code == 400 and not Token.objects.exists()
    client.logout()
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")


def test_the_schema_is_readable_without_a_login_but_the_endpoints_are_not(sim_clock):
    session = DailySessionFactory()
    anonymous = api_client()
    schema = anonymous.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200 and "/api/hedge/transactions" in schema.json()["paths"]
    assert session.account.name not in schema.content.decode()
    assert "/accounts/token/" in schema.json()["info"]["description"]
    assert "/api/schema/" not in schema.json()["paths"]
    assert anonymous.get("/api/hedge/transactions").status_code == 403


def test_every_answer_in_the_schema_has_a_named_shape(trader_api):
    schema = trader_api.get("/api/schema/", {"format": "json"}).json()
    shapes = schema["components"]["schemas"]

    def answer(path, method, code):
        return schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]

    assert answer("/api/hedge/forecast", "get", "200") == {"$ref": "#/components/schemas/Forecast"}
    assert {"planned", "needed", "cap_covers", "timeline"} <= set(shapes["Forecast"]["properties"])
    assert answer("/api/hedge/transactions", "get", "400") == {
        "oneOf": [{"$ref": "#/components/schemas/TransactionsListErrors"}, {"$ref": "#/components/schemas/Detail"}]}
    assert {"date", "session", "action", "status", "origin"} <= set(shapes["TransactionsListErrors"]["properties"])
    assert answer("/api/hedge/status", "get", "403") == {"$ref": "#/components/schemas/Detail"}


def test_the_api_page_says_once_how_to_get_a_token_and_call(client, meera):
    page = text(client.get("/api/schema/ui/"))
    assert page.count('curl -H "Authorization: Token &lt;your token&gt;" http://testserver/api/hedge/status') == 1
    assert 'href="/accounts/token/"' in page
    assert "object | object" not in page and "429" not in page.split('id="getting-started"')[1].split("</section>")[1]
    transactions = page[page.index("<code>/api/hedge/transactions</code>"):]
    transactions = transactions[:transactions.index("</section>")]
    assert '<a href="#schema-PaginatedTransactionList">PaginatedTransactionList</a>' in transactions
    fields = ", ".join(f"<code>{name}</code>" for name in ("action", "date", "origin", "page", "session", "status"))
    assert f"bad input, under {fields}" in transactions
    forecast = page[page.index("<code>/api/hedge/forecast</code>"):]
    assert '<a href="#schema-Forecast">Forecast</a>' in forecast[:forecast.index("</section>")]
    assert "<code>baskets.NAME</code>" in forecast[:forecast.index("</section>")]


def test_a_forecast_for_a_replayed_day_says_why_it_cannot_be_made(trader_api):
    replay = DailySessionFactory(is_replay=True, replay_name="one-entry-breach")
    response = trader_api.get("/api/hedge/forecast", {"session": replay.pk})
    assert response.status_code == 400
    assert response.json() == {"session": [
        f"Session {replay.pk} is a replayed day (one-entry-breach): a forecast reads the market from the session's broker now, "
        "and a replay has none. Forecast the scenario instead: manage.py forecast SCENARIO.json."]}
