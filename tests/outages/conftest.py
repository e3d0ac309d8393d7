"""The outage suite's world: on the one-entry-breach day a two-basket hedge is due
from 09:40 (five minutes before P2), the simulated broker serves it over loopback to
real Celery workers, and alerts go to the simulated Telegram Bot API. Ticks are
enqueued on Redis by the test, as beat would (one test runs beat itself).

Extends tests/fixtures/processes.py (shared, so not edited): one worker for the whole
directory, workers on a Redis server of a test's own, and a PostgreSQL outage of the
test database.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from celery import Celery
from django.db import connection

from brokers.models import BrokerAccount, Mode
from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
from brokers.simbroker.server import start_server, stop_server
from hedging.telegram.simulator import TelegramSim, start
from hedging.core.clock import AcceleratedClock, at
from hedging.models import Alert, DailySession, HedgeTransaction
from schedules.models import StrategySchedule
from tests.engine.test_replay_samples import SCENARIOS
from tests.fixtures.processes import CELERY_REDIS_URL, Processes, wait_for, worker_env

SCENARIO = load_scenario(SCENARIOS / "one-entry-breach.json")
NIFTY_0DTE = MarginPerBasket(Decimal("433000"), Decimal("187000"))
DUE = at(SCENARIO.date, SCENARIO.schedule[1].entry) - timedelta(minutes=5)
# Below the scenario's 1.3 M, so two baskets are needed (130 a leg): half a leg is a
# whole lot, and a partial fill can happen.
BUDGET = Decimal("1100000")
API_KEY = "outage-key"
CHATS = ("1001", "1002")
SETTLED = ("filled", "partial", "failed")


def outage_env(clock: AcceleratedClock, telegram: TelegramSim) -> dict[str, str]:
    """Short broker timeouts: a lost answer is looked up after 2 s and, not found,
    looked for three seconds more, then given up (never sent again)."""
    return {
        "AUTOHEDGE_CLOCK": clock.spec(),
        "AUTOHEDGE_LIVE_TRADING": "1",
        "OPENALGO_OUTAGE_KEY": API_KEY,
        "OPENALGO_TIMEOUT_READ": "2",
        "AUTOHEDGE_ORDER_SETTLE_SECONDS": str(clock.speed),  # one real second, in clock seconds
        "AUTOHEDGE_LOST_ORDER_WATCH_SECONDS": str(3 * clock.speed),
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_CHAT_IDS": ",".join(CHATS),
        "TELEGRAM_BASE_URL": telegram.base_url,
    }


def processes(logs: Path, redis_url: str = CELERY_REDIS_URL, **env: str) -> Processes:
    """As the shared `celery_processes` fixture makes them, for any scope and Redis."""
    redis.Redis.from_url(redis_url).flushdb()
    return Processes({**worker_env(redis_url), **env}, logs)


def stop(running: Processes) -> None:
    """Stop what still runs; a process that died (a finding of its own) is left out."""
    for name, process in list(running.running.items()):
        if process.poll() is not None:
            del running.running[name]
    running.stop_all()


@lru_cache(maxsize=4)
def _sender(redis_url: str) -> Celery:
    return Celery("outage-tests", broker=redis_url, set_as_current=False)


def enqueue(task: str, *args, redis_url: str = CELERY_REDIS_URL) -> str:
    """Send a task as beat does and return its id; a fresh connection each time, as
    Redis may have restarted since the last one."""
    app = _sender(redis_url)
    with app.connection_for_write() as conn:
        return app.send_task(task, args=args, connection=conn).id


def tick(session: DailySession, redis_url: str = CELERY_REDIS_URL) -> str:
    return enqueue("hedging.lookahead_batch", [session.pk], time.time(), redis_url=redis_url)


def finished(worker: Processes, task_id: str) -> bool:
    log = worker.log("worker")
    return f"[{task_id}] succeeded" in log or f"[{task_id}] raised" in log


def idle(worker: Processes) -> bool:
    """Every task the worker received has ended: it holds none unacknowledged."""
    log = worker.log("worker")
    return log.count("] received") == log.count("] succeeded") + log.count("] raised")


@dataclass
class Broker:
    """The simulated broker, steered and read through its own HTTP face only."""

    url: str

    def inject(self, endpoint: str, kind: str, **params) -> None:
        answer = requests.post(f"{self.url}/sim/faults", json={"endpoint": endpoint, "kind": kind, **params}, timeout=5)
        answer.raise_for_status()

    def orders(self) -> list[dict]:
        """Our orders in the broker's order log (not the scripted short straddles)."""
        log = requests.get(f"{self.url}/sim/orders", timeout=5).json()["orders"]
        return [o for o in log if o["strategy"].startswith("autohedge-")]

    def tags(self) -> Counter:
        return Counter(o["strategy"] for o in self.orders())

    def state(self) -> dict:
        return requests.get(f"{self.url}/sim/state", timeout=5).json()

    def longs(self) -> dict[str, int]:
        """What the broker says we hold long, per symbol: the hedges bought."""
        return {p["symbol"]: p["quantity"] for p in self.state()["positions"] if p["quantity"] > 0}


@contextmanager
def serving(clock: AcceleratedClock):
    server, url = start_server(build_simbroker(SCENARIO, clock, margin_per_basket=NIFTY_0DTE, api_key=API_KEY))
    try:
        yield Broker(url)
    finally:
        stop_server(server)


