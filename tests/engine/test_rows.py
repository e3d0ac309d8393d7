"""The tick's hand-written reads give the rows the ORM would, and lock as claimed."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from hedging.core.clock import IST
from hedging.models import DailySession, HedgeOrder, HedgeTransaction
from hedging.rows import fetch, update
from hedging.services.orchestrator import claim, rows_of
from tests.factories import DailySessionFactory
from tests.fixtures.rowlock import held_by_another_tick

pytestmark = pytest.mark.django_db


def make_transactions(session: DailySession) -> None:
    decided = datetime(2026, 11, 24, 9, 40, tzinfo=IST)
    for n, entries in enumerate((["P2", "P3"], [])):
        HedgeTransaction.objects.create(
            session=session, idempotency_key=f"rows:{session.pk}:{n}", action="BUY", hedge_baskets=1,
            reason="P2 would breach", for_entries=entries, util_before_pct=Decimal("61.25"),
            expected_cost=Decimal("273.50"), decided_at=decided + timedelta(minutes=1 - n),
        )


def test_rows_are_the_orms_rows_in_the_order_asked():
    session = DailySessionFactory()
    make_transactions(session)
    DailySessionFactory()  # another session's rows stay out

    read = rows_of(session, refresh=False).transactions

    expected = list(HedgeTransaction.objects.filter(session=session).order_by("decided_at", "id"))
    assert [tx.pk for tx in read] == [tx.pk for tx in expected]
    for ours, theirs in zip(read, expected):
        assert {f.attname: getattr(ours, f.attname) for f in HedgeTransaction._meta.concrete_fields} == {
            f.attname: getattr(theirs, f.attname) for f in HedgeTransaction._meta.concrete_fields
        }
    assert read[1].for_entries == ["P2", "P3"]  # JSON as a list, not its text
    assert read[0].util_before_pct == Decimal("61.25")
    assert read[0].decided_at.utcoffset() is not None
    read[0].save(update_fields=["status"])  # a saved instance, as the ORM's own: it updates


def an_order(session: DailySession) -> HedgeOrder:
    make_transactions(session)
    tx = HedgeTransaction.objects.filter(session=session).first()
    return HedgeOrder.objects.create(
        transaction=tx,
        leg="CE",
        option_type="CE",
        tag=f"rows-{tx.pk}",
        symbol="NIFTY24NOV2625500CE",
        exchange="NFO",
        strike=Decimal(25500),
        side="BUY",
        quantity=65,
        limit_price=Decimal("2.20"),
        expected_price=Decimal("2.05"),
    )


def test_an_update_writes_the_fields_named_and_stamps_the_row():
    order = an_order(DailySessionFactory())
    stamped = order.updated_at
    order.status, order.average_price, order.error = "complete", Decimal("2.05"), "not written"

    assert update(order, ["status", "average_price", "updated_at"]) == 1

    stored = HedgeOrder.objects.get(pk=order.pk)
    assert (stored.status, stored.average_price, stored.error) == ("complete", Decimal("2.05"), "")
    assert stored.updated_at > stamped and stored.updated_at == order.updated_at


def test_a_claim_whose_condition_no_longer_holds_changes_nothing():
    order = an_order(DailySessionFactory())
    order.status = "sent"
    assert update(order, ["status"], where="status = %s", params=["new"]) == 1
    order.status = "failed"
    assert update(order, ["status"], where="status = %s", params=["new"]) == 0  # another worker sent it
    assert HedgeOrder.objects.get(pk=order.pk).status == "sent"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # a test case's own transaction would hide the mistake
def test_a_lock_outside_a_transaction_is_refused():
    session = DailySessionFactory()
    with pytest.raises(TransactionManagementError):
        fetch(DailySession, "id = %s", [session.pk], skip_locked=True)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_session_another_tick_holds_is_skipped():
    session = DailySessionFactory()
    with held_by_another_tick(session), transaction.atomic():
        assert claim(session.pk) is None  # the other tick has it: this one does nothing
    with transaction.atomic():
        assert claim(session.pk).pk == session.pk
