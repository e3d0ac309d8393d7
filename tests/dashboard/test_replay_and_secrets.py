"""A day replayed with `manage.py replay --save` shows on the same pages, marked as a
replay; no page or API answer shows a secret."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from hedging.models import DailySession
from tests.api.fixtures import SIM_KEY_ENV
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db
SCENARIO = Path(__file__).resolve().parents[2] / "docs" / "scenarios" / "one-entry-breach.json"


@pytest.fixture
def replayed():
    call_command("replay", str(SCENARIO), "--save", stdout=StringIO(), stderr=StringIO())
    return DailySession.objects.get(is_replay=True)


def test_a_saved_replay_shows_on_the_pages(client, staff, replayed, sim_clock):
    client.force_login(staff)
    assert '<span class="pill replay">replay</span> one-entry-breach' in text(client.get("/sessions/"))
    transactions = text(client.get("/transactions/"))
    assert "BUY 1" in transactions and '<span class="pill replay">replay</span>' in transactions
    day = text(client.get(f"/sessions/{replayed.pk}/"))
    assert "replay: one-entry-breach" in day and '<polyline class="util-line"' in day and "BUY 1 09:40" in day
    analytics = text(
        client.get(
            "/analytics/", {"date_from": "2026-11-24", "date_to": "2026-11-24", "include_replays": "on", "session": replayed.pk}
        )
    )
    assert '<polyline class="util-line"' in analytics and '<span class="pill replay">replay</span>' in analytics


SECRET = "sk-live-0123456789abcdef"


def test_no_page_and_no_api_answer_shows_a_secret(client, staff, trading_day, monkeypatch, settings):
    monkeypatch.setenv(SIM_KEY_ENV, SECRET)  # the broker will refuse it: errors must not echo it
    settings.TELEGRAM_BOT_TOKEN = "123456:telegram-secret-token"
    client.force_login(staff)
    urls = ["/", "/?read=now", "/status/panel", "/schedule/", "/sessions/", f"/sessions/{trading_day.pk}/", "/transactions/",
            "/analytics/", "/api/schema/ui/", "/api/hedge/status", "/api/hedge/status?read=now", "/api/hedge/session",
            "/api/hedge/schedule", "/api/hedge/transactions", "/api/hedge/analytics", "/api/schema/"]
    for url in urls:
        body = client.get(url).content.decode()
        for secret in (SECRET, settings.TELEGRAM_BOT_TOKEN, settings.SECRET_KEY):
            assert secret not in body, f"{url} shows a secret"
    assert "Broker unreachable" in text(client.get("/?read=now"))
