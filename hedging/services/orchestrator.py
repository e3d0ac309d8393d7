"""AutoHedgeOrchestrator: one tick of one session = read state → decide → dispatch.

The session row is locked for the tick (a racing tick skips it), the decision is
written under a per-minute idempotency key, and its orders leave only after that row
is committed: inline (replay) or through the buy/exit task (live, paper, demo).

The minute's fan-out first glances at each session, on rows read for its whole batch,
with no lock: most minutes of most sessions have nothing to write or do, and end there.
A glance that finds something hands the session to the locked tick, which reads again.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction

from brokers.models import SPOT_EXCHANGE
from brokers.openalgo import OpenAlgoError
from config.reporting import redact
from hedging.core.calendar import is_market_open
from hedging.core.decide import EXIT, ActionRefused, Decision, HeldLeg, Market, TickState, decide, manual_decision
from hedging.core.margin import ConstantsMargin
from hedging.models import ActiveHedge, Control, DailySession, HedgeTransaction, StrategyExecution
from hedging.rows import Read, fetch, fetch_together
from hedging.services import calculator, executor, monitor, reconcile, scheduler, selector
from hedging.services.alerts import alert, raise_alert
from hedging.ports import Ports

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TickOutcome:
    session_id: int
    note: str
    decision: Decision | None = None
    transaction_id: int | None = None
    at: datetime | None = None  # the tick's moment; None when it was skipped
    failed: bool = False  # the tick could not do its work: a problem for the trader to see


BUSY = "busy or not active"


@dataclass(frozen=True)
class Rows:
    """A session's rows a tick works on. `locked`: read under the session's row lock, so
    the tick may act on them; otherwise read for a glance, which acts on nothing, with
    its broker read asked for `ahead` beside the rest of its batch's."""

    executions: list[StrategyExecution]
    transactions: list[HedgeTransaction]
    hedges: list[ActiveHedge]  # open ones
    locked: bool
    ahead: monitor.BrokerRead | None = None


class NeedsLock(Exception):
    """A glance found something to write or to do."""


def require_lock(rows: Rows) -> None:
    if not rows.locked:
        raise NeedsLock


def tick(
    session_id: int,
    ports: Ports,
    tick_started: float | None = None,
    snapshot: bool = True,
    glanced: tuple[DailySession, Rows] | None = None,
) -> TickOutcome:
    """`glanced`: the session and its batch-read rows, looked at first (see glance)."""
    now = ports.clock.now()
    outcome = glance(*glanced, ports, now) if glanced else None
    if outcome:
        return outcome
    in_callers_transaction = connection.in_atomic_block  # a replay's day: a failure here fails it
    try:
        # No savepoint inside a caller's transaction: a failed reading fails the replayed day.
        with transaction.atomic(savepoint=False):
            session = claim(session_id)
            if session is None:
                return TickOutcome(session_id, BUSY)
            outcome = replace(run(session, rows_of(session, refresh=snapshot), bounded(ports), now, snapshot), at=now)
        if outcome.transaction_id:
            dispatch(outcome.transaction_id, ports, tick_started)
    except Exception as failure:
        if in_callers_transaction:
            raise
        with transaction.atomic():
            session = DailySession.objects.get(pk=session_id)
            return tick_failed(session, failure, ports, now)
    return outcome


def bounded(ports: Ports) -> Ports:
    """The tick's reads and decision bounded in broker time (its orders are not)."""
    if ports.tick_broker_seconds is None:
        return ports
    return replace(ports, broker=ports.broker.within(ports.tick_broker_seconds))


def tick_failed(session: DailySession, failure: Exception, ports: Ports, now: datetime) -> TickOutcome:
    """No silent tick: the session's note, and one critical alert a quarter hour, say so."""
    log.exception("tick of session %s failed", session.pk)
    what = redact(f"{type(failure).__name__}: {failure}")
    alert(session, "tick_failed", "critical",
          f"Auto-hedge could not finish its {now:%H:%M} check: {what}. Entries may go in unhedged until this is fixed.",
          now, ports.deliver_alert, dedupe_key=f"tick:{now:%H}:{now.minute // 15}")
    return TickOutcome(session.pk, f"tick failed: {what}", at=now, failed=True)


