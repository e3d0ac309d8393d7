"""Faults injected on request: each kind as a client meets it."""

import json
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest
import requests

from brokers.simbroker import SimulatedTimeout
from tests.fixtures.processes import wait_for

from .helpers import call, flat_sim, moment, order, status_of

HEDGE = "NIFTY24NOV2624500CE"


def test_latency_delays_the_answer_and_changes_nothing_else():
    delays = []
    sim = flat_sim(sleep=delays.append)
    sim.faults.inject("funds", "latency", ms=250)
    assert call(sim, "funds")[0] == 200
    assert call(sim, "funds")[0] == 200
    assert delays == [0.25]


def test_error_500_answers_500_and_places_nothing():
    sim = flat_sim()
    sim.faults.inject("placeorder", "error_500")
    failed = {"status": "error", "message": "Failed to place order due to internal error"}
    assert order(sim, HEDGE, "BUY", 65) == (500, failed)
    assert sim.order_log == []
    assert order(sim, HEDGE, "BUY", 65)[0] == 200


def test_a_placeorder_timeout_places_the_order_but_the_answer_never_comes_in_process():
    sim = flat_sim()
    sim.faults.inject("placeorder", "timeout", seconds=30)
    with pytest.raises(TimeoutError) as raised:
        order(sim, HEDGE, "BUY", 65, strategy="autohedge-1-CE")
    assert isinstance(raised.value, SimulatedTimeout)
    [placed] = sim.order_log
    assert placed.strategy == "autohedge-1-CE"
    book = call(sim, "orderbook")[1]["data"]["orders"]
    assert [(row["strategy"], row["order_status"]) for row in book] == [("autohedge-1-CE", "complete")]
    assert raised.value.answer == (200, {"status": "success", "orderid": placed.orderid})


def test_a_timeout_variant_that_places_nothing():
    sim = flat_sim()
    sim.faults.inject("placeorder", "timeout", seconds=30, placed=False)
    with pytest.raises(SimulatedTimeout):
        order(sim, HEDGE, "BUY", 65)
    assert sim.order_log == []


def test_a_placeorder_timeout_over_http_leaves_the_order_placed(simbroker_server):
    simbroker_server.sim.faults.inject("placeorder", "timeout", seconds=3)
    body = {"apikey": "demo", "strategy": "autohedge-1-CE", "exchange": "NFO", "symbol": HEDGE, "action": "BUY",
            "quantity": 65}
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{simbroker_server.url}/api/v1/placeorder", json=body, timeout=(2, 0.3))
    orders = requests.get(f"{simbroker_server.url}/sim/orders", timeout=5).json()["orders"]
    assert [(o["strategy"], o["symbol"], o["quantity"]) for o in orders] == [("autohedge-1-CE", HEDGE, 65)]


def test_malformed_json_answers_truncated_json_after_doing_the_work(simbroker_server):
    simbroker_server.sim.faults.inject("placeorder", "malformed_json")
    body = {"apikey": "demo", "strategy": "P", "exchange": "NFO", "symbol": HEDGE, "action": "BUY", "quantity": 65}
    response = requests.post(f"{simbroker_server.url}/api/v1/placeorder", json=body, timeout=5)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert len(simbroker_server.sim.order_log) == 1


def test_reject_places_the_order_then_rejects_it_with_a_reason():
    sim = flat_sim()
    sim.faults.inject("placeorder", "reject", reason="RMS: margin exceeds")
    status, answer = order(sim, HEDGE, "BUY", 65)
    assert status == 200 and answer["status"] == "success"
    rejected = call(sim, "orderbook")[1]["data"]["orders"][0]
    assert (rejected["order_status"], rejected["rejection_reason"], rejected["filled_quantity"]) == (
        "rejected", "RMS: margin exceeds", "0")
    assert call(sim, "positionbook")[1]["data"] == []
    assert call(sim, "orderbook")[1]["data"]["statistics"]["total_rejected_orders"] == 1


def test_partial_fill_fills_whole_lots_of_the_fraction_and_the_rest_waits():
    sim = flat_sim()
    sim.faults.inject("placeorder", "partial_fill", fraction=0.5)
    orderid = order(sim, HEDGE, "BUY", 260)[1]["orderid"]
    partly = status_of(sim, orderid)
    assert (partly["order_status"], partly["filled_quantity"], partly["pending_quantity"]) == ("open", "130", "130")
    sim.clock.set(moment(10, 0))
    assert status_of(sim, orderid)["filled_quantity"] == "130"
    assert call(sim, "cancelorder", strategy="test", orderid=orderid)[0] == 200
    cancelled = status_of(sim, orderid)
    assert (cancelled["order_status"], cancelled["filled_quantity"]) == ("cancelled", "130")
    assert call(sim, "positionbook")[1]["data"][0]["quantity"] == "130"


