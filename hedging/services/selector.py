"""HedgeStrikeSelectorService: the market the strike choice is made on.

OpenAlgo's option chain is slow (a real server asks its broker for every quote, ~0.3 s a
strike: the whole NIFTY chain took 38 s), so it is read only as far out as the distance
window reaches, and never on the order path: the chain's strike list is kept per broker,
in each process and in Redis for the worker's other processes, and read again when it
is half its life old by the minute's margin snapshot. A due buy reads the index spot,
then prices a few candidates a side inside the window from it, the likeliest by the
list's own prices, in two `multiquotes` calls at once, a side each (~0.15 s a symbol
on a real server).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from django.core.cache import caches
from redis.exceptions import RedisError

from brokers.models import OPTION_EXCHANGE, SPOT_EXCHANGE
from brokers.openalgo_types import OptionChain
from hedging.core.decide import Market
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote, exclusion
from hedging.models import DailySession
from hedging.services.monitor import broker_reads

log = logging.getLogger(__name__)

CACHED_LISTS = 256
CHAIN_TTL = 300.0  # seconds of the session's clock; strikes don't come and go within minutes
# The minute's margin snapshot reads the list again once it is this old, so that a due buy,
# whichever worker process runs it, finds a fresh one.
WARM_AFTER = CHAIN_TTL / 2
SPOT_SLACK = Decimal("0.02")  # a spot moved half this far from the strike list's reads the list again
# The exchanges' strike intervals: the chain is asked for this far out, a quarter more
# than the distance window, so a spot that moves before the list is read again stays covered.
STRIKE_STEP = {"NIFTY": Decimal(50), "SENSEX": Decimal(100)}
QUOTED_PER_SIDE = 4  # candidates priced on the order path, each side
# Market data, shared by every account on one OpenAlgo host: (host, index, expiry) → (read at, chain),
# in this process and, for the worker's other processes, in the "market" cache (Redis).
_chains: OrderedDict[tuple, tuple[datetime, OptionChain]] = OrderedDict()
_lock = threading.Lock()
SHARED_PAUSE = 60.0  # seconds the shared lists are left alone after Redis failed us
_shared_down_until = 0.0


class OptionSeries(Protocol):
    """What a strike list is read for: a DailySession, or a stand-in that names only
    these (the benchmarks read the lists ahead of their sessions)."""

    @property
    def index_name(self) -> str: ...

    @property
    def expiry(self) -> date: ...


def strikes_each_side(index: str, settings: HedgeSettings) -> int:
    return math.ceil(settings.max_otm_distance * Decimal("1.25") / STRIKE_STEP[index])


def strike_list(session: OptionSeries, broker, now: datetime, settings: HedgeSettings, fresh: bool = False) -> OptionChain:
    """The chain's strike list, kept in this process or shared by the worker's others,
    else (or when `fresh`) read from the broker."""
    count = strikes_each_side(session.index_name, settings)
    key = _key(session, broker, count)
    kept = None if fresh else _kept(key, now)
    if kept:
        return kept
    chain = broker.option_chain(session.index_name, SPOT_EXCHANGE[session.index_name], session.expiry, strike_count=count)
    _keep(key, (now, chain))
    _shared(key, lambda market, name: market.set_many({name: (now, chain), f"{name}:at": now}, timeout=CHAIN_TTL))
    return chain


def warm(session: DailySession, broker, now: datetime, settings: HedgeSettings) -> None:
    """Read the list again once it is half its life old, wherever it was read. Its age
    is asked of Redis, not the list itself: a process keeps a few hundred lists, not
    every account's."""
    key = _key(session, broker, strikes_each_side(session.index_name, settings))
    kept = _local(key)
    if _fresh(kept and kept[0], now, WARM_AFTER):
        return
    if not _fresh(_shared(key, lambda market, name: market.get(f"{name}:at")), now, WARM_AFTER):
        strike_list(session, broker, now, settings, fresh=True)


def _key(session: OptionSeries, broker, count: int) -> tuple:
    return (broker.host, session.index_name, session.expiry, count)


def _local(key: tuple) -> tuple[datetime, OptionChain] | None:
    with _lock:
        return _chains.get(key)


def _kept(key: tuple, now: datetime) -> OptionChain | None:
    kept = _local(key)
    if kept is None or not _fresh(kept[0], now, CHAIN_TTL):
        kept = _shared(key, lambda market, name: market.get(name))
        if kept is None or not _fresh(kept[0], now, CHAIN_TTL):
            return None
        _keep(key, kept)
    return kept[1]


def _fresh(read_at: datetime | None, now: datetime, max_age: float) -> bool:
    return read_at is not None and abs((now - read_at).total_seconds()) < max_age


def _keep(key: tuple, kept: tuple[datetime, OptionChain]) -> None:
    with _lock:
        _chains[key] = kept
        _chains.move_to_end(key)
        while len(_chains) > CACHED_LISTS:
            _chains.popitem(last=False)


def _shared(key: tuple, use):
    """`use(cache, name)` on the shared lists, for brokers reached over HTTP (an
    in-process one, a replay's, has no other process to share with). They are a saving,
    never a condition: when Redis fails the broker is asked instead, and Redis is left
    alone for a while, so that no buy waits on it each time."""
    global _shared_down_until
    host, index, expiry, count = key
    if not host.startswith(("http://", "https://")) or time.monotonic() < _shared_down_until:
        return None
    try:
        return use(caches["market"], f"strikes:{host}:{index}:{expiry:%Y%m%d}:{count}")
    except (RedisError, OSError) as failure:
        _shared_down_until = time.monotonic() + SHARED_PAUSE
        log.info("shared strike lists left alone for %.0f s: %s", SHARED_PAUSE, type(failure).__name__)
        return None


