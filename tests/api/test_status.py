"""GET /api/hedge/status: margin as the minute's snapshot left it, or read live from the
broker when asked (read=now); the rest from the database. It writes nothing."""

from datetime import time, timedelta
from decimal import Decimal

import pytest

from hedging.core.clock import at
from hedging.models import Control, MarginSnapshot
from tests.api.fixtures import SIM_KEY_ENV
from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db
URL = "/api/hedge/status"


def only_session(body):
    (session,) = body["sessions"]
    return session


def test_margin_is_read_live_from_the_broker_when_asked(trader_api, trading_day, simbroker):
    used = Decimal(simbroker.state()["used_margin"]) - trading_day.baseline_margin
    status = only_session(trader_api.get(URL, {"read": "now"}).json())
    assert status["margin"]["source"] == "broker"
    assert Decimal(status["margin"]["used"]) == used
    assert Decimal(status["margin"]["utilisation_pct"]) == (used * 100 / Decimal(900000)).quantize(Decimal("0.01"))
    assert status["margin"]["as_of"] == "2026-11-24T09:56:00+05:30"
    assert status["broker"]["reachable"] is True and status["broker"]["latency_ms"] is not None
    assert (status["mode"], status["budget"], status["open_baskets"], status["hedges_held"]) == ("live", "900000.00", 1, 0)


def test_the_next_entry_shows_its_projection_and_the_rule_says_buy(trader_api, trading_day):
    status = only_session(trader_api.get(URL).json())
    (p2,) = status["next_entries"]
    assert (p2["name"], p2["at"], p2["needs_hedge"], p2["in_lookahead"]) == ("P2", "2026-11-24T10:00:00+05:30", True, True)
    assert Decimal(p2["projected_pct"]) > 95
    assert status["decision"]["action"] == "BUY"
    assert status["decision"]["reason"].startswith("P2 at 10:00: projected ")
    assert status["decision"]["reason"].endswith("> 95.0%: buy 1 hedge basket")
    assert status["cap"] == {"max": "50000.00", "spent": "0.00", "left": "50000.00"}
    assert status["cooldown_left"] == 0 and status["last_action"] is None


def test_by_default_the_broker_is_not_read_and_the_snapshot_is_shown(trader_api, trading_day, simbroker, monkeypatch):
    """Every open tab refreshes every 10 seconds: that must not be a broker call each."""
    calls = []
    handle = simbroker.handle

    def counted(endpoint, *args, **kwargs):
        calls.append(endpoint)
        return handle(endpoint, *args, **kwargs)

    monkeypatch.setattr(simbroker, "handle", counted)
    status = only_session(trader_api.get(URL).json())
    assert status["margin"]["source"] == "snapshot" and status["margin"]["as_of"] == "2026-11-24T09:25:00+05:30"
    assert status["broker"] == {"reachable": True, "error": "", "latency_ms": None, "as_of": "2026-11-24T09:25:00+05:30"}
    assert calls == []
    trader_api.get(URL, {"read": "now"})
    assert "funds" in calls


def test_a_bad_read_value_is_refused(trader_api, trading_day):
    response = trader_api.get(URL, {"read": "always"})
    assert response.status_code == 400 and "read" in response.json()


def test_a_stale_worker_is_reported(trader_api, trading_day):
    """The last reading was at 09:25; it is 09:56 in market hours."""
    worker = only_session(trader_api.get(URL).json())["worker"]
    assert worker == {"last_tick_at": "2026-11-24T09:25:00+05:30", "healthy": False}


def test_auto_off_globally_is_the_decision(trader_api, trading_day):
    Control.objects.update_or_create(pk=1, defaults={"auto_enabled": False})
    body = trader_api.get(URL).json()
    status = only_session(body)
    assert body["auto_global"] is False
    assert (status["auto_enabled"], status["auto_effective"]) == (True, False)
    assert status["decision"] == {"action": None, "reason": "auto-hedge off"}


def test_an_unreachable_broker_falls_back_to_the_last_snapshot(trader_api, sim_clock, monkeypatch):
    monkeypatch.setenv(SIM_KEY_ENV, "the-secret-key-value")
    account = BrokerAccountFactory(host="http://127.0.0.1:9", mode="live", api_key_env=SIM_KEY_ENV)
    session = DailySessionFactory(account=account, baseline_margin=Decimal(0), budget=Decimal("1000000"))
    MarginSnapshot.objects.create(
        session=session, taken_at=at(SIM_DAY, time(9, 14)), broker_used_margin=Decimal("433000"),
        used_margin=Decimal("433000"), utilisation_pct=Decimal("43.30"), open_baskets=1,
    )
    response = trader_api.get(URL, {"read": "now"})
    status = only_session(response.json())
    assert status["broker"]["reachable"] is False and status["broker"]["error"]
    assert status["margin"] == {
        "broker_used": "433000.00", "used": "433000.00", "utilisation_pct": "43.30",
        "as_of": "2026-11-24T09:14:00+05:30", "source": "snapshot",
    }
    assert status["open_baskets"] == 1
    assert b"the-secret-key-value" not in response.content


def test_before_the_first_tick_margin_is_unknown_and_nothing_is_captured(trader_api, sim_session):
    assert only_session(trader_api.get(URL).json())["broker"]["reachable"] is None  # not read today yet
    status = only_session(trader_api.get(URL, {"read": "now"}).json())
    assert status["margin"] is None and status["broker"]["reachable"] is True
    assert "baseline" in status["problem"]
    sim_session.refresh_from_db()
    assert sim_session.baseline_margin is None


def test_one_session_by_id(trader_api, trading_day):
    other = DailySessionFactory(date=SIM_DAY - timedelta(days=1), expiry=SIM_DAY)
    body = trader_api.get(URL, {"session": other.pk}).json()
    assert [s["session"]["id"] for s in body["sessions"]] == [other.pk]


def test_no_session_today(trader_api, sim_clock):
    assert trader_api.get(URL).json()["sessions"] == []


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_a_bad_session_is_refused_naming_the_field(trader_api, sim_clock, value):
    response = trader_api.get(URL, {"session": value})
    assert response.status_code == 400 and list(response.json()) == ["session"]
