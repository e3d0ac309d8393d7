"""Fills, cash and the order book, in-process on a market whose spot does not move
(so option prices only decay as the stepped clock advances)."""

from decimal import Decimal

from brokers.simbroker import option_price

from .helpers import DAY, call, flat_sim, moment, order, status_of

HEDGE = "NIFTY24NOV2624500CE"


def price_at(sim, strike: int, side: str = "CE") -> Decimal:
    return option_price(Decimal(24000), strike, side, sim.clock.now(), DAY, Decimal("0.12"), Decimal("0.04"))


def test_market_orders_buy_at_the_ask_and_sell_at_the_bid_and_move_cash():
    sim = flat_sim()
    price = price_at(sim, 24500)
    bought = status_of(sim, order(sim, HEDGE, "BUY", 130)[1]["orderid"])
    sold = status_of(sim, order(sim, HEDGE, "SELL", 65)[1]["orderid"])
    assert Decimal(str(bought["average_price"])) == price + Decimal("0.05")
    assert Decimal(str(sold["average_price"])) == price - Decimal("0.05")
    assert sim.account.cash == Decimal(5000000) - 130 * (price + Decimal("0.05")) + 65 * (price - Decimal("0.05"))


def test_a_limit_buy_at_the_ask_fills_at_the_ask():
    sim = flat_sim()
    ask = price_at(sim, 24500) + Decimal("0.05")
    filled = status_of(sim, order(sim, HEDGE, "BUY", 65, pricetype="LIMIT", price=float(ask + 1))[1]["orderid"])
    assert filled["order_status"] == "complete" and Decimal(str(filled["average_price"])) == ask


def test_a_limit_buy_below_the_ask_stays_open_until_the_ask_comes_down_to_it():
    sim = flat_sim()
    sim.clock.set(moment(9, 40))
    ask = price_at(sim, 24500) + Decimal("0.05")
    orderid = order(sim, HEDGE, "BUY", 65, pricetype="LIMIT", price=float(ask - Decimal("0.05")))[1]["orderid"]
    assert status_of(sim, orderid)["order_status"] == "open"
    assert status_of(sim, orderid)["pending_quantity"] == "65"
    sim.clock.set(moment(14, 0))
    later_ask = price_at(sim, 24500) + Decimal("0.05")
    filled = status_of(sim, orderid)
    assert later_ask < ask
    assert filled["order_status"] == "complete" and Decimal(str(filled["average_price"])) == later_ask


def test_a_limit_sell_above_the_bid_stays_open_and_at_the_bid_fills():
    sim = flat_sim()
    bid = price_at(sim, 24500) - Decimal("0.05")
    waiting = order(sim, HEDGE, "SELL", 65, pricetype="LIMIT", price=float(bid + Decimal("0.05")))[1]["orderid"]
    filled = order(sim, HEDGE, "SELL", 65, pricetype="LIMIT", price=float(bid))[1]["orderid"]
    assert status_of(sim, waiting)["order_status"] == "open"
    assert status_of(sim, filled)["order_status"] == "complete"


def test_a_market_sell_of_a_one_tick_option_waits_for_a_bid():
    sim = flat_sim()
    sim.clock.set(moment(13, 0))
    assert price_at(sim, 25000) == Decimal("0.05")
    orderid = order(sim, "NIFTY24NOV2625000CE", "SELL", 65)[1]["orderid"]
    assert status_of(sim, orderid)["order_status"] == "open"


def test_modifying_an_open_order_to_a_marketable_price_fills_it():
    sim = flat_sim()
    orderid = order(sim, HEDGE, "BUY", 65, pricetype="LIMIT", price=0.5)[1]["orderid"]
    answer = call(sim, "modifyorder", strategy="test", orderid=orderid, exchange="NFO", symbol=HEDGE, action="BUY",
                  product="MIS", pricetype="LIMIT", price=50, quantity="130", trigger_price=0, disclosed_quantity=0)
    assert answer[0] == 200
    assert status_of(sim, orderid)["order_status"] == "complete"
    assert status_of(sim, orderid)["filled_quantity"] == "130"


def test_a_complete_order_cannot_be_modified():
    sim = flat_sim()
    orderid = order(sim, HEDGE, "BUY", 65)[1]["orderid"]
    answer = call(sim, "modifyorder", strategy="test", orderid=orderid, exchange="NFO", symbol=HEDGE, action="BUY",
                  product="MIS", pricetype="LIMIT", price=50, quantity=65, trigger_price=0, disclosed_quantity=0)
    assert answer == (400, {"status": "error", "message": "Cannot modify order in complete status"})


