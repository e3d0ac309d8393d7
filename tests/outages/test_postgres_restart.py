"""PostgreSQL restarted mid-day (as the application sees it: every connection dropped,
new ones refused for a while; see `PostgresOutage`): the worker recovers by itself, no
decision is lost and no order is placed twice."""

import pytest

from hedging.models import HedgeTransaction, MarginSnapshot
from tests.fixtures.processes import wait_for
from tests.outages.conftest import enqueue, finished, open_hedges, serving, settled, tail, tick, trading_session

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def failed_on_the_database(worker, task_id: str, session=None) -> bool:
    """The batch raised on the database, or (past its first read) logged the session's
    tick as failed on it."""
    log = worker.log("worker")
    if f"[{task_id}] raised unexpected: OperationalError" in log:
        return True
    failed = f"lookahead of session {session.pk} failed" if session else None
    return bool(failed) and failed in log and "OperationalError" in log.split(failed, 1)[1]


def test_a_tick_while_the_database_is_down_fails_and_the_next_one_decides(worker, clock, postgres_outage):
    with serving(clock) as broker:
        session = trading_session(broker, "pg-down-at-tick")
        enqueue("hedging.snapshot", session.pk)  # mid-day: the worker has its connections open
        wait_for(lambda: MarginSnapshot.objects.filter(session=session).exists(), timeout=30, interval=0.2,
                 what=f"the margin snapshot\n{tail(worker)}")

        postgres_outage.down()
        lost = tick(session)
        wait_for(lambda: finished(worker, lost), timeout=15, interval=0.2,
                 what=f"the tick during the outage\n{tail(worker)}")
        assert failed_on_the_database(worker, lost) and not broker.orders()
        postgres_outage.up()

        tick(session)
        tx = settled(session, worker)
        tags, longs = broker.tags(), broker.longs()

    assert worker.running["worker"].poll() is None
    assert tx.status == "filled"
    assert HedgeTransaction.objects.filter(session=session).count() == 1
    assert tags == {f"autohedge-{tx.pk}-CE-1": 1, f"autohedge-{tx.pk}-PE-1": 1}
    assert open_hedges(session) == longs


def test_down_between_the_decision_and_recording_its_order_places_it_once(worker, clock, postgres_outage):
    with serving(clock) as broker:
        session = trading_session(broker, "pg-down-mid-order")
        # The first leg's order is placed at once and its answer lost (the worker gives
        # up after 2 s and finds it by its tag): the database goes down meanwhile.
        broker.inject("placeorder", "timeout", seconds=3)
        buying = tick(session)
        (placed,) = wait_for(broker.orders, timeout=30, interval=0.05, what=f"the first leg's order\n{tail(worker)}")
        postgres_outage.down()
        wait_for(lambda: finished(worker, buying), timeout=15, interval=0.2,
                 what=f"the buying tick to end\n{tail(worker)}")
        assert failed_on_the_database(worker, buying, session)  # the answer could not be written
        postgres_outage.up()

        (tx,) = HedgeTransaction.objects.filter(session=session)
        assert tx.status == "pending" and tx.orders.get(leg="CE").status == "sent"  # decided, order claimed
        tick(session)  # the next tick finds the action in flight and resumes it
        tx = settled(session, worker)
        tags, longs = broker.tags(), broker.longs()

    assert tx.status == "filled"
    assert tags == {f"autohedge-{tx.pk}-CE-1": 1, f"autohedge-{tx.pk}-PE-1": 1}
    ce = tx.orders.get(leg="CE")
    assert (ce.tag, ce.broker_order_id, ce.status) == (placed["strategy"], placed["orderid"], "complete")
    assert open_hedges(session) == longs
