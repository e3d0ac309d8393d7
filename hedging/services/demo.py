"""The demo: one accelerated trading day against the simulated broker and the
simulated Telegram Bot API, with the real services ticking every simulated minute.

Without Redis on the machine, the demo's ticker thread stands in for Celery beat and
the worker: it calls the same orchestrator the tasks call, once a simulated minute.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections

from brokers.models import BrokerAccount, Mode
from brokers.simbroker.scenario import DemoStrategy
from hedging.core.clock import MARKET_CLOSE, MARKET_OPEN, AcceleratedClock, at
from hedging.models import DailySession
from hedging.services import notify, orchestrator
from hedging.ports import Ports
from hedging.services.runtime import broker_for
from schedules.models import ALL_WEEKDAYS, StrategySchedule

log = logging.getLogger(__name__)

DEMO_ACCOUNT = "Demo (simulated broker)"
# One NIFTY session (an account has one session a day). With a ₹13L budget the day needs
# a hedge before N2 and more before N3; after N3's exit one hedge basket is free to sell.
STRATEGIES = (
    DemoStrategy("N1", "NIFTY", time(9, 20), time(15, 15), 1),
    DemoStrategy("N2", "NIFTY", time(10, 0), time(15, 15), 2),
    DemoStrategy("N3", "NIFTY", time(11, 30), time(13, 0), 1),
)
BUDGET = Decimal("1300000")


@dataclass(frozen=True)
class DemoDay:
    account: BrokerAccount
    sessions: list[DailySession]


def trading_day(today: date) -> date:
    while today.weekday() >= 5:
        today += timedelta(days=1)
    return today


def demo_clock(day: date, speed: float) -> AcceleratedClock:
    return AcceleratedClock(at(day, MARKET_OPEN), speed)


def set_up(day: date, broker_url: str) -> DemoDay:
    """The demo account, its schedule (the simulated broker's strategies) and a fresh
    session for `day`; an earlier demo's day is cleared."""
    account, _ = BrokerAccount.objects.update_or_create(
        name=DEMO_ACCOUNT, defaults={"host": broker_url, "mode": Mode.LIVE, "enabled": True, "api_key_env": "OPENALGO_API_KEY"}
    )
    for strategy in STRATEGIES:
        StrategySchedule.objects.update_or_create(
            account=account,
            index_name=strategy.underlying,
            name=strategy.name,
            defaults={
                "entry_time": strategy.entry,
                "exit_time": strategy.exit,
                "baskets": strategy.lots,
                "weekdays": ALL_WEEKDAYS,
                "enabled": True,
            },
        )
    DailySession.objects.filter(account=account, date=day).delete()
    session = DailySession.objects.create(
        account=account, date=day, index_name="NIFTY", expiry=day, num_baskets=1, lots_per_basket=1, budget=BUDGET
    )
    return DemoDay(account, [session])


def run_ticker(day: DemoDay, clock: AcceleratedClock, stop: threading.Event) -> None:
    """Tick every session at each simulated minute until the close or `stop`."""
    alerts = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-alerts")

    def deliver(alert_id: int) -> None:
        alerts.submit(deliver_quietly, alert_id)

    ports = Ports(clock=clock, broker=broker_for(day.account), paper=False, deliver_alert=deliver)
    close = at(clock.sim_start.date(), MARKET_CLOSE)
    minute = clock.now().replace(second=0, microsecond=0)
    while not stop.is_set() and minute <= close:
        wait = (minute - clock.now()).total_seconds() / clock.speed
        if wait > 0 and stop.wait(wait):
            break
        for session in day.sessions:
            tick_quietly(session.pk, ports)
        minute += timedelta(minutes=1)
    alerts.shutdown(wait=True)
    log.info("demo day over at %s", clock.now().strftime("%H:%M"))


def tick_quietly(session_id: int, ports: Ports) -> None:
    try:
        orchestrator.note_ticks([orchestrator.tick(session_id, ports)])
    except Exception:  # the demo goes on; the log says what broke
        log.exception("demo tick of session %s failed", session_id)
    finally:
        close_old_connections()


def deliver_quietly(alert_id: int) -> None:
    try:
        notify.deliver(alert_id)
    except Exception:
        log.exception("demo alert %s not delivered", alert_id)
    finally:
        close_old_connections()


def use_telegram_sim(base_url: str, token: str, chat_id: str) -> None:
    settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_BASE_URL, settings.TELEGRAM_CHAT_IDS = token, base_url, [chat_id]

