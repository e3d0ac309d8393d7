"""The day's summary after the close: one alert per session, and the session closed.
The same message answers the bot's /summary during the day."""

from __future__ import annotations

from datetime import datetime

from hedging import messages
from hedging.models import Alert, DailySession
from hedging.services import analytics
from hedging.services.alerts import Deliver, alert
from hedging.services.sessions import session_ref


def close_day(session: DailySession, now: datetime, deliver: Deliver | None = None) -> Alert | None:
    row = alert(session, "daily_summary", "info", messages.plain(message(session)), now, deliver, dedupe_key="daily_summary")
    DailySession.objects.filter(pk=session.pk).update(status=DailySession.Status.CLOSED)
    return row


def message(session: DailySession) -> str:
    return messages.render("daily_summary", day=day_summary(session))


def day_summary(session: DailySession) -> messages.DaySummary:
    """Spend, exits and the saving against hedging every basket as the analytics page
    counts them (that page for this account and day), with the day's peak utilisation."""
    found = analytics.summarise(session.date, session.date, session.is_replay, session.account_id)
    day = next(d for d in found.days if d.session.pk == session.pk)
    peak = session.snapshots.order_by("-utilisation_pct", "taken_at").first()
    kinds = list(session.alerts.values_list("kind", flat=True))
    return messages.DaySummary(
        header=messages.Header("📊", f"Day summary · {session.date:%a %d %b}", session_ref(session)),
        buys=day.hedge_buys,
        baskets_bought=day.baskets_bought,
        exits=len(analytics.facts_of(session).exits),
        spent=day.spent,
        received=day.received,
        daily_cap=session.max_hedge_cost_per_day,
        static_cost=day.static_cost,
        price_source=day.price_source,
        peak_utilisation_pct=peak.utilisation_pct if peak else None,
        peak_at=peak.taken_at if peak else None,
        entries=day.entries,
        entries_hedged=day.entries_hedged,
        breaches=kinds.count("breach_unavoidable"),
        failed_orders=kinds.count("order_failed"),
    )
