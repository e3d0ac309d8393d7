"""Fixtures the API, dashboard and browser tests share: users, a live account on the
simulated broker, a session on the sim's day, and the sim's clock as the app's clock."""

from datetime import time
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from config.celery import app as celery_app
from hedging import tasks
from hedging.core.clock import at
from hedging.models import HedgeOrder, HedgeTransaction, StrategyExecution
from hedging.services import orchestrator, runtime
from hedging.ports import Ports
from tests.factories import BrokerAccountFactory, DailySessionFactory, StaffFactory, StrategyScheduleFactory, UserFactory
from tests.fixtures.simbroker import SIM_DAY

SIM_KEY_ENV = "OPENALGO_TEST_SIM_KEY"
NIFTY_LOT = 65


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def trader(db):
    return UserFactory()


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def staff_api(staff):
    return api_client(staff)


@pytest.fixture
def trader_api(trader):
    return api_client(trader)


@pytest.fixture
def sim_clock(simbroker, monkeypatch):
    """The app reads the simulated broker's clock (services and sim agree on the time)."""
    monkeypatch.setattr(runtime, "clock", lambda: simbroker.clock)
    return simbroker.clock


@pytest.fixture
def live_account(simbroker_server, monkeypatch, settings):
    monkeypatch.setenv(SIM_KEY_ENV, simbroker_server.api_key)
    settings.AUTOHEDGE_LIVE_TRADING = True
    return BrokerAccountFactory(host=simbroker_server.url, mode="live", api_key_env=SIM_KEY_ENV)


@pytest.fixture
def sim_session(live_account, sim_clock):
    """NIFTY, 0DTE on the sim's day, one basket, budget ₹9,00,000: one open basket
    (₹4.33L) plus one more entering projects past the 95% trigger."""
    return DailySessionFactory(account=live_account, date=SIM_DAY, expiry=SIM_DAY, num_baskets=1, budget=Decimal("900000"))


@pytest.fixture
def sim_ports(simbroker, live_account):
    return Ports(clock=simbroker.clock, broker=runtime.broker_for(live_account), paper=False, sleep=lambda seconds: None)


@pytest.fixture
def trading_day(simbroker, sim_session, sim_ports):
    """P1 enters at 09:20 (the sim sells its straddle), P2 is scheduled at 10:00. Ticks
    at 09:15 (baseline) and 09:25 (P1 entered) as the worker would; the clock is left
    at 09:56, P2 inside the lookahead."""
    account = sim_session.account
    StrategyScheduleFactory(account=account, name="P1", entry_time=time(9, 20), exit_time=time(15, 15), baskets=1)
    StrategyScheduleFactory(account=account, name="P2", entry_time=time(10, 0), exit_time=time(15, 15), baskets=1)
    simbroker.add_strategy("P1", "NIFTY", time(9, 20), time(15, 15), NIFTY_LOT)
    for moment in (time(9, 15), time(9, 25)):
        simbroker.clock.set(at(SIM_DAY, moment))
        orchestrator.observe(sim_session.pk, sim_ports)
    simbroker.clock.set(at(SIM_DAY, time(9, 56)))
    sim_session.refresh_from_db()
    return sim_session


@pytest.fixture
def celery_eager(monkeypatch):
    """Tasks run in the calling thread (the executor through its real Celery task);
    alerts are only collected."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    delivered: list[int] = []
    monkeypatch.setattr(tasks, "deliver_alert_later", delivered.append)
    return delivered


def make_tx(session, moment: time, action="BUY", status="filled", cost="650", baskets=1, for_entries=(), **fields):
    """A settled hedge transaction with its two leg orders, as the executor leaves it."""
    decided_at = at(session.date, moment)
    tx = HedgeTransaction.objects.create(
        session=session,
        idempotency_key=f"test:{session.pk}:{action}:{moment}",
        action=action,
        hedge_baskets=baskets,
        reason=fields.pop("reason", f"{', '.join(for_entries) or 'manual'}: test"),
        for_entries=list(for_entries),
        util_before_pct=Decimal("60"),
        util_projected_pct=Decimal("99.9"),
        util_after_pct=Decimal("81"),
        expected_cost=Decimal(cost),
        cost=Decimal(cost),
        status=status,
        decided_at=decided_at,
        completed_at=decided_at,
        latency_ms=fields.pop("latency_ms", 120.0),
        **fields,
    )
    for leg, strike in (("CE", Decimal(24500)), ("PE", Decimal(23500))):
        HedgeOrder.objects.create(
            transaction=tx,
            leg=leg,
            option_type=leg,
            tag=f"autohedge-{tx.pk}-{leg}-1",
            symbol=f"NIFTY24NOV26{strike:.0f}{leg}",
            exchange="NFO",
            strike=strike,
            side="BUY" if action == "BUY" else "SELL",
            quantity=65 * baskets,
            limit_price=Decimal("5.25"),
            expected_price=Decimal("5"),
            status="complete",
            filled_quantity=65 * baskets,
            average_price=Decimal("5"),
        )
    return tx


def make_entry(session, name: str, moment: time, baskets=1, status="entered"):
    return StrategyExecution.objects.create(
        session=session, name=name, baskets=baskets, planned_entry=moment, planned_exit=time(15, 15), status=status,
        entered_at=at(session.date, moment) if status != "scheduled" else None,
    )
