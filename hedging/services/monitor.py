"""Margin monitor: funds and positions from the broker → intraday used margin,
utilisation, open baskets and hedges held; the session's baseline; snapshots."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings

from brokers.openalgo import OpenAlgoError
from brokers.openalgo_types import Funds, Position, expiry_code
from hedging.core.margin import ConstantsMargin, utilisation_pct
from hedging.models import ActiveHedge, DailySession, MarginSnapshot
from hedging.rows import fetch


# Funds and positions are read at once: one broker round trip before a decision, not
# two; and a batch of glances has all its sessions' reads on the wire together (up to
# three each), with room left for its locked ticks' reads.
broker_reads = ThreadPoolExecutor(max_workers=3 * settings.AUTOHEDGE_TICK_BATCH + 8, thread_name_prefix="broker-reads")


class BrokerRead:
    """A broker's funds and positions, asked for together; for a glance, also the quotes
    of the hedges `held` (their bids decide an exit, when utilisation allows one) and,
    when a buy may be due, the index's `spot` (a buy's strikes are chosen from it). Their
    rate-limit turns are taken together."""

    def __init__(self, broker, held: list[tuple[str, str]] | None = None, spot: tuple[str, str] | None = None):
        broker = broker.with_turns(["positionbook", "funds"] + ["multiquotes"] * bool(held) + ["quotes"] * bool(spot))
        self._positions = broker_reads.submit(broker.positionbook)
        self._funds = broker_reads.submit(broker.funds)
        self.held_quotes = broker_reads.submit(broker.multiquotes, held) if held else None
        self._spot = broker_reads.submit(broker.quotes, *spot) if spot else None

    def spot(self) -> Decimal | None:
        """The index's last price, if it was asked for and answered."""
        try:
            return self._spot.result().ltp or None if self._spot else None
        except OpenAlgoError:
            return None

    def result(self) -> tuple[Funds, tuple[Position, ...]]:
        try:
            funds = self._funds.result()
        except BaseException:
            self._positions.cancel()  # not sent if it has not left yet: nobody will wait for it
            raise
        return funds, self._positions.result()


@dataclass(frozen=True)
class Holding:
    """Our open hedge legs, by symbol: quantity we hold and what we know of it."""

    symbol: str
    exchange: str
    option_type: str
    strike: Decimal
    quantity: int


@dataclass(frozen=True)
class MarginReading:
    broker_used: Decimal  # funds.utiliseddebits
    used: Decimal  # U: intraday, after the baseline and exclusions (and paper hedges)
    utilisation_pct: Decimal
    short_baskets: int  # the session's short straddle baskets the broker shows
    hedges_held: int  # whole hedge baskets
    holdings: tuple[Holding, ...]
    positions: dict  # split: session shorts, our hedges, others
    sandbox: bool = False  # answered by OpenAlgo's sandbox (analyzer mode)


def series_prefix(session: DailySession) -> str:
    """Symbols of the session's options start with this, e.g. NIFTY24NOV26."""
    return f"{session.index_name}{expiry_code(session.expiry)}"


def our_holdings(session: DailySession) -> tuple[Holding, ...]:
    return holdings_of(fetch(ActiveHedge, "session_id = %s AND status = %s", [session.pk, ActiveHedge.Status.OPEN]))


def holdings_of(open_hedges: list[ActiveHedge]) -> tuple[Holding, ...]:
    totals: dict[tuple[str, str, str, Decimal], int] = defaultdict(int)
    for hedge in open_hedges:
        totals[(hedge.symbol, hedge.exchange, hedge.option_type, hedge.strike)] += hedge.quantity
    return tuple(
        Holding(symbol, exchange, option_type, strike, quantity)
        for (symbol, exchange, option_type, strike), quantity in totals.items() if quantity > 0
    )


def split_positions(session: DailySession, positions: tuple[Position, ...], ours: set[str]) -> dict:
    prefix = series_prefix(session)
    split: dict[str, dict[str, int]] = {"shorts": {}, "hedges": {}, "others": {}}
    for p in positions:
        if not p.quantity:
            continue
        if p.symbol in ours and p.quantity > 0:
            split["hedges"][p.symbol] = p.quantity
        elif p.symbol.startswith(prefix) and p.quantity < 0:
            split["shorts"][p.symbol] = p.quantity
        else:
            split["others"][p.symbol] = p.quantity
    return split


def short_baskets(shorts: dict[str, int], basket_quantity: int) -> int:
    ce = -sum(q for s, q in shorts.items() if s.endswith("CE"))
    pe = -sum(q for s, q in shorts.items() if s.endswith("PE"))
    return min(ce, pe) // basket_quantity


def hedge_baskets(holdings: tuple[Holding, ...], basket_quantity: int) -> int:
    ce = sum(h.quantity for h in holdings if h.option_type == "CE")
    pe = sum(h.quantity for h in holdings if h.option_type == "PE")
    return min(ce, pe) // basket_quantity


def read(
    session: DailySession,
    broker,
    basket_quantity: int,
    model: ConstantsMargin,
    open_baskets: int,
    paper: bool,
    holdings: tuple[Holding, ...] | None = None,
    ahead: BrokerRead | None = None,
) -> MarginReading:
    """`open_baskets`: the schedule's count, used for the paper adjustment; a paper
    hedge is not in the broker's margin, so its saving is taken off here. `holdings`:
    our open hedges as read already, else read here. `ahead`: the broker read already
    asked for. Writes nothing: a session with no baseline yet is read as if this
    reading were its baseline (the day's first reading keeps it)."""
    funds, positions = (ahead or BrokerRead(broker)).result()
    if holdings is None:
        holdings = our_holdings(session)
    if not paper:  # trust what the broker holds over what we recorded
        held = {p.symbol: p.quantity for p in positions if p.quantity > 0}
        holdings = tuple(
            Holding(h.symbol, h.exchange, h.option_type, h.strike, quantity)
            for h in holdings
            if (quantity := min(h.quantity, held.get(h.symbol, 0)))
        )
    split = split_positions(session, positions, {h.symbol for h in holdings})
    hedges = hedge_baskets(holdings, basket_quantity)
    baseline = funds.utilised_debits if session.baseline_margin is None else session.baseline_margin
    used = funds.utilised_debits - baseline - session.excluded_margin
    if paper and hedges:
        n = max(open_baskets, short_baskets(split["shorts"], basket_quantity))
        used -= model.basket_margin(n, 0) - model.basket_margin(n, hedges)
    return MarginReading(
        broker_used=funds.utilised_debits,
        used=used,
        utilisation_pct=utilisation_pct(used, session.budget),
        short_baskets=short_baskets(split["shorts"], basket_quantity),
        hedges_held=hedges,
        holdings=holdings,
        positions=split,
        sandbox=funds.sandbox,
    )


def capture_baseline(session: DailySession, broker_used: Decimal, now: datetime) -> None:
    """Once per session, at its first reading: overnight positions don't count."""
    if session.baseline_margin is None:
        session.baseline_margin, session.baseline_captured_at = broker_used, now
        session.save(update_fields=["baseline_margin", "baseline_captured_at"])


def snapshot(session: DailySession, reading: MarginReading, now: datetime, open_baskets: int) -> MarginSnapshot:
    return MarginSnapshot.objects.create(
        session=session,
        taken_at=now,
        broker_used_margin=reading.broker_used,
        used_margin=reading.used,
        utilisation_pct=reading.utilisation_pct.quantize(Decimal("0.01")),
        open_baskets=open_baskets,
        hedges_held=reading.hedges_held,
        positions=reading.positions,
    )
