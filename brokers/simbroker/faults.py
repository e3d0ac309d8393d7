"""Faults injected on request, consumed by the requests they hit.

Wrapper kinds act around any endpoint; order kinds act inside placeorder once the
request is valid and authenticated (a refused request does not use them up).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

WRAPPER_KINDS = {"latency", "error_500", "timeout", "malformed_json", "rate_limit", "hold"}
ORDER_KINDS = {"reject", "partial_fill", "no_fill", "semi_auto", "late"}
LOST_ANSWERS = {"drop", "timeout"}
KINDS = WRAPPER_KINDS | ORDER_KINDS
PLACEORDER_ONLY = ORDER_KINDS | {"hold"}


@dataclass
class Fault:
    endpoint: str
    kind: str
    count: int
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "kind": self.kind, "count": self.count, "params": dict(self.params)}


@dataclass
class Held:
    """A request stopped by a `hold` fault until it is released (or dropped)."""

    endpoint: str
    placed: bool
    since: float = field(default_factory=time.monotonic)
    dropped: bool = False
    _go: threading.Event = field(default_factory=threading.Event)

    def wait(self) -> None:
        self._go.wait()

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "placed": self.placed, "seconds": round(time.monotonic() - self.since, 3)}


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
    hold(placed=False)          placeorder: wait until `release()` before doing anything
                                (placed=True: enter the order first, hold only the answer)
    late(after=20, lost="drop", seconds=30)
                                placeorder: the answer is lost (the connection dropped, or
                                no answer for `seconds`) and the order enters the book
                                `after` clock seconds later
    """

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._held: list[Held] = []
        self._dropped = 0
        self._lock = threading.Lock()

    def inject(self, endpoint: str, kind: str, count: int = 1, **params: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(sorted(KINDS))}")
        if kind in PLACEORDER_ONLY and endpoint != "placeorder":
            raise ValueError(f"fault {kind} applies to placeorder only")
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind == "partial_fill" and not 0 < float(params.get("fraction", 0.5)) < 1:
            raise ValueError("partial_fill needs 0 < fraction < 1")
        if kind == "late" and (float(params.get("after", 20)) < 0 or params.get("lost", "drop") not in LOST_ANSWERS):
            raise ValueError(f"late needs after >= 0 and lost one of {', '.join(sorted(LOST_ANSWERS))}")
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

    def hold(self, endpoint: str, placed: bool) -> Held:
        held = Held(endpoint, placed)
        with self._lock:
            self._held.append(held)
        return held

    def held(self) -> list[Held]:
        with self._lock:
            return list(self._held)

    def note_dropped(self) -> None:
        with self._lock:
            self._dropped += 1

    def dropped(self) -> int:
        """Held requests that ended unanswered with nothing done, over the sim's life."""
        with self._lock:
            return self._dropped

    def release(self, drop: bool = False) -> int:
        """Let every held request go on (`drop`: end them unanswered, nothing more done)."""
        with self._lock:
            held, self._held = self._held, []
        for request in held:
            request.dropped = drop
            request._go.set()
        return len(held)

    def clear(self) -> None:
        """No pending faults; held requests are dropped."""
        with self._lock:
            self._pending.clear()
        self.release(drop=True)


class RequestDropped(ConnectionError):
    """A held request ended without an answer (its client went away, or the faults were
    cleared): the HTTP face closes the connection, nothing was done."""


class SimulatedTimeout(TimeoutError):
    """The answer is late. In-process callers see a timeout; the HTTP face waits
    `seconds` and then sends `answer` (the order may well have been placed), or closes
    the connection unanswered when there is none."""

    def __init__(self, endpoint: str, seconds: float, answer: tuple[int, dict | str] | None):
        super().__init__(f"{endpoint} answered after {seconds} s")
        self.endpoint = endpoint
        self.seconds = seconds
        self.answer = answer


def lost_answer(endpoint: str, params: dict[str, Any]) -> Exception:
    """What a client meets when a `late` fault loses its answer."""
    if params.get("lost", "drop") == "timeout":
        return SimulatedTimeout(endpoint, float(params.get("seconds", 30)), None)
    return RequestDropped(f"{endpoint}: the connection dropped before the answer")
