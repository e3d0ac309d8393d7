"""Every business rule of the foundation is enforced by PostgreSQL itself, and shown as a
clear form error in the admin; a refused row is never half-written."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from hedging.models import DailySession, HedgeTransaction, MarginConstant
from schedules.models import StrategySchedule
from tests.factories import TRADING_DAY, BrokerAccountFactory, DailySessionFactory, StrategyScheduleFactory

pytestmark = pytest.mark.django_db

BAD_SESSIONS = {
    "entry trigger over 100": {"entry_trigger_pct": Decimal("101")},
    "exit trigger negative": {"exit_trigger_pct": Decimal("-1")},
    "target above trigger": {"entry_target_pct": Decimal("96")},
    "exit above target": {"exit_trigger_pct": Decimal("90")},
    "zero budget": {"budget": Decimal("0")},
    "negative budget": {"budget": Decimal("-5")},
    "zero baskets": {"num_baskets": 0},
    "zero lots per basket": {"lots_per_basket": 0},
    "zero lot size": {"lot_size": 0},
    "zero lookahead": {"lookahead_minutes": 0},
    "negative cap": {"max_hedge_cost_per_day": Decimal("-1")},
    "premium window upside down": {"min_premium": Decimal("7"), "max_premium": Decimal("6")},
    "distance window upside down": {"min_otm_distance": Decimal("900"), "max_otm_distance": Decimal("200")},
    "only one margin constant": {"margin_unhedged": Decimal("433000")},
    "hedged margin above unhedged": {"margin_unhedged": Decimal("100"), "margin_hedged": Decimal("200")},
    "expiry before the date": {"expiry": TRADING_DAY - dt.timedelta(days=1)},
    "negative excluded margin": {"excluded_margin": Decimal("-1")},
}


@pytest.mark.parametrize("change", BAD_SESSIONS.values(), ids=BAD_SESSIONS.keys())
def test_database_refuses_bad_session(change):
    account = BrokerAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DailySessionFactory(account=account, **change)
    assert DailySession.objects.count() == 0


@pytest.mark.parametrize("change", BAD_SESSIONS.values(), ids=BAD_SESSIONS.keys())
def test_validation_names_the_problem(change):
    session = DailySessionFactory.build(account=BrokerAccountFactory(), **change)
    with pytest.raises(ValidationError) as refused:
        session.full_clean()
    assert refused.value.messages and all(message.strip() for message in refused.value.messages)


def test_one_session_per_account_and_date_but_replays_may_repeat():
    first = DailySessionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        DailySessionFactory(account=first.account)
    DailySessionFactory(account=first.account, is_replay=True, replay_name="what-if")
    DailySessionFactory(account=BrokerAccountFactory())  # another account, same day: fine
    assert DailySession.objects.filter(account=first.account).count() == 2


BAD_SCHEDULES = {
    "exit before entry": {"entry_time": dt.time(10, 0), "exit_time": dt.time(9, 30)},
    "before the open": {"entry_time": dt.time(9, 0)},
    "after the close": {"exit_time": dt.time(15, 45)},
    "zero baskets": {"baskets": 0},
    "no weekday": {"weekdays": 0},
    "weekend bits": {"weekdays": 64},
}


@pytest.mark.parametrize("change", BAD_SCHEDULES.values(), ids=BAD_SCHEDULES.keys())
def test_database_refuses_bad_schedule(change):
    account = BrokerAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyScheduleFactory(account=account, **change)
    assert StrategySchedule.objects.count() == 0


def test_schedule_names_are_unique_per_account_and_index():
    row = StrategyScheduleFactory(name="P1")
    with pytest.raises(IntegrityError), transaction.atomic():
        StrategyScheduleFactory(account=row.account, name="P1")
    StrategyScheduleFactory(account=row.account, name="P1", index_name="SENSEX")


def test_idempotency_key_is_unique():
    session = DailySessionFactory()
    fields = dict(session=session, action="BUY", hedge_baskets=1, reason="test", decided_at=dt.datetime.now(dt.UTC))
    HedgeTransaction.objects.create(idempotency_key="s1:0940:buy", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        HedgeTransaction.objects.create(idempotency_key="s1:0940:buy", **fields)
    assert HedgeTransaction.objects.count() == 1


def test_hedge_baskets_must_be_positive():
    session = DailySessionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        HedgeTransaction.objects.create(
            session=session, idempotency_key="k", action="BUY", hedge_baskets=0, reason="x",
            decided_at=dt.datetime.now(dt.UTC),
        )


def test_margin_constants_refuse_hedged_above_unhedged():
    with pytest.raises(IntegrityError), transaction.atomic():
        MarginConstant.objects.create(index_name="SENSEX", dte=1, unhedged=Decimal("100"), hedged=Decimal("200"))


def test_money_is_decimal():
    session = DailySessionFactory(budget=Decimal("1234567.89"))
    session.refresh_from_db()
    assert session.budget == Decimal("1234567.89")
    assert isinstance(session.max_hedge_cost_per_day, Decimal)
