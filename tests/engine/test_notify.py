"""Alert delivery on the simulated Bot API: sent once, retried while Telegram is down,
not retried when the chat is gone, only logged without a token."""

from datetime import UTC, datetime

import pytest

from hedging.telegram.notifier import TelegramNotifier
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


def test_an_alert_deleted_before_its_turn_is_not_sent(telegram_sim, alert_row):
    alert_row.session.delete()  # its alerts go with it
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "gone"
    assert telegram_sim.sent_to(CHAT) == []


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
    assert alert_row.delivery == "pending" and alert_row.attempts == 1 and alert_row.error
    telegram_sim.clear_faults()
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "sent"
    assert len(telegram_sim.sent_to(CHAT)) == 1


def test_a_retry_goes_only_to_the_chats_that_missed_it(telegram_sim, alert_row):
    two_chats = TelegramNotifier(telegram_sim.token, [CHAT, "1002"], base_url=telegram_sim.base_url, max_retry_after=1)
    telegram_sim.flood(retry_after=60)  # the first chat served is told to wait a minute
    with pytest.raises(Retry):
        deliver(alert_row.pk, retry_later, two_chats)
    alert_row.refresh_from_db()
    assert alert_row.delivery == "pending" and len(alert_row.delivered_to) == 1
    assert deliver(alert_row.pk, retry_later, two_chats) == "sent"
    assert len(telegram_sim.sent_to(CHAT)) == len(telegram_sim.sent_to("1002")) == 1


def test_a_lost_chat_is_not_retried(telegram_sim, alert_row):
    telegram_sim.lose_chat(CHAT)
    assert deliver(alert_row.pk, retry_later, notifier(telegram_sim)) == "failed"
    alert_row.refresh_from_db()
    assert "chat not found" in alert_row.error.lower()


def test_without_a_token_the_alert_is_logged(alert_row, settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    assert deliver(alert_row.pk, retry_later) == "logged"


def test_the_sweep_finds_alerts_still_waiting_after_a_minute(alert_row):
    from datetime import timedelta

    from hedging.services.notify import waiting

    raised = alert_row.created_at
    assert waiting(raised + timedelta(seconds=30)) == []  # its own hand-off may still be on the way
    assert waiting(raised + timedelta(minutes=2)) == [alert_row.pk]
    replayed = Alert.objects.create(session=DailySessionFactory(is_replay=True), kind="cap_reached", level="critical",
                                    text="replayed", created_at=raised)
    Alert.objects.filter(pk=alert_row.pk).update(delivery="sent")
    assert replayed.pk not in waiting(raised + timedelta(minutes=2)) == []
    Alert.objects.filter(pk=alert_row.pk).update(delivery="pending", attempts=8)  # given up
    assert waiting(raised + timedelta(minutes=2)) == []
