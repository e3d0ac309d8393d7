"""Clocks: the decision code is given one and never reads the wall clock itself.

- RealClock: live and paper.
- AcceleratedClock: the demo, a trading day in minutes. Deterministic from its three
  parameters, so two processes (the simulated broker and the worker) given the same
  ones agree on the time.
- SteppedClock: replay and tests; moves only when told.
"""

from __future__ import annotations

import time as _time
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
MARKET_OPEN = time(9, 15)
MARKET_CLOSE = time(15, 30)


class Clock(Protocol):
    def now(self) -> datetime: ...


def at(day: date, moment: time) -> datetime:
    """An aware Asia/Kolkata datetime on `day` at `moment`."""
    return datetime.combine(day, moment, tzinfo=IST)


class RealClock:
    def now(self) -> datetime:
        return datetime.now(IST)


class SteppedClock:
    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("SteppedClock needs an aware datetime")
        self._now = start.astimezone(IST)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(IST)

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now


class AcceleratedClock:
    """Simulated time = sim_start + (wall − real_start) × speed."""

    def __init__(self, sim_start: datetime, speed: float, real_start: float | None = None):
        if sim_start.tzinfo is None:
            raise ValueError("AcceleratedClock needs an aware datetime")
        self.sim_start = sim_start.astimezone(IST)
        self.speed = speed
        self.real_start = _time.time() if real_start is None else real_start

    def now(self) -> datetime:
        return self.sim_start + timedelta(seconds=(_time.time() - self.real_start) * self.speed)

    def spec(self) -> str:
        """A string that rebuilds this clock in another process (see from_spec)."""
        return f"{self.sim_start.isoformat()}|{self.speed}|{self.real_start}"

    @classmethod
    def from_spec(cls, spec: str) -> "AcceleratedClock":
        sim_start, speed, real_start = spec.split("|")
        return cls(datetime.fromisoformat(sim_start), float(speed), float(real_start))
