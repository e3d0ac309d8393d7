"""`python manage.py demo`: the README's run command. Migrates, creates the demo login,
starts the demo's day (hedging.services.demo: the simulated broker and Bot API, the
morning forecast, the ticker, the command bot), says how to use it, and serves the
dashboard."""

import os
import shlex

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from hedging.core.clock import MARKET_CLOSE, MARKET_OPEN
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

        running = demo.start(timezone.localdate(), speed, seed, DEMO_CHAT)
        self.stdout.write(started(running, port, password))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
        finally:
            running.stop()


def started(running: demo.Running, port: int, password: str) -> str:
    """The startup message: where to look, how to talk to the bot, how to forecast again."""
    session, sim = running.day.sessions[0], running.telegram_url
    clock = shlex.quote(running.clock.spec())
    return (
        f"Auto-Hedge demo: http://127.0.0.1:{port}/  login {DEMO_USER} / {password}  (admin at /admin/)\n"
        f"A {session.index_name} trading day, {session.date:%a %d %b %Y}, {MARKET_OPEN:%H:%M} to {MARKET_CLOSE:%H:%M} "
        f"at {running.clock.speed:g}× speed: {demo.real_minutes(running.clock.speed):.1f} minutes. "
        f"Today's plan, the morning forecast, is on the dashboard.\n"
        f"Simulated broker at {running.broker_url}; simulated Telegram Bot API at {sim}/bot.\n"
        f"The Telegram bot answers chat {running.chat_id}: /status /today /summary /pause /resume /help. Send it one:\n"
        f"  curl -s {sim}/_sim/updates -d chat_id={running.chat_id} -d text=/status\n"
        f"What Telegram got (its answers, the alerts, the morning forecast):\n"
        f"  curl -s '{sim}/_sim/messages?format=text'\n"
        f"Forecast the day again from another shell (on the demo's clock):\n"
        f"  AUTOHEDGE_CLOCK={clock} .venv/bin/python manage.py forecast {session.pk}\n"
    )
