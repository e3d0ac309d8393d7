"""Secrets never leak: the OpenAlgo API key, the Telegram bot token and SECRET_KEY are in
no log record (every logger, at DEBUG), page, API answer, error report, worker log or
command output, whatever fails: a broker answering 4xx/5xx/garbage or nothing (and
echoing the key back), a Bot API down or refusing the token, a view crashing with DEBUG
off or on. Each secret is looked for as is, URL-encoded and HTML-escaped."""

import asyncio
import html
import logging
import os
import signal
import socket
import subprocess
import sys
import traceback
from datetime import time
from decimal import Decimal
from io import StringIO
from urllib.parse import quote, quote_plus

import pytest
from django.contrib import admin
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import include, path, reverse

from brokers.models import BrokerAccount, Mode
from brokers.openalgo import OpenAlgoClient, OpenAlgoError, RetryPolicy
from brokers.simbroker import build_demo_simbroker, start_server, stop_server
from brokers.simbroker.scenario import build_simbroker, load_scenario
from hedging.telegram.notifier import TelegramNotifier, notifier_from_settings
from hedging.telegram.simulator import TelegramSim, start
from hedging import tasks
from hedging.core.clock import MARKET_OPEN, AcceleratedClock, SteppedClock, at
from hedging.models import Alert, DailySession, HedgeTransaction
from hedging.services import notify, orchestrator, runtime
from hedging.ports import Ports
from schedules.models import StrategySchedule
from tests.engine.test_celery_day import NIFTY_0DTE
from tests.engine.test_replay_samples import SCENARIOS
from tests.factories import BrokerAccountFactory
from tests.fixtures.processes import CELERY_REDIS_URL, ROOT, wait_for
from tests.fixtures.simbroker import SIM_DAY
from tests.security.test_every_url import project_urls

pytestmark = pytest.mark.django_db
OA_ENV = "OPENALGO_MAIN"  # a variable name Django's reporter would not hide by itself
OA_KEY = "oa-LEAKCHECK-5f0e9d8c7b6a5f4e3d2c1b0a"
TG_TOKEN = "987654321:LEAKCHECK-tg_Zx9Yw8Vu7Ts6Rq5"
SECRET_KEY = "django-LEAKCHECK-q&w^e*r(t)y+u=i#o<p>"
SECRETS = {"OpenAlgo API key": OA_KEY, "Telegram bot token": TG_TOKEN, "SECRET_KEY": SECRET_KEY}
CHAT = "1001"
LOGGERS = ["", "urllib3", "requests", "httpx", "httpcore", "telegram", "django", "django.request", "celery"]
FORMAT = logging.Formatter("%(levelname)s %(name)s %(message)s")


def leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items()
            if any(form in text for form in (secret, quote(secret, safe=""), quote_plus(secret), html.escape(secret)))]


def assert_clean(texts: dict[str, str], caplog) -> None:
    """No secret in any of `texts` nor in any log record captured so far."""
    texts = {**texts, **{f"log {r.name} #{n}": FORMAT.format(r) for n, r in enumerate(caplog.records)}}
    found = {where: leaks(text) for where, text in texts.items() if leaks(text)}
    assert not found, found


def error_texts(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *traceback.format_exception(error), *map(repr, vars(error).values())])


# -- the world: secrets set, a broker and a Bot API that know them ------------------------


@pytest.fixture(autouse=True)
def secrets(monkeypatch, settings, caplog):
    monkeypatch.setenv(OA_ENV, OA_KEY)
    settings.SECRET_KEY = SECRET_KEY
    settings.TELEGRAM_BOT_TOKEN = TG_TOKEN
    settings.TELEGRAM_CHAT_IDS = [CHAT]
    settings.OPENALGO_TIMEOUT_READ = 0.3  # the timeout fault below answers after a second
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)


@pytest.fixture
def simbroker():
    return build_demo_simbroker(SteppedClock(at(SIM_DAY, MARKET_OPEN)), strategies=(), rate_limits=False, api_key=OA_KEY)


@pytest.fixture
def live_account(simbroker_server, settings):
    settings.AUTOHEDGE_LIVE_TRADING = True
    return BrokerAccountFactory(host=simbroker_server.url, mode="live", api_key_env=OA_ENV)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """The app's broker clients give up at once: the faults below would otherwise cost
    seconds of backoff on every page."""
    monkeypatch.setattr(runtime, "_client", lambda account, host, key: OpenAlgoClient.for_account(account, retry=RetryPolicy(1)))


