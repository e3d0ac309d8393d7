"""The bot wired to the hedging services, through the simulated Bot API."""

from decimal import Decimal

import pytest
from django.utils import timezone

from hedging.models import Alert, AuditEvent, Control, MarginSnapshot
from hedging.services.bot import HedgingBotHandler
from tests.factories import DailySessionFactory
from tests.telegram.test_bot import TRADER, running_bot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def ask(sim, command: str, replies: int) -> str:
    sim.push_update(TRADER, command)
    return sim.wait_for_messages(TRADER, replies)[-1].text


def test_status_pause_and_resume_act_on_the_real_switch(telegram_sim, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    today = timezone.localdate()  # /status reports today's sessions, whatever day the suite runs
    session = DailySessionFactory(date=today, expiry=today, budget=Decimal("1300000"))
    MarginSnapshot.objects.create(session=session, taken_at=timezone.now(), broker_used_margin=Decimal("620000"),
                                  used_margin=Decimal("620000"), utilisation_pct=Decimal("47.69"), hedges_held=1)
    with running_bot(telegram_sim, HedgingBotHandler()):
        status = ask(telegram_sim, "/status", 1)
        assert "47.7% of ₹13L" in status and "1 hedge basket(s)" in status and "PAPER" in status
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