def trading_session(broker: Broker, name: str, **fields) -> DailySession:
    """A live account on `broker` trading the scenario's P1 (1 basket, 09:20) and P2
    (2 baskets, 09:45); `name` also finds its alerts among the Bot API's messages."""
    account = BrokerAccount.objects.create(name=name, host=broker.url, mode=Mode.LIVE, api_key_env="OPENALGO_OUTAGE_KEY")
    for row in SCENARIO.schedule:
        StrategySchedule.objects.create(account=account, index_name="NIFTY", name=row.name, entry_time=row.entry,
                                        exit_time=row.exit, baskets=row.baskets)
    return DailySession.objects.create(account=account, date=SCENARIO.date, index_name="NIFTY", expiry=SCENARIO.expiry,
                                       num_baskets=1, lots_per_basket=1, lot_size=65, budget=BUDGET,
                                       baseline_margin=Decimal(0), **fields)


def settled(session: DailySession, worker: Processes, timeout: float = 30) -> HedgeTransaction:
    return wait_for(lambda: HedgeTransaction.objects.filter(session=session, status__in=SETTLED).first(),
                    timeout=timeout, interval=0.2, what=f"{session.account.name}'s hedge to settle\n{tail(worker)}")


def alerted(session: DailySession, kind: str, worker: Processes) -> Alert:
    """The alert row (written just after the transaction settles)."""
    return wait_for(lambda: Alert.objects.filter(session=session, kind=kind).first(), timeout=10, interval=0.2,
                    what=f"the {kind} alert of {session.account.name}\n{tail(worker)}")


def tail(worker: Processes, *names: str) -> str:
    return "\n".join(worker.log(name)[-3000:] for name in names or ("worker",))


def open_hedges(session: DailySession) -> dict[str, int]:
    held = Counter()
    for symbol, quantity in session.hedges.filter(status="open").values_list("symbol", "quantity"):
        held[symbol] += quantity
    return dict(held)


def received(telegram: TelegramSim, alert: Alert) -> dict[str, int]:
    """How many times each chat got this alert (its title, for its account)."""
    title, account = alert.kind.replace("_", " ").capitalize(), alert.session.account.name
    return {chat: sum(title in m.text and account in m.text for m in telegram.sent_to(chat)) for chat in CHATS}


def delivered_once(telegram: TelegramSim, alert: Alert, worker: Processes) -> None:
    wait_for(lambda: Alert.objects.filter(pk=alert.pk, delivery="sent").exists(), timeout=20, interval=0.2,
             what=f"{alert.kind} delivered\n{tail(worker)}")
    assert received(telegram, alert) == dict.fromkeys(CHATS, 1)


@pytest.fixture(scope="package")
def clock() -> AcceleratedClock:
    """09:40 now, at half the real speed: every test finds the hedge due (until 09:45,
    ten minutes away), each with a broker and account of its own."""
    return AcceleratedClock(DUE, speed=0.5)


@pytest.fixture(scope="package")
def telegram():
    server, _ = start(TelegramSim())
    yield server.sim
    server.stop()


@pytest.fixture(scope="package")  # stopped with the package: the tests after it share its Redis db
def worker(django_db_setup, clock, telegram, tmp_path_factory) -> Processes:
    """The worker the tests on the suite's Redis share."""
    running = processes(tmp_path_factory.mktemp("worker"), **outage_env(clock, telegram))
    running.worker()
    yield running
    stop(running)


# --- a Redis server of the test's own ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RedisServer:
    port: int
    logs: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with open(self.logs / "redis.log", "ab") as log:
            self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                             "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.answers, timeout=10, interval=0.05, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        """A crash: SIGKILL, and with nothing saved it comes back empty."""
        self.process.kill()
        self.process.wait(timeout=10)

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.kill()


@pytest.fixture
def on_own_redis(own_redis, clock, telegram, tmp_path):
    """Celery processes on `own_redis`: start them with `.worker()` / `.beat()`."""
    running = processes(tmp_path, own_redis.url, **outage_env(clock, telegram))
    yield running
    stop(running)


# --- PostgreSQL going away, for the test database only -----------------------------------


@contextmanager
def superuser():
    s = connection.settings_dict
    with psycopg.connect(host=s.get("HOST") or "127.0.0.1", port=s.get("PORT") or 5432, user=s["USER"],
                         password=s.get("PASSWORD") or None, dbname="postgres", autocommit=True) as admin:
        yield admin


@dataclass
class PostgresOutage:
    """A PostgreSQL restart as the application sees it, done to the test database alone
    (others' tests share the server, so it is not restarted): a shutdown ends every
    session with FATAL 57P01, which is what pg_terminate_backend sends, and until the
    server is back new connections are refused, as ALLOW_CONNECTIONS false refuses
    them. The test's own connection is kept: it is the observer, not the application."""

    database: str
    observer_pid: int

    def down(self) -> None:
        with superuser() as admin:
            admin.execute(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS false')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                          (self.database, self.observer_pid))

    def up(self) -> None:
        with superuser() as admin:
            admin.execute(f'ALTER DATABASE "{self.database}" WITH ALLOW_CONNECTIONS true')


@pytest.fixture
def postgres_outage():
    connection.ensure_connection()
    outage = PostgresOutage(connection.settings_dict["NAME"], connection.connection.info.backend_pid)
    yield outage
    outage.up()
