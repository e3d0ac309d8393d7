"""The morning task (its Celery body): which sessions, stored once, one Telegram message
sent once (on the simulated Bot API), failures alerted; the beat entry; plan against
what happened."""

import re
from datetime import date, datetime, time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from brokers.openalgo import OpenAlgoError
from brokers.simbroker.scenario import MarginPerBasket
from hedging.telegram.notifier import notifier_from_settings
from hedging.telegram.simulator import parse_html
from hedging.core.clock import IST, at
from hedging.models import Alert, ExchangeHoliday, Forecast, HedgeTransaction, StrategyExecution
from hedging.services.forecast import deliver, forecast_all, forecast_session, plan_against_actual, telegram_message
from hedging.services.sessions import session_ref
from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.forecast.helpers import before_open, sample, sample_forecast, session_like, sim_broker

pytestmark = pytest.mark.django_db
DAY = date(2026, 11, 24)
SENSEX_0DTE = MarginPerBasket(Decimal(367000), Decimal(160000))


@pytest.fixture
def telegram(telegram_sim, settings):  # noqa: F811
    settings.TELEGRAM_BOT_TOKEN = telegram_sim.token
    settings.TELEGRAM_CHAT_IDS = ["42"]
    settings.TELEGRAM_BASE_URL = telegram_sim.base_url
    return telegram_sim


def visible(message) -> str:
    return parse_html(message.text)


def test_forecast_all_takes_todays_active_sessions_on_their_exchanges_trading_days():
    wanted = DailySessionFactory(date=DAY)
    DailySessionFactory(date=DAY, status="closed")
    DailySessionFactory(date=DAY, is_replay=True)
    DailySessionFactory(date=date(2026, 11, 23), expiry=DAY)
    DailySessionFactory(date=DAY, account=BrokerAccountFactory(enabled=False))
    DailySessionFactory(date=DAY, index_name="SENSEX", lots_per_basket=10, lot_size=20)
    ExchangeHoliday.objects.create(exchange="BSE", date=DAY, description="BSE only")
    dispatched: list[int] = []

    assert forecast_all(at(DAY, time(9, 5)), dispatched.append) == [wanted.pk]
    assert dispatched == [wanted.pk]


def test_the_morning_forecast_is_stored_and_sent_once(telegram):
    scenario = sample("sensex-expiry-day")
    client, _ = sim_broker(scenario, SENSEX_0DTE)
    session = session_like(scenario, baseline_margin=Decimal(0))  # the ₹50,000 other margin is intraday

    assert forecast_session(session.pk, before_open(scenario), broker=client) == "sent"

    row = Forecast.objects.get(session=session)
    assert (row.day, row.hedge_buys, row.cap_covers, row.delivery, row.attempts) == (DAY, 2, True, "sent", 1)
    assert row.cost_low <= row.cost <= row.cost_high
    (message,) = telegram.sent_to("42")
    rupees = f"{row.cost.quantize(Decimal(1)):,}"
    assert f"Today: 2 hedge buys expected, ~₹{rupees}, at 10:25 and 10:55; cap ₹50,000 covers it." in visible(message)
    assert row.result["planned"][0]["for_entries"] == ["S2"] and len(row.result["timeline"]) > 1

    # Again (a redelivered task): nothing recomputed (the account has no API key), nothing resent.
    assert forecast_session(session.pk, before_open(scenario)) == "sent"
    assert Forecast.objects.filter(session=session).count() == 1 and len(telegram.sent_to("42")) == 1


def test_a_day_needing_no_hedge_says_so(telegram):
    scenario = sample("roomy-budget")
    client, _ = sim_broker(scenario)
    session = session_like(scenario)
    assert forecast_session(session.pk, before_open(scenario), broker=client) == "sent"
    assert "Today: no hedge buys expected; the ₹50,000 cap stays untouched." in visible(telegram.sent_to("42")[0])


