"""What the Telegram bot answers: `/status`, `/today`, `/pause`, `/resume`, read from
the database (the margin monitor's last snapshot), never from the broker."""

from __future__ import annotations

from functools import wraps
from html import escape

from django.db import connection, transaction
from django.db.models import Sum

from hedging.messages import format_inr, format_lakh, format_pct
from hedging.models import Control, DailySession, HedgeTransaction
from hedging.services import audit, runtime
from hedging.services.alerts import alert
from hedging.services.runtime import trading_mode


def todays_sessions():
    today = runtime.clock().now().date()
    return DailySession.objects.filter(date=today, is_replay=False).select_related("account").order_by("account__name")


def own_connection(method):
    """The bot runs each command in a worker thread: close that thread's connection after."""

    @wraps(method)
    def run(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        finally:
            connection.close()

    return run


class HedgingBotHandler:
    @own_connection
    def status_text(self) -> str:
        switch = "on" if Control.get().auto_enabled else "<b>off</b> (global kill switch)"
        lines = [f"<b>Auto-hedge</b> {switch}"]
        for session in todays_sessions():
            snap = session.snapshots.order_by("-taken_at").first()
            util = f"{format_pct(snap.utilisation_pct)} of {format_lakh(session.budget)}" if snap else "no reading yet"
            hedges = f", {snap.hedges_held} hedge basket(s)" if snap else ""
            mode = trading_mode(session)
            marker = "" if mode == "live" else f" · {mode.upper()}"
            auto = "" if session.auto_enabled else " · auto off"
            lines.append(f"{escape(session.account.name)} {session.index_name}{marker}{auto}: {util}{hedges}")
        return "\n".join(lines) if len(lines) > 1 else lines[0] + "\nNo session today."

    @own_connection
    def today_text(self) -> str:
        lines = []
        for session in todays_sessions():
            buys = session.transactions.filter(action=HedgeTransaction.Action.BUY, status__in=("filled", "partial", "paper"))
            spent = buys.aggregate(s=Sum("cost"))["s"] or 0
            lines.append(
                f"<b>{escape(session.account.name)} {session.index_name}</b>: {buys.count()} buy(s), "
                f"{format_inr(spent)} of the {format_inr(session.max_hedge_cost_per_day)} cap"
            )
            for tx in session.transactions.order_by("decided_at"):
                lines.append(f"  {tx.decided_at.astimezone(runtime.clock().now().tzinfo):%H:%M} {tx.action} "
                             f"{tx.hedge_baskets} · {tx.get_status_display()} · {escape(tx.reason)}")
        return "\n".join(lines) or "No session today."

    @own_connection
    def pause(self, chat_id: str) -> str:
        return self._switch(False, chat_id)

    @own_connection
    def resume(self, chat_id: str) -> str:
        return self._switch(True, chat_id)

    def _switch(self, enabled: bool, chat_id: str) -> str:
        with transaction.atomic():
            control = Control.objects.select_for_update().get(pk=Control.get().pk)
            turned = control.auto_enabled != enabled
            control.auto_enabled = enabled
            control.changed_by = None
            control.save()
            if turned:
                audit.switched(audit.by_chat(chat_id), None, enabled)
        state = "on" if enabled else "off"
        alert(None, "auto_hedge_toggled", "warning", f"Auto-hedge turned {state} for all accounts from Telegram chat {chat_id}",
              runtime.clock().now(), runtime.queue().deliver_alert)
        return f"Auto-hedge is now <b>{state}</b> for all accounts."