@pytest.fixture
def bot_api(settings):
    server, url = start(TelegramSim(TG_TOKEN))
    settings.TELEGRAM_BASE_URL = url
    yield server.sim
    server.stop()


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connection refused."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{free.getsockname()[1]}"


def echo_the_key(sim, endpoints, count=50) -> None:
    """A broker that puts the key in its error messages: ours must not repeat it."""
    for endpoint in endpoints:
        sim.faults.inject(endpoint, "error_500", count=count, message=f"internal error for apikey {OA_KEY}")


# -- pages, API answers and the admin -------------------------------------------------------


@pytest.fixture
def failed_day(trading_day, simbroker, sim_ports, bot_api, settings, django_capture_on_commit_callbacks):
    """The 09:56 tick's hedge buy refused by the broker, its alert undeliverable (Telegram
    down), one more alert refused for a wrong token: errors stored on the rows."""
    simbroker.faults.inject("placeorder", "rate_limit", count=6)
    bot_api.set_down()
    ports = Ports(clock=simbroker.clock, broker=sim_ports.broker, paper=False, sleep=lambda s: None,
                  deliver_alert=notify.deliver)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrator.tick(trading_day.pk, ports)
    bot_api.set_down(False)
    bot_api.token = "111:another-bot"
    settings.TELEGRAM_CHAT_IDS = ["1002"]  # another chat: no wait for the per-chat rate limit
    unauthorised = Alert.objects.create(session=trading_day, kind="test", text="token refused", created_at=simbroker.clock.now())
    notify.deliver(unauthorised.pk)
    return trading_day


def staff_urls(pks: dict[str, int]):
    """Every page and API answer a staff user can GET, with real rows; every admin
    changelist and change form, and the add forms of the project's own models."""
    for route in project_urls():
        kind = next((kind for kind in pks if kind in route), None) if "<int:pk>" in route else None
        yield "/" + (route.replace("<int:pk>", str(pks[kind])) if kind else route)
    yield reverse("admin:index")
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        yield reverse("admin:%s_%s_changelist" % info)
        if model._meta.app_label in ("brokers", "schedules", "hedging"):
            yield reverse("admin:%s_%s_add" % info)
        for obj in model.objects.all()[:1]:
            yield reverse("admin:%s_%s_change" % info, args=[obj.pk])


def test_no_page_api_answer_or_admin_form_shows_a_secret(client, staff, failed_day, simbroker, caplog):
    tx = HedgeTransaction.objects.get(session=failed_day)
    assert tx.status == "failed" and Alert.objects.exclude(error="").count() == 2
    echo_the_key(simbroker, ["funds", "positionbook", "multiquotes", "quotes", "orderbook", "ping"], count=1000)
    client.force_login(staff)
    pks = {"plan": failed_day.pk, "session": failed_day.pk, "transaction": tx.pk,
           "schedule": StrategySchedule.objects.first().pk}
    pages = {}
    for url in staff_urls(pks):
        response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        pages[url] = response.content.decode()
    for url in ("/?read=now", "/api/hedge/status?read=now"):  # the pages that read the broker when asked
        pages[url] = client.get(url).content.decode()
    # A manual buy while the broker fails: the dashboard's message, the API's 503.
    manual = {"session": failed_day.pk, "action": "BUY", "hedge_baskets": 1}
    pages["POST /manual"] = client.post("/manual", manual, follow=True).content.decode()
    answer = client.post("/api/hedge/manual/buy", manual, content_type="application/json")
    pages["POST /api/hedge/manual/buy"] = answer.content.decode()
    assert len(pages) > 50 and "Broker unreachable" in pages["/?read=now"]
    # The broker's echo reached the answers, the key replaced.
    assert "apikey ***" in pages["POST /manual"] and "apikey ***" in pages["POST /api/hedge/manual/buy"]
    assert_clean(pages, caplog)


# -- the OpenAlgo client over loopback, failing every way ----------------------------------


