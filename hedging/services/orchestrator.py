"""AutoHedgeOrchestrator: one tick of one session = read state → decide → dispatch.

The session row is locked for the tick (a racing tick skips it), the decision is
written under a per-minute idempotency key, and its orders leave only after that row
is committed: inline (replay) or through the buy/exit task (live, paper, demo).

The minute's fan-out first glances at each session, on rows read for its whole batch,
with no lock: most minutes of most sessions have nothing to write or do, and end there.
A tick is a read (`look`, which writes nothing) and then, under the lock only, its
writes (`record`) and its decision (`act`): a glance runs the read and the core's
`quiet` and stops, so no write is reachable from it. A glance that finds something to
write or do hands the session to the locked tick, which reads again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from brokers.models import SPOT_EXCHANGE
from brokers.openalgo import OpenAlgoError
from config.reporting import redact
from hedging.core.calendar import is_market_open
from hedging.core.decide import EXIT, ActionRefused, Alert, Decision, HeldLeg, Market, TickState, decide, manual_decision, quiet
from hedging.core.margin import ConstantsMargin, utilisation_pct
from hedging.models import ActiveHedge, Control, DailySession, HedgeTransaction, StrategyExecution
from hedging.rows import Read, fetch, fetch_together
from hedging.services import calculator, executor, monitor, reconcile, scheduler, selector
from hedging.services.alerts import alert, raise_alert
from hedging.ports import Ports

log = logging.getLogger(__name__)
T = TypeVar("T")
# A batch's locked ticks run at once: each waits on its broker (tens to hundreds of ms an
# answer). Each thread keeps a database connection: AUTOHEDGE_TICK_THREADS bounds them.
locked_ticks = ThreadPoolExecutor(max_workers=settings.AUTOHEDGE_TICK_THREADS, thread_name_prefix="locked-ticks")


@dataclass(frozen=True)
class TickOutcome:
    session_id: int
    note: str
    decision: Decision | None = None
    transaction_id: int | None = None
    at: datetime | None = None  # the tick's moment; None when it was skipped
    failed: bool = False  # the tick could not do its work: a problem for the trader to see


BUSY = "busy or not active"
# Points of utilisation under the entry trigger at which a glance asks for the spot ahead:
# the broker's margin is the session's baskets' give or take other positions and hedges.
SPOT_AHEAD_CUSHION = Decimal(15)


@dataclass(frozen=True)
class Rows:
    """A session's rows a tick works on; for a glance, with its broker read asked for
    `ahead` beside the rest of its batch's."""

    executions: list[StrategyExecution]
    transactions: list[HedgeTransaction]
    hedges: list[ActiveHedge]  # open ones
    ahead: monitor.BrokerRead | None = None


def tick(
    session_id: int,
    ports: Ports,
    tick_started: float | None = None,
    snapshot: bool = True,
    glanced: tuple[DailySession, Rows] | None = None,
    ahead: monitor.BrokerRead | None = None,
) -> TickOutcome:
    """`glanced`: the session and its batch-read rows, looked at first (see glance).
    `ahead`: the minute's broker read, taken already (a glance's): not asked again."""
    now = ports.clock.now()
    if glanced:
        outcome = glance(*glanced, ports, now)
        if outcome:
            return outcome
        ahead = glanced[1].ahead
    in_callers_transaction = connection.in_atomic_block  # a replay's day: a failure here fails it
    try:
        # No savepoint inside a caller's transaction: a failed reading fails the replayed day.
        with transaction.atomic(savepoint=False):
            session = claim(session_id)
            if session is None:
                return TickOutcome(session_id, BUSY)
            rows = replace(rows_of(session, refresh=snapshot), ahead=ahead)
            outcome = replace(run(session, rows, bounded(ports), now, snapshot), at=now)
        if outcome.transaction_id:
            dispatch(outcome.transaction_id, ports, tick_started)
    except Exception as failure:
        if in_callers_transaction:
            raise
        with transaction.atomic():
            session = DailySession.objects.get(pk=session_id)
            return tick_failed(session, failure, ports, now)
    return outcome


def tick_batch(sessions: list[DailySession], ports: dict[int, Ports], tick_started: float | None) -> list[TickOutcome]:
    """The minute's tick of a batch of sessions: their rows read together, their broker
    reads all on the wire at once, each glanced at; those with something to write or do
    then ticked under their locks at once, each on a connection of its own (inside a
    caller's transaction, which other connections cannot see, one after another). A
    session's failure is logged, and the others go on."""
    if not sessions:
        return []
    started = time.time() if tick_started is None else tick_started
    now = ports[sessions[0].pk].clock.now()
    rows = glance_rows(sessions, {pk: p.broker for pk, p in ports.items()}, now)
    glanced = each_session(sessions, lambda session: glance(session, rows[session.pk], ports[session.pk], now))
    locked = [session for session in sessions if glanced.get(session.pk) is None]

    def locked_tick(session: DailySession) -> TickOutcome:
        return tick(session.pk, ports[session.pk], started, snapshot=False, ahead=rows[session.pk].ahead)

    ticked = at_once([partial(each_session, [session], locked_tick) for session in locked])
    outcomes = {pk: outcome for pk, outcome in glanced.items() if outcome is not None}
    for done in ticked:
        outcomes.update(done)
    return [outcomes[session.pk] for session in sessions if session.pk in outcomes]