def test_no_fill_leaves_the_order_open_until_it_is_modified():
    sim = flat_sim()
    sim.faults.inject("placeorder", "no_fill")
    orderid = order(sim, HEDGE, "BUY", 65)[1]["orderid"]
    sim.clock.set(moment(10, 0))
    assert status_of(sim, orderid)["order_status"] == "open"
    call(sim, "modifyorder", strategy="test", orderid=orderid, exchange="NFO", symbol=HEDGE, action="BUY",
         product="MIS", pricetype="MARKET", price=0, quantity=65, trigger_price=0, disclosed_quantity=0)
    assert status_of(sim, orderid)["order_status"] == "complete"


def test_rate_limit_fault_answers_429_once():
    sim = flat_sim()
    sim.faults.inject("funds", "rate_limit")
    assert call(sim, "funds") == (429, {"message": "50 per 1 second"})
    assert call(sim, "funds")[0] == 200


def test_semi_auto_queues_for_approval_and_places_nothing():
    sim = flat_sim()
    sim.faults.inject("placeorder", "semi_auto")
    status, answer = order(sim, HEDGE, "BUY", 65)
    assert status == 200
    assert answer == {"status": "success", "message": "Order queued for approval in Action Center",
                      "mode": "semi_auto", "pending_order_id": 1}
    assert sim.order_log == [] and call(sim, "orderbook")[1]["data"]["orders"] == []


def test_a_fault_with_a_count_hits_that_many_requests():
    sim = flat_sim()
    sim.faults.inject("quotes", "error_500", count=2)
    answers = [call(sim, "quotes", symbol="NIFTY", exchange="NSE_INDEX")[0] for _ in range(3)]
    assert answers == [500, 500, 200]


def test_a_refused_request_does_not_use_up_an_order_fault():
    sim = flat_sim()
    sim.faults.inject("placeorder", "reject")
    assert order(sim, HEDGE, "BUY", 50)[0] == 400
    orderid = order(sim, HEDGE, "BUY", 65)[1]["orderid"]
    assert status_of(sim, orderid)["order_status"] == "rejected"


def test_unknown_kinds_and_order_kinds_elsewhere_are_refused():
    sim = flat_sim()
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.faults.inject("funds", "gremlins")
    with pytest.raises(ValueError, match="placeorder only"):
        sim.faults.inject("funds", "reject")
    with pytest.raises(ValueError, match="placeorder only"):
        sim.faults.inject("funds", "hold")


def test_hold_does_nothing_until_released_then_answers():
    sim = flat_sim()
    sim.faults.inject("placeorder", "hold")
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(order, sim, HEDGE, "BUY", 65, strategy="autohedge-1-CE")
        [held] = wait_for(sim.faults.held, timeout=5, interval=0.01, what="the held request")
        assert (held.endpoint, held.placed) == ("placeorder", False)
        assert sim.order_log == [] and not answer.done()
        assert sim.faults.release() == 1
        assert answer.result(timeout=5)[0] == 200
    assert [o.strategy for o in sim.order_log] == ["autohedge-1-CE"]
    assert sim.faults.held() == [] and sim.faults.dropped() == 0


def held_over_http(url: str) -> list[dict]:
    return requests.get(f"{url}/sim/faults", timeout=5).json()["held"]


def test_hold_placed_enters_the_order_and_holds_only_the_answer(simbroker_server):
    url = simbroker_server.url
    requests.post(f"{url}/sim/faults", json={"endpoint": "placeorder", "kind": "hold", "placed": True}, timeout=5)
    body = {"apikey": "demo", "strategy": "autohedge-1-CE", "exchange": "NFO", "symbol": HEDGE, "action": "BUY",
            "quantity": 65}
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(requests.post, f"{url}/api/v1/placeorder", json=body, timeout=10)
        [held] = wait_for(lambda: held_over_http(url), timeout=5, interval=0.01, what="the held request")
        assert held["placed"] is True
        [placed] = requests.get(f"{url}/sim/orders", timeout=5).json()["orders"]
        requests.post(f"{url}/sim/faults", json={"release": True}, timeout=5)
        assert answer.result(timeout=5).json() == {"status": "success", "orderid": placed["orderid"]}


def test_a_held_request_whose_client_went_away_is_dropped_unplaced(simbroker_server):
    """As when the worker that sent it is killed: released, it places nothing."""
    url = simbroker_server.url
    simbroker_server.sim.faults.inject("placeorder", "hold")
    client = HTTPConnection(urlsplit(url).netloc, timeout=5)
    body = {"apikey": "demo", "strategy": "autohedge-1-CE", "exchange": "NFO", "symbol": HEDGE, "action": "BUY",
            "quantity": 65}
    client.request("POST", "/api/v1/placeorder", json.dumps(body), {"Content-Type": "application/json"})
    wait_for(lambda: held_over_http(url), timeout=5, interval=0.01, what="the held request")
    client.close()
    assert requests.post(f"{url}/sim/faults", json={"release": True}, timeout=5).json() == {"released": 1}
    wait_for(lambda: requests.get(f"{url}/sim/faults", timeout=5).json()["dropped"] == 1, timeout=5, interval=0.01,
             what="the held request to be dropped")
    assert requests.get(f"{url}/sim/orders", timeout=5).json()["orders"] == []


