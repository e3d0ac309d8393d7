"""Endpoint handlers: a validated, authenticated request in, OpenAlgo's answer out.

Each handler runs under the broker's lock with the account brought up to `now`.
Numbers are shaped as OpenAlgo sends them (strings in funds, positionbook and margin,
floats elsewhere; numbers throughout in analyzer mode); money stays Decimal until this
last step.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Callable

from hedging.core.clock import IST

from .account import CANCELLED, COMPLETE, LIVE_STATUSES, OPEN, REJECTED, TRIGGER_PENDING, Order
from .faults import Fault, lost_answer
from .market import Option, Underlying, expiry_code, expiry_label, option_symbol, parse_expiry_code
from .pricing import TICK

SANDBOX_MARKET_OPEN, SANDBOX_SQUARE_OFF = time(9, 0), time(15, 15)

if TYPE_CHECKING:
    from .broker import SimBroker

Answer = tuple[int, dict]
Handler = Callable[["SimBroker", dict, datetime], Answer]

DEFAULT_REJECTION = "RMS: margin exceeds available funds (simulated rejection)"


def error(status: int, message: Any) -> Answer:
    return status, {"status": "error", "message": message}


def money(value: Decimal) -> str:
    return f"{value:.2f}"


# The sandbox (analyzer mode) writes numbers as numbers and times in full; the live path
# writes money and quantities as strings, as the brokers' plugins do.
def _amount(sim: SimBroker, value: Decimal) -> str | float:
    return float(value) if sim.analyze else money(value)


def _count(sim: SimBroker, quantity: int) -> str | int:
    return quantity if sim.analyze else str(quantity)


def _stamp(sim: SimBroker, moment: datetime, live_format: str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S" if sim.analyze else live_format)


# --- account -------------------------------------------------------------------------


def funds(sim: SimBroker, data: dict, now: datetime) -> Answer:
    used = sim.used_margin(now)
    realized = sum((p.realized for p in sim.account.positions.values()), Decimal(0))
    unrealized = sum(
        ((sim.market.option_quote(p.option, now).ltp - p.average_price) * p.quantity
         for p in sim.account.positions.values() if p.quantity),
        Decimal(0),
    )
    return 200, {"status": "success", "data": {
        "availablecash": _amount(sim, sim.account.cash - used),
        "collateral": _amount(sim, Decimal(0)),
        "m2mrealized": _amount(sim, realized),
        "m2munrealized": _amount(sim, unrealized),
        "utiliseddebits": _amount(sim, used),
    }}


def positionbook(sim: SimBroker, data: dict, now: datetime) -> Answer:
    rows = []
    for p in sim.account.positions.values():
        ltp = sim.market.option_quote(p.option, now).ltp
        rows.append({
            "symbol": p.symbol, "exchange": p.exchange, "product": p.product,
            "quantity": _count(sim, p.quantity), "average_price": _amount(sim, p.average_price),
            "ltp": _amount(sim, ltp), "pnl": _amount(sim, p.realized + (ltp - p.average_price) * p.quantity),
        })
    return 200, {"status": "success", "data": rows}


def order_entry(sim: SimBroker, order: Order) -> dict:
    return {
        "action": order.action, "symbol": order.symbol, "exchange": order.exchange, "orderid": order.orderid,
        "product": order.product, "quantity": _count(sim, order.quantity), "price": float(order.price),
        "pricetype": order.pricetype, "order_status": order.status, "trigger_price": float(order.trigger_price),
        "average_price": float(order.average_price), "filled_quantity": _count(sim, order.filled_quantity),
        "pending_quantity": _count(sim, order.pending_quantity), "rejection_reason": order.rejection_reason,
        "timestamp": _stamp(sim, order.placed_at, "%d-%b-%Y %H:%M:%S"), "strategy": order.strategy,
    }


def orderbook(sim: SimBroker, data: dict, now: datetime) -> Answer:
    orders = list(sim.account.orders.values())
    statistics = {
        "total_buy_orders": float(sum(o.action == "BUY" for o in orders)),
        "total_sell_orders": float(sum(o.action == "SELL" for o in orders)),
        "total_completed_orders": float(sum(o.status == COMPLETE for o in orders)),
        "total_open_orders": float(sum(o.status in LIVE_STATUSES for o in orders)),
        "total_rejected_orders": float(sum(o.status == REJECTED for o in orders)),
    }
    listed = reversed(orders) if sim.analyze else orders  # the sandbox lists the newest first
    return 200, {"status": "success", "data": {"orders": [order_entry(sim, o) for o in listed],
                                               "statistics": statistics}}


def tradebook(sim: SimBroker, data: dict, now: datetime) -> Answer:
    return 200, {"status": "success", "data": [
        {"action": t.action, "symbol": t.symbol, "exchange": t.exchange, "orderid": t.orderid,
         "product": t.product, "quantity": float(t.quantity), "average_price": float(t.price),
         "timestamp": _stamp(sim, t.time, "%H:%M:%S"), "trade_value": float(t.price * t.quantity)}
        for t in sim.account.trades
    ]}


def margin(sim: SimBroker, data: dict, now: datetime) -> Answer:
    """Counts the open positions, like Zerodha: total/span/exposure are for the open
    positions plus the basket, as strings (no margin_benefit: the client compares)."""
    if not sim.margin_api:
        return error(501, "Simbroker does not support margin calculator API")
    basket: dict[Option, int] = defaultdict(int)
    for number, position in enumerate(data["positions"], 1):
        problem, option, signed = _margin_leg(sim, position, number, now)
        if problem or option is None:
            return error(400, problem)
        basket[option] += signed
    combined = sim.option_positions()
    for option, quantity in basket.items():
        combined[option] = combined.get(option, 0) + quantity
    try:
        total = sim.margin_of(combined, now)
    except KeyError as missing:
        return error(500, f"Failed to calculate margin: {missing.args[0]}")
    return 200, {"status": "success", "data": {
        "total_margin_required": money(total.total), "span_margin": money(total.span),
        "exposure_margin": money(total.exposure),
    }}


def _margin_leg(sim: SimBroker, position: dict, number: int, now: datetime) -> tuple[str | None, Option | None, int]:
    """(problem, option, signed quantity) of one position of a margin request."""
    try:
        quantity = int(position["quantity"])
    except ValueError:
        return f"Position {number}: Invalid quantity format", None, 0
    if quantity <= 0:
        return f"Position {number}: Quantity must be a positive number", None, 0
    try:
        price = Decimal(position["price"])
    except InvalidOperation:
        price = Decimal("NaN")
    if not price.is_finite():
        return f"Position {number}: Invalid price format", None, 0
    if price < 0:
        return f"Position {number}: Price cannot be negative", None, 0
    option = sim.market.option(position["symbol"], position["exchange"], now)
    if option is None:
        return f"Position {number}: Symbol {position['symbol']} not found on {position['exchange']}", None, 0
    return None, option, quantity if position["action"].upper() == "BUY" else -quantity


# --- orders --------------------------------------------------------------------------


def placeorder(sim: SimBroker, data: dict, now: datetime) -> Answer:
    problem = _fractional(data) or _price_problem(data)
    if problem:
        return problem
    option = sim.market.option(data["symbol"], data["exchange"], now)
    if option is None:
        return error(400, f"Symbol {data['symbol']} not found on {data['exchange']}")
    quantity = int(data["quantity"])
    problem = _lot_problem(sim, option, quantity) or (
        _square_off_problem(sim, option, data, now) if sim.analyze else _freeze_problem(sim, option, quantity))
    if problem:
        return problem
    fault = sim.take_order_fault()
    if fault and fault.kind == "semi_auto":
        return 200, {"status": "success", "message": "Order queued for approval in Action Center",
                     "mode": "semi_auto", "pending_order_id": sim.next_pending_id()}
    if fault and fault.kind == "late":
        sim.place_late(option, data, now + timedelta(seconds=float(fault.params.get("after", 20))))
        raise lost_answer("placeorder", fault.params)
    order = enter_order(sim, option, data, now, fault)
    return 200, {"status": "success", "orderid": order.orderid}


def enter_order(sim: SimBroker, option: Option, data: dict, now: datetime, fault: Fault | None = None) -> Order:
    """A valid placeorder's order, in the book at `now`, filled as far as it can be (or
    as its order fault says)."""
    quantity = int(data["quantity"])
    order = sim.create_order(
        option, strategy=data["strategy"], action=data["action"].upper(), quantity=quantity,
        pricetype=data["pricetype"], product=data["product"], price=_decimal(data["price"]),
        trigger_price=_decimal(data["trigger_price"]), moment=now,
    )
    if fault and fault.kind == "reject":
        order.status, order.rejection_reason = REJECTED, fault.params.get("reason", DEFAULT_REJECTION)
    elif fault:
        order.held = True
        if fault.kind == "partial_fill":
            lot_size = sim.market.lot_size(option)
            part = int(quantity * float(fault.params.get("fraction", 0.5))) // lot_size * lot_size
            sim.try_fill(order, now, part)
    else:
        sim.try_fill(order, now)
    return order


def modifyorder(sim: SimBroker, data: dict, now: datetime) -> Answer:
    problem = _fractional(data)
    if problem:
        return problem
    order = sim.account.orders.get(data["orderid"])
    if order is None:
        return error(404, f"Order {data['orderid']} not found")
    if order.status not in LIVE_STATUSES:
        return error(400, f"Cannot modify order in {order.status} status")
    quantity = int(data["quantity"])
    problem = _lot_problem(sim, order.option, quantity) or (
        None if sim.analyze else _freeze_problem(sim, order.option, quantity)) or _price_problem(data)
    if problem:
        return problem
    if quantity <= order.filled_quantity:
        return error(400, f"Quantity must exceed the filled quantity {order.filled_quantity}")
    order.quantity, order.pricetype = quantity, data["pricetype"]
    order.price, order.trigger_price = _decimal(data["price"]), _decimal(data["trigger_price"])
    order.status = TRIGGER_PENDING if order.pricetype in ("SL", "SL-M") else OPEN
    order.held = False
    sim.try_fill(order, now)
    return 200, {"status": "success", "orderid": order.orderid, "message": "Order modified successfully"}


def cancelorder(sim: SimBroker, data: dict, now: datetime) -> Answer:
    order = sim.account.orders.get(data["orderid"])
    if order is None:
        return error(404, f"Order {data['orderid']} not found")
    if order.status not in LIVE_STATUSES:
        return error(400, f"Cannot cancel order in {order.status} status")
    order.status = CANCELLED
    return 200, {"status": "success", "orderid": order.orderid, "message": "Order cancelled successfully"}


def orderstatus(sim: SimBroker, data: dict, now: datetime) -> Answer:
    order = sim.account.orders.get(data["orderid"])
    if order is None:
        return error(404, f"Order {data['orderid']} not found")
    entry = order_entry(sim, order)
    if sim.analyze:  # the sandbox's spelling
        entry["price_type"] = entry.pop("pricetype")
    return 200, {"status": "success", "data": entry}


def _fractional(data: dict) -> Answer | None:
    if data["quantity"] != int(data["quantity"]):
        message = {"quantity": [f"Fractional quantity ({data['quantity']}) is not allowed for non-crypto exchanges."]}
        return error(400, str(message))
    return None


def _price_problem(data: dict) -> Answer | None:
    if data["pricetype"] in ("LIMIT", "SL") and data["price"] <= 0:
        return error(400, f"{data['pricetype']} orders require price")
    if data["pricetype"] in ("SL", "SL-M") and data["trigger_price"] <= 0:
        return error(400, f"{data['pricetype']} orders require trigger_price")
    return None


def _lot_problem(sim: SimBroker, option: Option, quantity: int) -> Answer | None:
    lot_size = sim.market.lot_size(option)
    return error(400, f"Quantity must be in multiples of lot size {lot_size}") if quantity % lot_size else None


def _freeze_problem(sim: SimBroker, option: Option, quantity: int) -> Answer | None:
    """The exchange's per-order limit, refused before the order reaches the book (in
    Zerodha's words; OpenAlgo passes the broker's 400 on and does not slice)."""
    underlying = sim.market.underlyings[option.underlying]
    if quantity <= underlying.freeze_qty:
        return None
    lot = underlying.lot_size
    most = underlying.freeze_qty // lot * lot
    return error(400, f"The order quantity {quantity} ({quantity // lot} lots) is higher than the maximum quantity "
                      f"of {most} ({most // lot} lots) allowed by the exchanges. Please reduce the order quantity "
                      "or use iceberg orders.")


def _square_off_problem(sim: SimBroker, option: Option, data: dict, now: datetime) -> Answer | None:
    """The sandbox refuses MIS orders from its square-off time to 09:00, unless they
    reduce an open MIS position (it checks no freeze quantity)."""
    moment = now.astimezone(IST).time()
    if data["product"] != "MIS" or SANDBOX_MARKET_OPEN <= moment < SANDBOX_SQUARE_OFF:
        return None
    position = sim.account.positions.get((option.symbol, data["exchange"], "MIS"))
    if position and position.quantity * (1 if data["action"].upper() == "BUY" else -1) < 0:
        return None
    return error(400, f"MIS orders cannot be placed after square-off time ({SANDBOX_SQUARE_OFF:%H:%M} IST). "
                      "Trading resumes at 09:00 AM IST.")


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"))


# --- market data -----------------------------------------------------------------------


def quotes(sim: SimBroker, data: dict, now: datetime) -> Answer:
    found = sim.market.quote_data(data["symbol"], data["exchange"], now)
    if found is None:
        return error(400, _unknown_symbol(data))
    return 200, {"status": "success", "data": found}


def multiquotes(sim: SimBroker, data: dict, now: datetime) -> Answer:
    """As OpenAlgo does: symbols missing from the master contract are refused first and
    listed first, then the others are quoted in order; if none is left, a 400."""
    quoted = [(entry, sim.market.quote_data(entry["symbol"], entry["exchange"], now)) for entry in data["symbols"]]
    refused = [{"symbol": e["symbol"], "exchange": e["exchange"], "error": _unknown_symbol(e)}
               for e, found in quoted if found is None]
    results = [{"symbol": e["symbol"], "exchange": e["exchange"], "data": found}
               for e, found in quoted if found is not None]
    if not results:
        return 400, {"status": "error", "message": refused[0]["error"], "invalid_symbols": refused}
    return 200, {"status": "success", "results": refused + results}


def _unknown_symbol(entry: dict) -> str:
    return (f"Symbol '{entry['symbol']}' not found for exchange '{entry['exchange']}'. "
            "Please verify the symbol name and ensure master contracts are downloaded.")


def optionchain(sim: SimBroker, data: dict, now: datetime) -> Answer:
    underlying = sim.market.underlying(data["underlying"], data["exchange"])
    expiry = parse_expiry_code(data["expiry_date"])
    if underlying is None or expiry not in underlying.expiries:
        return error(404, f"No strikes found for {data['underlying']} expiring {data['expiry_date']}. "
                          "Please check expiry date or update master contract.")
    strikes = underlying.strikes(now)
    atm = underlying.atm_strike(now)
    middle = strikes.index(atm)
    count = data.get("strike_count")
    chosen = strikes if count is None else strikes[max(middle - count, 0): middle + count + 1]
    chain = []
    for strike in chosen:
        position = strikes.index(strike) - middle
        chain.append({
            "strike": float(strike),
            "ce": _chain_leg(sim, underlying, Option(underlying.name, expiry, strike, "CE"), _label(position), now),
            "pe": _chain_leg(sim, underlying, Option(underlying.name, expiry, strike, "PE"), _label(-position), now),
        })
    spot = underlying.spot_at(now)
    index_quote = sim.market.quote_data(underlying.name, underlying.spot_exchange, now)
    if index_quote is None:  # the market lists each underlying's index: never so
        return error(404, f"No quote for {underlying.name} on {underlying.spot_exchange}.")
    return 200, {
        "status": "success", "underlying": underlying.name, "underlying_ltp": float(spot),
        "underlying_prev_close": index_quote["prev_close"],
        "expiry_date": expiry_code(expiry), "atm_strike": float(atm), "chain": chain,
    }


def _label(steps_out_of_the_money: int) -> str:
    if steps_out_of_the_money == 0:
        return "ATM"
    return f"OTM{steps_out_of_the_money}" if steps_out_of_the_money > 0 else f"ITM{-steps_out_of_the_money}"


def _chain_leg(sim: SimBroker, underlying: Underlying, option: Option, label: str, now: datetime) -> dict:
    quote = sim.market.quote_data(option.symbol, underlying.option_exchange, now)
    assert quote is not None
    depth = underlying.lot_size * 10
    return {
        "symbol": option.symbol, "label": label, **quote,
        "bid_qty": depth if quote["bid"] else 0, "ask_qty": depth,
        "lotsize": underlying.lot_size, "tick_size": float(TICK),
    }


def optionsymbol(sim: SimBroker, data: dict, now: datetime) -> Answer:
    underlying = sim.market.underlying(data["underlying"], data["exchange"])
    if not data.get("expiry_date"):
        return error(400, "Expiry date is required.")
    expiry = parse_expiry_code(data["expiry_date"])
    option_type = data["option_type"].upper()
    offset = data["offset"].upper()
    steps = 0 if offset == "ATM" else int(offset[3:]) * (1 if offset.startswith("OTM") else -1)
    if underlying is None or expiry is None:
        return error(404, f"No strikes found for {data['underlying']} expiring {data['expiry_date']}")
    step = Decimal(data["strike_int"]) if data.get("strike_int") else underlying.strike_step
    spot = underlying.spot_at(now)
    atm = (spot / step).quantize(Decimal(1)) * step if data.get("strike_int") else underlying.atm_strike(now)
    strike = atm + step * steps * (1 if option_type == "CE" else -1)
    option = Option(underlying.name, expiry, strike, option_type)
    if not underlying.lists(option, now):
        symbol = option_symbol(underlying.name, expiry, strike, option_type)
        return error(404, f"Option symbol {symbol} not found in {underlying.option_exchange}")
    return 200, {
        "status": "success", "symbol": option.symbol, "exchange": underlying.option_exchange,
        "lotsize": underlying.lot_size, "tick_size": float(TICK), "freeze_qty": underlying.freeze_qty,
        "underlying_ltp": float(spot),
    }


def expiry(sim: SimBroker, data: dict, now: datetime) -> Answer:
    underlying = sim.market.underlyings.get(data["symbol"].upper())
    kind = data["instrumenttype"]
    dates = [] if underlying is None or underlying.option_exchange != data["exchange"] or kind != "options" else [
        e for e in underlying.expiries if e >= now.date()
    ]
    if not dates:
        return error(404, f"No expiry dates found for {data['symbol']} {kind} in {data['exchange']}")
    message = f"Found {len(dates)} expiry dates for {data['symbol']} {kind} in {data['exchange']}"
    return 200, {"status": "success", "message": message, "data": [expiry_label(e) for e in dates]}


def ping(sim: SimBroker, data: dict, now: datetime) -> Answer:
    return 200, {"status": "success", "data": {"message": "pong", "broker": "simulated"}}


def analyzer(sim: SimBroker, data: dict, now: datetime) -> Answer:
    return 200, {"status": "success", "data": _analyzer_state(sim)}


def analyzer_toggle(sim: SimBroker, data: dict, now: datetime) -> Answer:
    sim.analyze = data["mode"]
    mode = "analyze" if sim.analyze else "live"
    return 200, {"status": "success", "data": {**_analyzer_state(sim), "message": f"Analyzer mode switched to {mode}"}}


def _analyzer_state(sim: SimBroker) -> dict:
    return {"mode": "analyze" if sim.analyze else "live", "analyze_mode": sim.analyze, "total_logs": sim.analyzer_logs}


HANDLERS: dict[str, Handler] = {
    "funds": funds, "positionbook": positionbook, "orderbook": orderbook, "tradebook": tradebook,
    "margin": margin, "placeorder": placeorder, "modifyorder": modifyorder, "cancelorder": cancelorder,
    "orderstatus": orderstatus, "quotes": quotes, "multiquotes": multiquotes, "optionchain": optionchain,
    "optionsymbol": optionsymbol, "expiry": expiry, "ping": ping,
    "analyzer": analyzer, "analyzer/toggle": analyzer_toggle,
}
# Answered by the sandbox in analyzer mode, each answer then marked "mode": "analyze".
SANDBOXED = {"funds", "positionbook", "orderbook", "tradebook", "placeorder", "modifyorder", "cancelorder",
             "orderstatus"}

# The 500 each endpoint answers for a request it could not even read, and for a broker failure.
UNEXPECTED = {name: "An unexpected error occurred" for name in HANDLERS} | {
    "placeorder": "An unexpected error occurred in the API endpoint",
    "margin": "An unexpected error occurred in the API endpoint",
}
FAILURE = {name: "Failed to reach the broker" for name in HANDLERS} | {
    "placeorder": "Failed to place order due to internal error",
    "margin": "Failed to calculate margin: [Errno 111] Connection refused",
}
