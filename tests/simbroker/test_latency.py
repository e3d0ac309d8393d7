"""Answer times: none by default, a real OpenAlgo server's with the `real-openalgo` profile."""

import threading
import time

import pytest
import requests

from brokers.simbroker import REAL_OPENALGO, Latency, latency_profile

from .helpers import call, flat_sim, order

CE = "NIFTY24NOV2624000CE"


def timed_sim(**options):
    delays: list[float] = []
    sim = flat_sim(sleep=delays.append, **options)
    return sim, delays


def chain(sim, **extra):
    return call(sim, "optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26", **extra)


def test_no_delay_by_default():
    sim, delays = timed_sim()
    call(sim, "funds")
    chain(sim)
    order(sim, CE, "SELL", 65)
    assert delays == []


def test_real_openalgo_account_and_order_calls_take_their_measured_ranges():
    sim, delays = timed_sim(latency="real-openalgo")
    for _ in range(20):
        call(sim, "funds")
    assert all(0.020 <= d <= 0.360 for d in delays) and len(set(delays)) > 1
    delays.clear()
    for _ in range(20):
        call(sim, "orderstatus", strategy="t", orderid="1")
    assert all(0.012 <= d <= 0.148 for d in delays)


def test_optionchain_costs_a_third_of_a_second_a_strike():
    sim, delays = timed_sim(latency="real-openalgo")
    assert len(chain(sim, strike_count=10)[1]["chain"]) == 21
    assert len(chain(sim)[1]["chain"]) == 121
    small, whole = delays
    assert 6.5 <= small <= 6.6  # the real server: 6.5 s
    assert 37.5 <= whole <= 37.6  # 37.6–39.2 s


def test_multiquotes_costs_per_symbol_quoted_and_nothing_for_a_refused_one():
    sim, delays = timed_sim(latency="real-openalgo")
    symbols = [{"symbol": f"NIFTY24NOV26{24000 + 50 * n}CE", "exchange": "NFO"} for n in range(10)]
    call(sim, "multiquotes", symbols=symbols)
    call(sim, "multiquotes", symbols=symbols + [{"symbol": "NIFTY24NOV2624010CE", "exchange": "NFO"}])
    assert [1.524 <= d <= 1.575 for d in delays] == [True, True]  # the real server: 1.6 s for 10


def test_a_scale_multiplies_every_figure():
    sim, delays = timed_sim(latency=latency_profile("real-openalgo", 0.01))
    chain(sim, strike_count=10)
    assert 0.065 <= delays[0] <= 0.066


def test_a_latency_of_ones_own_figures():
    sim, delays = timed_sim(latency=Latency(base_ms=40, ranges_ms={"funds": (10, 10)}))
    call(sim, "funds")
    call(sim, "quotes", symbol="NIFTY", exchange="NSE_INDEX")
    assert delays == [0.05, 0.04]


def test_bad_figures_and_unknown_profiles_are_refused():
    with pytest.raises(ValueError, match="unknown latency profile"):
        latency_profile("slow")
    with pytest.raises(ValueError):
        Latency(ranges_ms={"funds": (100, 10)})
    with pytest.raises(ValueError):
        REAL_OPENALGO.scaled(-1)


def test_the_rate_limiter_answers_at_once():
    sim, delays = timed_sim(latency="real-openalgo")
    sim.faults.inject("funds", "rate_limit")
    assert call(sim, "funds")[0] == 429
    assert delays == []


def post(url, endpoint, timeout=10, **body):
    return requests.post(f"{url}/api/v1/{endpoint}", json={"apikey": "demo", **body}, timeout=timeout)


def test_a_slow_call_over_http_does_not_hold_up_the_others(simbroker_server):
    url = simbroker_server.url
    simbroker_server.sim.latency = latency_profile("real-openalgo", 0.2)  # 21 strikes: about 1.3 s
    slow = threading.Thread(target=post, args=(url, "optionchain"), kwargs={
        "underlying": "NIFTY", "exchange": "NSE_INDEX", "expiry_date": "24NOV26", "strike_count": 10})
    started = time.monotonic()
    slow.start()
    time.sleep(0.1)
    assert post(url, "funds").status_code == 200
    assert time.monotonic() - started < 0.8 and slow.is_alive()
    slow.join(10)
    assert time.monotonic() - started > 1.3


def test_a_client_that_leaves_a_slow_placeorder_still_has_its_order_placed(simbroker_server):
    url = simbroker_server.url
    simbroker_server.sim.latency = Latency(ranges_ms={"placeorder": (800, 800)})
    with pytest.raises(requests.ReadTimeout):
        post(url, "placeorder", timeout=(2, 0.2), strategy="ah-1", exchange="NFO", symbol=CE, action="SELL",
             quantity=65)
    [placed] = requests.get(f"{url}/sim/orders", timeout=5).json()["orders"]
    assert placed["strategy"] == "ah-1"
    assert post(url, "orderbook").json()["data"]["orders"][0]["order_status"] == "complete"
