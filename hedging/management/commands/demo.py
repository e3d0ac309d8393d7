"""`python manage.py demo`: the README's run command. Migrates, creates the demo login,
starts the simulated broker and Bot API, ticks an accelerated trading day through the
real services, and serves the dashboard."""

import os
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from hedging.telegram import simulator as telegram_sim
from config.celery import app as celery_app
from brokers.simbroker.scenario import build_demo_simbroker
from brokers.simbroker.server import start_server
from hedging.services import demo

DEMO_USER = "demo"
DEMO_CHAT = "1001"


class Command(BaseCommand):
    help = "Run the demo: an accelerated trading day against the simulated broker, on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--speed", type=float, default=30.0, help="simulated seconds per real second")
        parser.add_argument("--seed", type=int, default=1, help="seed of the simulated market")

    def handle(self, *args, port: int, speed: float, seed: int, **options):
        call_command("migrate", verbosity=0)
        password = os.environ.get("DEMO_PASSWORD", "hedge-demo")
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()

        os.environ.setdefault("OPENALGO_API_KEY", "demo")
        clock = demo.demo_clock(demo.trading_day(timezone.localdate()), speed)
        # Only this process's account exists, and it points at the simulator: orders go there.
        settings.AUTOHEDGE_CLOCK, settings.AUTOHEDGE_LIVE_TRADING = clock.spec(), True
        celery_app.conf.task_always_eager = True  # no Redis needed: the dashboard's tasks run in-process
        _, broker_url = start_server(
            build_demo_simbroker(clock, seed=seed, api_key=os.environ["OPENALGO_API_KEY"], strategies=demo.STRATEGIES)
        )
        bot_api, bot_url = telegram_sim.start()
        demo.use_telegram_sim(bot_url, bot_api.sim.token, DEMO_CHAT)
        day = demo.set_up(clock.sim_start.date(), broker_url)

        stop = threading.Event()
        threading.Thread(target=demo.run_ticker, args=(day, clock, stop), name="demo-ticker", daemon=True).start()
        self.stdout.write(
            f"Auto-Hedge demo: http://127.0.0.1:{port}/  login {DEMO_USER} / {password}  (admin at /admin/)\n"
            f"A trading day from 09:15 at {speed:g}× speed; simulated broker at {broker_url}, "
            f"simulated Telegram at {bot_url}."
        )
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            stop.set()
