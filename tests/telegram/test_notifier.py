"""The notifier against the simulated Bot API over real loopback HTTP, on a simulated clock."""

import logging
import socket
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from telegram.error import InvalidToken

from hedging.telegram.notifier import (
    LogNotifier,
    RateLimiter,
    TelegramNotifier,
    describe_error,
    notifier_from_settings,
)
from hedging.telegram.simulator import parse_html
from hedging import messages


class FakeTime:
    """A clock that moves only when the notifier sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def fake_time():
    return FakeTime()


def make_notifier(sim, fake: FakeTime, chat_ids=("42",), **kwargs) -> TelegramNotifier:
    return TelegramNotifier(
        sim.token,
        chat_ids,
        base_url=sim.base_url,
        limiter=RateLimiter(clock=fake.time),
        sleep=fake.sleep,
        **kwargs,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def long_text() -> str:
    line = "<b>Straddle &lt;P&amp;1&gt;</b> at 10:30 · ₹1,830.50\n"
    return line * (10_000 // len(line) + 1)


def test_user_text_is_escaped_and_arrives_intact(telegram_sim, fake_time):
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
    [result] = make_notifier(telegram_sim, fake_time).send(text)
    assert result.ok and len(result.message_ids) == 1
    [received] = telegram_sim.sent_to("42")
    assert received.text == text and received.parse_mode == "HTML"
    assert "<P&1> at 10:30" in parse_html(received.text)


def test_long_message_arrives_in_parts_that_each_parse(telegram_sim, fake_time):
    text = long_text()
    [result] = make_notifier(telegram_sim, fake_time).send(text)
    received = telegram_sim.sent_to("42")
    assert result.ok and len(result.message_ids) == len(received) == 3
    assert all(len(m.text) < 4096 for m in received)
    assert "".join(parse_html(m.text) for m in received) == parse_html(text)


def test_per_chat_rate_is_kept_so_telegram_never_refuses(telegram_sim, fake_time):
    telegram_sim.clock = fake_time.time
    telegram_sim.per_chat_interval = 1.0  # the simulator refuses faster sends with 429
    notifier = make_notifier(telegram_sim, fake_time, chat_ids=("42", "43"))
    for n in range(3):
        assert all(r.ok for r in notifier.send(f"alert {n}"))
    assert {c.status for c in telegram_sim.calls} == {200}
    for chat in ("42", "43"):
        times = [m.time for m in telegram_sim.sent_to(chat)]
        assert len(times) == 3
        assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[1:]))


def test_rate_limiter_spaces_one_chat_by_a_second_and_all_chats_30_a_second():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert limiter.reserve("a") == 0
    assert limiter.reserve("a") == pytest.approx(1.0)
    slots = [limiter.reserve(f"chat{i}") for i in range(60)]
    assert sorted(slots) == slots
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in zip(slots, slots[1:]))


def test_rate_limiter_is_thread_safe():
    limiter = RateLimiter(clock=lambda: 0.0)
    slots: list[float] = []
    lock = threading.Lock()

    def book(worker: int) -> None:
        mine = [limiter.reserve(f"w{worker}-{i}") for i in range(50)]
        with lock:
            slots.extend(mine)

    threads = [threading.Thread(target=book, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    assert len(slots) == 400
    assert all(b - a >= 1 / 30 - 1e-9 for a, b in zip(slots, slots[1:]))


def test_retry_after_is_waited_out_before_the_retry(telegram_sim, fake_time):
    telegram_sim.clock = fake_time.time
    telegram_sim.flood(retry_after=3)
    [result] = make_notifier(telegram_sim, fake_time).send("alert")
    assert result.ok
    refused, accepted = telegram_sim.calls_to("sendMessage")
    assert (refused.status, accepted.status) == (429, 200)
    assert accepted.time - refused.time >= 3
    assert 3.0 in fake_time.sleeps


def test_retry_after_is_retried_a_bounded_number_of_times(telegram_sim, fake_time):
    telegram_sim.flood(retry_after=3, times=10)
    [result] = make_notifier(telegram_sim, fake_time, max_retries=2).send("alert")
    assert not result.ok and not result.permanent
    assert "retry after 3" in result.error
    assert len(telegram_sim.calls_to("sendMessage")) == 3


def test_a_long_retry_after_is_not_waited_in_a_task(telegram_sim, fake_time):
    telegram_sim.flood(retry_after=600)
    [result] = make_notifier(telegram_sim, fake_time, max_retry_after=30).send("alert")
    assert not result.ok and not result.permanent
    assert len(telegram_sim.calls_to("sendMessage")) == 1
    assert 600 not in fake_time.sleeps


@pytest.mark.parametrize(
    "fault, error",
    [("block", "Forbidden: bot was blocked by the user"), ("lose_chat", "BadRequest: Chat not found")],
)
def test_permanent_error_is_recorded_and_not_retried(telegram_sim, fake_time, fault, error):
    getattr(telegram_sim, fault)("42")
    results = make_notifier(telegram_sim, fake_time, chat_ids=("42", "43")).send(long_text())
    by_chat = {r.chat_id: r for r in results}
    assert not by_chat["42"].ok and by_chat["42"].permanent
    assert error in by_chat["42"].error
    assert len([c for c in telegram_sim.calls if c.chat_id == "42"]) == 1  # not the other parts either
    assert by_chat["43"].ok and len(telegram_sim.sent_to("43")) == 3


def test_telegram_down_is_a_retryable_failure(telegram_sim, fake_time):
    telegram_sim.set_down()
    [result] = make_notifier(telegram_sim, fake_time).send("alert")
    assert not result.ok and not result.permanent
    assert "Bad Gateway" in result.error
    assert len(telegram_sim.calls) == 1


def test_connection_refused_is_a_retryable_failure(fake_time):
    notifier = TelegramNotifier(
        "1:token",
        ["42"],
        base_url=f"http://127.0.0.1:{free_port()}/bot",
        limiter=RateLimiter(clock=fake_time.time),
        sleep=fake_time.sleep,
    )
    [result] = notifier.send("alert")
    assert not result.ok and not result.permanent
    assert result.error.startswith("NetworkError")


def test_timeout_is_a_retryable_failure(telegram_sim, fake_time):
    telegram_sim.latency = 0.5
    [result] = make_notifier(telegram_sim, fake_time, timeout=0.1).send("alert")
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


def test_the_token_never_reaches_logs_errors_or_reprs(telegram_sim, fake_time, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_token = "987654:WRONG-secret-token"
    good = make_notifier(telegram_sim, fake_time, chat_ids=("42", "43"))
    wrong = TelegramNotifier(  # as if the settings held a revoked token
        wrong_token,
        ["42"],
        base_url=telegram_sim.base_url,
        limiter=RateLimiter(clock=fake_time.time),
        sleep=fake_time.sleep,
    )
    telegram_sim.block("43")
    results = good.send("ok") + wrong.send("ok")
    telegram_sim.set_down()
    results += good.send("down")
    refused = TelegramNotifier(
        telegram_sim.token,
        ["42"],
        base_url=f"http://127.0.0.1:{free_port()}/bot",
        limiter=RateLimiter(clock=fake_time.time),
        sleep=fake_time.sleep,
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
