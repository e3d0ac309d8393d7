"""Every URL the project serves, enumerated from the URL conf: an anonymous visitor gets
a login redirect or a refusal, never data; a logged-in trader who is not staff cannot
place, cancel, toggle or edit."""

import re

import pytest
from django.urls import URLResolver, get_resolver

from tests.factories import DailySessionFactory, StrategyScheduleFactory, UserFactory

pytestmark = pytest.mark.django_db
PUBLIC = {"accounts/login/", "accounts/logout/", "api/schema/"}  # the schema holds no row (tests/api/test_onboarding.py)
# The pages and calls that place or cancel an order, switch auto-hedge or change rows.
STAFF_ONLY_POSTS = {
    "api/hedge/toggle", "api/hedge/manual/buy", "api/hedge/manual/exit", "api/hedge/schedule",
    "api/hedge/schedule/<int:pk>", "api/hedge/session", "toggle", "manual", "schedule/new",
    "schedule/<int:pk>/edit", "schedule/<int:pk>/enabled", "schedule/<int:pk>/delete",
}


def project_urls(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from project_urls(pattern.url_patterns, route)
        else:
            yield route


def concrete(route: str, pk: int) -> str:
    return "/" + re.sub(r"<int:\w+>", str(pk), route)


@pytest.fixture
def rows():
    session = DailySessionFactory()
    row = StrategyScheduleFactory(account=session.account)
    return {"pk": row.pk, "session": session}


def test_the_url_conf_is_covered():
    routes = set(project_urls())
    assert STAFF_ONLY_POSTS <= routes and PUBLIC <= routes
    assert len(routes) >= 25


@pytest.mark.parametrize("route", sorted(set(project_urls()) - PUBLIC))
def test_anonymous_gets_nothing(client, rows, route):
    url = concrete(route, rows["pk"])
    for response in (client.get(url), client.post(url, {}), client.put(url, {}, content_type="application/json")):
        assert response.status_code in (302, 401, 403, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
        body = response.content.decode()
        assert rows["session"].account.name not in body and "433000" not in body


@pytest.mark.parametrize("route", sorted(STAFF_ONLY_POSTS))
def test_a_trader_who_is_not_staff_cannot_act(client, rows, route):
    client.force_login(UserFactory())
    url = concrete(route, rows["pk"])
    response = client.post(url, {"session": rows["session"].pk, "hedge_baskets": 1, "enabled": "false"})
    assert response.status_code in (403, 405), (url, response.status_code)