def each_session(sessions: list[DailySession], work: Callable[[DailySession], T]) -> dict[int, T]:
    """`work` on each session, by id; a session's failure is logged, the rest go on."""
    done = {}
    for session in sessions:
        try:
            done[session.pk] = work(session)
        except Exception:
            log.exception("lookahead of session %s failed", session.pk)
    return done


def at_once(jobs: list[Callable[[], T]]) -> list[T]:
    if len(jobs) <= 1 or connection.in_atomic_block:
        return [job() for job in jobs]
    return [future.result() for future in [locked_ticks.submit(on_own_connection, job) for job in jobs]]


def on_own_connection(job: Callable[[], T]) -> T:
    close_old_connections()  # a pool thread's connection may have died since its last job
    return job()


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
    """The tick of a session with nothing to write or to do, taken without the lock: a
    read and the core's `quiet`. None when it finds something: its rows may be a moment
    old, so the locked tick reads again. (An outage's or missing constants' alert is
    raised from here too: its dedupe key keeps it single.)"""
    if session.status != DailySession.Status.ACTIVE or first_reading(session, rows):
        return None
    try:
        seen = look(session, rows, ports, now)
        if isinstance(seen, Stop):
            return replace(stop(session, seen, ports, now), at=now)
        if seen.writes or executor.in_flight(rows.transactions):
            return None
        if not session.auto_enabled:
            return TickOutcome(session.pk, AUTO_OFF, at=now)
        settings = calculator.session_settings(session)
        reason = quiet(tick_state(session, seen, rows.transactions, now, settings, ports.broker, ahead=rows.ahead), settings, seen.model)
    except Exception:  # the locked tick tries again, and says so if it fails too
        log.warning("glance at session %s failed", session.pk, exc_info=True)
        return None
    return TickOutcome(session.pk, reason, at=now) if reason else None


def observe(session_id: int, ports: Ports) -> str:
    """The margin monitor alone: read, move the executions, write a snapshot."""
    now = ports.clock.now()
    with transaction.atomic():
        session = claim(session_id)
        if session is None:
            return BUSY
        rows = rows_of(session, refresh=True)
        seen = recorded(session, look(session, rows, ports, now), ports, now, snapshot=True)
        if isinstance(seen, Stop):
            return stop(session, seen, ports, now).note
        if not ports.paper:  # paper hedges are nowhere but in the books
            reconcile.gone_hedges(session, rows.hedges, seen.reading, ports, now)
            reconcile.late_fills(session, ports, now)
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
    return Rows(scheduler.of_session(executions, session), transactions, hedges)


def glance_rows(sessions: list[DailySession], brokers: dict[int, object], now: datetime) -> dict[int, Rows]:
    """A batch's rows for its glances, in one round trip, and the broker reads of those
    that will read the broker, all on the wire at once: the batch waits for one broker
    round trip, not one a session (tens of milliseconds each from a real OpenAlgo)."""
    rows = {session.pk: Rows([], [], []) for session in sessions}
    executions, transactions, hedges = fetch_together(*reads_of(list(rows)))
    for name, found in (("executions", executions), ("transactions", transactions), ("hedges", hedges)):
        for row in found:
            getattr(rows[row.session_id], name).append(row)
    for session in sessions:
        scheduler.of_session(rows[session.pk].executions, session)
        if reads_broker(session, rows[session.pk], now):
            held = list(dict.fromkeys((hedge.symbol, hedge.exchange) for hedge in rows[session.pk].hedges))
            spot = (session.index_name, SPOT_EXCHANGE[session.index_name]) if may_buy(session, rows[session.pk], now) else None
            rows[session.pk] = replace(rows[session.pk], ahead=monitor.BrokerRead(brokers[session.pk], held, spot))
    return rows


