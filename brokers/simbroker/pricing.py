"""Option pricing of the simulated broker, as replay-format.md fixes it.

Black–Scholes with rate 0; time to expiry in trading minutes (09:15–15:30 on
weekdays) up to 15:30 on the expiry day, over 252 × 375; implied volatility
iv_atm + iv_wing_slope × |strike / spot − 1| × 100; prices in ₹0.05 ticks, never
below one tick; the ask one tick above the price, the bid one tick below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from decimal import ROUND_HALF_UP, Decimal

from hedging.core.clock import IST, MARKET_CLOSE, MARKET_OPEN, at

TICK = Decimal("0.05")
ZERO = Decimal("0.00")
MINUTES_PER_YEAR = 252 * 375

Number = Decimal | float | int


@dataclass(frozen=True)
class Quote:
    ltp: Decimal
    bid: Decimal
    ask: Decimal


def trading_minutes(start: datetime, end: datetime) -> float:
    """Market minutes (09:15–15:30, Monday to Friday) between two moments."""
    start, end = start.astimezone(IST), end.astimezone(IST)
    total = 0.0
    day = start.date()
    while day <= end.date():
        if day.weekday() < 5:
            low = max(start, at(day, MARKET_OPEN))
            high = min(end, at(day, MARKET_CLOSE))
            if high > low:
                total += (high - low).total_seconds() / 60
        day += timedelta(days=1)
    return total


@lru_cache(maxsize=256)  # one multiquotes prices dozens of strikes at the same moment
def years_to_expiry(now: datetime, expiry: date) -> float:
    return trading_minutes(now, at(expiry, MARKET_CLOSE)) / MINUTES_PER_YEAR


def implied_vol(spot: Number, strike: Number, iv_atm: Number, iv_wing_slope: Number) -> float:
    return float(iv_atm) + float(iv_wing_slope) * abs(float(strike) / float(spot) - 1) * 100


def black_scholes(spot: float, strike: float, years: float, vol: float, option_type: str) -> float:
    """Undiscounted Black–Scholes value (rate 0); intrinsic value at expiry."""
    if years <= 0 or vol <= 0:
        return max(spot - strike, 0.0) if option_type == "CE" else max(strike - spot, 0.0)
    spread = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + spread * spread / 2) / spread
    d2 = d1 - spread
    if option_type == "CE":
        return spot * _norm_cdf(d1) - strike * _norm_cdf(d2)
    return strike * _norm_cdf(-d2) - spot * _norm_cdf(-d1)


def _norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def to_ticks(value: float | Decimal) -> Decimal:
    """Nearest ₹0.05 tick, at least one tick."""
    ticks = (Decimal(repr(float(value))) / TICK).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(ticks * TICK, TICK).quantize(ZERO)


def option_price(
    spot: Number,
    strike: Number,
    option_type: str,
    now: datetime,
    expiry: date,
    iv_atm: Number,
    iv_wing_slope: Number,
) -> Decimal:
    if option_type not in ("CE", "PE"):
        raise ValueError(f"option_type must be CE or PE, not {option_type!r}")
    vol = implied_vol(spot, strike, iv_atm, iv_wing_slope)
    value = black_scholes(float(spot), float(strike), years_to_expiry(now, expiry), vol, option_type)
    return to_ticks(value)


def quote_from_price(price: Decimal) -> Quote:
    bid = price - TICK if price > TICK else ZERO
    return Quote(ltp=price, bid=bid, ask=price + TICK)


def quote(
    spot: Number,
    strike: Number,
    option_type: str,
    now: datetime,
    expiry: date,
    iv_atm: Number,
    iv_wing_slope: Number,
) -> Quote:
    return quote_from_price(option_price(spot, strike, option_type, now, expiry, iv_atm, iv_wing_slope))
