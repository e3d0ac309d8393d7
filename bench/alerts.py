"""Auto-Hedge alert latency: prints figures, asserts nothing.

    .venv/bin/python bench/alerts.py [--actions 200]

hedge action → Telegram: a lookahead task enqueued on Redis; a real Celery worker ticks a
fresh session against the simulated broker over loopback HTTP, buys the hedge P2 needs,
settles the transaction, writes its alert and queues `deliver_alert`, which the worker
sends to the simulated Telegram Bot API over loopback HTTP. Measured from the moment the
action settled (the transaction's `completed_at`, read on the clock the worker shares,
just before the settlement commits) to the Bot API's receipt of the sendMessage request.
Actions are paced a little over a second apart: Telegram allows one message a second to
a chat, and the notifier waits for it.

Standalone it uses the PostgreSQL database `autohedge_bench_alerts` (dropped and made
anew) and Redis db 12; `bench_hedge_to_telegram` alone uses whatever Django is set up with.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, time as day_time
from decimal import Decimal

from common import (
    PG, SCENARIOS, breach_account, fresh_database, fresh_session, percentile, print_table, start_worker, stop_workers,
)

DATABASE = "autohedge_bench_alerts"
REDIS_URL = os.environ.get("BENCH_ALERTS_REDIS_URL", "redis://127.0.0.1:6379/12")
KEY, KEY_ENV = "bench-alerts-key", "OPENALGO_BENCH_ALERTS_KEY"
CHAT = "4242"
WARM_UP = 5  # the first actions warm the worker's connections
PER_CHAT_GAP = 1.05  # seconds between two messages to one chat (Telegram's limit, kept by the notifier)
# Quarter speed from 09:40: P2 (09:45) stays inside the lookahead for twenty minutes of wall time.
SPEED = 0.25


def wall_time(clock, moment: datetime) -> float:
    """The wall-clock time at which `clock` read `moment`."""
    return clock.real_start + (moment - clock.sim_start).total_seconds() / clock.speed


def bench_hedge_to_telegram(actions: int) -> list[tuple[str, str]]:
    import redis
    from django.conf import settings

    from brokers.models import BrokerAccount
    from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
    from brokers.simbroker.server import start_server, stop_server
    from hedging.telegram.simulator import TelegramSim, start
    from hedging import tasks
    from hedging.core.clock import AcceleratedClock, at
    from hedging.models import DailySession, HedgeTransaction

    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    clock = AcceleratedClock(at(scenario.date, day_time(9, 40)), speed=SPEED)
    sim = build_simbroker(scenario, clock, margin_per_basket=MarginPerBasket(Decimal(433000), Decimal(187000)),
                          api_key=KEY, rate_limits=False)
    broker, broker_url = start_server(sim)
    bot, bot_url = start(TelegramSim())
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = {**os.environ, "AUTOHEDGE_CLOCK": clock.spec(), "AUTOHEDGE_LIVE_TRADING": "1", KEY_ENV: KEY,
           "TELEGRAM_BOT_TOKEN": bot.sim.token, "TELEGRAM_CHAT_IDS": CHAT, "TELEGRAM_BASE_URL": bot_url}
    worker = start_worker(env, 2, "alerts")
    latencies, failures = [], 0
    try:
        tasks.lookahead_batch.app.connection_for_write().ensure_connection(max_retries=3)
        time.sleep(3)  # the worker's start-up
        DailySession.objects.filter(account__name="bench-alerts").delete()  # a previous run's, in a database kept
        BrokerAccount.objects.filter(name="bench-alerts").delete()
        account = breach_account("bench-alerts", broker_url, KEY_ENV)
        for n in range(actions + WARM_UP):
            received = len(bot.sim.sent_to(CHAT))
            if received:
                time.sleep(max(0.0, bot.sim.sent_to(CHAT)[-1].time + PER_CHAT_GAP - time.time()))
            sim.reset()
            session = fresh_session(account, scenario)
            tasks.lookahead_batch.delay([session.pk], time.time())
            messages = bot.sim.wait_for_messages(CHAT, received + 1, timeout=15)  # no polling: it would compete for the cores
            tx = HedgeTransaction.objects.filter(session=session, status="filled").first()
            if (len(messages) <= received or tx is None or tx.completed_at is None
                    or "Hedge bought" not in messages[received].text):
                failures += 1
            elif n >= WARM_UP:
                latencies.append((messages[received].time - wall_time(clock, tx.completed_at)) * 1000)
    finally:
        stop_workers(worker)
        stop_server(broker)
        bot.stop()
    if not latencies:
        return [("hedge action → Telegram", f"no alert reached the Bot API ({failures} failures)")]
    return [(
        "hedge action → Telegram (worker, loopback)",
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
        f"max {max(latencies):.1f} ms over {len(latencies)} actions; {failures} without an alert",
    )]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=200)
    args = parser.parse_args()

    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"{PG}/{DATABASE}",
                      CELERY_BROKER_URL=REDIS_URL, REDIS_URL=REDIS_URL, LOG_LEVEL="WARNING")
    fresh_database(DATABASE)
    import django

    django.setup()
    print_table(bench_hedge_to_telegram(args.actions))


if __name__ == "__main__":
    main()
