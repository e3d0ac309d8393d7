"""Redis killed mid-day and started again empty (`own_redis`: a server of the test's
own, as others share the suite's): the worker and beat reconnect by themselves and no
decision or alert is lost."""

from datetime import timedelta

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from hedging.models import Alert, DailySession, HedgeTransaction, StrategyExecution
from tests.fixtures.processes import wait_for
from tests.outages.conftest import (
    CHATS, alerted, enqueue, finished, idle, open_hedges, received, serving, settled, tail, tick, trading_session,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def beat_lookahead_every(seconds: int) -> None:
    """Beat fires the lookahead every few seconds instead of every minute (no minute
    boundary to wait for), and nothing else."""
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(task="hedging.lookahead_all").update(enabled=False)
    PeriodicTask.objects.filter(task="hedging.lookahead_all").update(interval=every, crontab=None)


def test_a_hedge_due_while_redis_was_down_is_placed_once_when_it_is_back(own_redis, on_own_redis, clock):
    beat_lookahead_every(2)
    with serving(clock) as broker:
        # Auto-hedge paused for the session, so the ticks before the outage decide nothing.
        session = trading_session(broker, "redis-restart", auto_enabled=False)
        running = on_own_redis
        running.worker()
        running.beat()

        # Mid-day: beat's ticks reach the worker (P1's entry is recorded).
        wait_for(lambda: session.executions.filter(name="P1", status=StrategyExecution.Status.ENTERED).exists(),
                 timeout=40, interval=0.2, what=f"a tick before the outage\n{tail(running, 'worker', 'beat')}")
        # Killed between two ticks (the next test kills it with a task in hand).
        wait_for(lambda: idle(running), timeout=10, interval=0.02, what=f"a pause between ticks\n{tail(running)}")
        own_redis.kill()
        wait_for(lambda: "Couldn't apply scheduled task" in running.log("beat"), timeout=10,
                 what=f"a tick lost to the outage\n{tail(running, 'beat')}")
        # The hedge falls due while Redis is down: the trader resumes auto-hedge.
        DailySession.objects.filter(pk=session.pk).update(auto_enabled=True)
        own_redis.start()

        tx = settled(session, running)
        tags, longs = broker.tags(), broker.longs()
        alive = {name: process.poll() is None for name, process in running.running.items()}

    assert alive == {"worker": True, "beat": True}
    assert tx.status == "filled"
    assert HedgeTransaction.objects.filter(session=session).count() == 1
    assert tags == {f"autohedge-{tx.pk}-CE-1": 1, f"autohedge-{tx.pk}-PE-1": 1}
    assert open_hedges(session) == longs


def test_redis_lost_while_a_hedge_is_bought_the_worker_stays_and_the_trader_is_told(own_redis, on_own_redis, clock,
                                                                                  telegram):
    running = on_own_redis
    with serving(clock) as broker:
        session = trading_session(broker, "redis-lost-mid-buy")
        running.worker()
        broker.inject("placeorder", "timeout", seconds=3)  # placed at once, its answer lost after 2 s
        buying = tick(session, own_redis.url)
        wait_for(broker.orders, timeout=40, interval=0.05, what=f"the first order\n{tail(running)}")
        own_redis.kill()
        tx = settled(session, running)
        alert = alerted(session, "hedge_bought", running)
        wait_for(lambda: finished(running, buying), timeout=10, what=f"the buying tick to end\n{tail(running)}")
        own_redis.start()
        assert tx.status == "filled"
        assert broker.tags() == {f"autohedge-{tx.pk}-CE-1": 1, f"autohedge-{tx.pk}-PE-1": 1}
        wait_for(lambda: running.log("worker").count("Connected to redis") == 2, timeout=10,
                 what=f"the worker to reconnect\n{tail(running)}")
        assert "hedging.deliver_alert" in running.log("worker") and "not queued" in running.log("worker")
        alert.refresh_from_db()
        assert alert.delivery == "pending" and received(telegram, alert) == dict.fromkeys(CHATS, 0)
        # A minute on, beat's sweep finds the alert still waiting and queues it again.
        Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - timedelta(minutes=2))
        enqueue("hedging.redeliver_alerts", redis_url=own_redis.url)
        wait_for(lambda: received(telegram, alert) == dict.fromkeys(CHATS, 1), timeout=10,
                 what=f"the hedge_bought alert\n{tail(running)}")
