"""The bot wired to the hedging services, through the simulated Bot API."""

from decimal import Decimal

import pytest
from django.utils import timezone

from hedging.core.money import format_inr, format_pct
from hedging.models import Alert, AuditEvent, Control, HedgeOrder, HedgeTransaction, MarginSnapshot
from hedging.services import runtime, status
from hedging.services.bot import HedgingBotHandler
from tests.factories import DailySessionFactory
from tests.telegram.test_bot import TRADER, running_bot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def ask(sim, command: str, replies: int) -> str:
    sim.push_update(TRADER, command)
    return sim.wait_for_messages(TRADER, replies)[-1].text


@pytest.fixture
def session():
    today = timezone.localdate()  # the bot reports today's sessions, whatever day the suite runs
    session = DailySessionFactory(date=today, expiry=today, budget=Decimal("1300000"))
    MarginSnapshot.objects.create(session=session, taken_at=timezone.now(), broker_used_margin=Decimal("620000"),
                                  used_margin=Decimal("620000"), utilisation_pct=Decimal("47.69"), hedges_held=1)
    return session


def bought(session, reason="N2 at 10:30: projected 97.2% > 95.0%") -> HedgeTransaction:
    now = timezone.now()
    tx = HedgeTransaction.objects.create(
        session=session, idempotency_key=f"buy-{session.pk}", action="BUY", hedge_baskets=1, reason=reason,
        for_entries=["N2"], util_after_pct=Decimal("84.1"), cost=Decimal("1917.50"), status="paper",
        decided_at=now, completed_at=now,
    )
    for leg, symbol, price in (("CE", "NIFTY25400CE", "15"), ("PE", "NIFTY24200PE", "14.50")):
        HedgeOrder.objects.create(transaction=tx, leg=leg, option_type=leg, tag=f"t{tx.pk}{leg}", symbol=symbol,
                                  exchange="NFO", strike=Decimal("25400"), side="BUY", quantity=65,
                                  limit_price=Decimal(price), expected_price=Decimal(price), status="paper",
                                  filled_quantity=65, average_price=Decimal(price))
    return tx


def test_status_pause_and_resume_act_on_the_real_switch(telegram_sim, settings, session):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with running_bot(telegram_sim, HedgingBotHandler()):
        status_text = ask(telegram_sim, "/status", 1)
        assert "Utilisation 47.7% of ₹13L" in status_text and "hedges held 1" in status_text
        assert "PAPER" in status_text
        assert "is now <b>off</b>" in ask(telegram_sim, "/pause", 2)
        assert Control.get().auto_enabled is False
        assert "global kill switch" in ask(telegram_sim, "/status", 3)
        assert "is now <b>on</b>" in ask(telegram_sim, "/resume", 4)
    assert Control.get().auto_enabled is True
    toggles = Alert.objects.filter(kind="auto_hedge_toggled").order_by("created_at")
    assert [("off" in a.text, TRADER in a.text) for a in toggles] == [(True, True), (False, True)]
    chat = f"Telegram chat {TRADER}"  # the audit trail's "who": there is no Django user
    assert list(AuditEvent.objects.order_by("id").values_list("actor", "user", "action", "before", "after")) == [
        (chat, None, "global.toggle", {"auto_enabled": True}, {"auto_enabled": False}),
        (chat, None, "global.toggle", {"auto_enabled": False}, {"auto_enabled": True}),
    ]


def test_status_and_today_say_what_the_panel_says(telegram_sim, settings, session):
    settings.AUTOHEDGE_LIVE_TRADING = True
    session.account.mode = "live"
    session.account.save()
    bought(session)
    with running_bot(telegram_sim, HedgingBotHandler()):
        status_text = ask(telegram_sim, "/status", 1)
        today_text = ask(telegram_sim, "/today", 2)
    panel = status.session_status(session, runtime.clock().now(), runtime.ports_for)
    assert panel.mode == "live" and "LIVE" in status_text and "PAPER" not in status_text
    assert f"Utilisation {format_pct(panel.margin.utilisation_pct)} of ₹13L" in status_text
    spend = f"Hedge spend today {format_inr(panel.spent)} of {format_inr(panel.cap)} cap · {format_inr(panel.cap_left)} left"
    assert spend in status_text and spend in today_text and "₹1,917.50" in spend
    assert f"Decision now: {panel.decision.reason}" in status_text
    assert "<b>BUY 1</b> (automatic) · Paper (not sent): N2 at 10:30: projected 97.2% &gt; 95.0%" in today_text


def test_summary_answers_the_day_so_far(telegram_sim, session):
    bought(session)
    with running_bot(telegram_sim, HedgingBotHandler()):
        summary = ask(telegram_sim, "/summary", 1)
    assert "Day summary" in summary and "Hedge buys: 1 (1 basket); exits: 0." in summary
    assert "net <b>₹1,917.50</b>" in summary
    assert "Peak utilisation 47.7%" in summary
