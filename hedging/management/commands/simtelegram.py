"""`python manage.py simtelegram`: the simulated Telegram Bot API, for the demo."""

from django.conf import settings
from django.core.management.base import BaseCommand

from hedging.telegram.simulator import DEFAULT_TOKEN, SimServer, TelegramSim


class Command(BaseCommand):
    help = "Serve a simulated Telegram Bot API on loopback (see hedging/telegram/simulator.py)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8081)
        parser.add_argument(
            "--rate-limit", type=float, default=None, metavar="SECONDS",
            help="Refuse (429) a second message to one chat within SECONDS, as Telegram does.",
        )  # fmt: skip

    def handle(self, *args, port: int, rate_limit: float | None, **options):
        # Accept the configured token, so the app needs no change but TELEGRAM_BASE_URL.
        token = settings.TELEGRAM_BOT_TOKEN or DEFAULT_TOKEN
        server = SimServer(TelegramSim(token, per_chat_interval=rate_limit), "127.0.0.1", port)
        shown = "TELEGRAM_BOT_TOKEN" if settings.TELEGRAM_BOT_TOKEN else DEFAULT_TOKEN
        self.stdout.write(
            f"Simulated Telegram Bot API: TELEGRAM_BASE_URL={server.base_url}  token: {shown}\n"
            f"Messages sent: GET http://127.0.0.1:{port}/_sim/messages (?format=text: as text) · "
            f'a user\'s command: POST /_sim/updates {{"chat_id": "...", "text": "/status"}} · '
            f"faults: POST /_sim/faults, /_sim/reset"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