def test_a_stop_loss_sell_triggers_when_the_price_falls_to_it():
    sim = flat_sim()
    order(sim, HEDGE, "BUY", 65)
    trigger = price_at(sim, 24500) - Decimal(2)
    orderid = order(sim, HEDGE, "SELL", 65, pricetype="SL-M", trigger_price=float(trigger))[1]["orderid"]
    assert status_of(sim, orderid)["order_status"] == "trigger pending"
    sim.clock.set(moment(11, 0))
    assert price_at(sim, 24500) < trigger
    assert status_of(sim, orderid)["order_status"] == "complete"


def test_fractional_quantities_and_unknown_symbols_are_refused():
    sim = flat_sim()
    fractional = "{'quantity': ['Fractional quantity (65.5) is not allowed for non-crypto exchanges.']}"
    assert order(sim, HEDGE, "BUY", 65.5) == (400, {"status": "error", "message": fractional})
    unlisted = "Symbol NIFTY24NOV2624510CE not found on NFO"
    assert order(sim, "NIFTY24NOV2624510CE", "BUY", 65) == (400, {"status": "error", "message": unlisted})


def test_orders_keep_their_strategy_tag_and_the_order_log_keeps_every_accepted_order_in_order():
    sim = flat_sim()
    first = order(sim, HEDGE, "BUY", 65, strategy="autohedge-7-CE", pricetype="LIMIT", price=0.1)[1]["orderid"]
    order(sim, HEDGE, "BUY", 50)  # refused: not a lot multiple
    second = order(sim, "NIFTY24NOV2623500PE", "BUY", 65, strategy="autohedge-7-PE")[1]["orderid"]
    book = call(sim, "orderbook")[1]["data"]["orders"]
    assert [(row["orderid"], row["strategy"]) for row in book] == [(first, "autohedge-7-CE"), (second, "autohedge-7-PE")]
    assert [(entry.orderid, entry.strategy, entry.symbol, entry.action, entry.quantity, entry.pricetype, entry.price)
            for entry in sim.order_log] == [
        (first, "autohedge-7-CE", HEDGE, "BUY", 65, "LIMIT", Decimal("0.10")),
        (second, "autohedge-7-PE", "NIFTY24NOV2623500PE", "BUY", 65, "MARKET", Decimal("0.00")),
    ]


def test_closing_a_position_books_realized_pnl():
    sim = flat_sim()
    order(sim, HEDGE, "SELL", 65)
    sold_at = price_at(sim, 24500) - Decimal("0.05")
    sim.clock.set(moment(15, 0))
    order(sim, HEDGE, "BUY", 65)
    bought_at = price_at(sim, 24500) + Decimal("0.05")
    funds = call(sim, "funds")[1]["data"]
    assert Decimal(funds["m2mrealized"]) == (sold_at - bought_at) * 65
    assert call(sim, "positionbook")[1]["data"][0]["quantity"] == "0"


def test_an_order_above_the_freeze_quantity_is_refused_and_never_reaches_the_book():
    sim = flat_sim()
    refused = ("The order quantity 1820 (28 lots) is higher than the maximum quantity of 1755 (27 lots) allowed by "
               "the exchanges. Please reduce the order quantity or use iceberg orders.")
    assert order(sim, HEDGE, "BUY", 1820) == (400, {"status": "error", "message": refused})
    assert order(sim, "SENSEX24NOV2682000CE", "BUY", 1020)[1]["message"].startswith(
        "The order quantity 1020 (51 lots) is higher than the maximum quantity of 1000 (50 lots)")
    assert sim.order_log == [] and call(sim, "orderbook")[1]["data"]["orders"] == []
    assert order(sim, HEDGE, "BUY", 1755)[0] == 200
    assert order(sim, "SENSEX24NOV2682000CE", "BUY", 1000)[0] == 200


def test_an_order_cannot_be_modified_above_the_freeze_quantity():
    sim = flat_sim()
    orderid = order(sim, HEDGE, "BUY", 65, pricetype="LIMIT", price=0.1)[1]["orderid"]
    status, answer = call(sim, "modifyorder", strategy="test", orderid=orderid, exchange="NFO", symbol=HEDGE,
                          action="BUY", product="MIS", pricetype="LIMIT", price=0.1, quantity=1820, trigger_price=0,
                          disclosed_quantity=0)
    assert status == 400 and "maximum quantity of 1755 (27 lots)" in answer["message"]
    assert status_of(sim, orderid)["quantity"] == "65"
