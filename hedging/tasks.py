"""Celery faces of the hedging services: ids in, work claimed through the database,
safe to run twice. Beat fires the `_all` tasks every minute; they fan out per session (the
lookahead in batches of sessions)."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from hedging.core.clock import IST, MARKET_CLOSE
from hedging.models import DailySession, HedgeTransaction
from hedging.ports import Ports
from hedging.rows import fetch
from hedging.services import orchestrator, runtime, summary
from hedging.services.executor import execute

log = logging.getLogger(__name__)
TICK_EXPIRES = 55  # a tick not started within its minute is dropped, never replayed late
LOOK_AGAIN = 5  # seconds before an order whose answer was lost is looked up again
# Beat fires the snapshot and the lookahead in the same second; a snapshot holding a
# session's lock then would make its lookahead skip the minute (a hedge a minute late).
SNAPSHOT_DELAY = 30


def active_sessions():
    today = runtime.clock().now().date()
    return DailySession.objects.filter(
        date=today, status=DailySession.Status.ACTIVE, is_replay=False, account__enabled=True
    ).values_list("pk", flat=True)


@shared_task(name="hedging.lookahead_all")
def lookahead_all() -> int:
    """Sessions go out in batches: a queued task costs the worker milliseconds of its
    own, as much as a tick that does nothing (1,000 accounts: see bench/run.py)."""
    started = time.time()
    ids = list(active_sessions())
    size = settings.AUTOHEDGE_TICK_BATCH
    for first in range(0, len(ids), size):
        lookahead_batch.apply_async((ids[first:first + size], started), expires=TICK_EXPIRES)
    return len(ids)


@shared_task(name="hedging.lookahead_batch")
def lookahead_batch(session_ids: list[int], tick_started: float | None = None) -> int:
    """One tick of each session (orchestrator.tick_batch); the notes written in one
    statement."""
    sessions = list(DailySession.objects.select_related("account").filter(pk__in=session_ids).order_by())
    ports = orchestrator.each_session(sessions, tick_ports)  # fails e.g. for an account whose API key is gone
    outcomes = orchestrator.tick_batch([s for s in sessions if s.pk in ports], ports, tick_started)
    orchestrator.note_ticks(outcomes)
    return len(outcomes)


def tick_ports(session: DailySession) -> Ports:
    """A tick's decision leaves from its own worker (execute_here), with these ports."""

    def dispatch(tx_id: int, tick_started: float | None) -> None:
        execute_here(ports, session, tx_id, tick_started)

    ports = runtime.ports_for(session.account, dispatch)
    return ports


def execute_here(ports: Ports, session: DailySession, tx_id: int, tick_started: float | None) -> None:
    """The tick's decision leaves from this worker at once, with no second trip through
    the queue and no second read of its session and account (what the executor reads of
    them is their settings). Fills still to come are awaited by the buy task, not here:
    the rest of the batch's sessions are not kept waiting on this one's broker. An
    answer still missing is looked for again by the buy task too."""
    (tx,) = fetch(HedgeTransaction, "id = %s", [tx_id])
    tx.session = session
    status = execute(tx, ports, tick_started, wait_for_fills=False).status
    if status == HedgeTransaction.Status.PENDING:
        execute_hedge.apply_async((tx_id,), countdown=ports.poll_interval)
    elif status == HedgeTransaction.Status.PLACED:
        execute_hedge.apply_async((tx_id,), countdown=LOOK_AGAIN)


@shared_task(name="hedging.snapshot_all")
def snapshot_all() -> int:
    ids = list(active_sessions())
    for session_id in ids:
        snapshot.apply_async((session_id,), countdown=SNAPSHOT_DELAY, expires=TICK_EXPIRES)
    return len(ids)


@shared_task(name="hedging.snapshot")
def snapshot(session_id: int) -> str:
    session = DailySession.objects.select_related("account").get(pk=session_id)
    return orchestrator.observe(session_id, runtime.ports_for(session.account))


@shared_task(name="hedging.execute_hedge", bind=True, max_retries=20)
def execute_hedge(self, tx_id: int, tick_started: float | None = None) -> str:
    tx = HedgeTransaction.objects.select_related("session__account").get(pk=tx_id)
    tx = execute(tx, runtime.ports_for(tx.session.account), tick_started)
    if tx.status == HedgeTransaction.Status.PLACED:  # an answer was lost: look again shortly
        raise self.retry(countdown=LOOK_AGAIN)
    return tx.status


def execute_hedge_later(tx_id: int, tick_started: float | None) -> None:
    """After the commit; if the queue is down the next tick finds the action in flight
    and dispatches it again."""
    transaction.on_commit(lambda: queue(execute_hedge, tx_id, tick_started), robust=True)


def queue(task, *args) -> None:
    """Enqueue, or log why not: the row stays as it is for the next tick or sweep."""
    try:
        task.delay(*args)
    except OperationalError as down:
        log.warning("%s%s not queued: %s", task.name, args, down)


@shared_task(name="hedging.deliver_alert", bind=True, max_retries=10)
def deliver_alert(self, alert_id: int) -> str:
    from hedging.services import notify

    return notify.deliver(alert_id, retry=lambda seconds: self.retry(countdown=seconds))


def deliver_alert_later(alert_id: int) -> None:
    queue(deliver_alert, alert_id)


@shared_task(name="hedging.redeliver_alerts")
def redeliver_alerts() -> int:
    """Every minute: alerts whose delivery was lost on the way are queued again (a row
    is sent at most once, whoever sends it)."""
    from hedging.services import notify

    ids = notify.waiting(runtime.clock().now())
    for alert_id in ids:
        deliver_alert.apply_async((alert_id,), expires=TICK_EXPIRES)
    return len(ids)


@shared_task(name="hedging.close_day_all")
def close_day_all() -> int:
    """After the close: each of today's sessions gets its summary and is closed."""
    now = runtime.clock().now()
    if now.astimezone(IST).time() <= MARKET_CLOSE:
        return 0
    sessions = DailySession.objects.filter(pk__in=list(active_sessions()))
    for session in sessions:
        summary.close_day(session, now, deliver_alert_later)
    return len(sessions)


@shared_task(name="hedging.forecast_all")
def forecast_all() -> int:
    """Before the open: one forecast per active session, each its own task."""
    from hedging.services import forecast

    return len(forecast.forecast_all(runtime.clock().now(), dispatch=forecast_session.delay))


@shared_task(name="hedging.forecast_session", bind=True, max_retries=8)
def forecast_session(self, session_id: int) -> str:
    from hedging.services import forecast

    return forecast.forecast_session(
        session_id,
        runtime.clock().now(),
        retry=lambda seconds: self.retry(countdown=seconds),
        deliver_alert=deliver_alert_later,
    )
