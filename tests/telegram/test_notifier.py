"""The notifier against the simulated Bot API over real loopback HTTP. The notifier's
waits (its limiter's, flood control's) pass on a simulated clock, which its limiter and
the simulator read: nothing is slept."""

import asyncio
import logging
import socket
import time
import uuid
from datetime import date
from decimal import Decimal as D

import pytest
import redis
from telegram.error import InvalidToken

from brokers.ratelimit import RateLimiter
from hedging.telegram.notifier import (
    BOT,
    BOT_LIMIT,
    CHAT_LIMIT,
    RATE_SLACK,
    LogNotifier,
    TelegramNotifier,
    describe_error,
    notifier_from_settings,
    telegram_limiter,
)
from hedging.telegram.simulator import parse_html
from hedging import messages
from tests.fixtures.processes import CELERY_REDIS_URL

LIMITER_WAIT = 1.0 + RATE_SLACK  # the longest the limiter has the notifier wait


class Sleeps(list):
    """The notifier's sleep: records each wait asked for, and the tasks (chats) that asked,
    and moves `clock` on to its end instead of sleeping: once the other chats' tasks have
    run on the clock as it was, so waits asked for together pass together."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped = 0.0
        self.waiters: set[asyncio.Task] = set()

    def clock(self) -> float:
        return time.time() + self.skipped

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.waiters.add(asyncio.current_task())
        wake = self.clock() + seconds
        await asyncio.sleep(0)
        self.skipped = max(self.skipped, wake - time.time())


class RealSleeps(Sleeps):
    """Waits for real: Redis's clock is the limiter's, and it is not simulated."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.waiters.add(asyncio.current_task())
        await asyncio.sleep(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def limiter(storage: str = "memory://", bot: str = "", clock=time.monotonic) -> RateLimiter:
    """A bot's limiter of its own (the shared one would count every test's messages)."""
    return RateLimiter(bot or f"test-bot-{uuid.uuid4().hex}", {BOT: BOT_LIMIT}, CHAT_LIMIT, storage, clock=clock)


def make_notifier(sim, sleeps: Sleeps, chat_ids=("42",), **kwargs) -> TelegramNotifier:
    """A notifier whose limiter and simulator go by `sleeps`' clock."""
    kwargs.setdefault("limiter", limiter(clock=sleeps.clock))
    sim.clock = sleeps.clock
    return TelegramNotifier(sim.token, chat_ids, base_url=sim.base_url, sleep=sleeps, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def long_text() -> str:
    line = "<b>Straddle &lt;P&amp;1&gt;</b> at 10:30 · ₹1,830.50\n"
    return line * (10_000 // len(line) + 1)


def test_user_text_is_escaped_and_arrives_intact(telegram_sim, sleeps):
    session = messages.SessionRef("Main", "NIFTY", date(2026, 2, 3), D("1000000"), paper=True)
    text = messages.render(
        "hedge_bought",
        a=messages.HedgeAction(
            header=messages.Header("ℹ️", "Hedge bought", session),
            action="buy",
            baskets=1,
            legs=[messages.HedgeLeg("NIFTY03FEB2625400CE", 65, D("3"))],
            amount=D("195"),
            reason="<P&1> at 10:30: projected 97.0% > 95.0%",
            for_entries=["<P&1>"],
            utilisation_after_pct=D("84"),
            spent_today=D("195"),
            daily_cap=D("50000"),
        ),
    )
    [result] = make_notifier(telegram_sim, sleeps).send(text)
    assert result.ok and len(result.message_ids) == 1
    [received] = telegram_sim.sent_to("42")
    assert received.text == text and received.parse_mode == "HTML"
    assert "<P&1> at 10:30" in parse_html(received.text)


def test_long_message_arrives_in_parts_that_each_parse(telegram_sim, sleeps):
    text = long_text()
    [result] = make_notifier(telegram_sim, sleeps).send(text)
    received = telegram_sim.sent_to("42")
    assert result.ok and len(result.message_ids) == len(received) == 3
    assert all(len(m.text) < 4096 for m in received)
    assert "".join(parse_html(m.text) for m in received) == parse_html(text)


def test_per_chat_rate_is_kept_so_telegram_never_refuses(telegram_sim, sleeps):
    telegram_sim.per_chat_interval = 1.0  # the simulator refuses faster sends with 429
    notifier = make_notifier(telegram_sim, sleeps, chat_ids=("42", "43"))
    for n in range(3):
        assert all(r.ok for r in notifier.send(f"alert {n}"))
    assert {c.status for c in telegram_sim.calls} == {200}
    for chat in ("42", "43"):
        times = [m.time for m in telegram_sim.sent_to(chat)]
        assert len(times) == 3
        assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:]))


