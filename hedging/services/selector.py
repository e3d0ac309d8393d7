"""HedgeStrikeSelectorService: the market the strike choice is made on.

OpenAlgo's option chain is slow (seconds on a real server: it asks the broker for every
quote), so it never sits on the order path: the chain's strike list is kept per broker
and refreshed every few minutes (the margin monitor warms it), and a due buy prices the
candidates inside the distance window, with the index spot, in one `multiquotes` call.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from brokers.models import OPTION_EXCHANGE, SPOT_EXCHANGE
from brokers.openalgo_types import OptionChain
from hedging.core.decide import Market
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote
from hedging.models import DailySession

CACHED_LISTS = 256
CHAIN_TTL = 300.0  # seconds of the session's clock; strikes don't come and go within minutes
SPOT_SLACK = Decimal("0.02")  # how far spot may have moved since the strike list was read
# Market data, shared by every account on one OpenAlgo host: (host, index, expiry) → (read at, chain).
_chains: OrderedDict[tuple, tuple[datetime, OptionChain]] = OrderedDict()
_lock = threading.Lock()


def strike_list(session: DailySession, broker, now: datetime, fresh: bool = False) -> OptionChain:
    key = (broker.host, session.index_name, session.expiry)
    with _lock:
        cached = _chains.get(key)
    if cached and not fresh and abs((now - cached[0]).total_seconds()) < CHAIN_TTL:
        return cached[1]
    chain = broker.option_chain(session.index_name, SPOT_EXCHANGE[session.index_name], session.expiry)
    with _lock:
        _chains[key] = (now, chain)
        _chains.move_to_end(key)
        while len(_chains) > CACHED_LISTS:
            _chains.popitem(last=False)
    return chain


def warm(session: DailySession, broker, now: datetime) -> None:
    """Refresh the strike list ahead of need, if it is getting old."""
    strike_list(session, broker, now)


def candidates(chain: OptionChain, spot: Decimal, settings: HedgeSettings) -> list[tuple[str, str, Decimal]]:
    """(symbol, CE/PE, strike) of the OTM strikes inside the distance window."""
    found = []
    for row in chain.strikes:
        for option_type, leg in (("CE", row.ce), ("PE", row.pe)):
            distance = row.strike - spot if option_type == "CE" else spot - row.strike
            if leg is not None and settings.min_otm_distance <= distance <= settings.max_otm_distance:
                found.append((leg.symbol, option_type, row.strike))
    return found


def market_view(session: DailySession, broker, settings: HedgeSettings, now: datetime) -> Market:
    """Spot and live quotes of the candidate strikes, in one call. Candidates are taken
    around the strike list's (older) spot with some slack; the strike choice then
    applies the distance window to the fresh spot. A spot that ran away from the list's
    reads the list again."""
    chain = strike_list(session, broker, now)
    market = _priced(session, broker, settings, chain)
    reference = chain.underlying_ltp or chain.atm_strike
    if abs(market.spot - reference) > reference * SPOT_SLACK / 2:
        market = _priced(session, broker, settings, strike_list(session, broker, now, fresh=True))
    return market


def _priced(session: DailySession, broker, settings: HedgeSettings, chain: OptionChain) -> Market:
    reference = chain.underlying_ltp or chain.atm_strike
    slack = reference * SPOT_SLACK
    wide = replace(
        settings,
        min_otm_distance=max(settings.min_otm_distance - slack, Decimal(0)),
        max_otm_distance=settings.max_otm_distance + slack,
    )
    wanted = candidates(chain, reference, wide)
    index, exchange = session.index_name, OPTION_EXCHANGE[session.index_name]
    spot_quote, *quotes = broker.multiquotes(
        [(index, SPOT_EXCHANGE[index])] + [(symbol, exchange) for symbol, _, _ in wanted]
    )
    by_symbol = {q.symbol: q.quote for q in quotes}
    return Market(
        spot=(spot_quote.quote and spot_quote.quote.ltp) or reference,
        quotes=[
            OptionQuote(symbol, option_type, strike, q.bid, q.ask, q.ltp)
            for symbol, option_type, strike in wanted
            if (q := by_symbol.get(symbol)) is not None
        ],
    )
