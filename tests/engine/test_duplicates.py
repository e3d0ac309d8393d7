"""The same buy delivered 100 times, 20 at once: exactly one order per leg reaches the
broker. Two ticks racing on one session: one decision."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from hedging.models import HedgeTransaction
from hedging.services import executor, orchestrator
from tests.engine.test_services import make_world

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def in_thread(work):
    def run(*args):
        try:
            return work(*args)
        finally:
            connection.close()

    return run


def test_a_buy_delivered_a_hundred_times_places_one_order_per_leg():
    world = make_world()
    world.at("09:40")
    world.ports.dispatch = lambda tx_id, started: None  # record only: the deliveries below execute it
    outcome = world.tick()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(in_thread(lambda _: executor.execute(outcome.transaction_id, world.ports).status), range(100)))
    assert len(world.our_orders()) == 2
    assert sorted(o.symbol[-2:] for o in world.our_orders()) == ["CE", "PE"]
    tx = HedgeTransaction.objects.get(pk=outcome.transaction_id)
    assert tx.status == "filled" and set(statuses) <= {"pending", "placed", "filled"}
    assert tx.session.hedges.filter(status="open").count() == 2


def test_racing_ticks_make_one_decision():
    world = make_world()
    world.at("09:40")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(in_thread(lambda _: orchestrator.tick(world.session.pk, world.ports)), range(16)))
    assert HedgeTransaction.objects.filter(session=world.session).count() == 1
    assert len(world.our_orders()) == 2