def note_ticks(outcomes: list[TickOutcome]) -> None:
    """What live ticks did and why, for the status panel (a skipped tick says nothing).
    One statement for a batch's notes: bulk_update's CASE costs more than the ticks."""
    at_field = DailySession._meta.get_field("last_tick_at")
    rows = [
        (at_field.get_db_prep_value(outcome.at, connection), outcome.note[:300], outcome.failed, outcome.session_id)
        for outcome in outcomes
        if outcome.at is not None
    ]
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {connection.ops.quote_name(DailySession._meta.db_table)} "
                "SET last_tick_at = %s, last_tick_note = %s, last_tick_failed = %s WHERE id = %s",
                rows,
            )


def glance(session: DailySession, rows: Rows, ports: Ports, now: datetime) -> TickOutcome | None:
    """The tick of a session with nothing to write or to do (alerts of a broker outage or
    of missing margin constants aside: their dedupe keys keep them single), taken without
    the lock. None when it finds something: its rows may be a moment old, so the locked
    tick reads again."""
    if session.status != DailySession.Status.ACTIVE:
        return None
    try:
        return replace(run(session, rows, ports, now, snapshot=False), at=now)
    except NeedsLock:
        return None
    except Exception:  # the locked tick tries again, and says so if it fails too
        log.warning("glance at session %s failed", session.pk, exc_info=True)
        return None


def observe(session_id: int, ports: Ports) -> str:
    """The margin monitor alone: read, move the executions, write a snapshot."""
    now = ports.clock.now()
    with transaction.atomic():
        session = claim(session_id)
        if session is None:
            return BUSY
        rows = rows_of(session, refresh=True)
        seen = look(session, rows, ports, now, snapshot=True)
        if isinstance(seen, Seen) and not ports.paper:  # paper hedges are nowhere but in the books
            reconcile.gone_hedges(session, rows.hedges, seen.reading, ports, now)
            reconcile.late_fills(session, ports, now)
    if isinstance(seen, TickOutcome):
        return seen.note
    try:
        selector.warm(session, ports.broker, now, calculator.session_settings(session))
    except OpenAlgoError as failure:
        return f"observed; strike list not refreshed: {failure}"
    return "observed"


def claim(session_id: int) -> DailySession | None:
    """Lock the active session for this tick; None if another tick holds it. (No join:
    the lock must not reach the account row, which the account's other sessions share.)"""
    found = fetch(DailySession, "id = %s AND status = %s", [session_id, DailySession.Status.ACTIVE], skip_locked=True)
    return found[0] if found else None


def rows_of(session: DailySession, refresh: bool) -> Rows:
    """The claimed session's rows, in one round trip. `refresh` (the minute's margin
    snapshot does it) first adds executions for schedule rows created since; the day's
    first tick always does."""
    if refresh:
        scheduler.ensure_executions(session)
    executions, transactions, hedges = fetch_together(*reads_of([session.pk]))
    if not executions and not refresh:
        return rows_of(session, refresh=True)
    return Rows(scheduler.of_session(executions, session), transactions, hedges, locked=True)


def glance_rows(sessions: list[DailySession], brokers: dict[int, object], now: datetime) -> dict[int, Rows]:
    """A batch's rows for its glances, in one round trip, and the broker reads of those
    that will read the broker, all on the wire at once: the batch waits for one broker
    round trip, not one a session (tens of milliseconds each from a real OpenAlgo)."""
    rows = {session.pk: Rows([], [], [], locked=False) for session in sessions}
    executions, transactions, hedges = fetch_together(*reads_of(list(rows)))
    for name, found in (("executions", executions), ("transactions", transactions), ("hedges", hedges)):
        for row in found:
            getattr(rows[row.session_id], name).append(row)
    for session in sessions:
        scheduler.of_session(rows[session.pk].executions, session)
        if reads_broker(session, rows[session.pk], now):
            held = list(dict.fromkeys((hedge.symbol, hedge.exchange) for hedge in rows[session.pk].hedges))
            rows[session.pk] = replace(rows[session.pk], ahead=monitor.BrokerRead(brokers[session.pk], held))
    return rows


def reads_broker(session: DailySession, rows: Rows, now: datetime) -> bool:
    """Whether a glance will read the broker: not with the market closed, nor on the
    day's first reading (the locked tick's)."""
    return (
        session.status == DailySession.Status.ACTIVE
        and is_market_open(now, calculator.holidays(session.index_name))
        and not first_reading(session, rows)
    )