def forget() -> None:
    """Drop this process's lists, and any pause on Redis (tests: another process)."""
    global _shared_down_until
    with _lock:
        _chains.clear()
    _shared_down_until = 0.0


def ranked(
    chain: OptionChain, spot: Decimal, settings: HedgeSettings, option_type: str, beyond: bool = False
) -> list[tuple[str, str, Decimal]]:
    """(symbol, CE/PE, strike) of one side's OTM strikes inside the distance window
    (`beyond`: every OTM strike on the list), the likeliest first: those the list's own
    (older) prices put nearest the premium window, the cheaper first (the constants
    model picks the cheapest eligible strike). A list with no prices (a sandbox's) ranks
    them farthest first."""
    side = []
    for row in chain.strikes:
        leg = row.ce if option_type == "CE" else row.pe
        distance = row.strike - spot if option_type == "CE" else spot - row.strike
        inside = distance > 0 if beyond else settings.min_otm_distance <= distance <= settings.max_otm_distance
        if leg is not None and inside:
            side.append((_rank(leg.ask or leg.ltp, distance, settings), leg.symbol, option_type, row.strike))
    return [(symbol, option_type, strike) for _, symbol, option_type, strike in sorted(side)]


def _rank(price: Decimal | None, distance: Decimal, settings: HedgeSettings) -> tuple:
    if not price:
        return (1, Decimal(0), -distance)
    below = max(settings.min_premium - price, Decimal(0))  # how far under the window
    above = max(price - settings.max_premium, Decimal(0))
    return (0, below + above, price)


def market_view(
    session: DailySession, broker, settings: HedgeSettings, now: datetime, shorts: frozenset[str] = frozenset(),
    whole: bool = False, spot: Decimal | None = None, beyond: bool = False,
) -> Market:
    """The index spot, then live quotes of the likeliest candidates inside the distance
    window from it (`whole`: of every strike in it; `beyond`, a refused manual buy's
    candidates: of every OTM strike on the list, a quarter past the window's far end),
    in one call a side. `spot`: read with the minute's margin already. A spot that ran
    away from the strike list's reads the list again. `shorts`: options the account is
    short (after the index has moved, an earlier straddle's strike can sit in the hedge
    window)."""
    exchange = OPTION_EXCHANGE[session.index_name]
    chain, spot = _chain_and_spot(session, broker, settings, now, spot)
    sides = {option_type: ranked(chain, spot, settings, option_type, beyond) for option_type in ("CE", "PE")}
    quoted = None if whole else QUOTED_PER_SIDE
    quotes, refused = _priced(broker, exchange, {t: side[:quoted] for t, side in sides.items()}, shorts)
    # The list's prices are minutes old: a side none of whose likeliest candidates is
    # eligible now has the rest of its window priced before no strike is called eligible.
    short_of = {
        t: side[QUOTED_PER_SIDE:] for t, side in sides.items()
        if not whole and not any(q.option_type == t and exclusion(q, spot, settings) is None for q in quotes)
    }
    if any(short_of.values()):
        more, more_refused = _priced(broker, exchange, short_of, shorts)
        quotes, refused = quotes + more, refused + more_refused
    return Market(spot=spot, quotes=quotes, refused=tuple(refused))


def chosen_view(
    session: DailySession, broker, settings: HedgeSettings, now: datetime, shorts: frozenset[str],
    strikes: Mapping[str, Decimal],
) -> Market:
    """The index spot and live quotes of the strikes a trader chose by hand (CE/PE →
    strike): a strike not on the strike list is not quoted."""
    chain, spot = _chain_and_spot(session, broker, settings, now)
    wanted = {
        option_type: [(leg.symbol, option_type, row.strike) for row in chain.strikes
                      if row.strike == strike and (leg := row.ce if option_type == "CE" else row.pe)]
        for option_type, strike in strikes.items()
    }
    quotes, refused = _priced(broker, OPTION_EXCHANGE[session.index_name], wanted, shorts)
    return Market(spot=spot, quotes=quotes, refused=tuple(refused))


def _chain_and_spot(
    session: DailySession, broker, settings: HedgeSettings, now: datetime, spot: Decimal | None = None
) -> tuple[OptionChain, Decimal]:
    index = session.index_name
    chain = strike_list(session, broker, now, settings)
    reference = chain.underlying_ltp or chain.atm_strike
    spot = spot or broker.quotes(index, SPOT_EXCHANGE[index]).ltp or reference
    if abs(spot - reference) > reference * SPOT_SLACK / 2:
        chain = strike_list(session, broker, now, settings, fresh=True)
    return chain, spot


def _priced(
    broker, exchange: str, wanted: dict[str, list[tuple[str, str, Decimal]]], shorts: frozenset[str]
) -> tuple[list[OptionQuote], list[str]]:
    """Each side's candidates quoted, a side a call, both at once: a real OpenAlgo quotes a
    multiquotes' symbols one after another (~0.15 s each). Answers are matched by symbol
    and exchange (it lists refused ones first); refused symbols come back by name."""
    calls = [broker_reads.submit(broker.multiquotes, [(symbol, exchange) for symbol, _, _ in side])
             for side in wanted.values() if side]
    by_symbol = {(q.symbol, q.exchange): q.quote for call in calls for q in call.result()}
    quotes, refused = [], []
    for symbol, option_type, strike in (candidate for side in wanted.values() for candidate in side):
        if (q := by_symbol.get((symbol, exchange))) is None:
            refused.append(symbol)
        else:
            quotes.append(OptionQuote(symbol, option_type, strike, q.bid, q.ask, q.ltp, held_short=symbol in shorts))
    return quotes, refused
