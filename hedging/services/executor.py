"""HedgeExecutorService: a decision becomes orders, and the orders become hedges.

Nothing lost, nothing doubled:
- `record` writes the transaction and one order row per leg, under the decision's
  idempotency key, before anything leaves. A duplicate decision finds the key taken.
- `execute` claims each order row with a conditional update (new → sent) and commits
  before the request goes out, so a second worker or a redelivered task cannot send it
  again. An order whose answer was lost is looked up by its tag and never sent again: a
  real OpenAlgo may place it tens of seconds later. It is watched for a while, then given
  up, and a fill that shows later still is taken up by `reconcile.late_fills`.
- `execute` can run any number of times on one transaction: it resumes where the
  rows say it stopped (after a crash, a timeout or a retry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from django.db import transaction
from django.db.models import F

from brokers.models import OPTION_EXCHANGE
from brokers.openalgo import OpenAlgoError, OrderPendingApproval, RateLimited
from brokers.openalgo_types import Order, Placement, PlacementOutcome
from hedging.core.clock import IST
from hedging.core.decide import BUY, Decision, sell_limit
from hedging.core.strikes import limit_price
from hedging.messages import counted, format_inr, format_pct
from hedging.models import ActiveHedge, DailySession, HedgeOrder, HedgeTransaction
from hedging.ports import Ports
from hedging.rows import fetch, update
from hedging.services.alerts import alert
from hedging.services.monitor import broker_reads

log = logging.getLogger(__name__)
T = TypeVar("T")

TX = HedgeTransaction.Status
OS = HedgeOrder.Status
# The exchanges' freeze quantities (late 2026), for a broker that does not report them.
FREEZE_QTY = {"NIFTY": 1800, "SENSEX": 1000}


def record(
    session: DailySession,
    decision: Decision,
    key: str,
    now: datetime,
    origin: str = HedgeTransaction.Origin.AUTO,
    user=None,
) -> HedgeTransaction:
    """Write the decision and its leg orders. The caller holds the session's row lock
    and has checked `key` is new; a duplicate still fails on the unique key, whole."""
    if decision.action is None:
        raise ValueError(f"a decision to do nothing is not recorded: {decision.reason}")
    with transaction.atomic(savepoint=False):
        tx = HedgeTransaction.objects.create(
            session=session,
            idempotency_key=key,
            action=decision.action,
            origin=origin,
            requested_by=user,
            hedge_baskets=decision.hedge_baskets,
            reason=decision.reason,
            for_entries=list(decision.for_entries),
            util_before_pct=_pct(decision.util_before_pct),
            util_projected_pct=_pct(decision.util_projected_pct),
            util_after_pct=_pct(decision.util_after_pct),
            expected_cost=decision.expected_cost,
            decided_at=now,
        )
        exchange = OPTION_EXCHANGE[session.index_name]
        sliced = [(leg, quantity) for leg in decision.legs for quantity in slices(leg.quantity, session)]
        HedgeOrder.objects.bulk_create(
            HedgeOrder(
                transaction=tx,
                leg=name,
                option_type=leg.option_type,
                tag=tag(tx, name, 1),
                symbol=leg.symbol,
                exchange=exchange,
                strike=leg.strike,
                side=leg.side,
                quantity=quantity,
                limit_price=leg.limit_price,
                expected_price=leg.expected_price,
                mbpr=_mbpr(leg.mbpr),
                runner_up_mbpr=_mbpr(leg.runner_up_mbpr),
            )
            for name, (leg, quantity) in zip(leg_names([leg for leg, _ in sliced]), sliced)
        )
    return tx


def slices(quantity: int, session: DailySession) -> list[int]:
    """One order's worth at a time: the exchange refuses an order over its freeze
    quantity, and OpenAlgo's placeorder does not slice. Each slice is whole lots."""
    lot = session.lot_size or 1
    most = max((session.freeze_qty or FREEZE_QTY[session.index_name]) // lot * lot, lot)
    return [min(most, quantity - done) for done in range(0, quantity, most)]


def leg_names(legs) -> list[str]:
    """Each leg's name within its transaction: the first of an option type is named
    for it ("CE"), further ones (another strike, another slice) numbered ("CE2")."""
    seen: dict[str, int] = {}
    names = []
    for leg in legs:
        seen[leg.option_type] = seen.get(leg.option_type, 0) + 1
        count = seen[leg.option_type]
        names.append(leg.option_type if count == 1 else f"{leg.option_type}{count}")
    return names


def tag(tx: HedgeTransaction, leg: str, attempt: int) -> str:
    """OpenAlgo's `strategy` field: finds the order again in the broker's order book."""
    return f"autohedge-{tx.pk}-{leg}-{attempt}"


def _pct(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def _mbpr(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.0001"))


def execute(
    tx: HedgeTransaction | int, ports: Ports, tick_started: float | None = None, wait_for_fills: bool = True
) -> HedgeTransaction:
    """Every leg on the wire, then each awaited to its fill (or cancelled and tried
    again), then settled. Without `wait_for_fills`, a leg still open once sent leaves
    the transaction pending, for a caller with time to wait (the buy task): the tick's
    batch does not wait out one broker's order statuses."""
    if not isinstance(tx, HedgeTransaction):
        tx = HedgeTransaction.objects.select_related("session__account").get(pk=tx)
    if tx.status not in (TX.PENDING, TX.PLACED):
        return tx
    legs = latest_orders(tx)
    send(tx, [order for order in legs if order.status in UNSENT], ports, tick_started)  # every leg before any fill is awaited
    look_once([order for order in legs if order.status in (OS.OPEN, OS.PARTIAL)], ports)  # all at once, no wait
    if not wait_for_fills and any(order.status in (OS.OPEN, OS.PARTIAL) for order in legs):
        return tx
    for order in legs:
        run_leg(tx, order, ports)
    return finish(tx, ports)


def orders_of(tx: HedgeTransaction) -> list[HedgeOrder]:
    """Every attempt of every leg, in that order."""
    return fetch(HedgeOrder, "transaction_id = %s", [tx.pk], order_by="leg, attempt")


def latest_orders(tx: HedgeTransaction) -> list[HedgeOrder]:
    """Each leg's latest attempt."""
    return list({order.leg: order for order in orders_of(tx)}.values())


def run_leg(tx: HedgeTransaction, order: HedgeOrder, ports: Ports) -> None:
    retries = tx.session.order_retries
    while True:
        if order.status in UNSENT:
            send(tx, [order], ports, None)
        if order.status in (OS.OPEN, OS.PARTIAL):
            confirm(order, ports)
        if order.status in (OS.OPEN, OS.PARTIAL):
            cancel(order, ports)
        remaining = order.quantity - order.filled_quantity
        if order.status != OS.CANCELLED or order.attempt > retries or remaining <= 0:
            return
        again = retry(tx, order, remaining, ports)
        if again is None:
            return
        order = again


UNSENT = (OS.NEW, OS.SENT, OS.LOST)  # as far as this worker knows


def send(tx: HedgeTransaction, orders: list[HedgeOrder], ports: Ports, tick_started: float | None) -> None:
    """Each order claimed (committed before it leaves), placed and its answer written, one
    after another: a worker that dies holding one leg's placement leaves the next unsent."""
    for order in orders:
        if not claim(order, ports):
            continue
        latency = None if tick_started is None or tx.latency_ms is not None else (time.time() - tick_started) * 1000
        answer = request(tx, order, ports)
        if latency is not None:  # recorded after the order left, to keep the write off its path
            tx.latency_ms = latency
            update(tx, ["latency_ms"], where="latency_ms IS NULL")
        placed(tx, order, answer, ports)


def claim(order: HedgeOrder, ports: Ports) -> bool:
    """Whether this worker is to place `order` now: it claimed the row (new → sent), or
    took over one whose worker left no word and that the broker does not have."""
    now = ports.clock.now()
    if order.status == OS.LOST:
        look_for_lost(order, ports)
        return False
    if order.status == OS.SENT:  # its worker left no word: it died before or after the request left
        if not reconcile(order, ports, now):
            return False
        claimed = HedgeOrder.objects.filter(pk=order.pk, status=OS.SENT, sent_at=order.sent_at).update(sent_at=now)
        order.sent_at = now
    else:
        order.status, order.sent_at = OS.SENT, now
        claimed = update(order, ["status", "sent_at"], where="status = %s", params=[OS.NEW])
    if not claimed:  # another worker has it
        order.refresh_from_db()
        return False
    if ports.paper:
        _save(order, status=OS.PAPER, filled_quantity=order.quantity, average_price=order.expected_price)
        return False
    return True


def on_the_wire(calls: list[Callable[[], T]]) -> list[T]:
    """The broker calls at once (one inline)."""
    if len(calls) == 1:
        return [calls[0]()]
    return [call.result() for call in [broker_reads.submit(call) for call in calls]]


def request(tx: HedgeTransaction, order: HedgeOrder, ports: Ports) -> PlacementOutcome | OpenAlgoError:
    """The placement's broker call alone, with its rate-limit retries; a refusal is
    returned, not raised (`placed` writes the row)."""
    for rate_limited in range(3):
        try:
            return ports.broker.place_order_or_find(
                order.tag,
                symbol=order.symbol,
                exchange=order.exchange,
                action=order.side,
                quantity=order.quantity,
                pricetype="LIMIT",
                product=tx.session.account.product,
                price=order.limit_price,
            )
        except RateLimited as limited:
            if rate_limited == 2:
                return limited
            ports.sleep(limited.retry_after)  # refused before placing: safe to send again after the window
        except OpenAlgoError as refused:
            return refused
    raise AssertionError("unreachable")


def placed(tx: HedgeTransaction, order: HedgeOrder, answer: PlacementOutcome | OpenAlgoError, ports: Ports) -> None:
    if isinstance(answer, OrderPendingApproval):
        _save(order, status=OS.FAILED, error=f"queued for approval in OpenAlgo (semi-auto), not placed: {answer.message}")
        return
    if isinstance(answer, OpenAlgoError):
        _save(order, status=OS.FAILED, error=str(answer))
        return
    if answer.status == Placement.UNKNOWN:
        _save(order, status=OS.LOST, error=answer.error or "answer lost; not in the order book yet")
        sent_at = order.sent_at or ports.clock.now()  # set by its claim, before it was sent
        watched = (sent_at + ports.watch).astimezone(IST)
        alert(tx.session, "order_unknown", "critical",
              f"The broker's answer to the hedge order {order.symbol} ×{order.quantity} ({order.tag}) was lost, and the "
              f"order is not in its order book yet. It is not sent again: Auto-hedge looks for it until "
              f"{watched:%H:%M:%S} and takes it into the books if it shows.",
              ports.clock.now(), ports.deliver_alert, dedupe_key=f"lost:{order.tag}")
        return
    _save(order, status=OS.OPEN, broker_order_id=answer.order_id, error=answer.error or "")
    if answer.order is not None:
        apply_status(order, answer.order)


def reconcile(order: HedgeOrder, ports: Ports, now: datetime) -> bool:
    """An order claimed by a worker that left no word: find it by tag. True when it is
    safe to send (not in the book, and long enough since the claim to be sure)."""
    if look_for_lost(order, ports) is not False:  # found and taken up, or the book unreadable
        return False
    return order.sent_at is None or now - order.sent_at >= ports.settle


def look_for_lost(order: HedgeOrder, ports: Ports) -> bool | None:
    """Look the order up by its tag; found, it is taken up. None: the book is unreadable."""
    try:
        found = ports.broker.orderbook().by_strategy(order.tag)
    except OpenAlgoError as failure:
        _save(order, error=f"order book unreadable: {failure}")
        return None
    if found:
        adopt(order, found)
    return bool(found)


def adopt(order: HedgeOrder, found: tuple[Order, ...]) -> None:
    """The broker's order under this tag becomes the row's (one, ever: a tag is never
    sent twice; an earlier release may have, so more are named in the error)."""
    error = order.error
    if len(found) > 1:
        error = f"{error}; {len(found)} orders under this tag at the broker".lstrip("; ")
    _save(order, status=OS.OPEN, broker_order_id=found[0].order_id, error=error)
    apply_status(order, found[0])


def look_once(orders: list[HedgeOrder], ports: Ports) -> None:
    """One status look at each order, all at once."""
    answers = on_the_wire([partial(status_of, order, ports) for order in orders])
    for order, answer in zip(orders, answers, strict=True):
        if isinstance(answer, OpenAlgoError):
            _save(order, error=f"order status: {answer}")
        else:
            apply_status(order, answer)


def status_of(order: HedgeOrder, ports: Ports) -> Order | OpenAlgoError:
    try:
        return ports.broker.order_status(order.broker_order_id, order.tag)
    except OpenAlgoError as failure:
        return failure


def confirm(order: HedgeOrder, ports: Ports, polls: int | None = None) -> None:
    polls = polls or ports.fill_polls
    for poll in range(polls):
        look_once([order], ports)
        if order.status not in (OS.OPEN, OS.PARTIAL):
            return
        if poll + 1 < polls:
            ports.sleep(ports.poll_interval)


STATUS_OF = {"complete": OS.COMPLETE, "rejected": OS.REJECTED, "cancelled": OS.CANCELLED}


def apply_status(order: HedgeOrder, broker_order: Order) -> None:
    status = STATUS_OF.get(broker_order.status, OS.OPEN)
    filled = broker_order.filled_quantity
    if filled is None:
        filled = order.quantity if status == OS.COMPLETE else 0
    if status == OS.OPEN and filled:
        status = OS.PARTIAL
    error = broker_order.rejection_reason or order.error
    if status == OS.REJECTED and not error:
        error = "rejected by the broker"
    _save(
        order,
        status=status,
        filled_quantity=min(filled, order.quantity),
        average_price=broker_order.average_price if filled else order.average_price,
        error=error or "",
    )


def cancel(order: HedgeOrder, ports: Ports) -> None:
    try:
        ports.broker.cancel_order(order.broker_order_id, order.tag)
    except OpenAlgoError as failure:
        _save(order, error=f"cancel: {failure}")  # filled meanwhile, most likely
    try:
        apply_status(order, ports.broker.order_status(order.broker_order_id, order.tag))
    except OpenAlgoError as failure:
        _save(order, error=f"order status after cancel: {failure}")


def retry(tx: HedgeTransaction, order: HedgeOrder, remaining: int, ports: Ports) -> HedgeOrder | None:
    """A new attempt for what is left, priced off the current ask (or bid); None when
    there is no price to give it."""
    try:
        (quote,) = ports.broker.multiquotes([(order.symbol, order.exchange)])
    except (OpenAlgoError, ValueError) as failure:
        _save(order, error=f"re-pricing: {failure}")
        return None
    price = quote.quote.ask if quote.quote and order.side == "BUY" else quote.quote.bid if quote.quote else None
    if not price:
        _save(order, error="re-pricing: no live price")
        return None
    protection = tx.session.price_protection_pct
    new_limit = limit_price(price, protection) if order.side == "BUY" else sell_limit(price, protection)
    return HedgeOrder.objects.create(
        transaction=tx,
        leg=order.leg,
        option_type=order.option_type,
        attempt=order.attempt + 1,
        tag=tag(tx, order.leg, order.attempt + 1),
        symbol=order.symbol,
        exchange=order.exchange,
        strike=order.strike,
        side=order.side,
        quantity=remaining,
        limit_price=new_limit,
        expected_price=price,
        mbpr=order.mbpr,
        runner_up_mbpr=order.runner_up_mbpr,
    )


def _save(order: HedgeOrder, **changes) -> None:
    for name, value in changes.items():
        setattr(order, name, value)
    update(order, [*changes, "updated_at"])


FILLED = (OS.COMPLETE, OS.PARTIAL, OS.CANCELLED, OS.PAPER)


def finish(tx: HedgeTransaction, ports: Ports) -> HedgeTransaction:
    """Settle the transaction from its orders: cost from fills, hedges opened or
    closed, one alert. Unresolved orders (answer lost) leave it `placed` for later."""
    orders = orders_of(tx)
    now = ports.clock.now()
    if any(unresolved(o, ports, now) for o in orders):
        HedgeTransaction.objects.filter(pk=tx.pk, status=TX.PENDING).update(status=TX.PLACED)
        tx.refresh_from_db()
        return tx
    with transaction.atomic():
        locked = HedgeTransaction.objects.select_for_update().get(pk=tx.pk)
        if locked.status not in (TX.PENDING, TX.PLACED):
            return locked
        locked.session = tx.session  # the row in hand: the alert names it with no query
        # Under the row lock and the status check, this transaction's hedges cannot exist
        # yet: a settlement commits whole, hedges and status together.
        filled = [o for o in orders if o.filled_quantity and o.status in FILLED]
        if tx.action == BUY:
            ActiveHedge.objects.bulk_create(hedge_of(tx.session, order, now) for order in filled)
        else:
            for order in filled:
                close_hedges(tx.session, order, now)
        locked.cost = sum((o.average_price * o.filled_quantity for o in filled), Decimal(0))
        locked.status = settled_status(tx, orders, ports.paper)
        locked.error = "; ".join(f"{o.leg} #{o.attempt}: {o.error}" for o in orders if o.error)[:2000]
        locked.completed_at = now
        update(locked, ["cost", "status", "error", "completed_at"])
        announce(locked, orders, ports, now)  # with the settlement: a crash cannot keep one without the other
    return locked


def unresolved(order: HedgeOrder, ports: Ports, now: datetime) -> bool:
    """Still to hear of; a lost answer until its watch is over (then given up, no fill)."""
    if order.status == OS.LOST:
        return order.sent_at is None or now - order.sent_at < ports.watch
    return order.status in (OS.NEW, OS.SENT, OS.OPEN, OS.PARTIAL)


def settled_status(tx: HedgeTransaction, orders: list[HedgeOrder], paper: bool) -> str:
    if paper:
        return TX.PAPER
    wanted = {o.leg: o.quantity for o in orders if o.attempt == 1}
    got = {leg: sum(o.filled_quantity for o in orders if o.leg == leg) for leg in wanted}
    if all(got[leg] >= wanted[leg] for leg in wanted):
        return TX.FILLED
    return TX.PARTIAL if any(got.values()) else TX.FAILED


def hedge_of(session: DailySession, order: HedgeOrder, now: datetime) -> ActiveHedge:
    return ActiveHedge(
        session=session,
        buy_order=order,
        symbol=order.symbol,
        exchange=order.exchange,
        option_type=order.option_type,
        strike=order.strike,
        quantity=order.filled_quantity,
        entry_price=order.average_price,
        opened_at=now,
    )


def close_hedges(session: DailySession, order: HedgeOrder, now: datetime) -> None:
    close_held(session, order.symbol, order.filled_quantity, now, order=order)


def close_held(
    session: DailySession, symbol: str, quantity: int, now: datetime,
    status: str = ActiveHedge.Status.CLOSED, order: HedgeOrder | None = None,
) -> None:
    """Close `quantity` of a symbol's open hedges, oldest first, sold by `order` (or, with
    no order, gone); a hedge closed in part is split."""
    left = quantity
    open_hedges = session.hedges.select_for_update().filter(symbol=symbol, status=ActiveHedge.Status.OPEN)
    for hedge in open_hedges.order_by("opened_at", "pk"):
        if not left:
            break
        sold = min(left, hedge.quantity)
        if sold < hedge.quantity:
            ActiveHedge.objects.filter(pk=hedge.pk).update(quantity=F("quantity") - sold)
            hedge.pk, hedge.quantity = None, sold  # the closed part becomes its own row
            hedge.buy_order = None
        hedge.status, hedge.exit_order, hedge.closed_at = status, order, now
        hedge.exit_price = order.average_price if order else None
        hedge.save()
        left -= sold


def announce(tx: HedgeTransaction, orders: list[HedgeOrder], ports: Ports, now: datetime) -> None:
    """One alert per settled action: what happened, why, what it cost, utilisation now."""
    verb = "bought" if tx.action == BUY else "exited"
    legs = ", ".join(f"{o.symbol} ×{o.filled_quantity} @ {format_inr(o.average_price)}" for o in orders if o.filled_quantity)
    money = f"{'paid' if tx.action == BUY else 'received'} {format_inr(tx.cost)}"
    when = f"after {', '.join(tx.for_entries)}" if tx.for_entries else "now"
    after = f"utilisation {when} {format_pct(tx.util_after_pct)}" if tx.util_after_pct is not None else ""
    if tx.status in (TX.FILLED, TX.PAPER):
        kind, level = f"hedge_{verb}", "info"
        text = f"{counted(tx.hedge_baskets, 'hedge basket')} {verb}, {money} ({legs}); {after}. Why: {tx.reason}"
    else:
        kind, level = "order_failed", "critical"
        text = (
            f"Hedge {tx.action.lower()} of {counted(tx.hedge_baskets, 'hedge basket')} {tx.get_status_display().lower()}: "
            f"{tx.error or 'no fill'}. Filled: {legs or 'nothing'}, {money}. Why it was wanted: {tx.reason}"
        )
    alert(tx.session, kind, level, text, now, ports.deliver_alert, dedupe_key=f"tx:{tx.pk}")  # Telegram shows the transaction


IN_FLIGHT = (TX.PENDING, TX.PLACED)


def spent_today(transactions: list[HedgeTransaction]) -> Decimal:
    """Premium paid for today's buys, from the fills, plus what buys in flight expect."""
    return sum(
        (tx.expected_cost if tx.status in IN_FLIGHT else tx.cost for tx in transactions if tx.action == BUY),
        Decimal(0),
    )


def in_flight(transactions: list[HedgeTransaction]) -> HedgeTransaction | None:
    return next((tx for tx in transactions if tx.status in IN_FLIGHT), None)