def test_a_second_message_to_a_chat_within_the_second_waits(telegram_sim, sleeps):
    notifier = make_notifier(telegram_sim, sleeps, chat_ids=("42", "43"))
    assert notifier.send("one")[0].ok and sleeps == []
    assert all(r.ok for r in notifier.send("two"))
    assert len(sleeps.waiters) == 2 and 0.8 < sleeps[0] <= LIMITER_WAIT
    first, second = telegram_sim.sent_to("42")
    assert second.time - first.time >= 1.0


def most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[n:] if t < start + 1.0) for n, start in enumerate(times))


class Granted(RateLimiter):
    """A bot's limiter that notes when each message was let go, on its clock (the simulator
    stamps a message when it arrives, after the simulated clock may have moved on)."""

    def __init__(self, clock) -> None:
        super().__init__(f"test-bot-{uuid.uuid4().hex}", {BOT: BOT_LIMIT}, CHAT_LIMIT, clock=clock)
        self.times: list[float] = []

    def try_acquire(self, endpoint: str) -> float:
        wait = super().try_acquire(endpoint)
        if endpoint == BOT and not wait:
            self.times.append(self._clock())
        return wait


def test_many_chats_are_paced_at_the_bots_30_a_second(telegram_sim, sleeps):
    chats, granted = [str(1000 + n) for n in range(60)], Granted(sleeps.clock)
    results = make_notifier(telegram_sim, sleeps, chat_ids=chats, limiter=granted).send("alert")
    assert all(r.ok for r in results) and len(telegram_sim.messages) == 60
    assert len(sleeps.waiters) == 54  # a fifth (6) go at once, the rest one a 25th of a second apart
    assert len(granted.times) == 60 and most_in_a_second(granted.times) <= 30


def test_two_processes_pace_one_chat_together_through_redis(telegram_sim):
    """Two notifiers of one bot, each with a limiter of its own on one Redis, stand for two
    processes (a worker and the bot): the second's message to the chat the first has just
    written to waits for the chat's second; another chat's goes at once."""
    bot = f"test-bot-{uuid.uuid4().hex}"
    worker, other = RealSleeps(), RealSleeps()
    assert make_notifier(telegram_sim, worker, limiter=limiter(CELERY_REDIS_URL, bot)).send("one")[0].ok
    assert worker == []
    second = make_notifier(telegram_sim, other, chat_ids=("42", "43"), limiter=limiter(CELERY_REDIS_URL, bot))
    assert all(r.ok for r in second.send("two"))
    assert len(other.waiters) == 1 and 0.8 < other[0] <= LIMITER_WAIT
    first, later = telegram_sim.sent_to("42")
    assert later.time - first.time >= 1.0


def test_a_bot_counts_in_the_settings_store_under_a_digest_of_its_token(telegram_sim, settings):
    settings.TELEGRAM_BOT_TOKEN = telegram_sim.token
    settings.TELEGRAM_CHAT_IDS = [uuid.uuid4().hex]  # a chat no other test wrote to
    settings.TELEGRAM_BASE_URL = telegram_sim.base_url
    settings.AUTOHEDGE_RATE_LIMIT_STORAGE = CELERY_REDIS_URL
    notifier = notifier_from_settings()
    assert notifier._limiter is telegram_limiter(telegram_sim.token, CELERY_REDIS_URL)
    assert notifier.send("hello")[0].ok
    keys = [key.decode() for key in redis.Redis.from_url(CELERY_REDIS_URL).keys("*telegram-*")]
    assert any(settings.TELEGRAM_CHAT_IDS[0] in key for key in keys)
    secret = telegram_sim.token.split(":")[1]
    assert not any(secret in key for key in keys)


def test_retry_after_is_waited_out_before_the_retry(telegram_sim, sleeps):
    telegram_sim.flood(retry_after=3)
    [result] = make_notifier(telegram_sim, sleeps).send("alert")
    assert result.ok
    refused, accepted = telegram_sim.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.time - refused.time >= 3
    assert 3.0 in sleeps


def test_retry_after_is_retried_a_bounded_number_of_times(telegram_sim, sleeps):
    telegram_sim.flood(retry_after=3, times=10)
    [result] = make_notifier(telegram_sim, sleeps, max_retries=2).send("alert")
    assert not result.ok and not result.permanent
    assert "retry after 3" in result.error
    assert len(telegram_sim.calls_to("sendMessage")) == 3


def test_a_long_retry_after_is_not_waited_in_a_task(telegram_sim, sleeps):
    telegram_sim.flood(retry_after=600)
    [result] = make_notifier(telegram_sim, sleeps, max_retry_after=30).send("alert")
    assert not result.ok and not result.permanent
    assert len(telegram_sim.calls_to("sendMessage")) == 1
    assert 600 not in sleeps


