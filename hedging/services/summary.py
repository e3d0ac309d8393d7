"""The day's summary after the close: one alert per session, and the session closed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Max

from hedging.models import Alert, DailySession, HedgeTransaction, StrategyExecution
from hedging.services.alerts import Deliver, alert

SETTLED = ("filled", "partial", "paper")


def close_day(session: DailySession, now: datetime, deliver: Deliver | None = None) -> Alert | None:
    row = alert(session, "daily_summary", "info", summary_text(session), now, deliver, dedupe_key="daily_summary")
    DailySession.objects.filter(pk=session.pk).update(status=DailySession.Status.CLOSED)
    return row


def summary_text(session: DailySession) -> str:
    done = list(session.transactions.filter(status__in=SETTLED))
    buys = [tx for tx in done if tx.action == HedgeTransaction.Action.BUY]
    exits = [tx for tx in done if tx.action == HedgeTransaction.Action.EXIT]
    spent = sum((tx.cost for tx in buys), Decimal(0))
    received = sum((tx.cost for tx in exits), Decimal(0))
    entered = session.executions.exclude(status=StrategyExecution.Status.SCHEDULED).count()
    hedged = len({name for tx in buys for name in tx.for_entries})
    peak = session.snapshots.aggregate(peak=Max("utilisation_pct"))["peak"]
    kinds = list(session.alerts.values_list("kind", flat=True))
    return "\n".join(
        [
            f"Day closed: {len(buys)} hedge buy(s) ({sum(tx.hedge_baskets for tx in buys)} basket(s)), "
            f"{len(exits)} exit(s).",
            f"Spent ₹{spent} of the ₹{session.max_hedge_cost_per_day} cap; received ₹{received} from exits.",
            f"Entries: {entered} made, {hedged} needed a hedge, {entered - hedged} needed none.",
            f"Peak utilisation: {peak if peak is not None else '—'}% of ₹{session.budget}.",
            f"Breaches: {kinds.count('breach_unavoidable')}; failed orders: {kinds.count('order_failed')}.",
        ]
    )
