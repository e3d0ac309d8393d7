"""Rate limits on calls to an outside service, kept by waiting: calls paced, not burst.

An OpenAlgo server counts a client's calls to an endpoint in a moving second when they
arrive (10 orders, 50 other calls). A moving window of our own let 45 reads go at once;
they reached a loaded server spread over a few hundred milliseconds, the next second's 45
arrived on their tail, and 100 buyers on one host drew 19–35 refusals a minute
(bench/run.py --one-host) even with a fifth kept back. So calls are paced (the generic
cell rate algorithm): a fifth of the limit may go at once, the rest one gap apart, and any
moving second holds at most `per_second`.

The pace is kept where `storage` says: with `redis://…` every process that talks to the
same host paces together (the Procfile's workers, web and bot share one OpenAlgo and one
Telegram bot); with `memory://` only this process does. A store that does not answer
leaves the pace to this process for a minute: a hedge order is never held up by it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_STORE = 60  # seconds paced in this process after the shared store failed to answer
STORE_TIMEOUTS = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}


@dataclass(frozen=True)
class Pace:
    """b calls at once (the burst), then one every `gap` seconds: b + r − 1 calls in any
    moving second at a rate r, so r = per_second − b + 1."""

    gap: float
    tolerance: float  # how far ahead of the pace a call may be: the burst's room

    @classmethod
    def of(cls, per_second: int) -> Pace:
        burst = max(per_second // 5, min(per_second, 2))  # a buy's two legs go together
        gap = 1 / (per_second - burst + 1)
        # A microsecond over the burst's room: on a clock's large values (Redis's epoch
        # seconds, a host up for days) the burst's last call is ahead by (now + k·gap) − now,
        # which rounding can put a hair past k·gap, and it was refused.
        return cls(gap, (burst - 1) * gap + 1e-6)


# The next call's theoretical time for a key: a call may go once it is within `tolerance`
# of now, and moves it a gap on. Redis's clock, so processes on several machines agree.
# Several keys at once (a glance's reads of one broker): one round trip, a wait for each.
PACE_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local waits, dues = {}, {}
for i, key in ipairs(KEYS) do
  local gap, tolerance = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local due = math.max(dues[key] or tonumber(redis.call('GET', key) or '0'), now)
  if due - now > tolerance then
    waits[i] = tostring(due - tolerance - now)
  else
    dues[key] = due + gap  -- a key asked twice: not its stored value, rounded to 14 digits
    redis.call('SET', key, tostring(due + gap), 'PX', math.ceil((due + gap - now) * 1000) + 1000)
    waits[i] = '0'
  end
end
return waits
"""


class LocalStore:
    """The pace kept in this process alone, on its limiters' clock."""

    def __init__(self) -> None:
        self._due: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, turns: list[tuple[str, Pace]], now: float) -> list[float]:
        with self._lock:
            return [self._take(key, pace, now) for key, pace in turns]

    def _take(self, key: str, pace: Pace, now: float) -> float:
        due = max(self._due.get(key, 0.0), now)
        if due - now > pace.tolerance:
            return due - pace.tolerance - now
        self._due[key] = due + pace.gap
        return 0.0


class RedisStore:
    """The pace kept in Redis, for every process that uses it."""

    def __init__(self, url: str) -> None:
        self._script = redis.Redis.from_url(url, **STORE_TIMEOUTS).register_script(PACE_SCRIPT)

    def take(self, turns: list[tuple[str, Pace]], now: float) -> list[float]:  # Redis's own clock, not `now`
        waits = self._script(keys=[key for key, _ in turns], args=[v for _, pace in turns for v in (pace.gap, pace.tolerance)])
        return [float(wait) for wait in waits]


Store = LocalStore | RedisStore


class RateLimiter:
    """Calls a moving second per endpoint (`default` for any other), for one `host` (or bot)."""

    def __init__(
        self,
        host: str,
        limits: dict[str, int],
        default: int,
        storage: str = "memory://",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._host = host
        self._paces = {endpoint: Pace.of(count) for endpoint, count in limits.items()}
        self._default = Pace.of(default)
        self._shared = store(storage)
        self._local = store("memory://")
        self._shared_down_until = 0.0
        self._sleep = sleep
        self._clock = clock

    def acquire(self, endpoint: str) -> None:
        """Returns once the call may go: at once, or after its turn."""
        while wait := self.try_acquire(endpoint):
            self._sleep(wait)

    def try_acquire(self, endpoint: str) -> float:
        """0.0 if the call may go now (it is counted); else the seconds to wait before asking
        again (nothing counted). Never sleeps: for an event loop, which must await the wait."""
        return self.try_acquire_each([endpoint])[0]

    def try_acquire_each(self, endpoints: list[str]) -> list[float]:
        """`try_acquire` of each endpoint, in one question to the store."""
        turns = [(f"ratelimit:{self._host}:{endpoint}", self._paces.get(endpoint, self._default)) for endpoint in endpoints]
        if time.monotonic() >= self._shared_down_until:
            try:
                return self._shared.take(turns, self._clock())
            except (RedisError, OSError) as down:
                log.warning("rate-limit store down (%s): pacing in this process for %ss", type(down).__name__, RETRY_STORE)
                self._shared_down_until = time.monotonic() + RETRY_STORE
        return self._local.take(turns, self._clock())


class TakenTurns:
    """A limiter's turns for calls to `endpoints`, taken together ahead of the calls (one
    question to the store, not one a call): each finds its turn taken, once; a call past
    them asks the limiter. A turn taken for a call never made is spent: calls are only
    ever fewer for it."""

    def __init__(self, limiter: RateLimiter | TakenTurns, endpoints: list[str]):
        self._limiter = limiter
        waits = limiter.try_acquire_each(endpoints)
        self._taken = Counter(endpoint for endpoint, wait in zip(endpoints, waits) if not wait)
        self._lock = threading.Lock()

    def acquire(self, endpoint: str) -> None:
        with self._lock:
            if self._taken[endpoint]:
                self._taken[endpoint] -= 1
                return
        self._limiter.acquire(endpoint)

    def try_acquire_each(self, endpoints: list[str]) -> list[float]:
        return self._limiter.try_acquire_each(endpoints)


_shared: dict[tuple[str, str], RateLimiter] = {}
_stores: dict[str, Store] = {}
_shared_lock = threading.Lock()
_stores_lock = threading.Lock()


def store(storage: str) -> Store:
    """One store (for Redis, one connection pool) per URL in this process, whichever host's
    limiter uses it: a pool a host made a connection for each host and thread, and 1,000
    accounts' limiters spent a quarter of the workers' CPU opening connections."""
    with _stores_lock:
        if storage not in _stores:
            _stores[storage] = LocalStore() if storage == "memory://" else RedisStore(storage)
        return _stores[storage]


def shared(host: str, limits: dict[str, int], default: int, storage: str) -> RateLimiter:
    """One limiter per host and store in this process (its clients share it)."""
    with _shared_lock:
        return _shared.setdefault((host, storage), RateLimiter(host, limits, default, storage))
