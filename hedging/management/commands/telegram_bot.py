"""`python manage.py telegram_bot`: the command bot, long-polling until interrupted."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from telegram.error import TelegramError

from hedging.telegram.notifier import describe_error
from hedging.telegram.bot import load_handler, run_bot


class Command(BaseCommand):
    help = "Run the Telegram bot (/status, /pause, /resume, /today) for TELEGRAM_CHAT_IDS."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=None, help="Bot API base URL (default: TELEGRAM_BASE_URL).")

    def handle(self, *args, base_url: str | None, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set.")
        if not settings.TELEGRAM_CHAT_IDS:
            raise CommandError("TELEGRAM_CHAT_IDS is empty: the bot would answer no one.")
        handler = load_handler(settings.TELEGRAM_BOT_HANDLER)
        try:
            run_bot(
                settings.TELEGRAM_BOT_TOKEN,
                settings.TELEGRAM_CHAT_IDS,
                handler,
                base_url=base_url or settings.TELEGRAM_BASE_URL,
            )
        except TelegramError as exc:
            raise CommandError(f"Telegram: {describe_error(exc)}") from None
