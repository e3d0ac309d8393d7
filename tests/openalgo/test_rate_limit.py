"""The client keeps itself under OpenAlgo's per-endpoint limits by waiting, counted in
Redis with every other process that calls the same host."""

import threading
import time
import uuid
from decimal import Decimal

import responses

from brokers.openalgo import OpenAlgoClient, openalgo_limiter
from brokers.ratelimit import RateLimiter
from tests.fixtures.processes import CELERY_REDIS_URL

LIMITS = {"placeorder": 10}


class Sleeps(list):
    """Records each wait, and waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


def limiter(host: str, storage: str = "memory://", sleep=None) -> RateLimiter:
    return RateLimiter(host, LIMITS, default=50, storage=storage, sleep=sleep if sleep is not None else Sleeps())


def host() -> str:
    return f"http://{uuid.uuid4().hex}.test"


def test_the_eleventh_order_in_a_second_waits_for_the_window():
    sleeps = Sleeps()
    orders = limiter(host(), sleep=sleeps)
    started = time.monotonic()
    for _ in range(11):
        orders.acquire("placeorder")
    assert sleeps and 0.8 < time.monotonic() - started < 1.5


def test_try_acquire_never_sleeps_and_counts_only_what_it_lets_go():
    sleeps = Sleeps()
    orders = limiter(host(), sleep=sleeps)
    assert [orders.try_acquire("placeorder") for _ in range(2)] == [0.0, 0.0]  # a buy's two legs at once
    waits = [orders.try_acquire("placeorder") for _ in range(3)]
    assert all(0.09 < wait <= 1 / 9 for wait in waits) and sleeps == []  # the refused asks took no room
    time.sleep(max(waits))
    assert orders.try_acquire("placeorder") == 0.0 and orders.try_acquire("placeorder") > 0


def test_a_fifth_goes_at_once_and_endpoints_count_apart():
    sleeps = Sleeps()
    calls = limiter(host(), sleep=sleeps)
    for _ in range(2):
        calls.acquire("placeorder")
    for _ in range(10):
        calls.acquire("quotes")
    calls.acquire("orderbook")
    assert sleeps == []
    calls.acquire("quotes")
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 1 / 41  # then one a gap apart: 41 a second after the 10


def test_two_processes_on_one_host_count_together_through_redis():
    """Two limiters on one Redis stand for two worker processes: an order from each uses
    the host's burst, and the next waits its turn, whichever process sends it."""
    shared_host, sleeps = host(), Sleeps()
    first, second = limiter(shared_host, CELERY_REDIS_URL), limiter(shared_host, CELERY_REDIS_URL, sleeps)
    first.acquire("placeorder")
    second.acquire("placeorder")
    assert sleeps == []
    second.acquire("placeorder")
    assert len(sleeps) >= 1 and 0.09 < sum(sleeps) <= 0.2
    elsewhere = limiter(host(), CELERY_REDIS_URL, sleeps := Sleeps())
    elsewhere.acquire("placeorder")
    assert sleeps == []  # another host has its own pace


def test_a_redis_that_does_not_answer_leaves_the_count_to_the_process():
    down = limiter(host(), "redis://127.0.0.1:1/0")
    started = time.monotonic()
    for _ in range(10):
        down.acquire("placeorder")
    assert time.monotonic() - started < 2  # one failed connect, then the process's own count


def test_twenty_threads_are_admitted_ten_a_moving_second_and_spread():
    orders, admitted = limiter(host()), []
    start = threading.Barrier(20)

    def worker():
        start.wait()
        orders.acquire("placeorder")
        admitted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted.sort()
    assert all(later - earlier >= 0.9 for earlier, later in zip(admitted, admitted[10:]))
    # Spread, not in bursts: after the first two, one a ninth of a second apart.
    assert all(later - earlier >= 0.1 for earlier, later in zip(admitted[1:], admitted[2:]))