def may_buy(session: DailySession, rows: Rows, now: datetime) -> bool:
    """Whether a buy may be due this minute, before the broker is read: an entry inside the
    lookahead, and the session's own baskets, open and due, unhedged at the margin model's
    rate, within SPOT_AHEAD_CUSHION points of the entry trigger. The index spot is then
    asked for beside the minute's margin (a buy's strikes are chosen from it). A guess for
    speed alone: a buy due without it reads the spot itself, one round trip later."""
    settings = calculator.session_settings(session)
    horizon = now + timedelta(minutes=settings.lookahead_minutes)
    due = sum(entry.baskets for entry in scheduler.pending_entries(session, rows.executions) if now < entry.at <= horizon)
    if not due:
        return False
    try:
        model = calculator.margin_model(session)
    except calculator.UnknownMarginConstants:  # the tick stops on it, with its alert
        return False
    own = model.basket_margin(scheduler.open_baskets(rows.executions) + due, 0)
    return utilisation_pct(own, session.budget) > settings.entry_trigger_pct - SPOT_AHEAD_CUSHION


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


AUTO_OFF = "auto-hedge off for this session"


@dataclass(frozen=True)
class Stop:
    """A tick that ends at its read (market closed, no margin constants, broker
    unreachable), with the alert it raises."""

    note: str
    alert: Alert | None = None
    failed: bool = False


@dataclass(frozen=True)
class Seen:
    """What a tick read, and the writes it found due (the locked tick's to make)."""

    reading: monitor.MarginReading
    quantity: int
    model: ConstantsMargin
    executions: list[StrategyExecution]
    exits: list[StrategyExecution]  # planned exits now due
    entries: list[StrategyExecution]  # entries now due
    first: bool  # the day's first reading: lot size, freeze quantity and baseline to keep
    short_of_schedule: bool  # fewer short baskets than the schedule has open: a stop-out?
    sandbox_changed: bool

    @property
    def writes(self) -> bool:
        return bool(self.first or self.exits or self.entries or self.short_of_schedule or self.sandbox_changed)


def look(session: DailySession, rows: Rows, ports: Ports, now: datetime) -> Seen | Stop:
    """The tick's read: the broker's margin and positions, and what is due. Writes nothing."""
    if not is_market_open(now, calculator.holidays(session.index_name)):
        return Stop("market closed")
    try:
        model = calculator.margin_model(session)
    except calculator.UnknownMarginConstants as refused:
        return Stop(str(refused), Alert("no_margin_constants", "critical", str(refused), "constants"))
    executions, first = rows.executions, first_reading(session, rows)
    exits, entries = scheduler.exits_due(executions, now), scheduler.due_entries(executions, now)
    open_after = scheduler.open_baskets(executions) - baskets(exits) + baskets(entries)
    try:
        quantity = basket_quantity(session, ports.broker)
        reading = monitor.read(session, ports.broker, quantity, model, open_after, ports.paper,
                               holdings=monitor.holdings_of(rows.hedges), ahead=rows.ahead)
    except OpenAlgoError as failure:
        return outage(f"broker unreachable: {failure}", now)
    return Seen(reading, quantity, model, executions, exits, entries, first,
                short_of_schedule=reading.short_baskets < open_after,
                sandbox_changed=reading.sandbox != session.sandbox and not ports.paper)


def baskets(executions: list[StrategyExecution]) -> int:
    return sum(e.baskets for e in executions)


def outage(note: str, now: datetime) -> Stop:
    """One alert per quarter hour of an outage, not one a minute."""
    text = note[0].upper() + note[1:]
    return Stop(note, Alert("broker_unreachable", "critical", text, f"broker:{now:%H}:{now.minute // 15}"), failed=True)


def stop(session: DailySession, seen: Stop, ports: Ports, now: datetime) -> TickOutcome:
    if seen.alert:
        raise_alert(session, seen.alert, now, ports.deliver_alert)
    return TickOutcome(session.pk, seen.note, failed=seen.failed)


def record(session: DailySession, seen: Seen, ports: Ports, now: datetime, snapshot: bool) -> None:
    """The read's writes, under the session's lock: the day's first reading kept, planned
    exits closed, due entries entered (with the utilisation just after them), early
    stop-outs found in the order book, the sandbox noted, the minute's snapshot."""
    reading, executions = seen.reading, seen.executions
    if seen.first:
        session.save(update_fields=["lot_size", "freeze_qty"])
        monitor.capture_baseline(session, reading.broker_used, now)
    scheduler.close(seen.exits, StrategyExecution.Status.EXITED, now)
    for execution in seen.entries:
        confirmed = reading.short_baskets >= scheduler.open_baskets(executions) + execution.baskets
        scheduler.mark_entered(execution, reading.used, reading.utilisation_pct.quantize(Decimal("0.01")), confirmed)
    if seen.short_of_schedule:
        detect_stop_outs(executions, ports.broker, now)
    if seen.sandbox_changed:
        mark_sandbox(session, reading.sandbox, ports, now)
    if snapshot:
        monitor.snapshot(session, reading, now, scheduler.open_baskets(executions))


