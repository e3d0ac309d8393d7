"""SimBroker: the simulated OpenAlgo account behind one request path, `handle`."""

from __future__ import annotations

import json
import random
import threading
import time as _time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from functools import partial
from typing import Any, Callable

from hedging.core.clock import IST, Clock, at

from . import api
from .account import OPEN, TRIGGER_PENDING, Account, Order
from .faults import ORDER_KINDS, WRAPPER_KINDS, Fault, Faults, RequestDropped, SimulatedTimeout
from .latency import Latency, as_latency
from .margin import MarginBreakdown, MarginModel, SpanLikeMargin
from .market import Market, Option, StepFunction
from .ratelimit import RateLimiter, limit_answer
from .schema import SCHEMAS, validation_answer

DEFAULT_CASH = Decimal("5000000")
NOT_FOUND = (
    "The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again."
)
Answer = tuple[int, dict | str]


@dataclass(frozen=True)
class LoggedOrder:
    """An order the broker accepted (it has an orderid), as placed."""

    time: datetime
    orderid: str
    strategy: str
    symbol: str
    exchange: str
    action: str
    quantity: int
    pricetype: str
    price: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(), "orderid": self.orderid, "strategy": self.strategy,
            "symbol": self.symbol, "exchange": self.exchange, "action": self.action,
            "quantity": self.quantity, "pricetype": self.pricetype, "price": str(self.price),
        }


@dataclass(frozen=True)
class LateOrder:
    """A placement whose answer a `late` fault lost: it enters the book at `due`."""

    due: datetime
    option: Option
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due.isoformat(), "strategy": self.data["strategy"], "symbol": self.data["symbol"],
                "action": self.data["action"].upper(), "quantity": int(self.data["quantity"])}


PENDING, ENTERED, CLOSED = "pending", "open", "closed"


@dataclass
class Strategy:
    """A scripted short straddle: sells ATM CE + PE at entry, buys them back at exit
    (or at its stop-out, if earlier)."""

    name: str
    underlying: str
    entry: datetime
    exit: datetime
    quantity: int
    product: str
    stop_at: datetime | None = None
    state: str = PENDING
    legs: list[Option] = field(default_factory=list)

    def next_event(self) -> tuple[datetime, str] | None:
        if self.state == PENDING:
            if self.stop_at is not None and self.stop_at <= self.entry:
                return self.stop_at, "cancel"
            return self.entry, "enter"
        if self.state == ENTERED:
            return min(self.exit, self.stop_at or self.exit), "close"
        return None


