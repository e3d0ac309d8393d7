"""The Telegram command bot: /status, /pause, /resume, /today, /summary (and /help).

It answers only the configured chats; a message from any other chat gets no answer at
all and is logged without its text. The bot knows nothing of hedging: the answers come
from a `BotHandler` (settings `TELEGRAM_BOT_HANDLER`, a dotted path to a class or
factory that takes no arguments). It long-polls `getUpdates` at the configured base URL,
so it runs against `hedging.telegram.simulator` as well as Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any, Protocol

from django.utils.module_loading import import_string
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from hedging.telegram.notifier import DEFAULT_BASE_URL, describe_error, split_message
from config.reporting import protect_secret

logger = logging.getLogger(__name__)


class BotHandler(Protocol):
    """What the bot's commands answer. Methods run in a worker thread (they may use the
    ORM) and return Telegram HTML with dynamic text escaped (see `hedging.messages`)."""

    def status_text(self) -> str: ...

    def pause(self, chat_id: str) -> str: ...

    def resume(self, chat_id: str) -> str: ...

    def today_text(self) -> str: ...

    def summary_text(self) -> str: ...


def load_handler(dotted_path: str) -> BotHandler:
    """The handler `dotted_path` names, called with no arguments."""
    return import_string(dotted_path)()


COMMANDS = {
    "status": "Sessions, utilisation and hedges held",
    "pause": "Turn auto-hedge off",
    "resume": "Turn auto-hedge on",
    "today": "Today's hedge actions and next entries",
    "summary": "The day so far: spend, saving, peak utilisation",
    "help": "The commands",
}
HELP_TEXT = "\n".join(f"/{name} — {description}" for name, description in COMMANDS.items())


def chat_filter(chat_ids: Sequence[str]) -> filters.Chat:
    """Numeric ids, or @usernames of channels and groups."""
    ids = [int(c) for c in chat_ids if c.lstrip("-").isdigit()]
    usernames = [c for c in chat_ids if not c.lstrip("-").isdigit()]
    return filters.Chat(chat_id=ids, username=usernames)


def build_application(
    token: str,
    chat_ids: Sequence[str],
    handler: BotHandler,
    *,
    base_url: str = DEFAULT_BASE_URL,
) -> Application:
    """The bot, ready for `run_polling`: commands from `chat_ids` only."""
    if not chat_ids:
        raise ValueError("The bot needs at least one chat id (TELEGRAM_CHAT_IDS): it answers no one else")
    protect_secret(token)
    app = ApplicationBuilder().token(token).base_url(base_url).post_init(_publish_commands).build()
    allowed = chat_filter([str(c) for c in chat_ids])
    app.add_handler(MessageHandler(~allowed, _ignore))
    answers: dict[str, Callable[[str], str]] = {
        "status": lambda chat_id: handler.status_text(),
        "pause": handler.pause,
        "resume": handler.resume,
        "today": lambda chat_id: handler.today_text(),
        "summary": lambda chat_id: handler.summary_text(),
        "help": lambda chat_id: HELP_TEXT,
    }
    for name, answer in answers.items():
        app.add_handler(CommandHandler(name, _command(name, answer), filters=allowed))
    app.add_error_handler(_log_error)
    return app


POLL_TIMEOUT = timedelta(seconds=30)


def run_bot(token: str, chat_ids: Sequence[str], handler: BotHandler, *, base_url: str = DEFAULT_BASE_URL) -> None:
    """Long-poll until interrupted (Ctrl-C or SIGTERM)."""
    app = build_application(token, chat_ids, handler, base_url=base_url)
    app.run_polling(timeout=POLL_TIMEOUT, allowed_updates=[Update.MESSAGE])


class Polling:
    """`app` long-polling from a daemon thread with an event loop of its own (the demo
    runs the bot beside its server), until `stop()`. Made once the bot polls (or its
    start failed): a stop asked for while it starts would be lost."""

    def __init__(self, app: Application, start_timeout: float = 10):
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="telegram-bot", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + start_timeout
        while not app.running and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # No signal handlers (only the main thread may set them): stop() ends the polling.
        self.app.run_polling(timeout=POLL_TIMEOUT, allowed_updates=[Update.MESSAGE], stop_signals=None)

    def stop(self, timeout: float = 10) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.app.stop_running)
            self._thread.join(timeout)


async def _publish_commands(app: Application) -> None:
    await app.bot.set_my_commands([BotCommand(name, description) for name, description in COMMANDS.items()])


async def _ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat, user = update.effective_chat, update.effective_user
    # The text stays out of the log: it is a stranger's.
    logger.warning(
        "Ignored a message from unauthorised chat %s (user %s)", chat.id if chat else "?", user.id if user else "?"
    )


def _command(
    name: str, answer: Callable[[str], str]
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    async def callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:  # a command comes in a chat's message
            return
        chat_id = str(chat.id)
        logger.info("/%s from chat %s", name, chat_id)
        try:
            text = await asyncio.to_thread(answer, chat_id)
        except Exception:
            logger.exception("/%s failed", name)
            text = f"⚠️ /{name} failed: internal error, see the server log."
        for part in split_message(text):
            await message.reply_text(part, parse_mode=ParseMode.HTML)

    return callback


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    logger.error("Telegram bot error: %s", describe_error(context.error) if context.error else "unknown")
