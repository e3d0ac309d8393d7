"""The demo: one accelerated trading day against the simulated broker and the
simulated Telegram Bot API, with the real services ticking every simulated minute.

Without Redis on the machine, the demo's threads stand in for Celery beat, the worker
and the bot process: the morning forecast beat runs at 09:05 is made before the day
starts, the ticker calls the same orchestrator the tasks call once a simulated minute,
and the command bot polls the simulated Bot API.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import close_old_connections, connections

from brokers.models import DEFAULT_KEY_VARIABLE, BrokerAccount, Mode, key_from_environment
from brokers.simbroker.scenario import DemoStrategy, build_demo_simbroker
from brokers.simbroker.server import SimServer, start_server, stop_server
from config.celery import app as celery_app
from hedging.core.clock import MARKET_CLOSE, MARKET_OPEN, AcceleratedClock, SteppedClock, at
from hedging.models import DailySession
from hedging.services import forecast, notify, orchestrator
from hedging.services.bot import HedgingBotHandler
from hedging.ports import Ports
from hedging.services.runtime import broker_for
from hedging.telegram import simulator as telegram_sim
from hedging.telegram.bot import Polling, build_application
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


@dataclass(frozen=True)
class Running:
    """A started demo: what its startup message tells, and how to stop it."""

    day: DemoDay
    clock: AcceleratedClock
    broker: SimServer
    telegram: telegram_sim.SimServer
    chat_id: str
    ticker: threading.Thread
    stopping: threading.Event
    bot: Polling

    @property
    def broker_url(self) -> str:
        return self.broker.url

    @property
    def telegram_url(self) -> str:
        """The simulated Bot API's root: the API under /bot, its control paths under /_sim."""
        return self.telegram.base_url.removesuffix("/bot")

    def stop(self) -> None:
        self.stopping.set()
        self.bot.stop()
        self.ticker.join(10)
        stop_server(self.broker)
        self.telegram.stop()


def start(today: date, speed: float, seed: int, chat_id: str) -> Running:
    """This process as the demo: the simulated broker and Bot API on loopback, the demo
    account and session, the morning forecast made on the market held at 09:15, then the
    day's clock started, the ticker ticking each simulated minute and the command bot
    polling."""
    day = trading_day(today)
    opening = SteppedClock(at(day, MARKET_OPEN))
    sim = build_demo_simbroker(opening, seed=seed, api_key=key_from_environment(DEFAULT_KEY_VARIABLE), strategies=STRATEGIES)
    broker, broker_url = start_server(sim)
    bot_api, bot_url = telegram_sim.start()
    use_telegram_sim(bot_url, bot_api.sim.token, chat_id)
    settings.AUTOHEDGE_LIVE_TRADING = True  # the only account is the demo's, on the simulated broker
    celery_app.conf.task_always_eager = True  # no Redis needed: the dashboard's tasks run in-process
    demo_day = set_up(day, broker_url)
    morning_forecast(demo_day, opening.now())
    # The day starts once the plan is stored, whatever the forecast took, so the first
    # tick still finds the account at 09:15, before any entry.
    clock = sim.clock = demo_clock(day, speed)
    settings.AUTOHEDGE_CLOCK = clock.spec()
    stopping = threading.Event()
    ticker = threading.Thread(target=run_ticker, args=(demo_day, clock, stopping), name="demo-ticker", daemon=True)
    ticker.start()
    return Running(demo_day, clock, broker, bot_api, chat_id, ticker, stopping, start_bot())


def real_minutes(speed: float) -> float:
    """How long the demo's day, 09:15 to 15:30, lasts at `speed`."""
    any_day = date.min
    return (at(any_day, MARKET_CLOSE) - at(any_day, MARKET_OPEN)).total_seconds() / 60 / speed


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
        name=DEMO_ACCOUNT, defaults={"host": broker_url, "mode": Mode.LIVE, "enabled": True, "api_key_env": DEFAULT_KEY_VARIABLE}
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


def morning_forecast(day: DemoDay, now: datetime) -> None:
    """What beat's 09:05 task does, for the demo's sessions: each day forecast, stored
    (the dashboard's "Today's plan") and sent on Telegram."""
    for session in day.sessions:
        try:
            outcome = forecast.forecast_session(session.pk, now, deliver_alert=deliver_quietly)
        except Exception:  # the demo goes on without a plan; the log says what broke
            log.exception("demo morning forecast of session %s failed", session.pk)
        else:
            log.info("demo morning forecast of session %s: %s", session.pk, outcome)


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
    alerts.submit(connections.close_all)  # the threads' connections end with them
    alerts.shutdown(wait=True)
    connections.close_all()
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


def start_bot() -> Polling:
    """The command bot (/status, /today, /summary, /pause, /resume), as `manage.py
    telegram_bot` runs it, polling the Bot API use_telegram_sim set, from a thread."""
    app = build_application(
        settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_CHAT_IDS, HedgingBotHandler(), base_url=settings.TELEGRAM_BASE_URL
    )
    return Polling(app)
