"""The simulated trading account: orders, fills, positions and cash, in Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .market import Option

OPEN, TRIGGER_PENDING, COMPLETE, REJECTED, CANCELLED = "open", "trigger pending", "complete", "rejected", "cancelled"
LIVE_STATUSES = (OPEN, TRIGGER_PENDING)


@dataclass
class Order:
    orderid: str
    option: Option
    strategy: str
    symbol: str
    exchange: str
    action: str
    quantity: int
    pricetype: str
    product: str
    price: Decimal
    trigger_price: Decimal
    placed_at: datetime
    status: str = OPEN
    filled_quantity: int = 0
    filled_value: Decimal = Decimal(0)
    rejection_reason: str = ""
    # Set by the no_fill / partial_fill faults: the rest does not fill until modified.
    held: bool = False

    @property
    def pending_quantity(self) -> int:
        return self.quantity - self.filled_quantity if self.status in LIVE_STATUSES else 0

    @property
    def average_price(self) -> Decimal:
        if not self.filled_quantity:
            return Decimal(0)
        return (self.filled_value / self.filled_quantity).quantize(Decimal("0.01"))

    @property
    def sign(self) -> int:
        return 1 if self.action == "BUY" else -1


@dataclass(frozen=True)
class Trade:
    orderid: str
    symbol: str
    exchange: str
    action: str
    product: str
    quantity: int
    price: Decimal
    time: datetime


@dataclass
class Position:
    option: Option
    symbol: str
    exchange: str
    product: str
    quantity: int = 0
    average_price: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)

    def apply(self, signed_quantity: int, price: Decimal) -> None:
        """Net a fill into the position, booking P&L on the part that closes it."""
        if self.quantity == 0 or (self.quantity > 0) == (signed_quantity > 0):
            total = self.quantity + signed_quantity
            self.average_price = (self.average_price * abs(self.quantity) + price * abs(signed_quantity)) / abs(total)
            self.quantity = total
            return
        closing = min(abs(signed_quantity), abs(self.quantity))
        direction = 1 if self.quantity > 0 else -1
        self.realized += (price - self.average_price) * closing * direction
        remainder = signed_quantity + closing * direction
        self.quantity -= closing * direction
        if self.quantity == 0:
            self.average_price = Decimal(0)
        if remainder:
            self.quantity, self.average_price = remainder, price


@dataclass
class Account:
    opening_cash: Decimal
    cash: Decimal = Decimal(0)
    orders: dict[str, Order] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    positions: dict[tuple[str, str, str], Position] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cash = self.opening_cash

    def fill(self, order: Order, quantity: int, price: Decimal, moment: datetime) -> None:
        order.filled_quantity += quantity
        order.filled_value += price * quantity
        if order.filled_quantity == order.quantity:
            order.status = COMPLETE
        self.trades.append(
            Trade(order.orderid, order.symbol, order.exchange, order.action, order.product, quantity, price, moment)
        )
        self.cash -= order.sign * price * quantity
        key = (order.symbol, order.exchange, order.product)
        position = self.positions.setdefault(key, Position(order.option, order.symbol, order.exchange, order.product))
        position.apply(order.sign * quantity, price)

    def live_orders(self) -> list[Order]:
        return [order for order in self.orders.values() if order.status in LIVE_STATUSES]
