"""Alert delivery on the simulated Bot API: sent once, retried while Telegram is down,
not retried when the chat is gone, only logged without a token."""

from datetime import UTC, datetime

import pytest

from brokers.telegram import TelegramNotifier
from hedging.models import Alert
from hedging.services.notify import deliver
from tests.factories import DailySessionFactory

pytestmark = pytest.mark.django_db
CHAT = "1001"


class Retry(Exception):
    pass


def retry_later(seconds):
    raise Retry(seconds)


@pytest.fixture
def alert_row():
    session = DailySessionFactory()
    return Alert.objects.create(session=session, kind="cap_reached", level="critical",
                                text="P2 <09:45> & cap ₹5", created_at=datetime.now(UTC))


def notifier(sim):
    return TelegramNotifier(sim.token, [CHAT], base_url=sim.base_url)


def test_sent_once_escaped(telegram_sim, alert_row):
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "sent"
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "sent"
    (message,) = telegram_sim.sent_to(CHAT)
    assert "P2 &lt;09:45&gt; &amp; cap ₹5" in message.text and "PAPER" in message.text


def test_telegram_down_is_retried_and_delivered_when_back(telegram_sim, alert_row):
    telegram_sim.set_down()
    with pytest.raises(Retry):
        deliver(alert_row.pk, retry_later, notifier(telegram_sim))
    alert_row.refresh_from_db()
    assert alert_row.delivery == "failed" and alert_row.attempts == 1
    telegram_sim.clear_faults()
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "sent"
    assert len(telegram_sim.sent_to(CHAT)) == 1


def test_a_lost_chat_is_not_retried(telegram_sim, alert_row):
    telegram_sim.lose_chat(CHAT)
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "failed"
    alert_row.refresh_from_db()
    assert "chat not found" in alert_row.error.lower()


def test_without_a_token_the_alert_is_logged(alert_row, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    assert deliver(alert_row.pk, retry_later) == "logged"
