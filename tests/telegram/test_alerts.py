"""Alerts as the trader gets them on Telegram (the simulated Bot API): a buy with its
reason and the session's mode, and the day's summary sent by the after-close task."""

from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from hedging.telegram.notifier import TelegramNotifier
from hedging.telegram.simulator import parse_html
from hedging import tasks
from hedging.core.clock import IST, SteppedClock
from hedging.models import Alert, DailySession
from hedging.services import notify
from hedging.services.executor import announce
from tests.factories import DailySessionFactory
from tests.telegram.test_bot_handler import bought

pytestmark = pytest.mark.django_db
CHAT = "1001"


def delivered(sim, alert: Alert) -> str:
    assert notify.deliver(alert.pk, notifier=TelegramNotifier(sim.token, [CHAT], base_url=sim.base_url)) == "sent"
    return parse_html(sim.sent_to(CHAT)[-1].text)


@pytest.mark.parametrize(
    "mode, sandbox, marker", [("paper", False, "🧪 PAPER · "), ("live", True, "🧪 SANDBOX · "), ("live", False, "")]
)
def test_a_buy_alert_says_why_and_the_panels_mode(telegram_sim, settings, mode, sandbox, marker):
    settings.AUTOHEDGE_LIVE_TRADING = True
    session = DailySessionFactory(account__mode=mode, sandbox=sandbox)
    tx = bought(session)
    announce(tx, list(tx.orders.all()), SimpleNamespace(deliver_alert=None), tx.completed_at)
    shown = delivered(telegram_sim, Alert.objects.get(session=session, kind="hedge_bought"))
    assert shown.startswith(f"{marker}ℹ️ Hedge bought · ")
    assert "1 hedge basket for ₹1,917.50:\n• NIFTY25400CE × 65 @ ₹15 = ₹975\n• NIFTY24200PE × 65 @ ₹14.50 = ₹942.50" in shown
    assert "Why: N2 at 10:30: projected 97.2% > 95.0%" in shown
    assert "Utilisation after N2 ≈ 84.1%, of the ₹20L budget." in shown
    assert "Spent today ₹1,917.50 of the" in shown


def test_the_summary_goes_out_after_the_close(telegram_sim, settings, monkeypatch, django_capture_on_commit_callbacks):
    session = DailySessionFactory()
    bought(session)
    session.snapshots.create(taken_at=datetime.combine(session.date, datetime.min.time(), IST).replace(hour=11, minute=5),
                             broker_used_margin=Decimal("1500000"), used_margin=Decimal("1500000"),
                             utilisation_pct=Decimal("75.04"))
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_CHAT_IDS = telegram_sim.token, [CHAT]
    settings.TELEGRAM_BASE_URL = telegram_sim.base_url
    monkeypatch.setattr(tasks, "deliver_alert_later", notify.deliver)  # the worker's part, here
    clock = SteppedClock(datetime.combine(session.date, datetime.min.time(), IST).replace(hour=15, minute=35))
    monkeypatch.setattr("hedging.services.runtime.clock", lambda: clock)
    with django_capture_on_commit_callbacks(execute=True):  # the alert leaves once its row is committed
        assert tasks.close_day_all() == 1
    [message] = telegram_sim.sent_to(CHAT)
    shown = parse_html(message.text)
    assert f"📊 Day summary · {session.date:%a %d %b}" in shown
    assert "Hedge buys: 1 (1 basket); exits: 0." in shown
    assert "net ₹1,917.50" in shown and "Peak utilisation 75% at 11:05" in shown
    assert DailySession.objects.get(pk=session.pk).status == DailySession.Status.CLOSED