def recorded(session: DailySession, seen: Seen | Stop, ports: Ports, now: datetime, snapshot: bool) -> Seen | Stop:
    if isinstance(seen, Stop):
        return seen
    try:
        record(session, seen, ports, now, snapshot)
    except OpenAlgoError as failure:  # the order book, looking for a stop-out
        return outage(f"broker unreachable: {failure}", now)
    return seen


def mark_sandbox(session: DailySession, sandbox: bool, ports: Ports, now: datetime) -> None:
    """A live account whose OpenAlgo answers from its sandbox trades nothing real: said
    once, on every surface."""
    session.sandbox = sandbox
    session.save(update_fields=["sandbox"])
    if sandbox:
        alert(session, "sandbox", "warning",
              "This live account's OpenAlgo answers from its sandbox (analyzer mode): margins are the sandbox's "
              "(a short option blocks only its premium) and fills are simulated. Nothing is traded for real, and "
              "utilisation is not the broker's.", now, ports.deliver_alert, dedupe_key="sandbox")


def run(session: DailySession, rows: Rows, ports: Ports, now: datetime, snapshot: bool) -> TickOutcome:
    """The locked tick: read, write what the read found, decide."""
    seen = recorded(session, look(session, rows, ports, now), ports, now, snapshot)
    if isinstance(seen, Stop):
        return stop(session, seen, ports, now)
    try:
        with transaction.atomic():  # a failure deciding keeps the reading's writes: baseline, lot size, entries
            return act(session, rows, seen, ports, now)
    except OpenAlgoError as failure:  # the market read for a buy
        return stop(session, outage(f"broker unreachable while pricing a hedge buy: {failure}", now), ports, now)
    except Exception as failure:
        return tick_failed(session, failure, ports, now)


def act(session: DailySession, rows: Rows, seen: Seen, ports: Ports, now: datetime) -> TickOutcome:
    """Decide on what `look` saw, and write the decision."""
    transactions = rows.transactions
    flight = executor.in_flight(transactions)
    if flight:  # it is dispatched again
        return TickOutcome(session.pk, f"transaction {flight.pk} in flight", transaction_id=flight.pk)
    if not session.auto_enabled:
        return TickOutcome(session.pk, AUTO_OFF)

    settings = calculator.session_settings(session)
    state = tick_state(session, seen, transactions, now, settings, ports.broker)
    straddle = atm_straddle(seen.reading)
    benefit = calculator.per_strike_benefit(session, ports.broker, straddle, seen.quantity, seen.model) if straddle else None

    def market(whole: bool = False) -> Market:
        spot = rows.ahead.spot() if rows.ahead else None
        view = selector.market_view(session, ports.broker, settings, now, shorts_of(seen.reading), whole, spot)
        if benefit:
            benefit.ask([quote.symbol for quote in view.quotes])
        return view if whole else replace(view, rest=lambda: market(whole=True))

    decision = decide(state, settings, seen.model, market, benefit)
    if (decision.action or decision.alerts) and not Control.get().auto_enabled:
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
    """One leg of one basket: lots per basket × the lot size. A session with none yet
    has it read from the broker with the freeze quantity (the most units one order may
    carry); the day's first reading keeps both."""
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
    return session.lots_per_basket * session.lot_size


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
    session_id: int, action: str, hedge_baskets: int, user, ports: Ports, client_key: str = "",
    strikes: Mapping[str, Decimal] | None = None,
) -> HedgeTransaction:
    """A trader's buy or exit, through the same executor, limits and audit as the
    automatic ones; `strikes` (CE and PE): a buy at the strikes the trader chose. A
    repeated `client_key` returns the first request's transaction."""
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
        seen = recorded(session, look(session, rows, ports, now), ports, now, snapshot=False)
        if isinstance(seen, Stop):
            raise ActionRefused("non_field_errors", seen.note)
        transactions = rows.transactions
        if executor.in_flight(transactions):
            raise ActionRefused("non_field_errors", "another hedge action is still in flight")
        settings = calculator.session_settings(session)
        state = tick_state(session, seen, transactions, now, settings, ports.broker, with_bids=action == EXIT)
        who = getattr(user, "username", None) or "trader"
        shorts = shorts_of(seen.reading)

        def market() -> Market:
            if strikes:
                return selector.chosen_view(session, ports.broker, settings, now, shorts, strikes)
            view = selector.market_view(session, ports.broker, settings, now, shorts)
            # No eligible strike: the candidates a refusal offers reach past the window.
            return replace(view, rest=lambda: selector.market_view(session, ports.broker, settings, now, shorts, whole=True, beyond=True))

        decision = manual_decision(state, settings, seen.model, action, hedge_baskets, market, who, strikes)
        tx = executor.record(session, decision, key, now, origin=HedgeTransaction.Origin.MANUAL, user=user)
    dispatch(tx.pk, ports, time.time())
    tx.refresh_from_db()
    return tx
