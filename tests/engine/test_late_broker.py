"""A broker that acts late: a placement whose answer was lost is placed by the broker
tens of seconds later (a real OpenAlgo's thread goes on after its client left). Never a
second order; the late order taken into the books; hedges the broker does not hold
marked gone. Each test counts the orders the broker itself received."""

from datetime import timedelta

import pytest

from hedging.models import ActiveHedge, Alert, HedgeOrder, HedgeTransaction
from hedging.ports import WATCH
from hedging.services import executor, orchestrator
from tests.engine.test_services import make_world

pytestmark = pytest.mark.django_db


def place_late(world, order: HedgeOrder) -> None:
    """The broker places the lost order now, under its tag, as its late thread would."""
    status, answer = world.sim.handle("placeorder", {
        "apikey": "k", "strategy": order.tag, "symbol": order.symbol, "exchange": order.exchange, "action": order.side,
        "quantity": order.quantity, "pricetype": "LIMIT", "product": world.session.account.product,
        "price": str(order.limit_price),
    })
    assert status == 200, answer


def lost_buy(world) -> tuple[HedgeTransaction, HedgeOrder]:
    """The buy before P2 at 09:40, its CE placement's answer lost and the order not placed (yet)."""
    world.sim.faults.inject("placeorder", "timeout", seconds=0, placed=False)
    world.tick("09:40")
    (tx,) = world.transactions()
    return tx, tx.orders.get(leg="CE")


@pytest.mark.parametrize("late", [20, 60])
def test_a_placement_the_broker_acts_on_late_is_taken_up_not_sent_again(late):
    world = make_world()
    tx, ce = lost_buy(world)
    assert ce.status == "lost" and len(world.our_orders()) == 1

    world.clock.advance(late)
    executor.execute(tx.pk, world.ports)  # past the old 15 s settle time: nothing is sent
    assert len(world.our_orders()) == 1
    place_late(world, ce)
    world.clock.advance(5)
    tx = executor.execute(tx.pk, world.ports)

    assert tx.status == "filled" and len(world.our_orders()) == 2  # one order per leg, ever
    assert sorted(h.option_type for h in ActiveHedge.objects.filter(session=world.session, status="open")) == ["CE", "PE"]
    assert Alert.objects.filter(session=world.session, kind="order_unknown").count() == 1
    outcome = world.tick("09:45")
    assert outcome.note != "in flight" and len(world.transactions()) == 1  # the entry finds its hedge held


def test_an_order_placed_after_it_was_given_up_is_adopted_into_the_books():
    world = make_world()
    tx, ce = lost_buy(world)
    world.clock.advance(WATCH.total_seconds() + 1)
    tx = executor.execute(tx.pk, world.ports)
    assert tx.status == "partial" and tx.cost > 0  # the PE filled, the CE given up

    place_late(world, ce)
    world.clock.advance(30)
    orchestrator.observe(world.session.pk, world.ports)

    tx.refresh_from_db()
    ce.refresh_from_db()
    assert ce.status == "complete" and tx.status == "filled" and len(world.our_orders()) == 2
    assert tx.cost == sum(o.average_price * o.filled_quantity for o in tx.orders.all())
    held = ActiveHedge.objects.filter(session=world.session, status="open")
    assert sorted((h.option_type, h.quantity) for h in held) == [("CE", 65), ("PE", 65)]
    (late,) = Alert.objects.filter(session=world.session, kind="late_fill")
    assert late.level == "critical" and ce.symbol in late.text


def test_a_hedge_the_broker_no_longer_holds_is_marked_gone():
    """Sold by hand at the broker: the books follow the broker, with an alert."""
    world = make_world()
    world.tick("09:40")
    (tx,) = world.transactions()
    pe = tx.orders.get(leg="PE")
    status, answer = world.sim.handle("placeorder", {
        "apikey": "k", "strategy": "by hand", "symbol": pe.symbol, "exchange": pe.exchange, "action": "SELL",
        "quantity": pe.quantity, "pricetype": "MARKET", "product": world.session.account.product, "price": "0",
    })
    assert status == 200, answer

    world.clock.advance(timedelta(minutes=1).total_seconds())
    orchestrator.observe(world.session.pk, world.ports)  # too soon after the buy to tell
    assert ActiveHedge.objects.filter(session=world.session, status="gone").count() == 0
    world.clock.advance(timedelta(minutes=2).total_seconds())
    orchestrator.observe(world.session.pk, world.ports)

    gone = ActiveHedge.objects.get(session=world.session, status="gone")
    assert (gone.symbol, gone.quantity) == (pe.symbol, 65)
    assert ActiveHedge.objects.filter(session=world.session, status="open").get().option_type == "CE"
    (alert,) = Alert.objects.filter(session=world.session, kind="hedge_gone")
    assert alert.level == "critical" and pe.symbol in alert.text
