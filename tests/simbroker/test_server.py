"""The HTTP face's control endpoints, for tests that drive the broker from another process."""

import pytest
import requests

from brokers.simbroker import SimServer

CE = "NIFTY24NOV2624000CE"


def place(server, strategy="P1"):
    body = {"apikey": server.api_key, "strategy": strategy, "exchange": "NFO", "symbol": CE, "action": "SELL",
            "quantity": 65}
    return requests.post(f"{server.url}/api/v1/placeorder", json=body, timeout=5).json()


def control(server, path, body=None):
    if body is None:
        return requests.get(f"{server.url}/sim/{path}", timeout=5)
    return requests.post(f"{server.url}/sim/{path}", json=body, timeout=5)


def test_orders_lists_the_order_log(simbroker_server):
    orderid = place(simbroker_server)["orderid"]
    [logged] = control(simbroker_server, "orders").json()["orders"]
    assert logged == {"time": "2026-11-24T09:15:00+05:30", "orderid": orderid, "strategy": "P1", "symbol": CE,
                      "exchange": "NFO", "action": "SELL", "quantity": 65, "pricetype": "MARKET", "price": "0.00"}


def test_faults_are_injected_listed_and_cleared(simbroker_server):
    answer = control(simbroker_server, "faults", {"endpoint": "placeorder", "kind": "reject", "count": 2, "reason": "RMS"})
    assert answer.json()["faults"] == [{"endpoint": "placeorder", "kind": "reject", "count": 2, "params": {"reason": "RMS"}}]
    assert control(simbroker_server, "faults", {"endpoint": "funds", "kind": "nonsense"}).status_code == 400
    assert control(simbroker_server, "faults", {"clear": True}).json() == {"faults": []}
    place(simbroker_server)
    assert control(simbroker_server, "state").json()["open_orders"] == []


def test_clock_moves_a_stepped_clock(simbroker_server):
    assert control(simbroker_server, "clock", {"advance": 600}).json() == {"now": "2026-11-24T09:25:00+05:30"}
    eleven = "2026-11-24T11:00:00+05:30"
    assert control(simbroker_server, "clock", {"set": eleven}).json() == {"now": eleven}
    assert simbroker_server.sim.clock.now().hour == 11
    assert control(simbroker_server, "clock", {"set": "2026-11-24T11:00:00"}).status_code == 400


def test_state_shows_positions_margin_and_time_and_reset_clears_them(simbroker_server):
    place(simbroker_server)
    state = control(simbroker_server, "state").json()
    assert state["now"] == "2026-11-24T09:15:00+05:30"
    assert [(p["symbol"], p["quantity"]) for p in state["positions"]] == [(CE, -65)]
    assert float(state["used_margin"]) > 0
    assert control(simbroker_server, "reset", {}).json() == {"status": "reset"}
    state = control(simbroker_server, "state").json()
    assert state["positions"] == [] and state["used_margin"] == "0.00"
    assert control(simbroker_server, "orders").json() == {"orders": []}


def test_unknown_control_paths_are_404(simbroker_server):
    assert control(simbroker_server, "nothing").status_code == 404


def test_the_server_binds_loopback_only(simbroker):
    with pytest.raises(ValueError, match="loopback only"):
        SimServer(simbroker, "0.0.0.0", 0)