def test_reset_drops_held_requests():
    sim = flat_sim()
    sim.faults.inject("placeorder", "hold")
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(order, sim, HEDGE, "BUY", 65)
        wait_for(sim.faults.held, timeout=5, interval=0.01, what="the held request")
        sim.reset()
        with pytest.raises(ConnectionError):
            answer.result(timeout=5)
    assert sim.order_log == [] and sim.faults.dropped() == 1


# --- a broker that acts late: the answer is lost, the order enters the book later ------------


def book(sim) -> list[tuple[str, str]]:
    return [(row["strategy"], row["order_status"]) for row in call(sim, "orderbook")[1]["data"]["orders"]]


def test_late_loses_the_answer_and_the_order_enters_the_book_after_the_delay():
    sim = flat_sim()
    sim.faults.inject("placeorder", "late", after=60)
    assert order(sim, HEDGE, "BUY", 50)[0] == 400  # refused at once: the fault waits for a valid order
    with pytest.raises(ConnectionError):
        order(sim, HEDGE, "BUY", 65, strategy="autohedge-1-CE")
    assert sim.order_log == [] and book(sim) == []
    sim.clock.advance(59)
    assert book(sim) == [] and call(sim, "tradebook")[1]["data"] == []
    sim.clock.advance(30)
    assert book(sim) == [("autohedge-1-CE", "complete")]
    [placed] = sim.order_log
    assert placed.time == moment(9, 16)
    assert [trade["timestamp"] for trade in call(sim, "tradebook")[1]["data"]] == ["09:16:00"]


def test_late_with_a_timeout_raises_a_timeout_with_no_answer_in_process():
    sim = flat_sim()
    sim.faults.inject("placeorder", "late", after=20, lost="timeout", seconds=45)
    with pytest.raises(SimulatedTimeout) as raised:
        order(sim, HEDGE, "BUY", 65)
    assert (raised.value.seconds, raised.value.answer) == (45, None)
    sim.clock.advance(20)
    assert book(sim) == [("test", "complete")]


def orders_over_http(url: str) -> list[dict]:
    return requests.post(f"{url}/api/v1/orderbook", json={"apikey": "demo"}, timeout=5).json()["data"]["orders"]


def test_late_over_http_drops_the_connection_and_the_order_shows_later(simbroker_server):
    url = simbroker_server.url
    requests.post(f"{url}/sim/faults", json={"endpoint": "placeorder", "kind": "late", "after": 20}, timeout=5)
    body = {"apikey": "demo", "strategy": "autohedge-1-CE", "exchange": "NFO", "symbol": HEDGE, "action": "BUY",
            "quantity": 65}
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/api/v1/placeorder", json=body, timeout=5)
    [late] = requests.get(f"{url}/sim/faults", timeout=5).json()["late"]
    assert late == {"due": "2026-11-24T09:15:20+05:30", "strategy": "autohedge-1-CE", "symbol": HEDGE,
                    "action": "BUY", "quantity": 65}
    assert orders_over_http(url) == []
    requests.post(f"{url}/sim/clock", json={"advance": 20}, timeout=5)
    assert [(row["strategy"], row["order_status"]) for row in orders_over_http(url)] == [("autohedge-1-CE", "complete")]
    assert requests.get(f"{url}/sim/faults", timeout=5).json()["late"] == []


def test_late_with_a_timeout_over_http_answers_nothing_and_closes(simbroker_server):
    url = simbroker_server.url
    simbroker_server.sim.faults.inject("placeorder", "late", after=20, lost="timeout", seconds=0.5)
    body = {"apikey": "demo", "strategy": "P", "exchange": "NFO", "symbol": HEDGE, "action": "BUY", "quantity": 65}
    with pytest.raises(requests.ReadTimeout):
        requests.post(f"{url}/api/v1/placeorder", json=body, timeout=(2, 0.2))
    simbroker_server.sim.faults.inject("placeorder", "late", after=20, lost="timeout", seconds=0.5)
    with pytest.raises(requests.ConnectionError):  # waited past `seconds`: closed unanswered
        requests.post(f"{url}/api/v1/placeorder", json=body, timeout=5)
    assert len(simbroker_server.sim.late_orders()) == 2


def test_late_refuses_a_negative_delay_and_unknown_ways_of_losing_the_answer():
    sim = flat_sim()
    with pytest.raises(ValueError, match="late needs"):
        sim.faults.inject("placeorder", "late", after=-1)
    with pytest.raises(ValueError, match="late needs"):
        sim.faults.inject("placeorder", "late", lost="eaten")
    with pytest.raises(ValueError, match="placeorder only"):
        sim.faults.inject("funds", "late")
