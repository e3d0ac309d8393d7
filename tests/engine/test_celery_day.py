"""End to end: Celery beat fires the per-minute lookahead on Redis, a real worker ticks
the session against the simulated broker over loopback HTTP, and the hedge needed
before P2's entry is decided, dispatched as its own task and recorded."""

import math
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from brokers.models import BrokerAccount, Mode
from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
from brokers.simbroker.server import start_server, stop_server
from hedging.core.clock import AcceleratedClock, at
from hedging.models import ActiveHedge, DailySession, HedgeTransaction
from schedules.models import StrategySchedule
from tests.engine.test_replay_samples import SCENARIOS
from tests.fixtures.processes import wait_for

NIFTY_0DTE = MarginPerBasket(Decimal("433000"), Decimal("187000"))
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def clock_reaching(moment, lead_seconds: float = 12) -> AcceleratedClock:
    """A real-speed clock that reads `moment` at a wall-clock minute boundary (when beat
    fires) at least `lead_seconds` from now, so the worker is up by then."""
    boundary = math.ceil((time.time() + lead_seconds) / 60) * 60
    return AcceleratedClock(moment - timedelta(seconds=boundary - time.time()), speed=1.0)


def trading_account(url: str, mode: str) -> DailySession:
    account = BrokerAccount.objects.create(name=f"e2e-{mode}", host=url, mode=mode, api_key_env="OPENALGO_E2E_KEY")
    for name, entry, baskets in (("P1", "09:20", 1), ("P2", "09:45", 2)):
        StrategySchedule.objects.create(account=account, index_name="NIFTY", name=name, entry_time=entry,
                                        exit_time="15:15", baskets=baskets)
    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    # The baseline was taken at 09:15, before P1: today's margin counts from zero.
    return DailySession.objects.create(account=account, date=scenario.date, index_name="NIFTY", expiry=scenario.expiry,
                                       num_baskets=1, lots_per_basket=1, lot_size=65, budget=Decimal("1300000"),
                                       baseline_margin=Decimal(0))


@pytest.fixture
def two_brokers():
    """The one-entry-breach day on two simulated brokers (a paper and a live account)."""
    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    clock = clock_reaching(at(scenario.date, scenario.schedule[1].entry) - timedelta(minutes=5))
    servers = [
        start_server(build_simbroker(scenario, clock, margin_per_basket=NIFTY_0DTE, api_key="e2e-key", rate_limits=True))
        for _ in range(2)
    ]
    yield clock, servers
    for server, _ in servers:
        stop_server(server)


def test_beat_and_worker_buy_the_needed_hedge_before_the_entry(celery_processes, two_brokers, monkeypatch):
    clock, ((paper_server, paper_url), (live_server, live_url)) = two_brokers
    paper = trading_account(paper_url, Mode.PAPER)
    live = trading_account(live_url, Mode.LIVE)
    celery_processes.env.update(
        AUTOHEDGE_CLOCK=clock.spec(), OPENALGO_E2E_KEY="e2e-key", AUTOHEDGE_LIVE_TRADING="1"
    )
    celery_processes.worker()
    celery_processes.beat()

    def settled(session):
        return HedgeTransaction.objects.filter(session=session).exclude(status__in=["pending", "placed"]).first()

    paper_tx = wait_for(lambda: settled(paper), timeout=110, what="the paper hedge\n" + celery_processes.log("worker")[-3000:])
    live_tx = wait_for(lambda: settled(live), timeout=30, what="the live hedge\n" + celery_processes.log("worker")[-3000:])

    for tx in (paper_tx, live_tx):
        assert tx.action == "BUY" and tx.hedge_baskets == 1 and tx.origin == "auto"
        assert f"{tx.decided_at.astimezone(clock.sim_start.tzinfo):%H:%M}" == "09:40"  # five minutes before P2
        assert tx.for_entries == ["P2"]
        assert ActiveHedge.objects.filter(session=tx.session, status="open").count() == 2

    # Paper: recorded as if filled at the ask, and nothing reached the broker.
    assert paper_tx.status == "paper" and paper_tx.cost > 0
    assert not [o for o in paper_server.sim.order_log if o.strategy.startswith("autohedge")]
    # Live: exactly one order per leg on the broker, filled, paid from the fills.
    ours = [o for o in live_server.sim.order_log if o.strategy.startswith("autohedge")]
    assert sorted(o.symbol[-2:] for o in ours) == ["CE", "PE"]
    assert all(o.pricetype == "LIMIT" and o.quantity == 65 for o in ours)
    assert live_tx.status == "filled" and live_tx.latency_ms is not None
    assert live_tx.cost == sum(o.average_price * o.filled_quantity for o in live_tx.orders.all())