def test_the_message_warns_of_a_shortfall_and_of_breaches(telegram):
    session = DailySessionFactory(date=DAY)
    texts = [telegram_message(sample_forecast(name), session_ref(session)) for name in ("cap-too-small", "unavoidable-breach")]
    assert [r.ok for text in texts for r in notifier_from_settings().send(text)] == [True, True]
    short, breach = (visible(m) for m in telegram.sent_to("42"))
    assert re.search(r"Today: 1 hedge buy expected, ~₹\d+, at 09:40; cap ₹5 leaves it ₹\d+ short\.", short)
    assert "Shortfall from P2: the cap pays for 0 of the 1 hedge baskets the day needs." in short
    assert "Even fully hedged, P1 will breach the budget." in breach
    assert re.search(r"Range ₹[\d,]+–₹[\d,]+ if NIFTY moves a day's ±181 points\.", breach)


class DownBroker:
    host = "http://127.0.0.1:9"

    def option_chain(self, *args, **kwargs):
        raise OpenAlgoError("optionchain", "connection refused", request_sent=False)


def test_a_forecast_that_cannot_be_made_is_alerted_once(django_capture_on_commit_callbacks):
    session = DailySessionFactory(date=DAY)
    delivered: list[int] = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            note = forecast_session(session.pk, at(DAY, time(9, 5)), broker=DownBroker(), deliver_alert=delivered.append)
    assert note.startswith("no forecast: ") and "connection refused" in note
    (alert,) = Alert.objects.filter(session=session, kind="forecast_failed")
    assert alert.level == "warning" and "No hedge forecast for 24 Nov" in alert.text
    assert delivered == [alert.pk] and not Forecast.objects.exists()


def stored(session, message: str = "<b>Hedge forecast</b> test") -> Forecast:
    zero = Decimal(0)
    return Forecast.objects.create(session=session, day=session.date, made_at=at(DAY, time(9, 5)), result={},
                                   cost=zero, cost_low=zero, cost_high=zero, cap_covers=True, message=message)


def test_a_retryable_telegram_failure_is_retried_then_sent(telegram):
    row = stored(DailySessionFactory(date=DAY))
    telegram.set_down()
    waits: list[float] = []
    assert deliver(row.pk, retry=waits.append) == "pending"  # tried again later
    assert waits == [2]
    telegram.set_down(False)
    assert deliver(row.pk, retry=waits.append) == "sent"
    row.refresh_from_db()
    assert (row.attempts, row.error, waits) == (2, "", [2])
    assert visible(telegram.sent_to("42")[0]) == "Hedge forecast test"


def test_without_a_telegram_token_the_message_is_logged(settings):
    settings.TELEGRAM_BOT_TOKEN = ""
    row = stored(DailySessionFactory(date=DAY))
    assert deliver(row.pk) == "logged" == Forecast.objects.get(pk=row.pk).delivery


def test_plan_against_actual_pairs_the_stored_plan_with_the_day():
    session = DailySessionFactory(date=DAY)
    assert plan_against_actual(session) is None
    row = stored(session)
    row.result = sample_forecast("one-entry-breach").detail()
    row.save()
    StrategyExecution.objects.create(session=session, name="P1", baskets=1, planned_entry=time(9, 20), planned_exit=time(15, 15),
                                     status="entered", util_after_entry_pct=Decimal("33.31"))
    HedgeTransaction.objects.create(session=session, idempotency_key="t1", action="BUY", hedge_baskets=1, reason="P2",
                                    for_entries=["P2"], cost=Decimal("280.50"), status="filled",
                                    decided_at=datetime(2026, 11, 24, 9, 41, tzinfo=IST))

    view = plan_against_actual(session)

    assert [(e["name"], e["util_pct"], e["status"], e["actual_util_pct"]) for e in view["entries"]] == [
        ("P1", 33.3, "entered", 33.3), ("P2", 81.0, "scheduled", None)]
    assert [(b["time"], b["hedge_baskets"]) for b in view["forecast"]["planned"]] == [("09:40:00", 1)]
    assert view["actual_buys"] == [
        {"time": "09:41:00", "hedge_baskets": 1, "for_entries": ["P2"], "cost": 280.5, "status": "filled"}
    ]
    assert view["spent"] == 280.5


def test_beat_forecasts_before_the_open_on_weekdays():
    (entry,) = PeriodicTask.objects.filter(task="hedging.forecast_all", enabled=True)
    cron = entry.crontab
    assert (cron.minute, cron.hour, cron.day_of_week, str(cron.timezone)) == ("5", "9", "1-5", "Asia/Kolkata")
    assert 0 < entry.expire_seconds <= 600


def test_the_migrations_are_complete():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