class SimBroker:
    """One simulated OpenAlgo account on a market, all its time from `clock`.

    Used margin (funds.utiliseddebits) = other_margin(now) + the margin model's total
    for the open option positions; cash moves with premiums; availablecash = cash −
    used margin. Scripted strategies trade through the same order book as API orders.
    """

    def __init__(
        self,
        clock: Clock,
        market: Market,
        *,
        api_key: str = "demo",
        margin: MarginModel | None = None,
        cash: Decimal = DEFAULT_CASH,
        other_margin: StepFunction | None = None,
        rate_limits: bool = True,
        latency: Latency | str | None = None,
        margin_api: bool = True,
        analyze: bool = False,
        sleep: Callable[[float], None] = _time.sleep,
        monotonic: Callable[[], float] = _time.monotonic,
    ):
        self.clock = clock
        self.market = market
        self.api_key = api_key
        self.margin_model: MarginModel = margin or SpanLikeMargin()
        self.other_margin = other_margin
        self.rate_limits = rate_limits
        self.latency = as_latency(latency)
        self.margin_api = margin_api  # False: `margin` answers 501, as some broker plugins do
        self.analyze = analyze  # OpenAlgo's analyzer mode: the sandbox answers the account and order calls
        self.analyzer_logs = 0  # requests answered in analyzer mode, as the analyzer's log counts them
        self._rng = random.Random()
        self.faults = Faults()
        self.limiter = RateLimiter(monotonic)
        self.strategies: dict[str, Strategy] = {}
        self._sleep = sleep
        self._cash = Decimal(cash)
        self._lock = threading.RLock()
        self._start_fresh()

    def _start_fresh(self) -> None:
        self.account = Account(self._cash)
        self._log: list[LoggedOrder] = []
        self._next_order = 1
        self._next_pending = 1
        self._late: list[LateOrder] = []

    # --- scripted activity -------------------------------------------------------

    def add_strategy(self, name: str, underlying: str, entry: time | datetime, exit: time | datetime,
                     quantity_per_leg: int, product: str = "NRML") -> Strategy:
        with self._lock:
            if name in self.strategies:
                raise ValueError(f"strategy {name} already exists")
            lot_size = self.market.underlyings[underlying].lot_size
            if quantity_per_leg <= 0 or quantity_per_leg % lot_size:
                raise ValueError(f"quantity_per_leg must be a positive multiple of the lot size {lot_size}")
            strategy = Strategy(name, underlying, self._moment(entry), self._moment(exit), quantity_per_leg, product)
            if strategy.exit <= strategy.entry:
                raise ValueError("exit must come after entry")
            if not any(expiry >= strategy.entry.date() for expiry in self.market.underlyings[underlying].expiries):
                raise ValueError(f"{underlying} has no expiry on or after {strategy.entry.date()}")
            self.strategies[name] = strategy
            return strategy

    def stop_out(self, name: str, moment: time | datetime) -> None:
        """Close strategy `name` at `moment` instead of its exit (before its entry: it never enters)."""
        with self._lock:
            self.strategies[name].stop_at = self._moment(moment)

    def _moment(self, moment: time | datetime) -> datetime:
        if isinstance(moment, datetime):
            return moment.astimezone(IST)
        return at(self.clock.now().astimezone(IST).date(), moment)

    # --- the request path ----------------------------------------------------------

    def handle(self, endpoint: str, body: bytes | str | dict, client: str = "127.0.0.1", *,
               json_content: bool = True, gone: Callable[[], bool] = lambda: False) -> Answer:
        """Answer one OpenAlgo call as the HTTP server would (`json_content=False`: the
        request had no JSON Content-Type), after the latency's delay. Raises
        SimulatedTimeout for a timeout fault, RequestDropped for a held request whose
        client is `gone()` by its release."""
        endpoint = endpoint.strip("/")
        if endpoint not in api.HANDLERS:
            return 404, {"message": NOT_FOUND}
        if self.rate_limits and not self.limiter.allow(client, endpoint):
            return limit_answer(endpoint)  # the limiter answers before any work, at once
        answer = self._faulted(endpoint, body, json_content, gone)
        delay = 0.0 if answer[0] == 429 else self.latency.seconds(endpoint, answer[1], self._rng)
        if delay > 0:
            self._sleep(delay)  # outside the lock: other requests go on meanwhile
        return answer

    def _faulted(self, endpoint: str, body: bytes | str | dict, json_content: bool, gone: Callable[[], bool]) -> Answer:
        fault = self.faults.take(endpoint, WRAPPER_KINDS)
        if fault is None:
            return self._answer(endpoint, body, json_content)
        params = fault.params
        if fault.kind == "latency":
            self._sleep(float(params.get("ms", 100)) / 1000)
            return self._answer(endpoint, body, json_content)
        if fault.kind == "rate_limit":
            return limit_answer(endpoint)
        if fault.kind == "error_500":
            return 500, {"status": "error", "message": params.get("message", api.FAILURE[endpoint])}
        if fault.kind == "hold":
            return self._hold(endpoint, body, json_content, bool(params.get("placed", False)), gone)
        if params.get("placed", True):
            answer = self._answer(endpoint, body, json_content)
        else:
            answer = 500, {"status": "error", "message": api.FAILURE[endpoint]}
        if fault.kind == "timeout":
            raise SimulatedTimeout(endpoint, float(params.get("seconds", 5)), answer)
        text = json.dumps(answer[1])
        return answer[0], text[: len(text) // 2]

    def _hold(self, endpoint: str, body: bytes | str | dict, json_content: bool, placed: bool,
              gone: Callable[[], bool]) -> Answer:
        """Wait for `faults.release()`. Not placed yet, a request whose client has gone
        (a killed process) is dropped: the broker never sees that order."""
        answer = self._answer(endpoint, body, json_content) if placed else None
        held = self.faults.hold(endpoint, placed)
        held.wait()
        if answer is not None:
            return answer
        if held.dropped or gone():
            self.faults.note_dropped()
            raise RequestDropped(f"held {endpoint} dropped unanswered")
        return self._answer(endpoint, body, json_content)

    def _answer(self, endpoint: str, body: bytes | str | dict, json_content: bool) -> Answer:
        if not json_content:
            return 500, {"status": "error", "message": api.UNEXPECTED[endpoint]}
        try:
            data = json.loads(body) if isinstance(body, (bytes, str)) else json.loads(json.dumps(body))
        except ValueError as error:
            return 400, {"message": f"Failed to decode JSON object: {error}"}
        loaded, errors = SCHEMAS[endpoint].load(data)
        if errors:
            return 400, validation_answer(endpoint, errors)
        if loaded["apikey"] != self.api_key:
            return 403, {"status": "error", "message": "Invalid openalgo apikey"}
        with self._lock:
            now = self.clock.now()
            self._catch_up(now)
            status, answer = api.HANDLERS[endpoint](self, loaded, now)
            if self.analyze:
                self.analyzer_logs += 1
                if endpoint in api.SANDBOXED and "mode" not in answer:
                    answer = {**answer, "mode": "analyze"}
            return status, answer

    def take_order_fault(self) -> Fault | None:
        return self.faults.take("placeorder", ORDER_KINDS)

    def next_pending_id(self) -> int:
        self._next_pending += 1
        return self._next_pending - 1

    # --- bringing the account up to now -----------------------------------------------

    def _catch_up(self, now: datetime) -> None:
        """Run the strategy events and late orders due by `now`, each at its own time,
        then fill what can fill now."""
        while True:
            due = [(event[0], strategy.name, partial(self._run_event, strategy, event[1], event[0]))
                   for strategy in self.strategies.values() if (event := strategy.next_event()) and event[0] <= now]
            due += [(late.due, "", partial(self._enter_late, late)) for late in self._late if late.due <= now]
            if not due:
                break
            min(due, key=lambda item: item[:2])[2]()
        for order in self.account.live_orders():
            self.try_fill(order, now)

    def place_late(self, option: Option, data: dict[str, Any], due: datetime) -> None:
        self._late.append(LateOrder(due, option, data))

    def late_orders(self) -> list[LateOrder]:
        """Placements still on their way to the book."""
        with self._lock:
            return list(self._late)

    def _enter_late(self, late: LateOrder) -> None:
        self._late.remove(late)
        api.enter_order(self, late.option, late.data, late.due)

    def _run_event(self, strategy: Strategy, kind: str, moment: datetime) -> None:
        if kind == "cancel":
            strategy.state = CLOSED
            return
        if kind == "enter":
            underlying = self.market.underlyings[strategy.underlying]
            strike = underlying.atm_strike(moment)
            expiry = min(e for e in underlying.expiries if e >= moment.date())
            strategy.legs = [Option(strategy.underlying, expiry, strike, side) for side in ("CE", "PE")]
            strategy.state, action = ENTERED, "SELL"
        else:
            strategy.state, action = CLOSED, "BUY"
        for option in strategy.legs:
            order = self.create_order(option, strategy=strategy.name, action=action, quantity=strategy.quantity,
                                      pricetype="MARKET", product=strategy.product, price=Decimal(0),
                                      trigger_price=Decimal(0), moment=moment)
            self.try_fill(order, moment)

    # --- orders ---------------------------------------------------------------------

    def create_order(self, option: Option, *, strategy: str, action: str, quantity: int, pricetype: str,
                     product: str, price: Decimal, trigger_price: Decimal, moment: datetime) -> Order:
        orderid = f"{moment.astimezone(IST):%y%m%d}{self._next_order:08d}"
        self._next_order += 1
        exchange = self.market.underlyings[option.underlying].option_exchange
        status = TRIGGER_PENDING if pricetype in ("SL", "SL-M") else OPEN
        order = Order(orderid, option, strategy, option.symbol, exchange, action, quantity, pricetype, product,
                      price, trigger_price, moment, status=status)
        self.account.orders[orderid] = order
        self._log.append(LoggedOrder(moment, orderid, strategy, option.symbol, exchange, action, quantity, pricetype, price))
        return order

    def try_fill(self, order: Order, now: datetime, quantity: int | None = None) -> None:
        """Fill what can fill at now's prices: BUY at the ask, SELL at the bid (none without
        a bid); a LIMIT only at or better than its price; a held order only when forced
        with an explicit quantity."""
        if order.status not in (OPEN, TRIGGER_PENDING) or (order.held and quantity is None):
            return
        quote = self.market.option_quote(order.option, now)
        if order.status == TRIGGER_PENDING:
            triggered = quote.ltp >= order.trigger_price if order.action == "BUY" else quote.ltp <= order.trigger_price
            if not triggered:
                return
            order.status = OPEN
        price = quote.ask if order.action == "BUY" else quote.bid
        limited = order.pricetype in ("LIMIT", "SL")
        if price <= 0 or (limited and (price > order.price if order.action == "BUY" else price < order.price)):
            return
        amount = order.pending_quantity if quantity is None else min(quantity, order.pending_quantity)
        if amount > 0:
            self.account.fill(order, amount, price, now)

    # --- margin and state -----------------------------------------------------------

    def option_positions(self) -> dict[Option, int]:
        """Net open quantity per option (shorts negative), all products together."""
        net: dict[Option, int] = defaultdict(int)
        for position in self.account.positions.values():
            if position.quantity:
                net[position.option] += position.quantity
        return {option: quantity for option, quantity in net.items() if quantity}

    def margin_of(self, positions: dict[Option, int], now: datetime) -> MarginBreakdown:
        spots = {option.underlying: self.market.spot(option.underlying, now) for option in positions}
        return self.margin_model.margin(positions, spots)

    def other_margin_at(self, now: datetime) -> Decimal:
        return self.other_margin.at(now) if self.other_margin else Decimal(0)

    def used_margin(self, now: datetime) -> Decimal:
        if self.analyze:  # the sandbox blocks only the premium of each open option, short or long
            premiums = sum((abs(p.quantity) * p.average_price for p in self.account.positions.values()), Decimal(0))
            return self.other_margin_at(now) + premiums.quantize(Decimal("0.01"))
        return self.other_margin_at(now) + self.margin_of(self.option_positions(), now).total

    @property
    def order_log(self) -> list[LoggedOrder]:
        """Every order accepted up to the clock's now (strategies' included), in order."""
        with self._lock:
            self._catch_up(self.clock.now())
            return list(self._log)

    def state(self) -> dict[str, Any]:
        """Positions, margin and time, for tests and the /sim/state control endpoint."""
        with self._lock:
            now = self.clock.now()
            self._catch_up(now)
            positions_margin = self.margin_of(self.option_positions(), now)
            other = self.other_margin_at(now)
            return {
                "now": now.isoformat(),
                "cash": f"{self.account.cash:.2f}",
                "used_margin": f"{other + positions_margin.total:.2f}",
                "other_margin": f"{other:.2f}",
                "positions_margin": {"span": f"{positions_margin.span:.2f}", "exposure": f"{positions_margin.exposure:.2f}",
                                     "total": f"{positions_margin.total:.2f}"},
                "positions": [
                    {"symbol": p.symbol, "exchange": p.exchange, "product": p.product, "quantity": p.quantity,
                     "average_price": f"{p.average_price:.2f}"}
                    for p in self.account.positions.values() if p.quantity
                ],
                "open_orders": [order.orderid for order in self.account.live_orders()],
                "strategies": {s.name: s.state for s in self.strategies.values()},
                "faults": [fault.to_dict() for fault in self.faults.pending()],
                "held": [held.to_dict() for held in self.faults.held()],
                "late": [late.to_dict() for late in self._late],
            }

    def reset(self) -> None:
        """Back to the opening account: no orders, positions or faults; strategies (and
        their stop-outs) kept and pending again. The clock is left where it is."""
        with self._lock:
            self._start_fresh()
            self.faults.clear()
            self.limiter.clear()
            for strategy in self.strategies.values():
                strategy.state, strategy.legs = PENDING, []

