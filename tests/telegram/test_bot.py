"""The command bot, long-polling the simulated Bot API from a background thread."""

import logging
import time
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command

from hedging.telegram.bot import Polling, build_application, load_handler

TRADER = "42"
STRANGER = "666"


class FakeHandler:
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def status_text(self) -> str:
        self.calls.append(("status",))
        return "<b>NIFTY</b> utilisation 58.3% &amp; 1 hedge held"

    def pause(self, chat_id: str) -> str:
        self.calls.append(("pause", chat_id))
        return "Auto-hedge <b>OFF</b>"

    def resume(self, chat_id: str) -> str:
        self.calls.append(("resume", chat_id))
        return "Auto-hedge <b>ON</b>"

    def today_text(self) -> str:
        self.calls.append(("today",))
        return "Today: no hedge buys expected"

    def summary_text(self) -> str:
        self.calls.append(("summary",))
        return "Day summary"


class BrokenHandler(FakeHandler):
    def status_text(self) -> str:
        raise RuntimeError("database is down")


@contextmanager
def running_bot(sim, handler, chat_ids=(TRADER,)):
    """The bot polling from a thread, as the demo runs it (`Polling`), stopped after."""
    polling = Polling(build_application(sim.token, list(chat_ids), handler, base_url=sim.base_url))
    try:
        assert polling.app.running and polling.app.updater.running, "the bot did not start"
        yield polling.app
    finally:
        polling.stop()


def test_a_bot_stopped_soon_after_it_is_made_stops(telegram_sim):
    """Its start calls getMe, setMyCommands, deleteWebhook, then polls: a stop asked for
    during the deleteWebhook (PTB would drop it) comes once the bot polls."""
    telegram_sim.latency = 0.2
    polling = Polling(build_application(telegram_sim.token, [TRADER], FakeHandler(), base_url=telegram_sim.base_url))
    time.sleep(0.5)
    polling.stop()
    assert not polling.app.running and not polling.app.updater.running


def test_status_is_answered_to_the_trader_and_a_stranger_gets_nothing(telegram_sim, caplog):
    caplog.set_level(logging.INFO)
    handler = FakeHandler()
    with running_bot(telegram_sim, handler):
        telegram_sim.push_update(STRANGER, "/status my secret plan")
        telegram_sim.push_update(TRADER, "/status")
        # Updates are handled in order: once the trader has the answer, the stranger's
        # message has been dealt with too.
        [reply] = telegram_sim.wait_for_messages(TRADER, 1)
    assert reply.text == "<b>NIFTY</b> utilisation 58.3% &amp; 1 hedge held"
    assert reply.parse_mode == "HTML"
    assert telegram_sim.sent_to(STRANGER) == []
    assert handler.calls == [("status",)]
    assert f"unauthorised chat {STRANGER}" in caplog.text
    assert "secret plan" not in caplog.text


@pytest.mark.parametrize(
    "command, call, answer",
    [
        ("/pause", ("pause", TRADER), "Auto-hedge <b>OFF</b>"),
        ("/resume", ("resume", TRADER), "Auto-hedge <b>ON</b>"),
        ("/today", ("today",), "Today: no hedge buys expected"),
        ("/summary", ("summary",), "Day summary"),
    ],
)
def test_commands_reach_the_handler(telegram_sim, command, call, answer):
    handler = FakeHandler()
    with running_bot(telegram_sim, handler):
        telegram_sim.push_update(TRADER, command)
        [reply] = telegram_sim.wait_for_messages(TRADER, 1)
    assert reply.text == answer
    assert handler.calls == [call]


def test_help_and_published_commands(telegram_sim):
    with running_bot(telegram_sim, FakeHandler()):
        telegram_sim.push_update(TRADER, "/help")
        [reply] = telegram_sim.wait_for_messages(TRADER, 1)
    assert "/status" in reply.text and "/pause" in reply.text
    assert [c["command"] for c in telegram_sim.commands] == ["status", "pause", "resume", "today", "summary", "help"]


def test_a_failing_handler_gets_a_notice_and_a_logged_trace(telegram_sim, caplog):
    with running_bot(telegram_sim, BrokenHandler()):
        telegram_sim.push_update(TRADER, "/status")
        [reply] = telegram_sim.wait_for_messages(TRADER, 1)
    assert "/status failed" in reply.text
    assert "database is down" in caplog.text


def test_the_bot_keeps_its_token_out_of_the_logs(telegram_sim, caplog):
    caplog.set_level(logging.DEBUG)
    with running_bot(telegram_sim, FakeHandler()):
        telegram_sim.push_update(TRADER, "/status")
        telegram_sim.wait_for_messages(TRADER, 1)
    assert "<redacted>" in caplog.text  # PTB and httpx do log the URLs
    assert telegram_sim.token not in caplog.text


def test_the_bot_needs_chats():
    with pytest.raises(ValueError):
        build_application("1:token", [], FakeHandler())


def test_load_handler():
    assert isinstance(load_handler("tests.telegram.test_bot.FakeHandler"), FakeHandler)


def test_management_command_refuses_without_a_token(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="TELEGRAM_BOT_TOKEN"):
        call_command("telegram_bot")