def first_reading(session: DailySession, rows: Rows) -> bool:
    """The day's first reading writes the lot size, the baseline and the executions."""
    return not session.lot_size or session.freeze_qty is None or session.baseline_margin is None or not rows.executions


def reads_of(session_ids: list[int]) -> tuple[Read, ...]:
    """Transactions before hedges: a settlement commits its hedges with its status, so a
    transaction read as settled has its hedges in the later read."""
    where = f"session_id IN ({', '.join(['%s'] * len(session_ids))})"
    return (
        (StrategyExecution, where, session_ids, "planned_entry, name"),
        (HedgeTransaction, where, session_ids, "decided_at, id"),
        (ActiveHedge, f"{where} AND status = %s", [*session_ids, ActiveHedge.Status.OPEN], ""),
    )


def dispatch(tx_id: int, ports: Ports, tick_started: float | None) -> None:
    if ports.dispatch:
        ports.dispatch(tx_id, tick_started)
    else:
        executor.execute(tx_id, ports, tick_started)


@dataclass(frozen=True)
class Seen:
    reading: monitor.MarginReading
    quantity: int
    model: ConstantsMargin
    executions: list[StrategyExecution]


def look(session: DailySession, rows: Rows, ports: Ports, now: datetime, snapshot: bool) -> Seen | TickOutcome:
    """Alerts here are written from a glance too: their dedupe keys keep them single."""
    if not is_market_open(now, calculator.holidays(session.index_name)):
        return TickOutcome(session.pk, "market closed")
    try:
        model = calculator.margin_model(session)
    except calculator.UnknownMarginConstants as refused:
        alert(session, "no_margin_constants", "critical", str(refused), now, ports.deliver_alert, dedupe_key="constants")
        return TickOutcome(session.pk, str(refused))
    if first_reading(session, rows):
        require_lock(rows)
    try:
        quantity = basket_quantity(session, ports.broker)
        reading = read_and_advance(session, rows, ports, model, quantity, now)
    except OpenAlgoError as failure:
        return broker_outage(session, f"broker unreachable: {failure}", ports, now)
    if reading.sandbox != session.sandbox and not ports.paper:
        mark_sandbox(session, rows, reading.sandbox, ports, now)
    if snapshot:
        monitor.snapshot(session, reading, now, scheduler.open_baskets(rows.executions))
    return Seen(reading, quantity, model, rows.executions)


def mark_sandbox(session: DailySession, rows: Rows, sandbox: bool, ports: Ports, now: datetime) -> None:
    """A live account whose OpenAlgo answers from its sandbox trades nothing real: said
    once, on every surface."""
    require_lock(rows)
    session.sandbox = sandbox
    session.save(update_fields=["sandbox"])
    if sandbox:
        alert(session, "sandbox", "warning",
              "This live account's OpenAlgo answers from its sandbox (analyzer mode): margins are the sandbox's "
              "(a short option blocks only its premium) and fills are simulated. Nothing is traded for real, and "
              "utilisation is not the broker's.", now, ports.deliver_alert, dedupe_key="sandbox")


def broker_outage(session: DailySession, note: str, ports: Ports, now: datetime) -> TickOutcome:
    """One alert per quarter hour of an outage, not one a minute."""
    alert(session, "broker_unreachable", "critical", note[0].upper() + note[1:], now, ports.deliver_alert,
          dedupe_key=f"broker:{now:%H}:{now.minute // 15}")
    return TickOutcome(session.pk, note, failed=True)


def run(session: DailySession, rows: Rows, ports: Ports, now: datetime, snapshot: bool) -> TickOutcome:
    seen = look(session, rows, ports, now, snapshot)
    if isinstance(seen, TickOutcome):
        return seen
    if not rows.locked:  # a glance writes nothing: a failure is the locked tick's to tell
        return act(session, rows, seen, ports, now)
    try:
        with transaction.atomic():  # a failure deciding keeps the reading's writes: baseline, lot size, entries
            return act(session, rows, seen, ports, now)
    except OpenAlgoError as failure:  # the market read for a buy
        return broker_outage(session, f"broker unreachable while pricing a hedge buy: {failure}", ports, now)
    except Exception as failure:
        return tick_failed(session, failure, ports, now)


