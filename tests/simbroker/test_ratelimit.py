"""OpenAlgo's default rate limits, with the limiter's clock under the test's control."""

from brokers.simbroker.ratelimit import RateLimiter

from .helpers import call, flat_sim


def limited_sim(clock: list[float]):
    return flat_sim(rate_limits=True, monotonic=lambda: clock[0])


def cancel(sim, client: str = "127.0.0.1") -> int:
    return sim.handle("cancelorder", {"apikey": "demo", "strategy": "P", "orderid": "1"}, client)[0]


def test_ten_order_calls_a_second_then_429_until_the_window_moves():
    clock = [100.0]
    sim = limited_sim(clock)
    assert [cancel(sim) for _ in range(10)] == [404] * 10
    assert sim.handle("cancelorder", {"apikey": "demo", "strategy": "P", "orderid": "1"}) == (
        429, {"message": "10 per 1 second"})
    clock[0] += 0.5
    assert cancel(sim) == 429
    clock[0] += 0.51
    assert cancel(sim) == 404


def test_fifty_a_second_for_other_calls():
    sim = limited_sim([0.0])
    answers = [call(sim, "ping")[0] for _ in range(51)]
    assert answers == [200] * 50 + [429]
    assert call(sim, "ping") == (429, {"message": "50 per 1 second"})


def test_limits_are_per_client_and_per_endpoint():
    sim = limited_sim([0.0])
    for _ in range(10):
        cancel(sim)
    assert cancel(sim) == 429
    assert cancel(sim, client="127.0.0.2") == 404
    assert call(sim, "ping")[0] == 200


def test_turned_off_for_replay():
    sim = flat_sim(rate_limits=False)
    assert {cancel(sim) for _ in range(30)} == {404}


def test_a_refused_call_does_not_count_against_the_window():
    clock = [0.0]
    limiter = RateLimiter(monotonic=lambda: clock[0])
    assert all(limiter.allow("c", "placeorder") for _ in range(10))
    clock[0] = 0.5
    assert not any(limiter.allow("c", "placeorder") for _ in range(5))
    clock[0] = 1.01
    assert limiter.allow("c", "placeorder")
