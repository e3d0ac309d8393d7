"""The client keeps itself under OpenAlgo's per-endpoint limits by waiting."""

import threading
from decimal import Decimal

import pytest
import responses

from brokers.openalgo import OpenAlgoClient, RateLimiter

HOST = "http://openalgo.test"


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(clock):
    return RateLimiter(window=1.0, clock=clock, sleep=clock.sleep)


def test_order_endpoints_wait_after_ten_in_a_window(limiter, clock):
    for _ in range(10):
        limiter.acquire("placeorder")
    assert clock.sleeps == []
    limiter.acquire("placeorder")
    assert clock.sleeps == [1.0]


def test_the_window_moves(limiter, clock):
    for _ in range(5):
        limiter.acquire("cancelorder")
    clock.now += 0.6
    for _ in range(5):
        limiter.acquire("cancelorder")
    clock.now += 0.5  # the first five left the window, the last five have not
    for _ in range(5):
        limiter.acquire("cancelorder")
    assert clock.sleeps == []
    limiter.acquire("cancelorder")
    assert clock.sleeps == [pytest.approx(0.5)]  # until the second five leave


def test_other_endpoints_allow_fifty(limiter, clock):
    for _ in range(50):
        limiter.acquire("quotes")
    assert clock.sleeps == []
    limiter.acquire("quotes")
    assert clock.sleeps == [1.0]


def test_endpoints_have_separate_windows(limiter, clock):
    for _ in range(10):
        limiter.acquire("placeorder")
    limiter.acquire("modifyorder")
    limiter.acquire("orderbook")
    assert clock.sleeps == []


class Blocked(Exception):
    pass


def test_thread_safe_never_admits_more_than_the_limit():
    def refuse(seconds):
        raise Blocked

    limiter = RateLimiter(clock=lambda: 0.0, sleep=refuse)  # time stands still
    start = threading.Barrier(40)
    admitted, blocked = [], []

    def worker():
        start.wait()
        try:
            limiter.acquire("placeorder")
            admitted.append(1)
        except Blocked:
            blocked.append(1)

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(admitted), len(blocked)) == (10, 30)


def test_client_waits_before_the_eleventh_order(clock):
    client = OpenAlgoClient(HOST, "k", rate_limit=RateLimiter(window=1.0, clock=clock, sleep=clock.sleep))
    with responses.RequestsMock() as api:
        api.post(f"{HOST}/api/v1/placeorder", json={"status": "success", "orderid": "1"})
        for n in range(11):
            client.place_order(strategy=f"t{n}", symbol="S", exchange="NFO", action="BUY", quantity=65,
                               pricetype="LIMIT", price=Decimal("1"))
        assert len(api.calls) == 11
    assert clock.sleeps == [1.0]


def test_clients_of_one_host_share_a_limiter():
    first = OpenAlgoClient("http://shared.test", "k1")
    second = OpenAlgoClient("http://shared.test/", "k2")
    other = OpenAlgoClient("http://elsewhere.test", "k1")
    assert first._limiter is second._limiter
    assert first._limiter is not other._limiter
    assert OpenAlgoClient("http://shared.test", "k", rate_limit=False)._limiter is None
