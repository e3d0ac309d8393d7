"""Telegram alerts for the trader.

`TelegramNotifier.send(text)` delivers one HTML alert (built by `hedging.messages`) to
every configured chat and reports, per chat, what happened: it never raises for a
Telegram or network failure. It splits long texts, keeps to Telegram's rates (counted
with every process's: `brokers.ratelimit`), waits out flood control a bounded number of
times, and tells permanent failures (bot blocked, chat gone, malformed text, bad token)
from retryable ones (network, timeouts, 5xx).

Without a token `notifier_from_settings()` gives a `LogNotifier`, which only logs.

The bot token is a secret, and python-telegram-bot and httpx put it in URLs, debug logs
and some exception texts: every token given to this module is scrubbed from all log
records and error reports of the process (`config.reporting.protect_secret`) and from
the errors reported here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import ssl
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Protocol

import certifi
from django.conf import settings
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from brokers import ratelimit
from brokers.ratelimit import RateLimiter
from config.reporting import protect_secret, redact

# Opt in to python-telegram-bot's coming timedelta time periods (RetryAfter.retry_after):
# otherwise PTB 22 warns each time it builds a RetryAfter. Both forms are read below.
os.environ.setdefault("PTB_TIMEDELTA", "true")

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Telegram allows 4,096 characters of text after the HTML tags are removed; counting the
# raw HTML, and staying a little under, every part is safe whatever it contains.
MESSAGE_LIMIT = 4000


# -- errors -----------------------------------------------------------------------------


def describe_error(exc: BaseException) -> str:
    """`Class: message` of a Telegram or network error, with any secret removed."""
    name = type(exc).__name__
    message = exc.message if isinstance(exc, TelegramError) else str(exc)
    return redact(message if message.startswith(name) else f"{name}: {message}")


# -- splitting --------------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>")
# A line breaks into tags, entities, whitespace and words; never inside the first two.
_TOKENS = re.compile(r"<[^<>]*>|&#?\w+;|\s+|[^<&\s]+|[<&]")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML `text` into parts of at most `limit` characters, on line boundaries where
    possible, then between words; never inside a tag or an entity. Tags open at a cut are
    closed at the end of the part and opened again at the start of the next one."""
    if len(text) <= limit:
        return [text]
    chunker = _Chunker(limit)
    for line in text.splitlines(keepends=True):
        if chunker.add(line):
            continue
        for token in _TOKENS.findall(line):
            if not chunker.add(token):
                for char in token:
                    chunker.add(char)
    return [part for part in chunker.finish() if _TAG.sub("", part).strip()]


class _Chunker:
    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.open: list[tuple[str, str]] = []  # (name, opening tag) still open at the end of body
        self.prefix = ""
        self.body = ""

    def add(self, unit: str) -> bool:
        """Append `unit`, starting a new part if needed; False if it can't fit even a new part."""
        after = _track_tags(self.open, unit)
        if len(self.prefix) + len(self.body) + len(unit) + len(_closers(after)) <= self.limit:
            self.body += unit
            self.open = after
            return True
        if not self.body:
            return False
        self._flush()
        return self.add(unit)

    def finish(self) -> list[str]:
        if self.body:
            self._flush()
        return self.parts

    def _flush(self) -> None:
        self.parts.append(self.prefix + self.body + _closers(self.open))
        self.prefix = "".join(tag for _, tag in self.open)
        self.body = ""


def _track_tags(open_tags: list[tuple[str, str]], unit: str) -> list[tuple[str, str]]:
    stack = list(open_tags)
    for match in _TAG.finditer(unit):
        name = match.group(2).lower()
        if not match.group(1):
            stack.append((name, match.group(0)))
        elif stack and stack[-1][0] == name:
            stack.pop()
    return stack


def _closers(open_tags: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(open_tags))


# -- rate ---------------------------------------------------------------------------------

# Telegram's limits for a bot: one message a second to a chat, about 30 a second in all.
# The chats are the limiter's endpoints (`chat:<id>`, one a second each); `BOT` counts all.
BOT, BOT_LIMIT, CHAT_LIMIT = "bot", 30, 1
# Seconds waited past the limiter's wait: we count a message when it is let go, Telegram when it
# arrives, and a message on a new connection arrives later than one on a kept one (on
# loopback 1-2 ms; to Telegram a TLS handshake). Without it the simulator, which counts
# strictly, refused a message to a chat after 0.998 s.
RATE_SLACK = 0.1


def telegram_limiter(token: str, storage: str) -> RateLimiter:
    """The bot's limiter in this process, counting in `storage` (in Redis, with every process's).
    Keyed by a digest of the token: the token itself never reaches the store or a log."""
    bot = "telegram-" + hashlib.sha256(token.encode()).hexdigest()[:16]
    return ratelimit.shared(bot, {BOT: BOT_LIMIT}, CHAT_LIMIT, storage)


