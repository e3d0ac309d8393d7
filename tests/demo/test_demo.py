"""`bin/demo`'s day as its startup message promises it (hedging.services.demo, started in
this process against the test database): the morning forecast stored before the day
ticks and shown on the dashboard, the command bot answering a command sent as the
message says (over loopback HTTP to the simulated Bot API), and the forecast command
it prints working from another shell without OPENALGO_API_KEY."""

import os
import re
import shlex
import subprocess
import time

import pytest
import requests

from config.celery import app as celery_app
from hedging.core.clock import MARKET_OPEN, at
from hedging.management.commands.demo import started
from hedging.models import Forecast
from hedging.services import demo
from tests.dashboard.pages import text
from tests.fixtures.processes import ROOT, database_url
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the ticker and bot: connections of their own
CHAT = "1001"


@pytest.fixture
def running(settings, monkeypatch):
    """The demo on the sim's day (a Tuesday), at the default speed, in development with
    OPENALGO_API_KEY unset. The settings it changes are given back after the test."""
    monkeypatch.delenv("OPENALGO_API_KEY", raising=False)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", celery_app.conf.task_always_eager)
    for name in ("AUTOHEDGE_CLOCK", "AUTOHEDGE_LIVE_TRADING", "TELEGRAM_BOT_TOKEN", "TELEGRAM_BASE_URL", "TELEGRAM_CHAT_IDS"):
        setattr(settings, name, getattr(settings, name))  # overridden, so restored at teardown
    day = demo.start(SIM_DAY, speed=30, seed=1, chat_id=CHAT)
    yield day
    day.stop()


def told(running: demo.Running) -> str:
    return started(running, port=8000, password="hedge-demo")


def command(message: str, starting: str) -> str:
    """The message's line that starts with `starting`."""
    return next(line.strip() for line in message.splitlines() if line.strip().startswith(starting))


def test_the_morning_plan_is_stored_before_the_day_ticks_and_shown(running, client, staff):
    session = running.day.sessions[0]
    plan = Forecast.objects.get(session=session)
    assert plan.made_at == at(SIM_DAY, MARKET_OPEN) and plan.hedge_buys >= 1

    client.force_login(staff)
    page = text(client.get("/"))
    assert "No forecast stored" not in page and "forecast at 09:15" in page
    assert f"{plan.hedge_buys} hedge buy{'s' if plan.hedge_buys > 1 else ''} planned" in page

    shown = requests.get(f"{running.telegram_url}/_sim/messages", params={"format": "text"}, timeout=5).text
    assert "Hedge forecast" in shown and f"NIFTY {SIM_DAY:%d %b} expiry · Demo (simulated broker)" in shown


def test_the_bot_answers_status_sent_as_the_startup_message_says(running):
    message = told(running)
    assert "The Telegram bot answers chat 1001: /status /today /summary /pause /resume /help" in message
    send = shlex.split(command(message, "curl -s http://"))
    assert send[:2] == ["curl", "-s"] and send[3:] == ["-d", "chat_id=1001", "-d", "text=/status"]
    requests.post(send[2], data=dict(field.split("=", 1) for field in send[4::2]), timeout=5).raise_for_status()

    read = shlex.split(command(message, "curl -s '"))[2]
    deadline = time.monotonic() + 20
    while "Decision now:" not in (shown := requests.get(read, timeout=5).text) and time.monotonic() < deadline:
        time.sleep(0.1)
    answer = shown[shown.index("Auto-hedge on"):]
    assert "Demo (simulated broker) · NIFTY · LIVE · auto ON" in answer
    assert re.search(r"Utilisation [\d.]+% of ₹13L", answer) and "Decision now:" in answer


def test_the_message_says_how_long_the_day_lasts(running):
    assert f"A NIFTY trading day, {SIM_DAY:%a %d %b %Y}, 09:15 to 15:30 at 30× speed: 12.5 minutes." in told(running)


def test_the_printed_forecast_command_works_from_another_shell(running):
    line = command(told(running), "AUTOHEDGE_CLOCK=")
    assert line.endswith(f".venv/bin/python manage.py forecast {running.day.sessions[0].pk}")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENALGO_API_KEY", "AUTOHEDGE_ENV")}
    done = subprocess.run(["bash", "-c", line], cwd=ROOT, env={**env, "DATABASE_URL": database_url()},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Forecast NIFTY {SIM_DAY:%a %d %b %Y} · budget ₹13,00,000 · cap ₹50,000")
    assert "Traceback" not in done.stderr
