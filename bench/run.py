"""Auto-Hedge benchmarks: prints figures, asserts nothing.

    .venv/bin/python bench/run.py [--ticks 1000] [--days 3]

- replay: one sample day through `replay` (in-process simulated broker), PostgreSQL.
- tick → order: a lookahead task enqueued on Redis, a real Celery worker ticks the
  session against the simulated broker over loopback HTTP, decides a hedge and places
  it, and the simulated broker receives the first leg's order. Measured from the
  enqueue to the broker's receipt; a fresh session (and a reset broker) each time.
  `--broker-profile real-openalgo`: the simulated broker answers as slowly as a real
  OpenAlgo server does (docs/simbroker.md), the strike list read beforehand as the
  minute's margin snapshot keeps it.
- one tick over many sessions: `lookahead_all` fans out over N accounts in batches, each
  account with its own simulated OpenAlgo (one loopback server, bench/front.py, with a
  path and an API key per account), one session in ten needing a hedge
  (`--buyers-every`); measured from
  the enqueue to the last session's tick written, on one worker and on two, each run as
  the Procfile runs it (prefork, 4 processes; `--pool`, `--concurrency`). The CPU the
  workers, PostgreSQL and this process (the simulated brokers) used, and the cores'
  idle time, are printed beside it. `--broker-latency` holds each broker answer back,
  as a real OpenAlgo's trip to its broker would (tens of milliseconds).
  The option chains' strike lists are first read into Redis, as the forecast before
  the open and the minute's margin snapshots keep them. The day's first minute finds
  the workers cold (each process opens its connection to each account's OpenAlgo); it
  is printed, then five more minutes are run, and the slowest of the last three (a
  minute as the rest of the day runs it) is the figure.
- hedge action → Telegram: see bench/alerts.py.

Uses the PostgreSQL database `autohedge_bench` (dropped and made anew) and Redis db 13.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from alerts import bench_hedge_to_telegram
from front import LeanFront
from common import (
    PG, SCENARIOS, SCHEDULE, TIGHT_BUDGET, breach_account, cpu_seconds, entered_by_0940, fresh_database, fresh_session,
    idle_seconds, percentile, postgres_cpu_seconds, postgres_cpu_since, print_table, start_worker, stop_workers,
)

DATABASE = "autohedge_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
KEY = "bench-key"
# Two legs a tick: keep under OpenAlgo's 10 orders/s, which the client honours by waiting.
ORDER_PACING = 0.25

os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"{PG}/{DATABASE}", CELERY_BROKER_URL=REDIS_URL,
                  REDIS_URL=REDIS_URL, OPENALGO_BENCH_KEY=KEY, AUTOHEDGE_LIVE_TRADING="1", DEBUG="0", LOG_LEVEL="WARNING")


def bench_replay(days: int) -> list[tuple[str, str]]:
    from brokers.simbroker.scenario import load_scenario
    from hedging.services.replay import replay

    rows = []
    for path in sorted(SCENARIOS.glob("*.json")):
        scenario = load_scenario(path)
        replay(scenario)  # warm-up: imports, the margin constants, the connection
        times = []
        for _ in range(days):
            started = time.perf_counter()
            replay(scenario)
            times.append(time.perf_counter() - started)
        rows.append((f"replay {path.stem}", f"mean {statistics.mean(times):.2f} s, max {max(times):.2f} s ({days} runs)"))
    return rows


def bench_tick_to_order(ticks: int, broker_profile: str = "off", latency_ms: float = 0) -> list[tuple[str, str]]:
    """`broker_profile` real-openalgo: the simulated broker answers as slowly as a real
    OpenAlgo server (its chain ~0.3 s a strike, multiquotes ~0.15 s a symbol, each call
    tens to hundreds of ms); `latency_ms`: every answer that long instead. The strike
    list is read beforehand, as the minute's snapshot keeps it."""
    import redis

    from brokers.openalgo import OpenAlgoClient
    from brokers.simbroker.latency import Latency
    from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
    from hedging.core.settings import HedgeSettings
    from hedging.services import selector
    from brokers.simbroker.server import start_server, stop_server
    from hedging import tasks
    from hedging.core.clock import AcceleratedClock, at
    from hedging.models import HedgeTransaction

    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    # A tenth of real speed from 09:40:00: P2 (09:45) stays inside the lookahead for 50 minutes.
    clock = AcceleratedClock(at(scenario.date, scenario.schedule[1].entry) - timedelta(minutes=5), speed=0.1)
    sim = build_simbroker(scenario, clock, margin_per_basket=MarginPerBasket(Decimal(433000), Decimal(187000)),
                          api_key=KEY, rate_limits=False, latency=Latency(base_ms=latency_ms) if latency_ms else broker_profile)
    received: dict[str, float] = {}
    arrived = threading.Event()
    handle = sim.handle

    def timed_handle(endpoint, body, *args, **kwargs):
        if endpoint == "placeorder":
            received.setdefault("first", time.time())
            arrived.set()
        return handle(endpoint, body, *args, **kwargs)

    sim.handle = timed_handle  # type: ignore[method-assign]  # a deliberate patch of this one broker, to time its receipt
    server, url = start_server(sim)
    redis.Redis.from_url(REDIS_URL).flushdb()
    selector.strike_list(SimpleNamespace(index_name="NIFTY", expiry=scenario.expiry), OpenAlgoClient(url, KEY, rate_limit=False),
                         clock.now(), HedgeSettings.for_index("NIFTY", {}))
    env = {**os.environ, "AUTOHEDGE_CLOCK": clock.spec()}
    worker = start_worker(env, 2, "latency")
    latencies, failures = [], 0
    try:
        tasks.lookahead_batch.app.connection_for_write().ensure_connection(max_retries=3)
        time.sleep(3)  # the worker's start-up
        # One account, as in production (its broker client and connections stay warm);
        # a fresh session of it each time, on a reset broker.
        account = breach_account("bench", url, "OPENALGO_BENCH_KEY")
        for n in range(ticks + 5):
            sim.reset()
            received.clear()
            arrived.clear()
            session = fresh_session(account, scenario)
            started = time.time()
            tasks.lookahead_batch.delay([session.pk], started)
            arrived.wait(20)  # no polling while the tick runs: it would compete for the cores
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not HedgeTransaction.objects.filter(session=session, status="filled").exists():
                time.sleep(0.05)
            time.sleep(ORDER_PACING)
            if "first" not in received:
                failures += 1
            elif n >= 5:  # the first few warm the worker's connections
                latencies.append((received["first"] - started) * 1000)
    finally:
        stop_workers(worker)
        stop_server(server)
    if not latencies:
        return [("tick → order", f"no order reached the broker ({failures} failures)")]
    broker = ", broker as a real OpenAlgo" if broker_profile != "off" else ""
    if latency_ms:
        broker = f", every answer in {latency_ms:g} ms"
    return [(
        f"tick → order (worker, loopback{broker})",
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
        f"max {max(latencies):.1f} ms over {len(latencies)} ticks; {failures} without an order",
    )]