def act(session: DailySession, rows: Rows, seen: Seen, ports: Ports, now: datetime) -> TickOutcome:
    """Decide on what `look` saw, and write the decision."""
    transactions = rows.transactions
    flight = executor.in_flight(transactions)
    if flight:
        require_lock(rows)  # it is dispatched again
        return TickOutcome(session.pk, f"transaction {flight.pk} in flight", transaction_id=flight.pk)
    if not session.auto_enabled:
        return TickOutcome(session.pk, "auto-hedge off for this session")

    settings = calculator.session_settings(session)
    state = tick_state(session, seen, transactions, now, settings, ports.broker, ahead=rows.ahead)
    straddle = atm_straddle(seen.reading)
    benefit = calculator.per_strike_benefit(session, ports.broker, straddle, seen.quantity, seen.model) if straddle else None

    def market(whole: bool = False) -> Market:
        require_lock(rows)  # a buy is due: its market is read under the lock
        view = selector.market_view(session, ports.broker, settings, now, shorts_of(seen.reading), whole)
        if benefit:
            benefit.ask([quote.symbol for quote in view.quotes])
        return view if whole else replace(view, rest=lambda: market(whole=True))

    decision = decide(state, settings, seen.model, market, benefit)
    if decision.action or decision.alerts:
        require_lock(rows)
        if not Control.get().auto_enabled:
            return TickOutcome(session.pk, "auto-hedge off (global kill switch)")
    if benefit and benefit.unsupported:
        alert(session, "margin_unsupported", "warning",
              f"The broker has no margin call ({benefit.unsupported}): hedge strikes are chosen by the margin constants.",
              now, ports.deliver_alert, dedupe_key="margin_unsupported")
    for item in decision.alerts:
        raise_alert(session, item, now, ports.deliver_alert)
    if not decision.action:
        return TickOutcome(session.pk, decision.reason, decision)
    key = f"auto:{session.pk}:{now:%Y%m%d%H%M}"
    if any(tx.idempotency_key == key for tx in transactions):  # a tick delivered twice in its minute
        return TickOutcome(session.pk, "decided in this minute already", decision)
    tx = executor.record(session, decision, key, now)
    return TickOutcome(session.pk, decision.reason, decision, tx.pk)


def basket_quantity(session: DailySession, broker) -> int:
    """One leg of one basket: lots per basket × the lot size, read from the broker once
    with the freeze quantity (the most units one order may carry)."""
    if not session.lot_size or session.freeze_qty is None:
        symbol = broker.option_symbol(
            underlying=session.index_name,
            exchange=SPOT_EXCHANGE[session.index_name],
            expiry_date=session.expiry,
            offset="ATM",
            option_type="CE",
        )
        session.lot_size = session.lot_size or symbol.lotsize
        session.freeze_qty = symbol.freeze_qty or 0
        session.save(update_fields=["lot_size", "freeze_qty"])
    return session.lots_per_basket * session.lot_size


def read_and_advance(session: DailySession, rows: Rows, ports: Ports, model, quantity: int, now: datetime) -> monitor.MarginReading:
    """Read the broker, then move the day's executions: planned exits, due entries
    entered (with the utilisation just after them), early stop-outs."""
    executions = rows.executions
    exits, due = scheduler.exits_due(executions, now), scheduler.due_entries(executions, now)
    if exits or due:
        require_lock(rows)
    scheduler.close(exits, StrategyExecution.Status.EXITED, now)
    was_open = scheduler.open_baskets(executions)
    reading = monitor.read(session, ports.broker, quantity, model, was_open + sum(e.baskets for e in due), ports.paper, now,
                           holdings=monitor.holdings_of(rows.hedges), ahead=rows.ahead)
    for execution in due:
        confirmed = reading.short_baskets >= scheduler.open_baskets(executions) + execution.baskets
        scheduler.mark_entered(execution, reading.used, reading.utilisation_pct.quantize(Decimal("0.01")), confirmed)
    if reading.short_baskets < scheduler.open_baskets(executions):
        require_lock(rows)  # a stop-out to look for in the order book
        detect_stop_outs(executions, ports.broker, now)
    return reading