@pytest.mark.parametrize(
    "fault, error",
    [("block", "Forbidden: bot was blocked by the user"), ("lose_chat", "BadRequest: Chat not found")],
)
def test_permanent_error_is_recorded_and_not_retried(telegram_sim, sleeps, fault, error):
    getattr(telegram_sim, fault)("42")
    results = make_notifier(telegram_sim, sleeps, chat_ids=("42", "43")).send(long_text())
    by_chat = {r.chat_id: r for r in results}
    assert not by_chat["42"].ok and by_chat["42"].permanent
    assert error in by_chat["42"].error
    assert len([c for c in telegram_sim.calls if c.chat_id == "42"]) == 1  # not the other parts either
    assert by_chat["43"].ok and len(telegram_sim.sent_to("43")) == 3


def test_telegram_down_is_a_retryable_failure(telegram_sim, sleeps):
    telegram_sim.set_down()
    [result] = make_notifier(telegram_sim, sleeps).send("alert")
    assert not result.ok and not result.permanent
    assert "Bad Gateway" in result.error
    assert len(telegram_sim.calls) == 1


def test_connection_refused_is_a_retryable_failure(sleeps):
    notifier = TelegramNotifier(
        "1:token",
        ["42"],
        base_url=f"http://127.0.0.1:{free_port()}/bot",
        limiter=limiter(),
        sleep=sleeps,
    )
    [result] = notifier.send("alert")
    assert not result.ok and not result.permanent
    assert result.error.startswith("NetworkError")


def test_timeout_is_a_retryable_failure(telegram_sim, sleeps):
    telegram_sim.latency = 0.5
    [result] = make_notifier(telegram_sim, sleeps, timeout=0.1).send("alert")
    assert not result.ok and not result.permanent
    assert result.error.startswith("TimedOut")


def test_without_a_token_alerts_are_only_logged(telegram_sim, settings, caplog):
    settings.TELEGRAM_BOT_TOKEN = ""
    settings.TELEGRAM_CHAT_IDS = ["42"]
    settings.TELEGRAM_BASE_URL = telegram_sim.base_url
    caplog.set_level(logging.INFO)
    notifier = notifier_from_settings()
    assert isinstance(notifier, LogNotifier)
    assert notifier.send("<b>Hedge bought</b> for ₹1,950") == []
    assert "<b>Hedge bought</b> for ₹1,950" in caplog.text
    assert telegram_sim.calls == []


def test_a_token_without_chats_also_only_logs(settings, caplog):
    settings.TELEGRAM_BOT_TOKEN = "1:token"
    settings.TELEGRAM_CHAT_IDS = []
    assert isinstance(notifier_from_settings(), LogNotifier)
    assert "TELEGRAM_CHAT_IDS is empty" in caplog.text
    with pytest.raises(ValueError):
        TelegramNotifier("", ["42"])


def test_settings_with_a_token_send_through_telegram(telegram_sim, settings):
    settings.TELEGRAM_BOT_TOKEN = telegram_sim.token
    settings.TELEGRAM_CHAT_IDS = ["42"]
    settings.TELEGRAM_BASE_URL = telegram_sim.base_url
    notifier = notifier_from_settings()
    assert isinstance(notifier, TelegramNotifier)
    assert [r.ok for r in notifier.send("hello")] == [True]
    assert telegram_sim.sent_to("42")[0].text == "hello"


def test_the_token_never_reaches_logs_errors_or_reprs(telegram_sim, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_token = "987654:WRONG-secret-token"
    good = make_notifier(telegram_sim, sleeps, chat_ids=("42", "43"))
    wrong = TelegramNotifier(  # as if the settings held a revoked token
        wrong_token,
        ["42"],
        base_url=telegram_sim.base_url,
        limiter=limiter(),
        sleep=sleeps,
    )
    telegram_sim.block("43")
    results = good.send("ok") + wrong.send("ok")
    telegram_sim.set_down()
    results += good.send("down")
    refused = TelegramNotifier(
        telegram_sim.token,
        ["42"],
        base_url=f"http://127.0.0.1:{free_port()}/bot",
        limiter=limiter(),
        sleep=sleeps,
    )
    results += refused.send("refused")

    assert [r.ok for r in results] == [True, False, False, False, False, False]
    assert results[2].permanent and results[2].error.startswith("InvalidToken")
    # httpx logs every URL, and the URL carries the token: it must arrive scrubbed.
    assert "bot<redacted>/sendMessage" in caplog.text
    texts = [caplog.text, *(r.error for r in results), repr(good), repr(refused)]
    for secret in (telegram_sim.token, wrong_token):
        assert not any(secret in text for text in texts)


def test_exception_texts_and_tracebacks_are_scrubbed(telegram_sim, caplog):
    TelegramNotifier(telegram_sim.token, ["42"])
    error = InvalidToken(f"The token `{telegram_sim.token}` was rejected by the server.")
    assert telegram_sim.token not in describe_error(error)
    try:
        raise RuntimeError(f"GET https://api.telegram.org/bot{telegram_sim.token}/getMe failed")
    except RuntimeError:
        logging.getLogger("anything").exception("boom")
    assert "boom" in caplog.text and "RuntimeError" in caplog.text
    assert telegram_sim.token not in caplog.text