ROOMY_BUDGET = Decimal(3000000)  # utilisation stays under 45% all morning


class Accounts:
    """Many simulated broker accounts behind one server, told apart by API key. Each
    account has its own OpenAlgo (one per trader; its rate limits its own): here each is
    reached under its own path of the one loopback server, as behind a reverse proxy.
    `one_host`: all of them behind one OpenAlgo, which refuses calls over its limits."""

    def __init__(self, sims: dict, one_host: bool = False):
        from brokers.simbroker.ratelimit import RateLimiter

        self.sims = sims
        self.chain_reads = 0
        self.refused = 0
        self.limits = RateLimiter() if one_host else None

    def handle(self, endpoint, body):
        from brokers.simbroker.ratelimit import limit_answer

        if self.limits and not self.limits.allow("workers", endpoint):
            self.refused += 1
            return limit_answer(endpoint)
        self.chain_reads += endpoint == "optionchain"
        return self.sims[json.loads(body)["apikey"]].handle(endpoint, body)


def bench_fanout(sessions: int, pool: str, concurrency: int, buyers_every: int,
                 worker_counts: tuple[int, ...] = (1, 2), latency_ms: float = 0,
                 one_host: bool = False) -> list[tuple[str, str]]:
    import redis

    from brokers.models import BrokerAccount, Mode
    from brokers.openalgo import OpenAlgoClient
    from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
    from hedging.core.settings import HedgeSettings
    from hedging import tasks
    from hedging.core.clock import AcceleratedClock, at
    from hedging.models import DailySession, HedgeTransaction, StrategyExecution
    from hedging.services import scheduler, selector
    from schedules.models import StrategySchedule

    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    # 09:40, time running at a tenth: P2 (09:45) stays inside the lookahead throughout.
    clock = AcceleratedClock(at(scenario.date, scenario.schedule[1].entry) - timedelta(minutes=5), speed=0.1)
    margin = MarginPerBasket(Decimal(433000), Decimal(187000))
    keys = {f"OPENALGO_BENCH_{n}": f"bench-key-{n}" for n in range(sessions)}
    sims = {key: build_simbroker(scenario, clock, margin_per_basket=margin, api_key=key) for key in keys.values()}
    brokers = Accounts(sims, one_host)
    front = LeanFront(brokers.handle, latency_ms / 1000)
    DailySession.objects.all().delete()
    accounts = BrokerAccount.objects.bulk_create(
        BrokerAccount(name=f"fan-out {n}", host=f"{front.url}/openalgo{'' if one_host else f'-{n}'}", mode=Mode.LIVE,
                      api_key_env=env)
        for n, env in enumerate(keys)
    )
    redis.Redis.from_url(REDIS_URL).flushdb()  # no strike lists of an earlier run
    for account, key in zip(accounts, keys.values()):  # as the forecast and the snapshots keep them
        broker = OpenAlgoClient(account.host, key, rate_limit=False)
        selector.strike_list(SimpleNamespace(index_name="NIFTY", expiry=scenario.expiry), broker, clock.now(),
                              HedgeSettings.for_index("NIFTY", {}))
    StrategySchedule.objects.bulk_create(
        StrategySchedule(account=account, index_name="NIFTY", name=name, entry_time=entry, exit_time="15:15", baskets=baskets)
        for account in accounts for name, entry, baskets in SCHEDULE
    )
    rows = StrategySchedule.objects.filter(account__in=accounts)

    def fresh_day() -> list[int]:
        for sim in sims.values():
            sim.reset()
        DailySession.objects.filter(account__in=accounts).delete()
        # One in `buyers_every` on a tight budget: P2 would take it to 99.9%, so it buys a hedge.
        made = DailySession.objects.bulk_create(
            DailySession(account=account, date=scenario.date, index_name="NIFTY", expiry=scenario.expiry, lot_size=65,
                         freeze_qty=1800, budget=TIGHT_BUDGET if n % buyers_every == 0 else ROOMY_BUDGET,
                         baseline_margin=Decimal(0))
            for n, account in enumerate(accounts)
        )
        by_account = {s.account_id: s for s in made}
        StrategyExecution.objects.bulk_create(scheduler.execution_of(by_account[row.account_id], row) for row in rows)
        entered_by_0940(StrategyExecution.objects.filter(session__in=made))
        return [s.pk for s in made]

    def one_tick(workers) -> Minute:
        ids = fresh_day()
        brokers.chain_reads = brokers.refused = 0
        cpu = [cpu_seconds(w.pid) for w in workers], os.times(), postgres_cpu_seconds(), idle_seconds()
        started = time.time()
        tasks.lookahead_all.delay()
        deadline = time.monotonic() + 120
        # The day's sessions are the only ones in their id range: a cheap poll, not an IN list of them all.
        waiting = DailySession.objects.filter(pk__range=(min(ids), max(ids)), last_tick_at__isnull=True)
        while waiting.exists():
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        elapsed = time.time() - started
        worker_cpu = sum(cpu_seconds(w.pid) - before for w, before in zip(workers, cpu[0]))
        here = os.times()
        sim_cpu = here.user + here.system - cpu[1].user - cpu[1].system
        postgres_cpu, idle = postgres_cpu_since(cpu[2]), idle_seconds() - cpu[3]
        # The buys' fills are settled by the buy task after the tick: let them end before
        # counting them (and before the next minute's fresh day deletes their sessions).
        settling = HedgeTransaction.objects.filter(session__in=ids, status__in=["pending", "placed"])
        settle_by = time.monotonic() + 30
        while settling.exists() and time.monotonic() < settle_by:
            time.sleep(0.2)
        filled = HedgeTransaction.objects.filter(session__in=ids, status="filled").count()
        orders = sum(1 for sim in sims.values() for o in sim.order_log if o.strategy.startswith("autohedge"))
        return Minute(elapsed, filled, orders, brokers.chain_reads, worker_cpu, sim_cpu, postgres_cpu, idle, brokers.refused)

    env = {**os.environ, **keys, "AUTOHEDGE_CLOCK": clock.spec()}
    results = []
    try:
        for count in worker_counts:
            workers = [start_worker(env, concurrency, f"fanout{n}", pool) for n in range(count)]
            try:
                time.sleep(3)  # start-up
                minutes = [one_tick(workers) for _ in range(6)]
            finally:
                stop_workers(*workers)
            name = f"one tick, {sessions} sessions, {count} worker{'s' if count > 1 else ''}"
            if latency_ms:
                name += f", brokers answering in {latency_ms:g} ms"
            if one_host:
                name += ", all on one OpenAlgo host"
            slowest = max(minutes[3:], key=lambda m: m.elapsed)
            results.append((f"{name}, the day's first minute", fanout_figures(minutes[0], pool, concurrency)))
            results.append((f"{name}, slowest of minutes 4–6", fanout_figures(slowest, pool, concurrency)))
            results.append((f"{name}, each minute", ", ".join(f"{m.elapsed:.2f}" for m in minutes) + " s"))
    finally:
        front.close()
    return results