def detect_stop_outs(executions: list[StrategyExecution], broker, now: datetime) -> None:
    """A portfolio bought back before its planned exit: its closing orders carry its
    name as OpenAlgo's strategy tag."""
    entered = {e.name for e in executions if e.status == StrategyExecution.Status.ENTERED}
    closed = {
        order.strategy
        for order in broker.orderbook().orders
        if order.strategy in entered and order.action == "BUY" and order.is_complete
    }
    scheduler.mark_stopped_out(executions, closed, now)


def tick_state(
    session, seen: Seen, transactions, now, settings, broker, with_bids: bool | None = None,
    ahead: monitor.BrokerRead | None = None,
) -> TickState:
    reading = seen.reading
    if with_bids is None:  # bids matter only when an exit is possible
        with_bids = reading.utilisation_pct < settings.exit_trigger_pct
    return TickState(
        now=now,
        budget=session.budget,
        used_margin=reading.used,
        open_baskets=max(scheduler.open_baskets(seen.executions), reading.short_baskets),
        hedges_held=reading.hedges_held,
        pending_entries=scheduler.pending_entries(session, seen.executions),
        basket_quantity=seen.quantity,
        spent_today=executor.spent_today(transactions),
        last_action_at=transactions[-1].decided_at if transactions else None,
        held_legs=held_legs(reading, broker, with_bids, ahead) if reading.holdings else (),
    )


def held_legs(
    reading: monitor.MarginReading, broker, with_bids: bool, ahead: monitor.BrokerRead | None = None
) -> tuple[HeldLeg, ...]:
    if not with_bids:
        return tuple(HeldLeg(h.symbol, h.option_type, h.strike, h.quantity, None) for h in reading.holdings)
    asked = ahead.held_quotes if ahead else None
    answer = asked.result() if asked else broker.multiquotes([(h.symbol, h.exchange) for h in reading.holdings])
    quotes = {q.symbol: q.quote for q in answer}
    return tuple(
        HeldLeg(h.symbol, h.option_type, h.strike, h.quantity, quotes[h.symbol].bid if quotes.get(h.symbol) else None)
        for h in reading.holdings
    )


def shorts_of(reading: monitor.MarginReading) -> frozenset[str]:
    return frozenset(reading.positions.get("shorts", {}))


def atm_straddle(reading: monitor.MarginReading) -> tuple[str, str] | None:
    """The session's short straddle symbols, for the per-strike model's margin calls."""
    shorts = sorted(reading.positions.get("shorts", {}))
    ce = next((s for s in shorts if s.endswith("CE")), None)
    pe = next((s for s in shorts if s.endswith("PE")), None)
    return (ce, pe) if ce and pe else None


def manual(
    session_id: int, action: str, hedge_baskets: int, user, ports: Ports, client_key: str = ""
) -> HedgeTransaction:
    """A trader's buy or exit, through the same executor, limits and audit as the
    automatic ones. A repeated `client_key` returns the first request's transaction."""
    now = ports.clock.now()
    key = f"manual:{session_id}:{action}:{client_key or uuid.uuid4().hex}"
    with transaction.atomic():
        session = DailySession.objects.select_for_update().filter(pk=session_id, status=DailySession.Status.ACTIVE).first()
        if session is None:
            raise ActionRefused("session", "no such active session")
        existing = HedgeTransaction.objects.filter(idempotency_key=key).first()
        if existing:
            return existing
        rows = rows_of(session, refresh=False)
        seen = look(session, rows, ports, now, snapshot=False)
        if isinstance(seen, TickOutcome):
            raise ActionRefused("non_field_errors", seen.note)
        transactions = rows.transactions
        if executor.in_flight(transactions):
            raise ActionRefused("non_field_errors", "another hedge action is still in flight")
        settings = calculator.session_settings(session)
        state = tick_state(session, seen, transactions, now, settings, ports.broker, with_bids=action == EXIT)
        who = getattr(user, "username", None) or "trader"
        decision = manual_decision(state, settings, seen.model, action, hedge_baskets, lambda: selector.market_view(session, ports.broker, settings, now, shorts_of(seen.reading)), who)
        tx = executor.record(session, decision, key, now, origin=HedgeTransaction.Origin.MANUAL, user=user)
    dispatch(tx.pk, ports, time.time())
    tx.refresh_from_db()
    return tx
