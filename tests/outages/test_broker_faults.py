"""The broker misbehaving on the hedge's orders, through a real worker. For each fault a
tick decides a two-basket hedge (130 a leg) and the first placements meet the fault.
The broker's own order log must hold each tag once (a re-priced retry is a new attempt
with its own tag), every order there must be on its row with its id, the transaction
must settle as docs/hedging-decisions.md (Orders) says, the open hedges must be what
the broker holds, and every chat must get the one alert that says how it went."""

from dataclasses import dataclass, field

import pytest

from hedging.models import Alert
from tests.fixtures.processes import wait_for
from tests.outages.conftest import (
    alerted, delivered_once, enqueue, open_hedges, serving, settled, tail, tick, trading_session,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
BOUGHT = "2 hedge baskets bought"


@dataclass(frozen=True)
class Case:
    fault: dict  # for /sim/faults on placeorder
    status: str
    attempts: dict[str, int]  # leg: attempts the broker received, one order each
    alert: str
    says: str  # in the alert's text
    error: str | None = ""  # in the transaction's error text; "": none, None: not pinned
    session: dict = field(default_factory=dict)


CASES = {
    # Answer lost, nothing placed: looked up through the watch, never sent again (a real
    # OpenAlgo may place it late), then given up: settled partial and alerted as critical.
    "error_500": Case({"kind": "error_500"}, "partial", {"PE": 1}, "order_failed", "partly filled",
                      "not in the order book"),
    "timeout_not_placed": Case({"kind": "timeout", "seconds": 3, "placed": False}, "partial", {"PE": 1},
                               "order_failed", "partly filled", "not in the order book"),
    # Answer lost, order placed: found by its tag, never sent again.
    "timeout_placed": Case({"kind": "timeout", "seconds": 3}, "filled", {"CE": 1, "PE": 1}, "hedge_bought", BOUGHT,
                           "timed out waiting for the answer"),
    "malformed_json": Case({"kind": "malformed_json"}, "filled", {"CE": 1, "PE": 1}, "hedge_bought", BOUGHT,
                           "unreadable answer"),
    # Refused before placing: sent again after the rate window.
    "rate_limit": Case({"kind": "rate_limit"}, "filled", {"CE": 1, "PE": 1}, "hedge_bought", BOUGHT),
    # Rejected, or queued for approval: not retried; settled partial and alerted as critical.
    "reject": Case({"kind": "reject", "reason": "margin shortfall"}, "partial", {"CE": 1, "PE": 1}, "order_failed",
                   "partly filled: CE #1: margin shortfall", "CE #1: margin shortfall"),
    "semi_auto": Case({"kind": "semi_auto"}, "partial", {"PE": 1}, "order_failed", "partly filled", "approval"),
    # The unfilled rest is cancelled and placed again at the new ask, as attempt 2.
    "partial_fill": Case({"kind": "partial_fill", "fraction": 0.5}, "filled", {"CE": 2, "PE": 1}, "hedge_bought", BOUGHT),
    "no_fill": Case({"kind": "no_fill"}, "filled", {"CE": 2, "PE": 1}, "hedge_bought", BOUGHT),
    # A leg that never fills: 1 + order_retries attempts, then given up and alerted (the
    # row keeps no reason; the alert says it). The other leg fills on its second attempt.
    "a_leg_never_fills": Case({"kind": "no_fill", "count": 3}, "partial", {"CE": 2, "PE": 2}, "order_failed",
                              "partly filled: no fill", None, {"order_retries": 1}),
}


@pytest.mark.parametrize("name", CASES)
def test_a_placement_fault_is_resolved_or_alerted_never_doubled(name, worker, clock, telegram):
    case = CASES[name]
    with serving(clock) as broker:
        session = trading_session(broker, f"fault-{name}", **case.session)
        broker.inject("placeorder", **case.fault)
        tick(session)
        tx = settled(session, worker)
        alert = alerted(session, case.alert, worker)
        delivered_once(telegram, alert, worker)
        at_broker, longs, pending = broker.orders(), broker.longs(), broker.state()["faults"]

    assert not pending  # the fault did strike
    tags = [o["strategy"] for o in at_broker]
    expected = [f"autohedge-{tx.pk}-{leg}-{n}" for leg, count in case.attempts.items() for n in range(1, count + 1)]
    assert sorted(tags) == sorted(expected)
    recorded = {o.tag: o.broker_order_id for o in tx.orders.all() if o.broker_order_id}
    assert recorded == {o["strategy"]: o["orderid"] for o in at_broker}
    assert tx.status == case.status and tx.hedge_baskets == 2
    if case.error is not None:
        assert case.error in tx.error if case.error else tx.error == "", tx.error
    assert open_hedges(session) == longs
    assert alert.level == ("critical" if case.alert == "order_failed" else "info") and case.says in alert.text
    assert Alert.objects.filter(session=session, kind__in=("hedge_bought", "order_failed")).count() == 1


@pytest.mark.parametrize("late", [1, 4], ids=["within-the-watch", "after-it"])
def test_a_placement_the_broker_places_late_is_one_order_and_in_the_books(late, worker, clock, telegram):
    """The CE's answer is dropped and the broker places it `late` clock seconds later, past
    the settle time (where a blind resend once doubled it). Within the watch (1.5 clock
    seconds, a tag look-up every 5 real seconds) it is found; after it the transaction
    settles short and the minute's snapshot takes the late order up. Either way: one
    order per leg at the broker, and the books hold what the broker holds."""
    with serving(clock) as broker:
        session = trading_session(broker, f"late-{late}")
        broker.inject("placeorder", "late", after=late, lost="drop")
        tick(session)
        tx = settled(session, worker)
        wait_for(lambda: len(broker.orders()) == 2, timeout=20, interval=0.2, what="the late order at the broker")
        if tx.status != "filled":
            enqueue("hedging.snapshot", session.pk)
            wait_for(lambda: Alert.objects.filter(session=session, kind="late_fill").exists(), timeout=20, interval=0.2,
                     what=f"the late order taken up\n{tail(worker)}")
        tx.refresh_from_db()
        tags, longs = broker.tags(), broker.longs()

    assert tx.status == "filled" and set(tags.values()) == {1} and len(tags) == 2
    assert open_hedges(session) == longs
    assert Alert.objects.filter(session=session, kind="order_unknown").count() == 1
    assert Alert.objects.filter(session=session, kind="late_fill").count() == (0 if late == 1 else 1)
