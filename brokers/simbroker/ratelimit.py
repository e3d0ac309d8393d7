"""OpenAlgo's default limits: per client, per endpoint, a moving one-second window."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Callable

ORDER_ENDPOINTS = {"placeorder", "modifyorder", "cancelorder"}


def limit_for(endpoint: str) -> int:
    return 10 if endpoint in ORDER_ENDPOINTS else 50


def limit_answer(endpoint: str) -> tuple[int, dict]:
    return 429, {"message": f"{limit_for(endpoint)} per 1 second"}


class RateLimiter:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self._monotonic = monotonic
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str, endpoint: str) -> bool:
        """Record a hit unless the window is full; refused hits are not recorded."""
        now = self._monotonic()
        with self._lock:
            hits = self._hits[(client, endpoint)]
            while hits and hits[0] <= now - 1:
                hits.popleft()
            if len(hits) >= limit_for(endpoint):
                return False
            hits.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