def test_client_waits_before_the_eleventh_order():
    sleeps = Sleeps()
    client = OpenAlgoClient(host(), "k", rate_limit=limiter(host(), sleep=sleeps))
    with responses.RequestsMock() as api:
        api.post(f"{client.host}/api/v1/placeorder", json={"status": "success", "orderid": "1"})
        for n in range(11):
            client.place_order(strategy=f"t{n}", symbol="S", exchange="NFO", action="BUY", quantity=65,
                               pricetype="LIMIT", price=Decimal("1"))
        assert len(api.calls) == 11
    assert sleeps


def test_clients_of_one_host_share_a_limiter():
    first = OpenAlgoClient("http://shared.test", "k1")
    second = OpenAlgoClient("http://shared.test/", "k2")
    other = OpenAlgoClient("http://elsewhere.test", "k1")
    assert first._limiter is second._limiter is openalgo_limiter("http://shared.test")
    assert first._limiter is not other._limiter
    assert OpenAlgoClient("http://shared.test", "k", rate_limit=False)._limiter is None


def test_an_accounts_client_counts_in_redis(settings):
    from types import SimpleNamespace

    settings.AUTOHEDGE_RATE_LIMIT_STORAGE = CELERY_REDIS_URL
    account = SimpleNamespace(host=host(), api_key=lambda: "k")
    client = OpenAlgoClient.for_account(account)
    assert client._limiter is openalgo_limiter(account.host, CELERY_REDIS_URL)


FUNDS = {"availablecash": 1, "collateral": 0, "m2mrealized": 0, "m2munrealized": 0, "utiliseddebits": 0}


class Questions(RateLimiter):
    """A limiter that counts its questions to the store."""

    asked = 0

    def try_acquire_each(self, endpoints):
        self.asked += 1
        return super().try_acquire_each(endpoints)


def test_reads_sent_together_take_their_turns_in_one_question_to_redis():
    """A glance's reads of one broker (funds, positions, quotes) leave at once: one round
    trip to Redis for their turns, not one each; a call past them asks for its own."""
    limits = Questions(host(), LIMITS, default=50, storage=CELERY_REDIS_URL, sleep=Sleeps())
    client = OpenAlgoClient(limits._host, "k", rate_limit=limits)
    with responses.RequestsMock() as api:
        api.post(f"{client.host}/api/v1/funds", json={"status": "success", "data": FUNDS})
        api.post(f"{client.host}/api/v1/positionbook", json={"status": "success", "data": []})
        together = client.with_turns(["positionbook", "funds"])
        together.positionbook(), together.funds()
        assert limits.asked == 1 and len(api.calls) == 2
        together.funds()
        assert limits.asked == 2 and len(api.calls) == 3


def test_turns_taken_together_are_counted_and_one_past_the_pace_waits():
    sleeps = Sleeps()
    orders = limiter(host(), CELERY_REDIS_URL, sleeps)
    client = OpenAlgoClient(host(), "k", rate_limit=orders)
    with responses.RequestsMock() as api:
        api.post(f"{client.host}/api/v1/placeorder", json={"status": "success", "orderid": "1"})
        together = client.with_turns(["placeorder"] * 3)  # the burst is two: the third is not taken
        assert sleeps == [] and orders.try_acquire("placeorder") > 0  # the two taken count
        for n in range(3):
            together.place_order(strategy=f"t{n}", symbol="S", exchange="NFO", action="BUY", quantity=65,
                                 pricetype="LIMIT", price=Decimal("1"))
        assert len(api.calls) == 3
    assert len(sleeps) >= 1 and 0.09 < sum(sleeps) <= 0.25  # the third waited its turn


def test_a_burst_is_let_go_whole_on_a_clock_days_old():
    """A host up for days: its monotonic clock's large values round (now + 9 gaps) − now a
    hair past 9 gaps, and the burst's tenth read was refused."""
    for n in range(20):
        reads = RateLimiter(host(), LIMITS, default=50, clock=lambda n=n: 1_000_000 + n * 0.37)
        waits = reads.try_acquire_each(["quotes"] * 11)
        assert waits[:10] == [0.0] * 10 and waits[10] > 0
