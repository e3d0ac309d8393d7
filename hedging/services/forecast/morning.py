"""The morning task: each of today's sessions forecast, stored once and sent once on
Telegram."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.utils.safestring import mark_safe

from brokers.openalgo import OpenAlgoError
from hedging.telegram.notifier import Notifier
from hedging import messages
from hedging.core.calendar import is_trading_day
from hedging.core.clock import IST
from hedging.models import DailySession, Forecast
from hedging.services import calculator
from hedging.services.alerts import Deliver, alert
from hedging.services.forecast.make import forecast_for_session
from hedging.services.forecast.result import ForecastResult
from hedging.services.notify import send_once
from hedging.services.sessions import session_ref

SUMMED_UP = ("breach_unavoidable", "cap_reached")  # the message's shortfall and breach lines say these


def forecast_all(now: datetime, dispatch: Callable[[int], object] | None = None) -> list[int]:
    """Today's active sessions, on a trading day of their exchange: each forecast by
    `dispatch(session_id)` (the Celery task), or here when none is given."""
    today = now.astimezone(IST).date()
    sessions = DailySession.objects.filter(date=today, status=DailySession.Status.ACTIVE, is_replay=False, account__enabled=True)
    ids = [s.pk for s in sessions.order_by("pk") if is_trading_day(today, calculator.holidays(s.index_name))]
    for session_id in ids:
        (dispatch or (lambda pk: forecast_session(pk, now)))(session_id)
    return ids


def forecast_session(
    session_id: int,
    now: datetime,
    *,
    broker=None,
    notifier: Notifier | None = None,
    retry: Callable[[float], None] | None = None,
    deliver_alert: Deliver | None = None,
) -> str:
    """Forecast the session's day once, store it, and send it. Safe to run again: a
    stored forecast is not made twice, a delivered one not sent twice. A forecast that
    cannot be made becomes a `forecast_failed` warning alert."""
    session = DailySession.objects.select_related("account").get(pk=session_id)
    stored = Forecast.objects.filter(session=session, day=session.date).first()
    if stored is None:
        try:
            result = forecast_for_session(session, broker=broker, now=now)
        except (OpenAlgoError, ValueError) as failure:  # ForecastError, a missing API key, …
            alert(session, "forecast_failed", "warning", f"No hedge forecast for {session.date:%d %b}: {failure}", now,
                  deliver_alert, dedupe_key=f"forecast:{session.date}")
            return f"no forecast: {failure}"
        stored = store(session, result, now)
    return deliver(stored.pk, notifier, retry)


def store(session: DailySession, result: ForecastResult, now: datetime) -> Forecast:
    row, _ = Forecast.objects.get_or_create(
        session=session,
        day=result.day,
        defaults=dict(
            made_at=now,
            result=result.detail(),
            hedge_buys=len(result.planned),
            cost=result.cost,
            cost_low=result.cost_low,
            cost_high=result.cost_high,
            cap_covers=result.cap_covers,
            shortfall_from=result.shortfall_from or "",
            message=telegram_message(result, session_ref(session)),
        ),
    )
    return row


def deliver(forecast_id: int, notifier: Notifier | None = None, retry: Callable[[float], None] | None = None) -> str:
    """Send the stored message once; `retry(seconds)` (Celery's, which raises) when
    Telegram failed in a way worth trying again."""
    return send_once(Forecast, forecast_id, lambda row: row.message, notifier, retry)


def telegram_message(result: ForecastResult, session: messages.SessionRef) -> str:
    """One message (`alerts/morning_forecast.html`): the buys (the uncapped ones when the
    cap falls short, so the builder says by how much), their range, and what needs the
    trader's attention."""
    buys = result.planned if result.cap_covers else result.needed
    rupees = Decimal(1)
    today = messages.forecast(
        session,
        buys=[messages.ExpectedBuy(b.time, b.hedge_baskets, b.cost.quantize(rupees)) for b in buys],
        daily_cap=result.cap,
    )
    low, high = (sum((getattr(b, name) for b in buys), Decimal(0)).quantize(rupees) for name in ("cost_low", "cost_high"))
    return messages.render(
        "morning_forecast",
        today=mark_safe(today),  # a rendered message, escaped already
        forecast=result,
        buys=buys,
        low=low,
        high=high,
        move=result.assumptions.one_day_move.quantize(rupees),
        planned=sum(b.hedge_baskets for b in result.planned),
        needed=sum(b.hedge_baskets for b in result.needed),
        warnings=[x for x in result.warnings if x.kind not in SUMMED_UP],
    )
