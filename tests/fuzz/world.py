"""The data the fuzzer meets, shared by tests/fuzz and bench/fuzz.py: a paper account on
the simulated broker with today's NIFTY session mid-morning (baseline captured, P1
entered, P2 due at 10:00), yesterday's closed session with its hedges, a saved replay,
a disabled account, schedules, executions, alerts, and a staff user with a token.

Ids start at 1 on a fresh database, so the small integers the fuzzer favours hit rows."""

from datetime import time, timedelta
from decimal import Decimal

from rest_framework.authtoken.models import Token

from brokers.models import BrokerAccount, Mode
from hedging.core.clock import at
from hedging.models import Alert, DailySession
from hedging.services import orchestrator, runtime
from hedging.ports import Ports
from tests.api.fixtures import NIFTY_LOT, make_entry, make_tx
from tests.factories import DailySessionFactory, StaffFactory, StrategyScheduleFactory
from tests.fixtures.simbroker import SIM_DAY

SIM_KEY_ENV = "OPENALGO_FUZZ_SIM_KEY"
NOW = at(SIM_DAY, time(9, 56))


def staff_token() -> str:
    return Token.objects.create(user=StaffFactory(username="fuzz-staff")).key


def paper_account(sim_url: str) -> BrokerAccount:
    """The account orders go through: paper, so a fuzzed manual buy is recorded, never sent."""
    return BrokerAccount.objects.create(name="Sim (paper)", host=sim_url, mode=Mode.PAPER, api_key_env=SIM_KEY_ENV)


def seed(account: BrokerAccount, sim) -> DailySession:
    """Builds the day on `sim` (its clock a SteppedClock at the open) and leaves the
    clock at 09:56; returns today's session."""
    BrokerAccount.objects.create(name="Spare (disabled)", host=account.host, api_key_env=SIM_KEY_ENV, enabled=False)
    for name, entry, baskets in (("P1", time(9, 20), 1), ("P2", time(10, 0), 1), ("P3", time(11, 0), None)):
        StrategyScheduleFactory(account=account, name=name, entry_time=entry, exit_time=time(15, 15), baskets=baskets)
    StrategyScheduleFactory(account=account, index_name="SENSEX", name="S1", entry_time=time(9, 30), baskets=2)

    today = DailySessionFactory(account=account, date=SIM_DAY, expiry=SIM_DAY, num_baskets=1, budget=Decimal(900000))
    yesterday = DailySessionFactory(account=account, date=SIM_DAY - timedelta(days=1), expiry=SIM_DAY,
                                    status=DailySession.Status.CLOSED)
    replay = DailySessionFactory(account=account, date=SIM_DAY - timedelta(days=7), expiry=SIM_DAY - timedelta(days=7),
                                 is_replay=True, replay_name="one-entry-breach")
    for session in (yesterday, replay):
        make_entry(session, "P1", time(9, 20))
        make_entry(session, "P2", time(10, 0))
        make_tx(session, time(9, 57), for_entries=["P2"])
        make_tx(session, time(14, 0), action="EXIT", cost="120")
    make_tx(yesterday, time(11, 30), status="failed", cost="0", origin="manual", reason="manual buy by fuzz-staff")

    # The worker's ticks: the baseline at the open, P1 entered at 09:20 (the sim sells its straddle).
    sim.add_strategy("P1", "NIFTY", time(9, 20), time(15, 15), NIFTY_LOT)
    ports = Ports(clock=sim.clock, broker=runtime.broker_for(account), paper=True, sleep=lambda seconds: None)
    for moment in (time(9, 15), time(9, 25)):
        sim.clock.set(at(SIM_DAY, moment))
        orchestrator.observe(today.pk, ports)
    sim.clock.set(NOW)
    Alert.objects.create(session=today, kind="worker_stale", level="warning", text="no tick since 09:25", created_at=NOW)
    return today