# -- notifiers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    """What happened to one alert in one chat. `message_ids` are the parts delivered (a long
    alert is split); on failure, `permanent` says retrying the same alert cannot help."""

    chat_id: str
    ok: bool
    message_ids: tuple[int, ...] = ()
    error: str = ""
    permanent: bool = False


class Notifier(Protocol):
    def send(self, text: str, skip: Collection[str] = ()) -> list[SendResult]: ...


class LogNotifier:
    """No Telegram configured: alerts are written to the log, nothing goes to the network.
    Returns no results, as no chat was tried."""

    def send(self, text: str, skip: Collection[str] = ()) -> list[SendResult]:
        logger.info("Telegram is not configured; alert logged only:\n%s", text)
        return []


class _Failure(Exception):
    def __init__(self, error: str, permanent: bool):
        super().__init__(error)
        self.error = error
        self.permanent = permanent


class TelegramNotifier:
    """Sends HTML alerts to `chat_ids` through the Bot API at `base_url` (the token is
    appended, as python-telegram-bot does; point it at `hedging.telegram.simulator` in tests).

    `send` is synchronous, for Celery tasks and views: it runs its own event loop per call,
    so it must not be called from a running event loop (use `asend` there). Flood control
    (429) is waited out up to `max_retries` times when Telegram asks for at most
    `max_retry_after` seconds; longer than that, the chat is reported as a retryable failure.
    Telegram's rates are counted by `limiter`, by default the bot's in
    AUTOHEDGE_RATE_LIMIT_STORAGE (so with every process's); `limiter` and `sleep` are
    injectable for tests.
    """

    def __init__(
        self,
        token: str,
        chat_ids: Sequence[str],
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_after: float = 30.0,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if not token:
            raise ValueError("TelegramNotifier needs a bot token; without one use LogNotifier")
        protect_secret(token)
        self._token = token
        self.chat_ids = [str(chat_id) for chat_id in chat_ids]
        self.base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self._limiter = limiter or telegram_limiter(token, settings.AUTOHEDGE_RATE_LIMIT_STORAGE)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"TelegramNotifier(chat_ids={self.chat_ids!r}, base_url={redact(self.base_url)!r})"

    def send(self, text: str, skip: Collection[str] = ()) -> list[SendResult]:
        """Deliver `text` (HTML, dynamic parts escaped) to every chat but those in `skip`
        (they have it already); one result per chat tried."""
        return asyncio.run(self.asend(text, skip))

    async def asend(self, text: str, skip: Collection[str] = ()) -> list[SendResult]:
        chat_ids = [chat_id for chat_id in self.chat_ids if chat_id not in skip]
        parts = split_message(text)
        request = HTTPXRequest(
            connection_pool_size=max(len(chat_ids), 1),
            connect_timeout=self.timeout,
            read_timeout=self.timeout,
            write_timeout=self.timeout,
            pool_timeout=self.timeout,
            httpx_kwargs={"verify": _tls_context()},
        )
        # The same request for getUpdates, never called: PTB would build a second client.
        bot = Bot(self._token, base_url=self.base_url, request=request, get_updates_request=request)
        # Only the request needs starting: Bot.initialize() would also call getMe every time.
        await request.initialize()
        try:
            return list(await asyncio.gather(*(self._send_chat(bot, chat_id, parts) for chat_id in chat_ids)))
        finally:
            await request.shutdown()

    async def _send_chat(self, bot: Bot, chat_id: str, parts: list[str]) -> SendResult:
        delivered: list[int] = []
        for part in parts:
            try:
                delivered.append(await self._send_part(bot, chat_id, part))
            except _Failure as failure:
                kind = "permanent" if failure.permanent else "retryable"
                logger.warning("Telegram alert to chat %s failed (%s): %s", chat_id, kind, failure.error)
                return SendResult(chat_id, False, tuple(delivered), failure.error, failure.permanent)
        return SendResult(chat_id, True, tuple(delivered))

    async def _take_slots(self, chat_id: str) -> None:
        """Waits, without blocking the loop, until one message to `chat_id` may go. The chat's
        slot comes first: it is the one usually refused (a second part or alert within the
        second), and a refusal takes nothing; so the bot's 30 are spent only on messages that
        leave. A chat granted while the bot's 30 are taken keeps its slot and waits for the
        bot's alone: its second then starts before the message leaves, and its next message
        may follow by less than a second (Telegram's 429, if it comes, is waited out)."""
        for endpoint in (f"chat:{chat_id}", BOT):
            while wait := self._limiter.try_acquire(endpoint):
                await self._sleep(wait + RATE_SLACK)

    async def _send_part(self, bot: Bot, chat_id: str, text: str) -> int:
        retries = 0
        while True:
            await self._take_slots(chat_id)
            try:
                message = await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
                return message.message_id
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc)
                if retries >= self.max_retries or wait > self.max_retry_after:
                    raise _Failure(f"RetryAfter: flood control, retry after {wait:g}s", permanent=False) from None
                logger.info("Telegram flood control for chat %s: waiting %gs", chat_id, wait)
                retries += 1
                await self._sleep(wait)
            except (Forbidden, BadRequest, InvalidToken, ChatMigrated) as exc:
                raise _Failure(describe_error(exc), permanent=True) from None
            except TelegramError as exc:  # NetworkError, TimedOut, 5xx: may work later
                raise _Failure(describe_error(exc), permanent=False) from None


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """httpx's default (certifi's CAs), made once: loading the CAs takes tens of
    milliseconds of CPU, which each alert would otherwise pay twice."""
    return ssl.create_default_context(cafile=certifi.where())


def _retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # a timedelta with PTB_TIMEDELTA, else int seconds
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def notifier_from_settings() -> Notifier:
    """The notifier the settings ask for: Telegram with a token and chats, else the log."""
    token, chat_ids = settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_CHAT_IDS
    if not token or not chat_ids:
        if token:
            logger.warning("TELEGRAM_BOT_TOKEN is set but TELEGRAM_CHAT_IDS is empty: alerts go to the log only")
        return LogNotifier()
    return TelegramNotifier(token, chat_ids, base_url=settings.TELEGRAM_BASE_URL)
