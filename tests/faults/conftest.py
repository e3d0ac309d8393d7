"""Fixtures of the fault suite: one shared clock, a warm process that forks the Celery
workers, the simulated broker on loopback."""

import subprocess
import sys
from datetime import time
from decimal import Decimal

import pytest
import redis

from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
from brokers.simbroker.server import start_server, stop_server
from hedging.core.clock import AcceleratedClock, at
from tests.engine.test_replay_samples import SCENARIOS
from tests.fixtures.processes import CELERY_REDIS_URL, ROOT, worker_env

from .world import KEY, KEY_ENV, Day, Workers

SCENARIO = load_scenario(SCENARIOS / "one-entry-breach.json")
NIFTY_0DTE = MarginPerBasket(Decimal("433000"), Decimal("187000"))  # the plan's basket margins


@pytest.fixture(scope="package")
def fault_clock() -> AcceleratedClock:
    """Half speed from 09:40: P2 (09:45) stays inside the five-minute lookahead for ten
    minutes of wall time."""
    return AcceleratedClock(at(SCENARIO.date, time(9, 40)), speed=0.5)


@pytest.fixture(scope="package")  # stopped with the package: the tests after it share its Redis db
def zygote(django_db_setup, fault_clock):
    env = {
        **worker_env(),
        "AUTOHEDGE_CLOCK": fault_clock.spec(),
        "AUTOHEDGE_LIVE_TRADING": "1",
        KEY_ENV: KEY,
        # A held placement is killed long before the client would give up on it.
        "OPENALGO_TIMEOUT_READ": "60",
        "CELERY_SKIP_CHECKS": "1",  # spares each forked worker the system checks (a quarter second)
    }
    process = subprocess.Popen([sys.executable, "-m", "tests.faults.zygote"], cwd=ROOT, env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    yield process
    process.stdin.close()
    process.wait(timeout=30)


@pytest.fixture
def workers(zygote, tmp_path):
    redis.Redis.from_url(CELERY_REDIS_URL).flushdb()
    fleet = Workers(zygote, tmp_path)
    yield fleet
    fleet.stop_all()


@pytest.fixture
def day(fault_clock):
    sim = build_simbroker(SCENARIO, fault_clock, margin_per_basket=NIFTY_0DTE, api_key=KEY, rate_limits=False)
    server, url = start_server(sim)
    yield Day(sim, url, fault_clock)
    stop_server(server)
