"""Typed answers of OpenAlgo's REST API, parsed defensively.

Money is Decimal. Numbers may arrive as ints, floats or numeric strings ("0.00" in some
brokers' funds). An `ltp`, `bid` or `ask` of 0 means *no price* (quotes still answer
`success` with zeros when the broker cannot be reached) and is kept as None.

A parser that meets a shape it does not know raises `AnswerShapeError`; the client turns
that into `BrokerFailure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


class AnswerShapeError(ValueError):
    """An answer that does not have the documented shape."""


# --- defensive field parsing ------------------------------------------------------


def to_decimal(value: Any, field: str) -> Decimal:
    if value is None or isinstance(value, bool):
        raise AnswerShapeError(f"{field}: expected a number, got {type(value).__name__}")
    # repr of a float is its shortest round-trip form: 0.1 -> "0.1", not 0.1000000000000000055…
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise AnswerShapeError(f"{field}: not a number: {text[:40]!r}") from None
    if not number.is_finite():
        raise AnswerShapeError(f"{field}: not a finite number: {text[:40]!r}")
    return number


def to_int(value: Any, field: str) -> int:
    number = to_decimal(value, field)
    if number != number.to_integral_value():
        raise AnswerShapeError(f"{field}: expected a whole number, got {number}")
    return int(number)


def _present(data: Mapping[str, Any], key: str) -> bool:
    return data.get(key) not in (None, "")


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    if key not in data:
        raise AnswerShapeError(f"{key}: missing")
    return to_decimal(data[key], key)


def _opt_decimal(data: Mapping[str, Any], key: str) -> Decimal | None:
    return to_decimal(data[key], key) if _present(data, key) else None


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    return to_int(data[key], key) if _present(data, key) else None


def _int(data: Mapping[str, Any], key: str) -> int:
    if key not in data:
        raise AnswerShapeError(f"{key}: missing")
    return to_int(data[key], key)


def _price(data: Mapping[str, Any], key: str) -> Decimal | None:
    """A market price, where 0 (or absent) means there is none."""
    number = _opt_decimal(data, key)
    return number if number else None


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or isinstance(value, (dict, list, bool)) or str(value) == "":
        raise AnswerShapeError(f"{key}: missing")
    return str(value)


def _opt_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value in (None, "") else str(value)


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AnswerShapeError(f"{field}: expected an object, got {type(value).__name__}")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise AnswerShapeError(f"{field}: expected a list, got {type(value).__name__}")
    return value


def _data_object(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return _object(payload.get("data"), "data")


def _data_list(payload: Mapping[str, Any]) -> list[Any]:
    return _list(payload.get("data"), "data")


# --- expiry dates -------------------------------------------------------------------


def parse_expiry(text: str) -> date:
    """`"01-DEC-26"` (the `expiry` call's form) or `"01DEC26"` -> date(2026, 12, 1)."""
    code = text.replace("-", "").strip().upper()
    if len(code) != 7 or code[2:5] not in MONTHS or not (code[:2] + code[5:]).isdigit():
        raise AnswerShapeError(f"expiry: not DD-MMM-YY: {text[:20]!r}")
    try:
        return date(2000 + int(code[5:]), MONTHS.index(code[2:5]) + 1, int(code[:2]))
    except ValueError:
        raise AnswerShapeError(f"expiry: no such day: {text[:20]!r}") from None


def expiry_code(day: date) -> str:
    """date(2026, 12, 1) -> `"01DEC26"`, the DDMMMYY form other calls and symbols use."""
    return f"{day.day:02d}{MONTHS[day.month - 1]}{day.year % 100:02d}"


# --- results ------------------------------------------------------------------------


@dataclass(frozen=True)
class Funds:
    available_cash: Decimal
    collateral: Decimal
    m2m_realized: Decimal
    m2m_unrealized: Decimal
    utilised_debits: Decimal
    # Answered by OpenAlgo's sandbox (analyzer mode): a short there blocks only its
    # premium, not SPAN, so these numbers must not drive hedging decisions.
    sandbox: bool

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Funds:
        data = _data_object(payload)
        return cls(
            available_cash=_decimal(data, "availablecash"),
            collateral=_decimal(data, "collateral"),
            m2m_realized=_decimal(data, "m2mrealized"),
            m2m_unrealized=_decimal(data, "m2munrealized"),
            utilised_debits=_decimal(data, "utiliseddebits"),
            sandbox=payload.get("mode") == "analyze",
        )


@dataclass(frozen=True)
class MarginLeg:
    """One position of a `margin` request."""

    symbol: str
    exchange: str
    action: str
    quantity: int
    product: str
    pricetype: str = "MARKET"
    price: Decimal | None = None
    trigger_price: Decimal | None = None

    def to_api(self) -> dict[str, str]:
        # OpenAlgo refuses numbers here: quantity and prices travel as JSON strings.
        leg = {
            "symbol": self.symbol,
            "exchange": self.exchange,
            "action": self.action,
            "quantity": str(self.quantity),
            "product": self.product,
            "pricetype": self.pricetype,
        }
        if self.price is not None:
            leg["price"] = decimal_text(self.price)
        if self.trigger_price is not None:
            leg["trigger_price"] = decimal_text(self.trigger_price)
        return leg


def decimal_text(number: Decimal | int | str) -> str:
    """A plain decimal string for the wire (never exponent form such as "1E+2")."""
    if isinstance(number, float):
        raise TypeError("money is Decimal: got a float")
    return format(Decimal(number), "f")


@dataclass(frozen=True)
class Margin:
    total_margin_required: Decimal
    span_margin: Decimal | None
    exposure_margin: Decimal | None
    hedge_benefit: Decimal | None
    margin_benefit: Decimal | None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Margin:
        data = _data_object(payload)
        return cls(
            total_margin_required=_decimal(data, "total_margin_required"),
            span_margin=_opt_decimal(data, "span_margin"),
            exposure_margin=_opt_decimal(data, "exposure_margin"),
            hedge_benefit=_opt_decimal(data, "hedge_benefit"),
            margin_benefit=_opt_decimal(data, "margin_benefit"),
        )


@dataclass(frozen=True)
class Position:
    symbol: str
    exchange: str
    product: str
    quantity: int  # negative for shorts
    average_price: Decimal
    ltp: Decimal | None
    pnl: Decimal | None

    @property
    def is_short(self) -> bool:
        return self.quantity < 0

    @classmethod
    def from_api(cls, row: Any) -> Position:
        row = _object(row, "position")
        return cls(
            symbol=_text(row, "symbol"),
            exchange=_text(row, "exchange"),
            product=_text(row, "product"),
            quantity=_int(row, "quantity"),
            average_price=_decimal(row, "average_price"),
            ltp=_price(row, "ltp"),
            pnl=_opt_decimal(row, "pnl"),
        )


@dataclass(frozen=True)
class OrderAck:
    """placeorder / modifyorder / cancelorder accepted: the broker's order id."""

    order_id: str
    message: str | None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> OrderAck:
        return cls(order_id=_text(payload, "orderid"), message=_opt_text(payload, "message"))


OPEN_STATUSES = frozenset({"open", "trigger pending"})
FINAL_STATUSES = frozenset({"complete", "rejected", "cancelled"})


@dataclass(frozen=True)
class Order:
    """An order as `orderstatus` or one `orderbook` row describes it. `strategy` and
    `rejection_reason` come with order-book rows only."""

    order_id: str
    symbol: str
    exchange: str
    action: str
    quantity: int
    price: Decimal | None
    average_price: Decimal | None
    trigger_price: Decimal | None
    pricetype: str
    product: str
    status: str  # complete, open, trigger pending, rejected, cancelled (lower case)
    filled_quantity: int | None
    pending_quantity: int | None
    timestamp: str | None
    strategy: str | None
    rejection_reason: str | None

    @property
    def is_complete(self) -> bool:
        return self.status == "complete"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_api(cls, row: Any) -> Order:
        row = _object(row, "order")
        # The sandbox spells it price_type.
        pricetype = _opt_text(row, "pricetype") or _text(row, "price_type")
        return cls(
            order_id=_text(row, "orderid"),
            symbol=_text(row, "symbol"),
            exchange=_text(row, "exchange"),
            action=_text(row, "action").upper(),
            quantity=_int(row, "quantity"),
            price=_opt_decimal(row, "price"),
            average_price=_opt_decimal(row, "average_price"),
            trigger_price=_opt_decimal(row, "trigger_price"),
            pricetype=pricetype,
            product=_text(row, "product"),
            status=_text(row, "order_status").lower(),
            filled_quantity=_opt_int(row, "filled_quantity"),
            pending_quantity=_opt_int(row, "pending_quantity"),
            timestamp=_opt_text(row, "timestamp"),
            strategy=_opt_text(row, "strategy"),
            rejection_reason=_opt_text(row, "rejection_reason"),
        )


@dataclass(frozen=True)
class OrderStatistics:
    """Counts as OpenAlgo reports them. Lenient (a missing count is None): the order
    list, not these, is what a lookup after a timeout depends on."""

    total_buy_orders: int | None
    total_sell_orders: int | None
    total_completed_orders: int | None
    total_open_orders: int | None
    total_rejected_orders: int | None

    @classmethod
    def from_api(cls, data: Any) -> OrderStatistics:
        data = _object(data, "statistics")
        return cls(
            total_buy_orders=_opt_int(data, "total_buy_orders"),
            total_sell_orders=_opt_int(data, "total_sell_orders"),
            total_completed_orders=_opt_int(data, "total_completed_orders"),
            total_open_orders=_opt_int(data, "total_open_orders"),
            total_rejected_orders=_opt_int(data, "total_rejected_orders"),
        )


@dataclass(frozen=True)
class OrderBook:
    orders: tuple[Order, ...]
    statistics: OrderStatistics

    def by_strategy(self, tag: str) -> tuple[Order, ...]:
        return tuple(order for order in self.orders if order.strategy == tag)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> OrderBook:
        data = _data_object(payload)
        return cls(
            orders=tuple(Order.from_api(row) for row in _list(data.get("orders"), "orders")),
            statistics=OrderStatistics.from_api(data.get("statistics")),
        )


@dataclass(frozen=True)
class Trade:
    order_id: str
    symbol: str
    exchange: str
    action: str
    product: str
    quantity: int
    average_price: Decimal
    trade_value: Decimal | None
    timestamp: str | None

    @classmethod
    def from_api(cls, row: Any) -> Trade:
        row = _object(row, "trade")
        return cls(
            order_id=_text(row, "orderid"),
            symbol=_text(row, "symbol"),
            exchange=_text(row, "exchange"),
            action=_text(row, "action").upper(),
            product=_text(row, "product"),
            quantity=_int(row, "quantity"),
            average_price=_decimal(row, "average_price"),
            trade_value=_opt_decimal(row, "trade_value"),
            timestamp=_opt_text(row, "timestamp"),
        )


@dataclass(frozen=True)
class Quote:
    symbol: str
    exchange: str
    ltp: Decimal | None  # None: no price (the broker answered 0)
    bid: Decimal | None
    ask: Decimal | None
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    prev_close: Decimal | None
    volume: int | None
    oi: int | None

    @property
    def has_price(self) -> bool:
        return self.ltp is not None

    @classmethod
    def from_api(cls, symbol: str, exchange: str, data: Any) -> Quote:
        data = _object(data, "quote")
        return cls(
            symbol=symbol,
            exchange=exchange,
            ltp=_price(data, "ltp"),
            bid=_price(data, "bid"),
            ask=_price(data, "ask"),
            open=_opt_decimal(data, "open"),
            high=_opt_decimal(data, "high"),
            low=_opt_decimal(data, "low"),
            prev_close=_opt_decimal(data, "prev_close"),
            volume=_opt_int(data, "volume"),
            oi=_opt_int(data, "oi"),
        )


@dataclass(frozen=True)
class MultiQuote:
    """One entry of a `multiquotes` answer: a quote, or the broker's error for it."""

    symbol: str
    exchange: str
    quote: Quote | None
    error: str | None

    @classmethod
    def from_api(cls, row: Any) -> MultiQuote:
        row = _object(row, "result")
        symbol, exchange = _text(row, "symbol"), _text(row, "exchange")
        if "data" in row:
            return cls(symbol, exchange, Quote.from_api(symbol, exchange, row["data"]), None)
        return cls(symbol, exchange, None, _opt_text(row, "error") or "no data")


@dataclass(frozen=True)
class OptionLeg:
    symbol: str
    label: str  # ATM, ITMn or OTMn for this leg
    ltp: Decimal | None
    bid: Decimal | None
    ask: Decimal | None
    bid_qty: int | None
    ask_qty: int | None
    oi: int | None
    volume: int | None
    lotsize: int
    tick_size: Decimal

    @property
    def has_price(self) -> bool:
        return self.ltp is not None

    @classmethod
    def from_api(cls, leg: Any) -> OptionLeg | None:
        if leg is None:
            return None
        leg = _object(leg, "leg")
        return cls(
            symbol=_text(leg, "symbol"),
            label=str(leg.get("label") or ""),
            ltp=_price(leg, "ltp"),
            bid=_price(leg, "bid"),
            ask=_price(leg, "ask"),
            bid_qty=_opt_int(leg, "bid_qty"),
            ask_qty=_opt_int(leg, "ask_qty"),
            oi=_opt_int(leg, "oi"),
            volume=_opt_int(leg, "volume"),
            lotsize=_int(leg, "lotsize"),
            tick_size=_decimal(leg, "tick_size"),
        )


@dataclass(frozen=True)
class ChainStrike:
    strike: Decimal
    ce: OptionLeg | None
    pe: OptionLeg | None

    @classmethod
    def from_api(cls, row: Any) -> ChainStrike:
        row = _object(row, "chain row")
        return cls(
            strike=_decimal(row, "strike"),
            ce=OptionLeg.from_api(row.get("ce")),
            pe=OptionLeg.from_api(row.get("pe")),
        )


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    underlying_ltp: Decimal | None
    expiry_date: str  # DDMMMYY
    atm_strike: Decimal
    strikes: tuple[ChainStrike, ...]

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> OptionChain:
        return cls(
            underlying=_text(payload, "underlying"),
            underlying_ltp=_price(payload, "underlying_ltp"),
            expiry_date=_text(payload, "expiry_date"),
            atm_strike=_decimal(payload, "atm_strike"),
            strikes=tuple(ChainStrike.from_api(row) for row in _list(payload.get("chain"), "chain")),
        )


@dataclass(frozen=True)
class OptionSymbol:
    symbol: str
    exchange: str
    lotsize: int
    tick_size: Decimal
    freeze_qty: int | None
    underlying_ltp: Decimal | None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> OptionSymbol:
        return cls(
            symbol=_text(payload, "symbol"),
            exchange=_text(payload, "exchange"),
            lotsize=_int(payload, "lotsize"),
            tick_size=_decimal(payload, "tick_size"),
            freeze_qty=_opt_int(payload, "freeze_qty"),
            underlying_ltp=_price(payload, "underlying_ltp"),
        )


def expiries_from_api(payload: Mapping[str, Any]) -> tuple[date, ...]:
    return tuple(parse_expiry(str(item)) for item in _data_list(payload))


@dataclass(frozen=True)
class Pong:
    message: str
    broker: str | None

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> Pong:
        data = _data_object(payload)
        return cls(message=_text(data, "message"), broker=_opt_text(data, "broker"))


def positions_from_api(payload: Mapping[str, Any]) -> tuple[Position, ...]:
    return tuple(Position.from_api(row) for row in _data_list(payload))


def trades_from_api(payload: Mapping[str, Any]) -> tuple[Trade, ...]:
    return tuple(Trade.from_api(row) for row in _data_list(payload))


def multiquotes_from_api(payload: Mapping[str, Any]) -> tuple[MultiQuote, ...]:
    return tuple(MultiQuote.from_api(row) for row in _list(payload.get("results"), "results"))


class Placement(StrEnum):
    PLACED = "placed"
    FOUND_AFTER_TIMEOUT = "found_after_timeout"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PlacementOutcome:
    """What `place_order_or_find` knows about one tagged order attempt.

    - PLACED: the broker answered with `order_id`.
    - FOUND_AFTER_TIMEOUT: the answer was lost (timeout, dropped connection, 5xx, an
      unreadable answer) but the order book holds an order with this tag: `order`.
    - UNKNOWN: the answer was lost and the order book did not show the tag (or could
      not be read). The order may still exist: do NOT place again; reconcile later.
    """

    status: Placement
    tag: str
    order_id: str | None = None
    order: Order | None = None
    error: str | None = None  # what went wrong on the way, for the record