@dataclass(frozen=True)
class Minute:
    elapsed: float
    filled: int
    orders: int
    chain_reads: int
    worker_cpu: float
    sim_cpu: float
    postgres_cpu: float
    idle: float  # all cores'
    refused: int  # calls the one host refused over its limits (429)


def fanout_figures(m: Minute, pool: str, concurrency: int) -> str:
    return (f"{m.elapsed:.2f} s ({pool} ×{concurrency} each); {m.filled} hedges bought, {m.orders} orders and "
            f"{m.chain_reads} option chain reads at the brokers, {m.refused} calls refused (429); "
            f"CPU: workers {m.worker_cpu:.1f} s, "
            f"PostgreSQL {m.postgres_cpu:.1f} s, simulated brokers and this script {m.sim_cpu:.1f} s, "
            f"cores idle {m.idle:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--days", type=int, default=3, help="timed runs of each sample day")
    parser.add_argument("--sessions", type=int, default=1000, help="sessions (accounts) in the fan-out tick")
    parser.add_argument("--pool", default="prefork", choices=["prefork", "threads"],
                        help="fan-out workers' pool (the Procfile's: prefork)")
    parser.add_argument("--concurrency", type=int, default=4, help="fan-out workers' processes or threads (the Procfile's: 4)")
    parser.add_argument("--buyers-every", type=int, default=10, help="one fan-out session in this many buys a hedge")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="fan-out: run with this many workers, in turn")
    parser.add_argument("--broker-latency", type=float, default=0, metavar="MS",
                        help="fan-out and latency: each broker answer held back this long (a real OpenAlgo: tens of ms)")
    parser.add_argument("--one-host", action="store_true",
                        help="fan-out: every account on one OpenAlgo host, which refuses calls over its limits (429)")
    parser.add_argument("--actions", type=int, default=200, help="hedge actions timed to their Telegram message")
    parser.add_argument("--broker-profile", default="off", choices=["off", "real-openalgo"],
                        help="latency: the simulated broker answers as slowly as a real OpenAlgo server")
    parser.add_argument("--only", choices=["replay", "latency", "fanout", "alerts"])
    args = parser.parse_args()

    fresh_database(DATABASE)
    import django

    django.setup()
    rows = []
    if args.only in (None, "replay"):
        rows += bench_replay(args.days)
    if args.only in (None, "latency"):
        rows += bench_tick_to_order(args.ticks, args.broker_profile, args.broker_latency)
    if args.only in (None, "fanout"):
        rows += bench_fanout(args.sessions, args.pool, args.concurrency, args.buyers_every, tuple(args.workers),
                             args.broker_latency, args.one_host)
    if args.only in (None, "alerts"):
        rows += bench_hedge_to_telegram(args.actions)
    print_table(rows)


if __name__ == "__main__":
    main()
