"""Faults injected on request, consumed by the requests they hit.

Wrapper kinds act around any endpoint; order kinds act inside placeorder once the
request is valid and authenticated (a refused request does not use them up).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

WRAPPER_KINDS = {"latency", "error_500", "timeout", "malformed_json", "rate_limit"}
ORDER_KINDS = {"reject", "partial_fill", "no_fill", "semi_auto"}
KINDS = WRAPPER_KINDS | ORDER_KINDS


@dataclass
class Fault:
    endpoint: str
    kind: str
    count: int
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "kind": self.kind, "count": self.count, "params": dict(self.params)}


class Faults:
    """Queue of pending faults. kinds and their params:

    latency(ms)                 answer after `ms` milliseconds
    error_500(message?)         answer 500 without doing anything
    timeout(seconds, placed=True)  do the work (placed=False: don't) and answer only after
                                `seconds`; in-process the call raises SimulatedTimeout
    malformed_json(placed=True) do the work and answer 200 with truncated JSON
    rate_limit                  answer 429 as the limiter would
    reject(reason?)             placeorder: order placed, then rejected
    partial_fill(fraction)      placeorder: fills that fraction (whole lots), the rest stays open
    no_fill                     placeorder: order stays open until modified or cancelled
    semi_auto                   placeorder: queued for approval, no order placed
    """

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._lock = threading.Lock()

    def inject(self, endpoint: str, kind: str, count: int = 1, **params: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(sorted(KINDS))}")
        if kind in ORDER_KINDS and endpoint != "placeorder":
            raise ValueError(f"fault {kind} applies to placeorder only")
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind == "partial_fill" and not 0 < float(params.get("fraction", 0.5)) < 1:
            raise ValueError("partial_fill needs 0 < fraction < 1")
        with self._lock:
            self._pending.append(Fault(endpoint, kind, count, params))

    def take(self, endpoint: str, kinds: set[str]) -> Fault | None:
        """Use up one occurrence of the first pending fault of these kinds on this endpoint."""
        with self._lock:
            for fault in self._pending:
                if fault.endpoint == endpoint and fault.kind in kinds:
                    fault.count -= 1
                    if fault.count == 0:
                        self._pending.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return [Fault(f.endpoint, f.kind, f.count, dict(f.params)) for f in self._pending]

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()


class SimulatedTimeout(TimeoutError):
    """The answer is late. In-process callers see a timeout; the HTTP face waits
    `seconds` and then sends `answer` (the order may well have been placed)."""

    def __init__(self, endpoint: str, seconds: float, answer: tuple[int, dict | str]):
        super().__init__(f"{endpoint} answered after {seconds} s")
        self.endpoint = endpoint
        self.seconds = seconds
        self.answer = answer
