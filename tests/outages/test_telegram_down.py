"""Telegram failing while a hedge is bought: the buy does not wait for it, the alert row
waits for Telegram, and each chat gets the alert once when Telegram takes it again."""

import pytest

from hedging.models import Alert
from tests.fixtures.processes import wait_for
from tests.outages.conftest import CHATS, alerted, delivered_once, received, serving, settled, tail, tick, trading_session

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def fresh_telegram(telegram):
    yield telegram
    telegram.clear_faults()


def buy(worker, clock, name: str):
    """A tick that buys the hedge; the transaction, the broker's tags and the alert row."""
    with serving(clock) as broker:
        session = trading_session(broker, name)
        tick(session)
        tx = settled(session, worker)
        return tx, broker.tags(), alerted(session, "hedge_bought", worker)


def test_hedging_goes_on_while_telegram_is_down_and_the_alert_follows(worker, clock, fresh_telegram):
    fresh_telegram.set_down()  # every Bot API call answers 502
    tx, tags, alert = buy(worker, clock, "telegram-down")
    assert tx.status == "filled" and tx.latency_ms < 5000  # the orders left within the tick
    assert tags == {f"autohedge-{tx.pk}-CE-1": 1, f"autohedge-{tx.pk}-PE-1": 1}
    wait_for(lambda: Alert.objects.filter(pk=alert.pk, delivery="pending", attempts__gte=1).exists(), timeout=15,
             interval=0.2, what=f"a failed attempt\n{tail(worker)}")
    alert.refresh_from_db()
    assert "502" in alert.error and received(fresh_telegram, alert) == dict.fromkeys(CHATS, 0)

    fresh_telegram.clear_faults()
    delivered_once(fresh_telegram, alert, worker)


def test_a_chat_refused_once_gets_the_alert_and_the_others_no_second_copy(worker, clock, fresh_telegram):
    fresh_telegram.flood(retry_after=60)  # the first chat served is told to wait a minute
    tx, _, alert = buy(worker, clock, "telegram-one-chat")
    assert tx.status == "filled"
    delivered_once(fresh_telegram, alert, worker)
