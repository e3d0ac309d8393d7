"""What the benchmark scripts share: a database made anew, worker processes, the table."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "docs" / "scenarios"
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")

sys.path.insert(0, str(ROOT))


def fresh_database(name: str) -> None:
    """Drop and create `name`, then migrate it (DATABASE_URL must name it already)."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def start_worker(env: dict, concurrency: int, name: str, pool: str = "threads") -> subprocess.Popen:
    """A Celery worker (`pool`: threads, or prefork as the Procfile runs it) with this environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", pool, "--concurrency", str(concurrency),
         "--hostname", f"{name}@%h", "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "a"),
    )


def stop_workers(*workers: subprocess.Popen) -> None:
    """Warm shutdown (running tasks finish); a worker still busy after 30 s is killed, and said so."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print(f"worker {worker.pid} still busy 30 s after SIGTERM: killed", file=sys.stderr)
            worker.kill()
            worker.wait()


def _processes() -> Iterator[tuple[int, int, str, float]]:
    """(pid, parent pid, name, user + system CPU seconds so far) of each live process (Linux)."""
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            name, rest = open(f"/proc/{entry}/stat").read().rsplit(")", 1)
        except OSError:  # gone meanwhile
            continue
        fields = rest.split()
        yield int(entry), int(fields[1]), name.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU a process and its live children (a prefork pool) have used so far."""
    return sum(cpu for each, parent, _, cpu in _processes() if pid in (each, parent))


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU each PostgreSQL process has used so far, by pid."""
    return {pid: cpu for pid, _, name, cpu in _processes() if name == "postgres"}


def postgres_cpu_since(before: dict[int, float]) -> float:
    """PostgreSQL's CPU since `before` (a backend gone meanwhile is not counted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu_seconds().items())


def idle_seconds() -> float:
    """Idle time of all the machine's cores so far (Linux)."""
    return int(open("/proc/stat").readline().split()[4]) / os.sysconf("SC_CLK_TCK")


def python_loop_seconds() -> float:
    """CPU for a fixed pure-Python loop: this machine's speed changes from day to day by
    as much as a code change does, so the table carries it beside the figures."""
    started = time.process_time()
    sum(range(10**7))
    return time.process_time() - started


def print_table(rows: list[tuple[str, str]]) -> None:
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, PostgreSQL at {PG.split('@')[-1]}; "
          f"sum(range(10**7)) takes {python_loop_seconds():.2f} s of CPU")
    width = max(len(name) for name, _ in rows)
    for name, figure in rows:
        print(f"{name:<{width}}  {figure}")


# one-entry-breach's schedule: on a ₹13L budget, P2 at 09:45 takes utilisation to 99.9%.
SCHEDULE = (("P1", "09:20", 1), ("P2", "09:45", 2))
TIGHT_BUDGET = Decimal(1300000)


def breach_account(name: str, host: str, key_env: str):
    """A live account with one-entry-breach's schedule, on the broker at `host`."""
    from brokers.models import BrokerAccount, Mode
    from schedules.models import StrategySchedule

    account = BrokerAccount.objects.create(name=name, host=host, mode=Mode.LIVE, api_key_env=key_env)
    for row, entry, baskets in SCHEDULE:
        StrategySchedule.objects.create(account=account, index_name="NIFTY", name=row, entry_time=entry,
                                        exit_time="15:15", baskets=baskets)
    return account


def fresh_session(account, scenario):
    """The account's session of the scenario's day, made anew, past its first reading
    (lot size, freeze quantity, baseline) with its executions (the minute's margin
    snapshot has made them by the tick)."""
    from hedging.models import DailySession
    from hedging.services import scheduler

    DailySession.objects.filter(account=account).delete()
    session = DailySession.objects.create(account=account, date=scenario.date, index_name="NIFTY",
                                          expiry=scenario.expiry, lot_size=65, freeze_qty=1800, budget=TIGHT_BUDGET,
                                          baseline_margin=Decimal(0))
    scheduler.ensure_executions(session)
    entered_by_0940(session.executions.all())
    return session


def entered_by_0940(executions) -> None:
    """P1 (09:20) entered, as the 09:20 tick found it: the measured tick is a 09:40 one."""
    from hedging.core.clock import at
    from hedging.models import StrategyExecution

    executions = executions.filter(name="P1")
    first = executions.select_related("session").first()
    executions.update(status=StrategyExecution.Status.ENTERED, entered_at=at(first.session.date, first.planned_entry))
