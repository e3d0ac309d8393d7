"""The simulated market: index underlyings, their spot paths, listed options and quotes."""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from decimal import Decimal
from typing import Protocol, Sequence

from hedging.core.clock import IST, MARKET_OPEN, at

from . import pricing
from .pricing import ZERO, Quote

SYMBOL = re.compile(r"^([A-Z]+)(\d{2}[A-Z]{3}\d{2})(\d+)(CE|PE)$")


class Path(Protocol):
    def at(self, moment: datetime) -> Decimal: ...


class StepFunction:
    """A value that holds from each point until the next; before the first point, the first value."""

    def __init__(self, points: Sequence[tuple[datetime, Decimal]]):
        if not points:
            raise ValueError("a step function needs at least one point")
        ordered = sorted(points, key=lambda point: point[0])
        self._times = [moment for moment, _ in ordered]
        self._values = [Decimal(value) for _, value in ordered]

    def at(self, moment: datetime) -> Decimal:
        return self._values[max(bisect_right(self._times, moment) - 1, 0)]


class RandomWalk:
    """A seeded random walk, one step per market minute from `start`: deterministic in
    (start, value, seed, step), so two processes given the same ones see the same spot."""

    def __init__(self, start: datetime, value: Decimal, seed: int, step: Decimal):
        self.start = start.astimezone(IST)
        self._levels = [Decimal(value)]
        self._rng = random.Random(seed)
        self._step = float(step)

    def at(self, moment: datetime) -> Decimal:
        minute = int(pricing.trading_minutes(self.start, moment))
        while len(self._levels) <= minute:
            move = Decimal(repr(round(self._rng.gauss(0, self._step), 2)))
            self._levels.append(pricing.to_ticks(self._levels[-1] + move))
        return self._levels[minute]


def expiry_code(expiry: date) -> str:
    """DDMMMYY, as in symbols and optionchain's expiry_date."""
    return expiry.strftime("%d%b%y").upper()


def expiry_label(expiry: date) -> str:
    """DD-MMM-YY, as the expiry endpoint answers."""
    return expiry.strftime("%d-%b-%y").upper()


@lru_cache(maxsize=64)
def parse_expiry_code(code: str) -> date | None:
    try:
        return datetime.strptime(code.upper(), "%d%b%y").date()
    except ValueError:
        return None


@dataclass(frozen=True)
class Option:
    underlying: str
    expiry: date
    strike: Decimal
    option_type: str

    @property
    def symbol(self) -> str:
        return option_symbol(self.underlying, self.expiry, self.strike, self.option_type)


def option_symbol(base: str, expiry: date, strike: Decimal | int, option_type: str) -> str:
    """[BASE][DDMMMYY][STRIKE][CE|PE], e.g. NIFTY24NOV2624500CE."""
    return f"{base}{expiry_code(expiry)}{int(strike)}{option_type}"


@dataclass
class Underlying:
    name: str
    spot_exchange: str
    option_exchange: str
    spot: Path
    strike_step: Decimal
    lot_size: int
    expiries: list[date]
    iv_atm: Decimal
    iv_wing_slope: Decimal
    freeze_qty: int
    strikes_each_side: int = 60
    _center: Decimal | None = field(default=None, repr=False)

    def spot_at(self, now: datetime) -> Decimal:
        return self.spot.at(now)

    def strikes(self, now: datetime) -> list[Decimal]:
        """Listed strikes: fixed for the day around the opening spot (as a master contract is)."""
        center = self._strike_center(now)
        return [center + self.strike_step * offset for offset in range(-self.strikes_each_side, self.strikes_each_side + 1)]

    def _strike_center(self, now: datetime) -> Decimal:
        if self._center is None:
            self._center = self.round_to_strike(self.spot.at(at(now.astimezone(IST).date(), MARKET_OPEN)))
        return self._center

    def round_to_strike(self, level: Decimal) -> Decimal:
        return (level / self.strike_step).quantize(Decimal(1)) * self.strike_step

    def atm_strike(self, now: datetime) -> Decimal:
        """The listed strike nearest the spot (the lower one on a tie)."""
        spot = self.spot_at(now)
        return min(self.strikes(now), key=lambda strike: (abs(strike - spot), strike))

    def lists(self, option: Option, now: datetime) -> bool:
        steps = (option.strike - self._strike_center(now)) / self.strike_step
        return option.expiry in self.expiries and steps == int(steps) and abs(steps) <= self.strikes_each_side

    def option_quote(self, option: Option, now: datetime) -> Quote:
        return pricing.quote(
            self.spot_at(now), option.strike, option.option_type, now, option.expiry, self.iv_atm, self.iv_wing_slope
        )


