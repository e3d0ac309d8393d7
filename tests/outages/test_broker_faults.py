"""The broker misbehaving on the hedge's orders, through a real worker. For each fault a
tick decides a two-basket hedge (130 a leg) and the first placements meet the fault.
The broker's own order log must hold each tag once (a re-priced retry is a new attempt
with its own tag), every order there must be on its row with its id, the transaction
must settle as docs/hedging-decisions.md (Orders) says, the open hedges must be what
the broker holds, and every chat must get the one alert that says how it went."""

from dataclasses import dataclass, field

import pytest

from hedging.models import Alert
from tests.outages.conftest import alerted, delivered_once, open_hedges, serving, settled, tick, trading_session

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
BOUGHT = "2 hedge basket(s) bought"


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
