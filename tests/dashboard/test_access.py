"""Every page needs a login; every change needs a staff user."""

import pytest

from tests.factories import DailySessionFactory, StrategyScheduleFactory

pytestmark = pytest.mark.django_db

PAGES = ["/", "/status/panel", "/schedule/", "/sessions/", "/sessions/{session}/", "/transactions/", "/transactions.csv",
         "/analytics/", "/api/schema/ui/"]
CHANGES = ["/toggle", "/manual", "/schedule/new", "/schedule/{row}/edit", "/schedule/{row}/enabled", "/sessions/"]


@pytest.fixture
def ids():
    return {"session": DailySessionFactory().pk, "row": StrategyScheduleFactory().pk}


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_a_login(client, ids, url):
    response = client.get(url.format(**ids))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", PAGES)
def test_pages_open_for_a_logged_in_user(client, trader, ids, sim_clock, url):
    client.force_login(trader)
    assert client.get(url.format(**ids)).status_code == 200


@pytest.mark.parametrize("url", CHANGES)
def test_changes_need_staff(client, trader, ids, sim_clock, url):
    client.force_login(trader)
    assert client.post(url.format(**ids), {"enabled": "off", "action": "BUY", "hedge_baskets": 1}).status_code == 403


def test_anonymous_changes_go_to_the_login(client, ids):
    response = client.post("/toggle", {"enabled": "off"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
