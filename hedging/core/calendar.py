"""Trading days, market hours and days to expiry (Asia/Kolkata)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from hedging.core.clock import IST, MARKET_CLOSE, MARKET_OPEN


def is_trading_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def is_market_open(now: datetime, holidays: Collection[date] = ()) -> bool:
    local = now.astimezone(IST)
    return is_trading_day(local.date(), holidays) and MARKET_OPEN <= local.time() <= MARKET_CLOSE


def days_to_expiry(day: date, expiry: date, holidays: Collection[date] = ()) -> int:
    """Trading days from `day` to `expiry`: 0 on expiry day."""
    if expiry < day:
        raise ValueError(f"expiry {expiry} is before {day}")
    count, current = 0, day
    while current < expiry:
        current += timedelta(days=1)
        if is_trading_day(current, holidays):
            count += 1
    return count
