"""How long the simulated broker takes to answer: nothing by default (the replay and the
tests stay fast), or a real OpenAlgo server's times (`real-openalgo`, docs/openalgo.md's
"Measured call times"), scaled by a factor.

The work is done when the request arrives; only the answer waits. So a client that gives
up early still leaves its order placed, and the waiting holds no lock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

Range = tuple[float, float]


@dataclass(frozen=True)
class Latency:
    """base_ms on every call, plus a uniform draw from the endpoint's range, plus the
    per-item costs of the two calls a real server answers by quoting item by item."""

    base_ms: float = 0.0
    ranges_ms: Mapping[str, Range] = field(default_factory=dict)
    per_strike_ms: float = 0.0  # optionchain, per strike row answered
    per_symbol_ms: float = 0.0  # multiquotes, per symbol quoted (a refused symbol is never quoted)
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.scale < 0 or self.base_ms < 0 or self.per_strike_ms < 0 or self.per_symbol_ms < 0:
            raise ValueError("latency figures and scale must not be negative")
        if any(not 0 <= low <= high for low, high in self.ranges_ms.values()):
            raise ValueError("a latency range must be (low, high) with 0 <= low <= high")

    def scaled(self, scale: float) -> Latency:
        return replace(self, scale=scale)

    def seconds(self, endpoint: str, answer: Any, rng: random.Random) -> float:
        low, high = self.ranges_ms.get(endpoint, (0.0, 0.0))
        strikes, symbols = _items(endpoint, answer)
        ms = self.base_ms + rng.uniform(low, high) + strikes * self.per_strike_ms + symbols * self.per_symbol_ms
        return ms * self.scale / 1000

    def to_dict(self) -> dict[str, Any]:
        return {"base_ms": self.base_ms, "ranges_ms": {k: list(v) for k, v in self.ranges_ms.items()},
                "per_strike_ms": self.per_strike_ms, "per_symbol_ms": self.per_symbol_ms, "scale": self.scale}


def _items(endpoint: str, answer: Any) -> tuple[int, int]:
    """(strikes, symbols) the answer carries."""
    if not isinstance(answer, dict):
        return 0, 0
    if endpoint == "optionchain":
        return len(answer.get("chain") or ()), 0
    if endpoint == "multiquotes":
        return 0, sum("data" in row for row in answer.get("results") or ())
    return 0, 0


_ACCOUNT = (20.0, 360.0)
_ORDERS = (12.0, 148.0)
_QUOTE = (24.0, 75.0)
REAL_OPENALGO = Latency(
    ranges_ms={
        "funds": _ACCOUNT, "positionbook": _ACCOUNT, "orderbook": _ACCOUNT, "tradebook": _ACCOUNT,
        "ping": _ACCOUNT, "analyzer": _ACCOUNT, "analyzer/toggle": _ACCOUNT,
        "placeorder": _ORDERS, "modifyorder": _ORDERS, "cancelorder": _ORDERS, "orderstatus": _ORDERS,
        "expiry": (11.0, 250.0), "optionsymbol": (11.0, 250.0), "margin": (25.0, 76.0),
        # multiquotes and optionchain quote the spot or the first symbol like quotes, then item by item
        "quotes": _QUOTE, "multiquotes": _QUOTE, "optionchain": _QUOTE,
    },
    per_strike_ms=310.0,  # 121 strikes 37.6–39.2 s, 21 strikes 6.5 s
    per_symbol_ms=150.0,  # 10 symbols 1.6 s, 62 symbols 9.7 s
)
PROFILES = {"off": Latency(), "real-openalgo": REAL_OPENALGO}


def latency_profile(name: str, scale: float = 1.0) -> Latency:
    """A named profile (`off`, `real-openalgo`) with its times multiplied by `scale`."""
    if name not in PROFILES:
        raise ValueError(f"unknown latency profile {name!r}; one of {', '.join(PROFILES)}")
    return PROFILES[name].scaled(scale)


def as_latency(value: Latency | str | None) -> Latency:
    if value is None:
        return PROFILES["off"]
    return latency_profile(value) if isinstance(value, str) else value
