"""What the status panel and `/api/hedge/status` show: where margin stands, what is
coming, what Auto-Hedge did last and what the rules say now.

Read from the database: the session and its settings, the day's executions (and
schedule rows not yet turned into executions), transactions, open hedge legs, the
latest snapshot, alerts and the global switch. Read from the broker, live: funds and
positions (through the margin monitor, so used margin is computed exactly as a tick
computes it). When the broker does not answer, margin falls back to the latest
snapshot and says so. Nothing here places an order or writes a decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from brokers.models import BrokerAccount
from brokers.openalgo import OpenAlgoError
from hedging.core.calendar import is_market_open
from hedging.core.clock import IST, at
from hedging.core.decide import TickState, buy_need, cooldown_left, entry_label, outlook, projected, upcoming
from hedging.core.margin import ConstantsMargin, one_decimal, utilisation_pct
from hedging.core.settings import BUDGET_PER_BASKET, HedgeSettings
from hedging.messages import format_inr
from hedging.models import ActiveHedge, Alert, Control, DailySession, HedgeTransaction, MarginSnapshot, StrategyExecution
from hedging.ports import Ports
from hedging.services import analytics, calculator, executor, monitor, orchestrator, scheduler
from hedging.services.runtime import trading_mode

WORKER_STALE = timedelta(minutes=3)  # snapshots come every minute in market hours
NEXT_ENTRIES = 6
RECENT_ALERTS = 5


@dataclass(frozen=True)
class BrokerHealth:
    reachable: bool | None  # None: not read today yet
    error: str = ""
    latency_ms: float | None = None  # read now, this fast
    as_of: datetime | None = None  # as the last tick found it


@dataclass(frozen=True)
class Margin:
    broker_used: Decimal
    used: Decimal
    utilisation_pct: Decimal
    as_of: datetime
    source: str  # "broker": read now; "snapshot": the broker did not answer


@dataclass(frozen=True)
class NextEntry:
    name: str
    at: datetime
    baskets: int
    projected_pct: Decimal | None  # with the open baskets kept open and the hedges held now
    needs_hedge: bool
    in_lookahead: bool


@dataclass(frozen=True)
class NextBuy:
    """The next hedge buy the rules will make if the day goes as scheduled: at the tick
    whose lookahead first sees the entries, its cost approximate."""

    at: datetime
    hedge_baskets: int
    entries: str  # "P2 at 10:00"
    cost_low: Decimal
    cost_high: Decimal  # the same as cost_low when priced at today's buys
    priced_at: str  # "the price paid today" or "the premium window"


@dataclass(frozen=True)
class Verdict:
    """What the rules say at this moment (the strikes and prices are chosen only by a tick)."""

    action: str | None  # BUY, EXIT or None
    reason: str


@dataclass(frozen=True)
class WorkerHealth:
    last_tick_at: datetime | None
    healthy: bool | None  # None: market closed, no tick expected


@dataclass(frozen=True)
class SessionStatus:
    session: DailySession
    now: datetime
    mode: str  # "paper" or "live"
    auto_enabled: bool  # this session's switch
    auto_global: bool  # the global kill switch
    settings: HedgeSettings
    margin: Margin | None
    open_baskets: int
    hedges_held: int  # whole hedge baskets
    hedge_legs: tuple[ActiveHedge, ...]
    spent: Decimal  # against the cap: buys' fills, and what buys in flight expect
    cap: Decimal
    money: analytics.SessionDay  # settled: paid, received, net, saved against hedging every basket
    cooldown_left: int  # seconds
    next_entries: tuple[NextEntry, ...]
    next_buy: NextBuy | None
    decision: Verdict
    last_action: HedgeTransaction | None
    broker: BrokerHealth
    worker: WorkerHealth
    alerts: tuple[Alert, ...]
    problem: str = ""  # why a figure is missing

    @property
    def auto_effective(self) -> bool:
        return self.auto_enabled and self.auto_global

    @property
    def budget(self) -> Decimal:
        return self.session.budget

    @property
    def budget_basis(self) -> str:
        return budget_basis(self.session)

    @property
    def cap_left(self) -> Decimal:
        return max(self.cap - self.spent, Decimal(0))


@dataclass(frozen=True)
class Overview:
    now: datetime
    auto_global: bool
    sessions: tuple[SessionStatus, ...]


def budget_basis(session: DailySession) -> str:
    """Where the budget came from: the default per basket, or set for the session."""
    if session.budget == session.num_baskets * BUDGET_PER_BASKET:
        return f"{session.num_baskets} basket{'s' if session.num_baskets != 1 else ''} × {format_inr(BUDGET_PER_BASKET)}"
    return "set for this session"


def todays_sessions(day: date):
    return (
        DailySession.objects.filter(date=day, is_replay=False).select_related("account").order_by("account__name", "index_name")
    )


def overview(now: datetime, connect: Callable[[BrokerAccount], Ports], sessions=None, read_now: bool = False) -> Overview:
    """Status of `sessions` (default: today's live sessions), as the last tick and the
    minute's snapshot left them; `read_now`: the broker read for it. Writes nothing."""
    auto_global = Control.get().auto_enabled
    rows = todays_sessions(now.astimezone(IST).date()) if sessions is None else sessions
    return Overview(now, auto_global, tuple(session_status(s, now, connect, auto_global, read_now) for s in rows))


def session_status(
    session: DailySession,
    now: datetime,
    connect: Callable[[BrokerAccount], Ports],
    auto_global: bool | None = None,
    read_now: bool = False,
) -> SessionStatus:
    if auto_global is None:
        auto_global = Control.get().auto_enabled
    settings = calculator.session_settings(session)
    executions = planned_executions(session)
    transactions = list(session.transactions.order_by("decided_at", "pk"))
    snapshot = session.snapshots.order_by("-taken_at").first()
    model, problem = margin_model(session)
    if session.last_tick_failed and session.last_tick_at is not None:  # a failed tick has its time
        problem = "; ".join(
            filter(None, [f"the {session.last_tick_at.astimezone(IST):%H:%M} tick failed: {session.last_tick_note}", problem])
        )
    entered = scheduler.open_baskets(executions)
    reading, broker = read_broker(session, connect, model, entered) if read_now else (None, last_seen(session, snapshot))
    margin = margin_now(reading, snapshot, now)
    if margin is None and not problem:
        problem = "no margin reading yet: the first tick of the day captures the baseline"
    open_baskets = max(entered, reading.short_baskets if reading else snapshot.open_baskets if snapshot else 0)
    hedges = reading.hedges_held if reading else hedges_unread(session, snapshot, transactions)
    state = tick_state(session, now, margin, open_baskets, hedges, executions, transactions)
    market_open = is_market_open(now, calculator.holidays(session.index_name))
    money = analytics.session_day(analytics.facts_of(session), None)
    return SessionStatus(
        session=session,
        now=now,
        mode=trading_mode(session),
        auto_enabled=session.auto_enabled,
        auto_global=auto_global,
        settings=settings,
        margin=margin,
        open_baskets=open_baskets,
        hedges_held=hedges,
        hedge_legs=tuple(session.hedges.filter(status=ActiveHedge.Status.OPEN).order_by("option_type", "strike")),
        spent=state.spent_today,
        cap=settings.max_hedge_cost_per_day,
        money=money,
        cooldown_left=int(cooldown_left(state, settings)),
        next_entries=next_entries(session, executions, state, settings, model if margin else None),
        next_buy=next_buy(session, executions, state, settings, model, money) if margin and model else None,
        decision=verdict(
            state, settings, model if margin else None, transactions, auto_global and session.auto_enabled, market_open, problem
        ),
        last_action=transactions[-1] if transactions else None,
        broker=broker,
        worker=worker_health(snapshot, now, market_open),
        alerts=tuple(session.alerts.order_by("-created_at", "-pk")[:RECENT_ALERTS]),
        problem=problem,
    )


def margin_model(session: DailySession) -> tuple[ConstantsMargin | None, str]:
    try:
        return calculator.margin_model(session), ""
    except calculator.UnknownMarginConstants as unknown:
        return None, str(unknown)


def planned_executions(session: DailySession) -> list[StrategyExecution]:
    """The day's executions, plus today's schedule rows the next tick will add (unsaved)."""
    executions = list(session.executions.order_by("planned_entry", "name"))
    if session.is_replay:
        return executions
    known = {e.name for e in executions}
    for row in scheduler.todays_rows(session):
        if row.name not in known:
            executions.append(scheduler.execution_of(session, row))
    return sorted(executions, key=lambda e: (e.planned_entry, e.name))


def hedges_unread(session: DailySession, snapshot: MarginSnapshot | None, transactions: list[HedgeTransaction]) -> int:
    """Without a broker read: the snapshot's count, unless a hedge action came after it
    (then the books', which that action has moved)."""
    if snapshot and not (transactions and transactions[-1].decided_at > snapshot.taken_at):
        return snapshot.hedges_held
    return monitor.hedge_baskets(monitor.our_holdings(session), session.lots_per_basket * (session.lot_size or 0) or 1)


def last_seen(session: DailySession, snapshot: MarginSnapshot | None) -> BrokerHealth:
    """The broker as the last tick or snapshot found it."""
    if session.last_tick_failed and session.last_tick_note.startswith("broker unreachable"):
        return BrokerHealth(False, session.last_tick_note.removeprefix("broker unreachable: "), as_of=session.last_tick_at)
    seen = max(filter(None, [session.last_tick_at, snapshot.taken_at if snapshot else None]), default=None)
    return BrokerHealth(True if seen else None, as_of=seen)


def read_broker(
    session: DailySession, connect: Callable[[BrokerAccount], Ports], model: ConstantsMargin | None, entered: int
) -> tuple[monitor.MarginReading | None, BrokerHealth]:
    """A live reading when the session's baseline is known (the first tick captures it;
    reading the margin here must not); otherwise only whether the broker answers."""
    started = time.monotonic()
    try:
        ports = connect(session.account)
        if session.baseline_margin is None or model is None:
            ports.broker.ping()
            reading = None
        else:
            quantity = orchestrator.basket_quantity(session, ports.broker)
            reading = monitor.read(session, ports.broker, quantity, model, entered, ports.paper)
    except (OpenAlgoError, ValueError) as failure:
        return None, BrokerHealth(False, str(failure))
    return reading, BrokerHealth(True, latency_ms=round((time.monotonic() - started) * 1000, 1))


def margin_now(reading: monitor.MarginReading | None, snapshot: MarginSnapshot | None, now: datetime) -> Margin | None:
    if reading is not None:
        return Margin(reading.broker_used, reading.used, reading.utilisation_pct, now, "broker")
    if snapshot is not None:
        return Margin(snapshot.broker_used_margin, snapshot.used_margin, snapshot.utilisation_pct, snapshot.taken_at, "snapshot")
    return None


def tick_state(session, now, margin, open_baskets, hedges, executions, transactions) -> TickState:
    return TickState(
        now=now,
        budget=session.budget,
        used_margin=margin.used if margin else Decimal(0),
        open_baskets=open_baskets,
        hedges_held=hedges,
        pending_entries=scheduler.pending_entries(session, executions),
        basket_quantity=session.lots_per_basket * (session.lot_size or 0),
        spent_today=executor.spent_today(transactions),
        last_action_at=transactions[-1].decided_at if transactions else None,
    )


def next_entries(
    session: DailySession,
    executions: list[StrategyExecution],
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin | None,
) -> tuple[NextEntry, ...]:
    """Each pending entry with the utilisation it would bring: today's open baskets kept
    open, the pending entries before it that are still in at its time added, the hedges
    held now. The lookahead's own projection is the same sum over its window."""
    pending = [e for e in executions if e.status == StrategyExecution.Status.SCHEDULED]
    horizon = state.now + timedelta(minutes=settings.lookahead_minutes)
    rows = []
    for entry in pending[:NEXT_ENTRIES]:
        moment = at(session.date, entry.planned_entry)
        together = sum(e.baskets for e in pending if e.planned_entry <= entry.planned_entry < e.planned_exit)
        pct = one_decimal(utilisation_pct(projected(state, model, together), state.budget)) if model else None
        rows.append(
            NextEntry(
                name=entry.name,
                at=moment,
                baskets=entry.baskets,
                projected_pct=pct,
                needs_hedge=pct is not None and pct > settings.entry_trigger_pct,
                in_lookahead=state.now < moment <= horizon,
            )
        )
    return tuple(rows)


def next_buy(
    session: DailySession,
    executions: list[StrategyExecution],
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin,
    money: analytics.SessionDay,
) -> NextBuy | None:
    """At each tick whose lookahead first sees a pending entry (today's open baskets kept
    open, the entries before it made, no hedge bought meanwhile), whether the rules buy."""
    pending = [e for e in executions if e.status == StrategyExecution.Status.SCHEDULED]
    window = timedelta(minutes=settings.lookahead_minutes)
    for tick in sorted({max(state.now, at(session.date, e.planned_entry) - window) for e in pending}):
        made = sum(e.baskets for e in pending if at(session.date, e.planned_entry) <= tick < at(session.date, e.planned_exit))
        ahead = replace(
            state, now=tick, used_margin=projected(state, model, made), open_baskets=state.open_baskets + made,
            pending_entries=tuple(e for e in state.pending_entries if e.at > tick),
        )
        need = buy_need(ahead, settings, model)
        if need and need.hedge_baskets:
            low, high, priced_at = basket_price(session, settings, money)
            h = need.hedge_baskets
            cost_low, cost_high = ((price * h).quantize(Decimal(1), ROUND_HALF_UP) for price in (low, high))
            entries = entry_label(upcoming(ahead, settings.lookahead_minutes))
            return NextBuy(tick, h, entries, cost_low, cost_high, priced_at)
    return None


def basket_price(session: DailySession, settings: HedgeSettings, money: analytics.SessionDay) -> tuple[Decimal, Decimal, str]:
    """A hedge basket's price: what today's buys paid, else the premium window's ends."""
    if money.price_source == "paid":
        return money.basket_price, money.basket_price, "the price paid today"
    legs = 2 * session.lots_per_basket * (session.lot_size or 0)
    return settings.min_premium * legs, settings.max_premium * legs, "the premium window"


def verdict(
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin | None,
    transactions: list[HedgeTransaction],
    auto_on: bool,
    market_open: bool,
    problem: str,
) -> Verdict:
    """The tick's gates, then what the rules say before any price (the core's outlook)."""
    if not market_open:
        return Verdict(None, "market closed")
    flight = executor.in_flight(transactions)
    if flight:
        return Verdict(flight.action, f"transaction {flight.pk} in flight ({flight.get_status_display().lower()})")
    if not auto_on:
        return Verdict(None, "auto-hedge off")
    if model is None:
        return Verdict(None, problem)
    seen = outlook(state, settings, model)
    return Verdict(seen.action, seen.reason)


def worker_health(snapshot: MarginSnapshot | None, now: datetime, market_open: bool) -> WorkerHealth:
    last = snapshot.taken_at if snapshot else None
    if not market_open:
        return WorkerHealth(last, None)
    return WorkerHealth(last, last is not None and now - last <= WORKER_STALE)
