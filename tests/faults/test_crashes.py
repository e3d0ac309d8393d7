"""A worker process SIGKILLed mid-hedge, again and again: after a restart the
next tick finishes the decision with exactly one order per leg at the broker, and the
rows tell the truth. Worker processes, Redis, PostgreSQL and loopback HTTP are real;
the kill lands where it should because the request (the simulated broker's `hold`
fault) or the database write (an advisory lock, see `paused`) is stopped there."""

from contextlib import contextmanager

import pytest
from django.db import connection

from hedging import tasks
from hedging.models import Alert, HedgeOrder, HedgeTransaction
from tests.fixtures.processes import wait_for

from .world import SETTLE_SECONDS, assert_bought_once, enqueue, settled

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ITERATIONS = 20


def restart(workers) -> None:
    workers.worker(AUTOHEDGE_ORDER_SETTLE_SECONDS=SETTLE_SECONDS)


def finish_after_restart(day, workers, session) -> None:
    """The next tick on the new worker: the decision in flight is dispatched again and
    settles, and the trader is told."""
    enqueue(tasks.lookahead_batch, [session.pk])
    workers.until(lambda: settled(session) and Alert.objects.filter(session=session).exists(),
                  "the transaction to settle and be announced")
    assert_bought_once(day, session)


@pytest.mark.parametrize("placed", [False, True], ids=["before-the-broker-has-it", "before-the-reply-is-recorded"])
def test_a_worker_killed_while_placing_leaves_one_order_per_leg(day, workers, placed):
    """placed=False: the worker dies with its request held unplaced (the order row says
    `sent`, the broker never saw it). placed=True: the broker has the order, the worker
    dies before it hears so. Even iterations hold the CE leg, odd ones the PE leg."""
    restart(workers)
    for n in range(ITERATIONS):
        session = day.fresh_session()
        held_leg = "PE" if n % 2 else "CE"
        if held_leg == "PE":
            day.post("faults", {"endpoint": "placeorder", "kind": "latency", "ms": 0})  # lets the CE leg pass
        day.post("faults", {"endpoint": "placeorder", "kind": "hold", "placed": placed})
        enqueue(tasks.lookahead_batch, [session.pk])
        workers.until(lambda: day.get("faults")["held"], "a held placement")
        dropped = day.get("faults")["dropped"]
        workers.kill()
        restart(workers)
        day.post("faults", {"release": True})
        tx = HedgeTransaction.objects.get(session=session)
        assert tx.status == "pending"  # decided and in flight: the dead worker settled nothing
        if placed:
            assert held_leg in {o["symbol"][-2:] for o in day.our_orders()}
        else:
            # B023: the lambdas in these loops are called before the loop moves on
            wait_for(lambda: day.get("faults")["dropped"] == dropped + 1, timeout=10, interval=0.02,  # noqa: B023
                     what="the dead worker's request to be dropped")
            assert held_leg not in {o["symbol"][-2:] for o in day.our_orders()}
            assert tx.orders.get(leg=held_leg).status == "sent"
            day.wait_settle_time(tx)
        finish_after_restart(day, workers, session)


PAUSE_KEY = 72001  # an advisory lock no other code takes


@contextmanager
def paused(model, event: str, when: str):
    """While active, the workers' `event` (INSERT, UPDATE) on `model`'s rows matching
    `when` waits on an advisory lock whenever the test holds it: a worker can be stopped
    just before that write and killed there."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql(f"""
        CREATE FUNCTION faults_pause() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock_shared({PAUSE_KEY}); RETURN NEW; END $$;
        CREATE TRIGGER faults_pause BEFORE {event} ON {table} FOR EACH ROW WHEN ({when})
        EXECUTE FUNCTION faults_pause();
    """)
    try:
        yield
    finally:
        sql(f"DROP TRIGGER faults_pause ON {table}; DROP FUNCTION faults_pause();")


def sql(query: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def backend_at_the_pause() -> int | None:
    rows = sql("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted", PAUSE_KEY)
    return rows[0][0] if rows else None


def kill_at_the_pause(workers, session) -> None:
    """Tick; SIGKILL the worker when it reaches the paused write; its database session
    ends with it, as PostgreSQL finds when it next talks to the dead client, so the
    write it was making is rolled back. A new worker is started."""
    sql("SELECT pg_advisory_lock(%s)", PAUSE_KEY)
    enqueue(tasks.lookahead_batch, [session.pk])
    backend = workers.until(backend_at_the_pause, "the worker at the paused write")
    workers.kill()
    sql("SELECT pg_terminate_backend(%s)", backend)
    wait_for(lambda: not sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s", backend), timeout=10, interval=0.02,
             what="the dead worker's database session to end")
    sql("SELECT pg_advisory_unlock(%s)", PAUSE_KEY)
    restart(workers)


def test_a_worker_killed_after_its_decision_before_any_order_is_sent(day, workers):
    """The decision is committed, no order row claimed (new → sent), nothing sent: the
    next tick finds it in flight and sends it."""
    restart(workers)
    with paused(HedgeOrder, "UPDATE", "OLD.status = 'new' AND NEW.status = 'sent'"):
        for _ in range(ITERATIONS // 2):  # one path every time: ten keep the suite short
            session = day.fresh_session()
            kill_at_the_pause(workers, session)
            tx = HedgeTransaction.objects.get(session=session)
            assert tx.status == "pending" and {o.status for o in tx.orders.all()} == {"new"}
            assert day.our_orders() == []
            finish_after_restart(day, workers, session)


def test_a_worker_killed_after_the_fills_are_recorded_before_the_alert(day, workers):
    """The transaction is settled and committed, its alert not yet written: the trader
    must still hear of the buy once."""
    restart(workers)
    with paused(Alert, "INSERT", "NEW.kind = 'hedge_bought'"):
        for _ in range(5):
            session = day.fresh_session()
            kill_at_the_pause(workers, session)
            [tick] = enqueue(tasks.lookahead_batch, [session.pk])
            workers.until(lambda: f"{tick}] succeeded" in workers.log() and settled(session), "the next tick")  # noqa: B023
            assert_bought_once(day, session)