def nifty(spot: Path, expiries: list[date], *, lot_size: int = 65, strike_step: Decimal = Decimal(50),
          iv_atm: Decimal = Decimal("0.12"), iv_wing_slope: Decimal = Decimal("0.04")) -> Underlying:
    return Underlying("NIFTY", "NSE_INDEX", "NFO", spot, Decimal(strike_step), lot_size, sorted(expiries),
                      Decimal(iv_atm), Decimal(iv_wing_slope), freeze_qty=1800)


def sensex(spot: Path, expiries: list[date], *, lot_size: int = 20, strike_step: Decimal = Decimal(100),
           iv_atm: Decimal = Decimal("0.12"), iv_wing_slope: Decimal = Decimal("0.04")) -> Underlying:
    return Underlying("SENSEX", "BSE_INDEX", "BFO", spot, Decimal(strike_step), lot_size, sorted(expiries),
                      Decimal(iv_atm), Decimal(iv_wing_slope), freeze_qty=1000, strikes_each_side=75)


INDEX_PRESETS = {"NIFTY": nifty, "SENSEX": sensex}


class Market:
    def __init__(self, underlyings: Sequence[Underlying]):
        self.underlyings = {underlying.name: underlying for underlying in underlyings}
        self._opening: dict[tuple[Option, date], Decimal] = {}

    def underlying(self, name: str, exchange: str) -> Underlying | None:
        """An underlying named on its index exchange or its options exchange."""
        found = self.underlyings.get(name.upper())
        if found and exchange in (found.spot_exchange, found.option_exchange):
            return found
        return None

    def index(self, symbol: str, exchange: str) -> Underlying | None:
        found = self.underlyings.get(symbol)
        return found if found and found.spot_exchange == exchange else None

    def option(self, symbol: str, exchange: str, now: datetime) -> Option | None:
        """The listed option a symbol names on an exchange, or None."""
        match = SYMBOL.match(symbol)
        if not match:
            return None
        base, code, strike, option_type = match.groups()
        underlying = self.underlyings.get(base)
        expiry = parse_expiry_code(code)
        if underlying is None or expiry is None or underlying.option_exchange != exchange:
            return None
        option = Option(base, expiry, Decimal(strike), option_type)
        return option if underlying.lists(option, now) else None

    def option_quote(self, option: Option, now: datetime) -> Quote:
        return self.underlyings[option.underlying].option_quote(option, now)

    def lot_size(self, option: Option) -> int:
        return self.underlyings[option.underlying].lot_size

    def spot(self, name: str, now: datetime) -> Decimal:
        return self.underlyings[name].spot_at(now)

    def quote_data(self, symbol: str, exchange: str, now: datetime) -> dict | None:
        """The `data` of a quotes answer, or None for a symbol the market does not list."""
        index = self.index(symbol, exchange)
        if index is not None:
            return _quote_data(index.spot_at(now), ZERO, ZERO, index.spot_at(at(now.astimezone(IST).date(), MARKET_OPEN)))
        option = self.option(symbol, exchange, now)
        if option is None:
            return None
        quote = self.option_quote(option, now)
        return _quote_data(quote.ltp, quote.bid, quote.ask, self._opening_price(option, now))

    def _opening_price(self, option: Option, now: datetime) -> Decimal:
        day = now.astimezone(IST).date()
        opening = at(day, MARKET_OPEN)
        if now < opening:
            return self.option_quote(option, now).ltp
        if (option, day) not in self._opening:
            self._opening[(option, day)] = self.option_quote(option, opening).ltp
        return self._opening[(option, day)]


def _quote_data(ltp: Decimal, bid: Decimal, ask: Decimal, opening: Decimal) -> dict:
    return {
        "open": float(opening),
        "high": float(max(opening, ltp)),
        "low": float(min(opening, ltp)),
        "ltp": float(ltp),
        "ask": float(ask),
        "bid": float(bid),
        "prev_close": float(opening),
        "volume": 0,
        "oi": 0,
    }