def test_broker_failures_never_carry_the_key(live_account, simbroker, caplog):
    client = OpenAlgoClient.for_account(live_account, retry=RetryPolicy(attempts=2, base_delay=0))
    faults = [("error_500", {"message": f"crash, apikey={OA_KEY}"}), ("malformed_json", {}), ("rate_limit", {}),
              ("timeout", {"seconds": 1})]
    texts = {"client": repr(client)}
    for kind, params in faults:
        simbroker.faults.inject("funds", kind, count=2, **params)
        with pytest.raises(OpenAlgoError) as caught:
            client.funds()
        texts[kind] = error_texts(caught.value)
    with pytest.raises(OpenAlgoError) as caught:
        client.quotes("NIFTY", "NOWHERE")  # 400, the request's fields named back
    texts["400"] = error_texts(caught.value)
    simbroker.api_key = "another-key"
    with pytest.raises(OpenAlgoError) as caught:
        client.ping()  # 403
    texts["403"] = error_texts(caught.value)
    refused = OpenAlgoClient(closed_port_url(), OA_KEY, rate_limit=False, retry=RetryPolicy(attempts=1))
    with pytest.raises(OpenAlgoError) as caught:
        refused.funds()
    texts["refused"] = error_texts(caught.value)
    assert "HTTP 500" in texts["error_500"] and "HTTP 403" in texts["403"] and "could not connect" in texts["refused"]
    assert_clean(texts, caplog)


# -- Telegram failing ---------------------------------------------------------------------------


def test_telegram_failures_never_carry_the_token(bot_api, settings, caplog):
    def send() -> str:
        settings.TELEGRAM_CHAT_IDS = [f"{2000 + len(texts)}"]  # the per-chat rate limit never waits
        results = notifier_from_settings().send("<b>Hedge bought</b>")
        assert results and not results[0].ok
        return repr(results)

    texts = {}
    bot_api.set_down()
    texts["502"] = send()
    bot_api.set_down(False)
    bot_api.flood(retry_after=60)
    texts["429"] = send()
    bot_api.token = "111:another-bot"
    texts["401"] = send()
    bot_api.latency = 1
    slow = TelegramNotifier(TG_TOKEN, ["3000"], base_url=bot_api.base_url, timeout=0.2)
    texts["timeout"] = repr(slow.send("late"))
    settings.TELEGRAM_BASE_URL = closed_port_url() + "/bot"
    texts["refused"] = send()
    texts["notifier"] = repr(slow)
    assert "InvalidToken" in texts["401"] and "TimedOut" in texts["timeout"]
    assert_clean(texts, caplog)


def test_the_bot_command_refused_or_unreachable(bot_api, settings, caplog):
    texts = {}
    bot_api.token = "111:another-bot"
    for where, base_url in (("401", bot_api.base_url), ("refused", closed_port_url() + "/bot")):
        asyncio.set_event_loop(asyncio.new_event_loop())  # run_polling closes the one it ran on
        with pytest.raises(CommandError) as caught:
            call_command("telegram_bot", "--base-url", base_url, stdout=StringIO(), stderr=StringIO())
        texts[where] = error_texts(caught.value)
    assert "Telegram" in texts["401"]
    assert_clean(texts, caplog)


# -- error reports: a view that crashes in a broker call -----------------------------------


def broker_crash(request):
    account = BrokerAccount.objects.get(api_key_env=OA_ENV)
    return runtime.broker_for(account).funds()  # the broker is down: the failure escapes


urlpatterns = [path("crash/", broker_crash), path("", include("config.urls"))]


@pytest.fixture
def crashing(client, staff):
    BrokerAccountFactory(host=closed_port_url(), mode=Mode.LIVE, api_key_env=OA_ENV)
    client.force_login(staff)
    client.raise_request_exception = False
    return client


def crash(client, accept: str):
    # runserver puts the process's environment in every request's META, the key's variable too
    response = client.get("/crash/", HTTP_ACCEPT=accept, **{OA_ENV: OA_KEY})
    assert response.status_code == 500
    return response


@pytest.mark.urls(__name__)
def test_error_reports_with_debug_off(crashing, settings, caplog):
    settings.DEBUG = False
    settings.ADMINS = [("ops", "ops@example.com")]
    texts = {"500 page": crash(crashing, "text/html").content.decode()}
    (report,) = mail.outbox
    texts["admin mail"] = report.subject + report.body + "".join(str(a[0]) for a in report.alternatives)
    assert "BrokerFailure" in texts["admin mail"] and OA_ENV in texts["admin mail"]  # with the request's META
    assert any(r.name == "django.request" and r.exc_info for r in caplog.records)
    assert_clean(texts, caplog)


