"""Analytics over a date range: per session (one account's trading day, or a saved
replay), what hedging cost, which entries needed a hedge and which went in at ₹0 of
hedging, and what a static "hedge every basket" policy would have paid for the same
entries. And one session's utilisation through the day, with its entries and hedge
actions, for the chart.

The static policy's cost is an estimate: it buys one hedge basket per entered basket
at the price per hedge basket this system paid that day (from the fills); on a day
with no buy, at the average paid over the range; with no buy in the range at all, at
the floor of the premium window (2 legs × min_premium × basket quantity), so the
savings shown are never overstated by an invented price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from hedging.core.clock import IST, MARKET_CLOSE, MARKET_OPEN, at
from hedging.models import DailySession, HedgeTransaction, StrategyExecution

TX = HedgeTransaction.Status
SETTLED = (TX.FILLED, TX.PARTIAL, TX.PAPER)
ENTERED = (StrategyExecution.Status.ENTERED, StrategyExecution.Status.EXITED, StrategyExecution.Status.STOPPED_OUT)
ZERO = Decimal(0)


@dataclass(frozen=True)
class SessionDay:
    session: DailySession
    spent: Decimal  # premium paid for hedge buys, from the fills
    received: Decimal  # premium received for hedge exits
    hedge_buys: int
    baskets_bought: int
    entries: int  # entries made
    entered_baskets: int
    entries_hedged: int  # entries a hedge buy was made for
    static_cost: Decimal  # the "hedge every basket" policy, estimated
    basket_price: Decimal  # per hedge basket, used for the estimate
    price_source: str  # "paid" (this day), "range" (average over the range), "floor" (premium window)

    @property
    def net(self) -> Decimal:
        return self.spent - self.received

    @property
    def entries_unhedged(self) -> int:
        """Hedges avoided: entries that went in without one."""
        return self.entries - self.entries_hedged

    @property
    def saved(self) -> Decimal:
        return self.static_cost - self.net


@dataclass(frozen=True)
class Summary:
    date_from: date
    date_to: date
    days: tuple[SessionDay, ...]

    def totals(self) -> dict[str, Decimal | int]:
        money = {name: sum((getattr(day, name) for day in self.days), ZERO) for name in MONEY}
        counts = {name: sum(getattr(day, name) for day in self.days) for name in COUNTS}
        return money | counts


MONEY = ("spent", "received", "net", "static_cost", "saved")
COUNTS = ("hedge_buys", "entries", "entries_hedged", "entries_unhedged")


@dataclass(frozen=True)
class Facts:
    session: DailySession
    buys: list[HedgeTransaction]
    exits: list[HedgeTransaction]
    entries: list[StrategyExecution]


def sessions_between(date_from: date, date_to: date, include_replays: bool = True, account_id: int | None = None):
    rows = DailySession.objects.filter(date__range=(date_from, date_to)).select_related("account")
    if not include_replays:
        rows = rows.filter(is_replay=False)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    return rows.order_by("date", "is_replay", "account__name", "index_name", "pk")


def summarise(date_from: date, date_to: date, include_replays: bool = True, account_id: int | None = None) -> Summary:
    facts = [facts_of(s) for s in sessions_between(date_from, date_to, include_replays, account_id)]
    paid = [tx for f in facts for tx in f.buys]
    range_price = price_per_basket(paid)
    return Summary(date_from, date_to, tuple(session_day(f, range_price) for f in facts))


def facts_of(session: DailySession) -> Facts:
    settled = list(session.transactions.filter(status__in=SETTLED).order_by("decided_at"))
    return Facts(
        session=session,
        buys=[tx for tx in settled if tx.action == HedgeTransaction.Action.BUY],
        exits=[tx for tx in settled if tx.action == HedgeTransaction.Action.EXIT],
        entries=list(session.executions.filter(status__in=ENTERED)),
    )


def price_per_basket(buys: list[HedgeTransaction]) -> Decimal | None:
    baskets = sum(tx.hedge_baskets for tx in buys)
    return (sum((tx.cost for tx in buys), ZERO) / baskets).quantize(Decimal("0.01")) if baskets else None


def floor_price(session: DailySession) -> Decimal:
    return 2 * session.min_premium * session.lots_per_basket * (session.lot_size or 0)


def session_day(facts: Facts, range_price: Decimal | None) -> SessionDay:
    own = price_per_basket(facts.buys)
    if own is not None:
        price, source = own, "paid"
    elif range_price is not None:
        price, source = range_price, "range"
    else:
        price, source = floor_price(facts.session), "floor"
    hedged_names = {name for tx in facts.buys for name in tx.for_entries}
    entered_baskets = sum(e.baskets for e in facts.entries)
    return SessionDay(
        session=facts.session,
        spent=sum((tx.cost for tx in facts.buys), ZERO),
        received=sum((tx.cost for tx in facts.exits), ZERO),
        hedge_buys=len(facts.buys),
        baskets_bought=sum(tx.hedge_baskets for tx in facts.buys),
        entries=len(facts.entries),
        entered_baskets=entered_baskets,
        entries_hedged=sum(1 for e in facts.entries if e.name in hedged_names),
        static_cost=entered_baskets * price,
        basket_price=price,
        price_source=source,
    )


@dataclass(frozen=True)
class Marker:
    at: datetime
    label: str
    kind: str  # "entry", "buy", "exit"


@dataclass(frozen=True)
class Point:
    at: datetime
    utilisation_pct: Decimal


@dataclass(frozen=True)
class Series:
    session: DailySession
    start: datetime
    end: datetime
    points: tuple[Point, ...]
    markers: tuple[Marker, ...]
    thresholds: tuple[tuple[str, Decimal], ...]


def utilisation_series(session: DailySession) -> Series:
    points = tuple(session.snapshots.order_by("taken_at").values_list("taken_at", "utilisation_pct"))
    entries = [
        Marker(e.entered_at, e.name, "entry")
        for e in session.executions.filter(status__in=ENTERED, entered_at__isnull=False).order_by("entered_at")
        if e.entered_at is not None  # as the filter has it
    ]
    actions = [
        Marker(tx.decided_at, f"{tx.action} {tx.hedge_baskets}", tx.action.lower())
        for tx in session.transactions.exclude(status=TX.FAILED).order_by("decided_at")
    ]
    return Series(
        session=session,
        start=at(session.date, MARKET_OPEN),
        end=at(session.date, MARKET_CLOSE),
        points=tuple(Point(moment.astimezone(IST), pct) for moment, pct in points),
        markers=tuple(sorted(entries + actions, key=lambda m: m.at)),
        thresholds=(
            ("entry trigger", session.entry_trigger_pct),
            ("target", session.entry_target_pct),
            ("exit trigger", session.exit_trigger_pct),
        ),
    )
