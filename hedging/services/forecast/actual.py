"""The dashboard's panel: the stored forecast of a session's day beside what happened."""

from __future__ import annotations

from typing import Any

from hedging.core.clock import IST
from hedging.models import DailySession, HedgeTransaction, StrategyExecution
from hedging.services.executor import spent_today
from hedging.services.replay import number


def plan_against_actual(session: DailySession) -> dict[str, Any] | None:
    """The stored forecast of the session's day beside what happened so far; None when
    no forecast was stored."""
    stored = session.forecasts.filter(day=session.date).first()
    if stored is None:
        return None
    executions = {e.name: e for e in session.executions.all()}
    transactions = list(session.transactions.order_by("decided_at", "pk"))
    return {
        "made_at": stored.made_at.astimezone(IST).isoformat(),
        "forecast": stored.result,
        "entries": [entry_against_plan(entry, executions.get(entry["name"])) for entry in stored.result["entries"]],
        "actual_buys": [
            {
                "time": f"{tx.decided_at.astimezone(IST):%H:%M:%S}",
                "hedge_baskets": tx.hedge_baskets,
                "for_entries": tx.for_entries,
                "cost": number(tx.cost, "0.01"),
                "status": tx.status,
            }
            for tx in transactions
            if tx.action == HedgeTransaction.Action.BUY
        ],
        "spent": number(spent_today(transactions), "0.01"),
    }


def entry_against_plan(entry: dict[str, Any], execution: StrategyExecution | None) -> dict[str, Any]:
    """A planned entry (util_pct projected) with its status and actual utilisation after entry."""
    if execution is None:
        return {**entry, "status": StrategyExecution.Status.SCHEDULED.value, "actual_util_pct": None}
    return {**entry, "status": execution.status, "actual_util_pct": number(execution.util_after_entry_pct)}
