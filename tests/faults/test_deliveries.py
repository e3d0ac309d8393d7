"""Duplicates with real workers: Celery worker processes on Redis, the simulated broker
over loopback. The broker's own order log is the judge."""

import pytest
import redis

from brokers.openalgo import OpenAlgoClient
from hedging import tasks
from hedging.services import orchestrator
from hedging.ports import Ports
from tests.fixtures.processes import CELERY_REDIS_URL

from .world import KEY, assert_bought_once, enqueue, settled

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def drained() -> bool:
    """Every message consumed and acknowledged (acks are late: after the task ran)."""
    queue = redis.Redis.from_url(CELERY_REDIS_URL)
    return queue.llen("celery") == 0 and queue.hlen("unacked") == 0


def two_busy_workers(workers) -> None:
    # Production's settle time: a placement in flight is never taken for lost.
    for name in ("one", "two"):
        workers.worker(name, concurrency=8, AUTOHEDGE_ORDER_SETTLE_SECONDS=15)


def test_one_buy_delivered_a_hundred_times_to_two_workers_places_one_order_per_leg(day, workers):
    session = day.fresh_session()
    # The decision is recorded here, and only recorded: the hundred deliveries execute it.
    ports = Ports(clock=day.clock, broker=OpenAlgoClient(day.url, KEY, rate_limit=False), paper=False,
                  dispatch=lambda tx_id, started: None)
    tx_id = orchestrator.tick(session.pk, ports).transaction_id
    assert tx_id and day.our_orders() == []
    two_busy_workers(workers)
    enqueue(tasks.execute_hedge, tx_id, times=100)
    workers.until(lambda: settled(session) and drained(), "the hundred deliveries", timeout=60, name="one")
    assert_bought_once(day, session)


def test_racing_lookahead_ticks_on_real_workers_make_one_decision(day, workers):
    session = day.fresh_session()
    two_busy_workers(workers)
    enqueue(tasks.lookahead_batch, [session.pk], times=40)
    workers.until(lambda: settled(session) and drained(), "the racing ticks", timeout=60, name="one")
    assert_bought_once(day, session)
