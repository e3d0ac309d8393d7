"""The books against the broker, on the minute's margin snapshot (live accounts only).

- An order given up as lost (its answer lost, not in the order book for the whole watch)
  that the broker placed after all is taken into the books: its fill opens (or closes)
  hedges and counts in the day's spend; one still open is cancelled, as an unfilled leg
  would have been. A critical alert says so.
- A hedge the books hold that the broker no longer does (sold by hand, squared off) is
  marked gone, with an alert, so hedges held is what the broker holds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction

from brokers.openalgo import OpenAlgoError
from hedging.core.decide import BUY
from hedging.models import ActiveHedge, DailySession, HedgeOrder, HedgeTransaction
from hedging.rows import update
from hedging.services import executor
from hedging.services.alerts import alert
from hedging.ports import Ports
from hedging.services.monitor import MarginReading

OS = HedgeOrder.Status
# A fill shows in the books before the position book: a hedge younger than this is not
# yet taken for gone.
GONE_AFTER = timedelta(minutes=2)


def late_fills(session: DailySession, ports: Ports, now: datetime) -> None:
    lost = list(HedgeOrder.objects.filter(transaction__session=session, status=OS.LOST)
                .exclude(transaction__status__in=executor.IN_FLIGHT))
    if not lost:
        return
    try:
        book = ports.broker.orderbook()
    except OpenAlgoError:
        return  # the next minute looks again
    for order in lost:
        found = book.by_strategy(order.tag)
        if found:
            take_up(session, order, found, ports, now)


def take_up(session: DailySession, order: HedgeOrder, found, ports: Ports, now: datetime) -> None:
    with transaction.atomic():
        tx = HedgeTransaction.objects.select_for_update().get(pk=order.transaction_id)
        executor.adopt(order, found)
        if order.status in (OS.OPEN, OS.PARTIAL):
            executor.cancel(order, ports)
        if not order.filled_quantity:
            return
        if tx.action == BUY:
            executor.hedge_of(session, order, now).save()
        else:
            executor.close_hedges(session, order, now)
        tx.cost += order.average_price * order.filled_quantity
        tx.status = executor.settled_status(tx, executor.orders_of(tx), paper=False)
        update(tx, ["cost", "status"])
        verb = "bought" if tx.action == BUY else "sold"
        alert(session, "late_fill", "critical",
              f"A hedge order given up as lost was placed at the broker after all: {verb} {order.symbol} "
              f"×{order.filled_quantity} @ ₹{order.average_price} ({order.tag}). It is now in the books and counts "
              f"in hedges held and the day's spend.",
              now, ports.deliver_alert, dedupe_key=f"late:{order.tag}")


def gone_hedges(session: DailySession, hedges: list[ActiveHedge], reading: MarginReading, ports: Ports, now: datetime) -> None:
    """Hedges recorded as open that the broker's positions do not hold."""
    recorded: dict[str, int] = defaultdict(int)
    for hedge in hedges:
        if now - hedge.opened_at >= GONE_AFTER:
            recorded[hedge.symbol] += hedge.quantity
    held = reading.positions.get("hedges", {})
    for symbol, quantity in recorded.items():
        missing = quantity - held.get(symbol, 0)
        if missing > 0:
            executor.close_held(session, symbol, missing, now, status=ActiveHedge.Status.GONE)
            alert(session, "hedge_gone", "critical",
                  f"The books held {symbol} ×{quantity}; the broker holds ×{held.get(symbol, 0)}. "
                  f"{missing} marked gone (sold or squared off outside Auto-hedge): hedges held counts what the broker holds.",
                  now, ports.deliver_alert, dedupe_key=f"gone:{symbol}:{now:%H%M}")
