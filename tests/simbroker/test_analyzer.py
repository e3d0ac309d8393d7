"""Analyzer (sandbox) mode: OpenAlgo's sandbox answers the account and order calls."""

from decimal import Decimal

from .helpers import call, flat_sim, moment, order

CE, PE = "NIFTY24NOV2624000CE", "NIFTY24NOV2624000PE"


def sandbox():
    return flat_sim(analyze=True)


def test_funds_carry_mode_analyze_and_numbers_as_numbers():
    status, answer = call(sandbox(), "funds")
    assert status == 200 and answer["mode"] == "analyze"
    assert answer["data"] == {"availablecash": 5000000.0, "collateral": 0.0, "m2mrealized": 0.0,
                              "m2munrealized": 0.0, "utiliseddebits": 0.0}
    assert "mode" not in call(flat_sim(), "funds")[1]


def test_a_short_straddle_blocks_only_its_premium_in_the_sandbox():
    live, sim = flat_sim(), sandbox()
    for broker in (live, sim):
        order(broker, CE, "SELL", 65)
        order(broker, PE, "SELL", 65)
    premium = sum(Decimal(str(row["average_price"])) * 65 for row in call(sim, "positionbook")[1]["data"])
    assert Decimal(str(call(sim, "funds")[1]["data"]["utiliseddebits"])) == premium < 30000
    assert Decimal(call(live, "funds")[1]["data"]["utiliseddebits"]) > 400000  # SPAN and exposure


def test_order_answers_are_marked_and_the_sandbox_spells_price_type():
    sim = sandbox()
    status, placed = order(sim, CE, "SELL", 65)
    assert placed == {"status": "success", "orderid": placed["orderid"], "mode": "analyze"}
    status, answer = call(sim, "orderstatus", strategy="test", orderid=placed["orderid"])
    assert answer["mode"] == "analyze" and answer["data"]["price_type"] == "MARKET"
    assert "pricetype" not in answer["data"]
    assert answer["data"]["quantity"] == 65 and answer["data"]["timestamp"] == "2026-11-24 09:15:00"
    assert call(sim, "cancelorder", strategy="test", orderid=placed["orderid"]) == (400, {
        "status": "error", "message": "Cannot cancel order in complete status", "mode": "analyze"})
    assert call(sim, "positionbook")[1]["data"][0]["quantity"] == -65
    assert call(sim, "tradebook")[1]["mode"] == "analyze"


def test_validation_and_key_errors_are_not_marked():
    sim = sandbox()
    assert "mode" not in order(sim, CE, "SELL", 0)[1]
    assert sim.handle("funds", {"apikey": "wrong"}) == (403, {"status": "error", "message": "Invalid openalgo apikey"})


def test_the_sandbox_order_book_lists_the_newest_order_first():
    sim = sandbox()
    first = order(sim, CE, "SELL", 65)[1]["orderid"]
    second = order(sim, PE, "SELL", 65)[1]["orderid"]
    assert [row["orderid"] for row in call(sim, "orderbook")[1]["data"]["orders"]] == [second, first]


def test_the_sandbox_checks_no_freeze_quantity():
    assert order(sandbox(), "NIFTY24NOV2624500CE", "BUY", 1820)[0] == 200
    assert order(flat_sim(), "NIFTY24NOV2624500CE", "BUY", 1820)[0] == 400


def test_mis_orders_are_refused_after_the_sandbox_square_off_unless_they_reduce_a_position():
    sim = sandbox()
    order(sim, CE, "SELL", 65)
    sim.clock.set(moment(15, 15))
    refused = "MIS orders cannot be placed after square-off time (15:15 IST). Trading resumes at 09:00 AM IST."
    assert order(sim, PE, "SELL", 65) == (400, {"status": "error", "message": refused, "mode": "analyze"})
    assert order(sim, PE, "SELL", 65, product="NRML")[0] == 200
    assert order(sim, CE, "BUY", 65)[0] == 200  # closes the short
    assert order(sim, CE, "BUY", 65)[0] == 400  # would open a long


def test_the_analyzer_calls_report_and_toggle_the_mode():
    sim = flat_sim()
    assert call(sim, "analyzer") == (200, {"status": "success", "data": {
        "mode": "live", "analyze_mode": False, "total_logs": 0}})
    status, answer = call(sim, "analyzer/toggle", mode=True)
    assert status == 200 and answer["data"]["message"] == "Analyzer mode switched to analyze"
    assert sim.analyze and call(sim, "funds")[1]["mode"] == "analyze"
    assert call(sim, "analyzer")[1]["data"] == {"mode": "analyze", "analyze_mode": True, "total_logs": 2}
    assert call(sim, "analyzer/toggle", mode="maybe") == (400, {
        "status": "error", "message": "{'mode': ['Not a valid boolean.']}"})
    call(sim, "analyzer/toggle", mode="false")
    assert "mode" not in call(sim, "funds")[1]
