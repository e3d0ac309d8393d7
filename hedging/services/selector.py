"""HedgeStrikeSelectorService: the market the strike choice is made on.

OpenAlgo's option chain is slow (seconds on a real server: it asks the broker for every
quote), so it never sits on the order path: the chain's strike list is kept per broker,
in each process and in Redis for the worker's other processes, and read again when it
is half its life old by the minute's margin snapshot; a due buy prices the candidates
inside the distance window, with the index spot, in one `multiquotes` call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from django.core.cache import caches
from redis.exceptions import RedisError

from brokers.models import OPTION_EXCHANGE, SPOT_EXCHANGE
from brokers.openalgo_types import OptionChain
from hedging.core.decide import Market
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote
from hedging.models import DailySession

log = logging.getLogger(__name__)

CACHED_LISTS = 256
CHAIN_TTL = 300.0  # seconds of the session's clock; strikes don't come and go within minutes
# The minute's margin snapshot reads the list again once it is this old, so that a due buy,
# whichever worker process runs it, finds a fresh one.
WARM_AFTER = CHAIN_TTL / 2
SPOT_SLACK = Decimal("0.02")  # how far spot may have moved since the strike list was read
# Market data, shared by every account on one OpenAlgo host: (host, index, expiry) → (read at, chain),
# in this process and, for the worker's other processes, in the "market" cache (Redis).
_chains: OrderedDict[tuple, tuple[datetime, OptionChain]] = OrderedDict()
_lock = threading.Lock()
SHARED_PAUSE = 60.0  # seconds the shared lists are left alone after Redis failed us
_shared_down_until = 0.0


def strike_list(session: DailySession, broker, now: datetime, fresh: bool = False) -> OptionChain:
    """The chain's strike list, kept in this process or shared by the worker's others,
    else (or when `fresh`) read from the broker."""
    key = _key(session, broker)
    kept = None if fresh else _kept(key, now)
    if kept:
        return kept
    chain = broker.option_chain(session.index_name, SPOT_EXCHANGE[session.index_name], session.expiry)
    _keep(key, (now, chain))
    _shared(key, lambda market, name: market.set_many({name: (now, chain), f"{name}:at": now}, timeout=CHAIN_TTL))
    return chain


def warm(session: DailySession, broker, now: datetime) -> None:
    """Read the list again once it is half its life old, wherever it was read. Its age
    is asked of Redis, not the list itself: a process keeps a few hundred lists, not
    every account's."""
    key = _key(session, broker)
    kept = _local(key)
    if _fresh(kept and kept[0], now, WARM_AFTER):
        return
    if not _fresh(_shared(key, lambda market, name: market.get(f"{name}:at")), now, WARM_AFTER):
        strike_list(session, broker, now, fresh=True)


def _key(session: DailySession, broker) -> tuple:
    return (broker.host, session.index_name, session.expiry)


def _local(key: tuple) -> tuple[datetime, OptionChain] | None:
    with _lock:
        return _chains.get(key)


def _kept(key: tuple, now: datetime) -> OptionChain | None:
    kept = _local(key)
    if not _fresh(kept and kept[0], now, CHAIN_TTL):
        kept = _shared(key, lambda market, name: market.get(name))
        if not _fresh(kept and kept[0], now, CHAIN_TTL):
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
    host, index, expiry = key
    if not host.startswith(("http://", "https://")) or time.monotonic() < _shared_down_until:
        return None
    try:
        return use(caches["market"], f"strikes:{host}:{index}:{expiry:%Y%m%d}")
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


def candidates(chain: OptionChain, spot: Decimal, settings: HedgeSettings) -> list[tuple[str, str, Decimal]]:
    """(symbol, CE/PE, strike) of the OTM strikes inside the distance window."""
    found = []
    for row in chain.strikes:
        for option_type, leg in (("CE", row.ce), ("PE", row.pe)):
            distance = row.strike - spot if option_type == "CE" else spot - row.strike
            if leg is not None and settings.min_otm_distance <= distance <= settings.max_otm_distance:
                found.append((leg.symbol, option_type, row.strike))
    return found


def market_view(
    session: DailySession, broker, settings: HedgeSettings, now: datetime, shorts: frozenset[str] = frozenset()
) -> Market:
    """Spot and live quotes of the candidate strikes, in one call. Candidates are taken
    around the strike list's (older) spot with some slack; the strike choice then
    applies the distance window to the fresh spot. A spot that ran away from the list's
    reads the list again. `shorts`: options the account is short (after the index has
    moved, an earlier straddle's strike can sit in the hedge window)."""
    chain = strike_list(session, broker, now)
    market = _priced(session, broker, settings, chain, shorts)
    reference = chain.underlying_ltp or chain.atm_strike
    if abs(market.spot - reference) > reference * SPOT_SLACK / 2:
        market = _priced(session, broker, settings, strike_list(session, broker, now, fresh=True), shorts)
    return market


def _priced(session: DailySession, broker, settings: HedgeSettings, chain: OptionChain, shorts: frozenset[str]) -> Market:
    reference = chain.underlying_ltp or chain.atm_strike
    slack = reference * SPOT_SLACK
    wide = replace(
        settings,
        min_otm_distance=max(settings.min_otm_distance - slack, Decimal(0)),
        max_otm_distance=settings.max_otm_distance + slack,
    )
    wanted = candidates(chain, reference, wide)
    index, exchange = session.index_name, OPTION_EXCHANGE[session.index_name]
    spot = (index, SPOT_EXCHANGE[index])
    # Matched by symbol and exchange: a real OpenAlgo lists the symbols it refused first.
    answers = broker.multiquotes([spot] + [(symbol, exchange) for symbol, _, _ in wanted])
    by_symbol = {(q.symbol, q.exchange): q.quote for q in answers}
    spot_quote = by_symbol.get(spot)
    return Market(
        spot=(spot_quote and spot_quote.ltp) or reference,
        quotes=[
            OptionQuote(symbol, option_type, strike, q.bid, q.ask, q.ltp, held_short=symbol in shorts)
            for symbol, option_type, strike in wanted
            if (q := by_symbol.get((symbol, exchange))) is not None
        ],
    )