@pytest.mark.urls(__name__)
def test_the_technical_500_page_hides_them_too(crashing, settings, caplog):
    settings.DEBUG = True
    texts = {accept: crash(crashing, accept).content.decode() for accept in ("text/html", "text/plain")}
    assert all("BrokerFailure" in text and OA_ENV in text for text in texts.values())  # META shown
    assert html.escape("'apikey': '********************'") in texts["text/html"]  # the failed call's request body
    assert_clean(texts, caplog)


# -- manage.py commands ---------------------------------------------------------------------


def banner(*command: str) -> subprocess.Popen:
    env = {**os.environ, "OPENALGO_API_KEY": OA_KEY, "TELEGRAM_BOT_TOKEN": TG_TOKEN, "SECRET_KEY": SECRET_KEY}
    return subprocess.Popen([sys.executable, "manage.py", *command, "--port", "0"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def first_line(process: subprocess.Popen) -> str:
    try:
        return process.stdout.readline()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_command_output(trading_day, simbroker, caplog):
    simulators = {name: banner(name) for name in ("simbroker", "simtelegram")}
    echo_the_key(simbroker, ["funds", "positionbook", "multiquotes", "quotes", "optionchain", "expiry"])
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("forecast", str(trading_day.pk), stdout=out, stderr=out)
    texts = {"forecast": out.getvalue() + error_texts(caught.value)}
    texts.update({name: first_line(process) for name, process in simulators.items()})
    assert "broker: OpenAlgo" in texts["forecast"] and "token: TELEGRAM_BOT_TOKEN" in texts["simtelegram"]
    assert "Simulated OpenAlgo broker at http://127.0.0.1:" in texts["simbroker"]
    assert_clean(texts, caplog)


# -- a real Celery worker's log: a tick against a broken broker, Telegram down then back -----


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_log(celery_processes, caplog):
    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    clock = AcceleratedClock(at(scenario.date, time(9, 40)), speed=1.0)
    sim = build_simbroker(scenario, clock, margin_per_basket=NIFTY_0DTE, api_key=OA_KEY, rate_limits=False)
    broker, broker_url = start_server(sim)
    bot, bot_url = start(TelegramSim(TG_TOKEN))
    try:
        echo_the_key(sim, ["funds", "positionbook", "multiquotes", "quotes", "orderbook", "optionchain"])
        bot.sim.set_down()
        account = BrokerAccount.objects.create(name="leaks", host=broker_url, mode=Mode.LIVE, api_key_env=OA_ENV)
        session = DailySession.objects.create(account=account, date=scenario.date, index_name="NIFTY", expiry=scenario.expiry,
                                              lot_size=65, budget=Decimal("1300000"), baseline_margin=Decimal(0))
        celery_processes.env.update({OA_ENV: OA_KEY, "AUTOHEDGE_CLOCK": clock.spec(), "AUTOHEDGE_LIVE_TRADING": "1",
                                     "SECRET_KEY": SECRET_KEY, "TELEGRAM_BOT_TOKEN": TG_TOKEN, "TELEGRAM_CHAT_IDS": CHAT,
                                     "TELEGRAM_BASE_URL": bot_url, "LOG_LEVEL": "DEBUG"})
        celery_processes.start("worker", "worker", "--pool", "threads", "--concurrency", "2", "--loglevel", "DEBUG",
                               "--without-gossip", "--without-mingle")
        with tasks.lookahead_batch.app.connection_for_write(CELERY_REDIS_URL) as connection:
            tasks.lookahead_batch.apply_async(([session.pk],), connection=connection)
        alert = wait_for(lambda: Alert.objects.filter(session=session).exclude(error="").first(), timeout=60,
                         what="a failed delivery")
        bot.sim.set_down(False)
        wait_for(lambda: Alert.objects.filter(pk=alert.pk, delivery="sent").exists(), timeout=30, what="the retry")
    finally:
        celery_processes.stop_all()
        stop_server(broker)
        bot.stop()
    log = celery_processes.log("worker")
    assert "apikey ***" in log and "bot<redacted>/sendMessage" in log and "Bad Gateway" in log
    assert_clean({"worker log": log}, caplog)
