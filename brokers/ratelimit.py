"""Moving-window rate limits on calls to an outside service, kept by waiting.

The count lives where `storage` says (the `limits` library's moving window): with
`redis://…` every process that talks to the same host counts together (the Procfile's
workers, web and bot share one OpenAlgo's 10 orders and 50 calls a second, and one
Telegram bot's 30 messages a second); with `memory://` only this process counts. A store that does not answer leaves the call to
this process's own count: a hedge order is never held up by the limiter's store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError, StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_STORE = 60  # seconds counted in this process after the shared store failed to answer
STORE_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


class RateLimiter:
    """`limits`: calls a second per endpoint (`default` for any other), for one `host` (or bot)."""

    def __init__(
        self,
        host: str,
        limits: dict[str, int],
        default: int,
        storage: str = "memory://",
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._host = host
        self._items = {endpoint: RateLimitItemPerSecond(count) for endpoint, count in limits.items()}
        self._default = RateLimitItemPerSecond(default)
        self._shared = MovingWindowRateLimiter(store(storage))
        self._local = MovingWindowRateLimiter(store("memory://"))
        self._shared_down_until = 0.0
        self._sleep = sleep

    def acquire(self, endpoint: str) -> None:
        """Returns once the call may go: at once, or after the window has room."""
        while wait := self.try_acquire(endpoint):
            self._sleep(wait)

    def try_acquire(self, endpoint: str) -> float:
        """0.0 if the call may go now (it is counted); else the seconds to wait before asking
        again (nothing counted). Never sleeps: for an event loop, which must await the wait."""
        item = self._items.get(endpoint, self._default)
        return 0.0 if self._hit(item, endpoint) else self._wait(item, endpoint)

    def _hit(self, item: RateLimitItem, endpoint: str) -> bool:
        if time.monotonic() >= self._shared_down_until:
            try:
                return self._shared.hit(item, self._host, endpoint)
            except (StorageError, RedisError, OSError) as down:
                log.warning("rate-limit store down (%s): counting in this process for %ss", type(down).__name__, RETRY_STORE)
                self._shared_down_until = time.monotonic() + RETRY_STORE
        return self._local.hit(item, self._host, endpoint)

    def _wait(self, item: RateLimitItem, endpoint: str) -> float:
        window = self._local if time.monotonic() < self._shared_down_until else self._shared
        try:
            reset = window.get_window_stats(item, self._host, endpoint).reset_time
        except (StorageError, RedisError, OSError):
            return 0.05
        return min(max(reset - time.time(), 0.001), float(item.get_expiry()))


_shared: dict[tuple[str, str], RateLimiter] = {}
_stores: dict[str, Storage] = {}
_shared_lock = threading.Lock()
_stores_lock = threading.Lock()


def store(storage: str) -> Storage:
    """One store (for Redis, one connection pool) per URL in this process, whichever host's
    limiter counts in it: a pool a host made a connection for each host and thread, and
    1,000 accounts' limiters spent a quarter of the workers' CPU opening connections."""
    with _stores_lock:
        if storage not in _stores:
            made = storage_from_string(storage, **(STORE_TIMEOUTS if storage.startswith("redis") else {}))
            if not isinstance(made, Storage):  # async+…: these limiters count from threads, not a loop
                raise ConfigurationError("the rate-limit store must not be an async+… one")
            _stores[storage] = made
        return _stores[storage]


def shared(host: str, limits: dict[str, int], default: int, storage: str) -> RateLimiter:
    """One limiter per host and store in this process (its clients share it)."""
    with _shared_lock:
        return _shared.setdefault((host, storage), RateLimiter(host, limits, default, storage))
