"""What the Telegram bot answers: `/status` and `/today` with the status panel's figures
and words (`hedging.services.status`, which reads the broker as the panel does),
`/summary` with the day's summary so far, `/pause` and `/resume`."""

from __future__ import annotations

from functools import wraps

from django.db import connection, transaction

from hedging import messages
from hedging.core.clock import IST
from hedging.models import Control
from hedging.services import audit, runtime, status, summary
from hedging.services.alerts import alert


def own_connection(method):
    """The bot runs each command in a worker thread: close that thread's connection after."""

    @wraps(method)
    def run(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        finally:
            connection.close()

    return run


def overview() -> status.Overview:
    return status.overview(runtime.clock().now(), runtime.ports_for, read_now=True)  # a trader's question: read now


class HedgingBotHandler:
    @own_connection
    def status_text(self) -> str:
        return messages.render("status", overview=overview())

    @own_connection
    def today_text(self) -> str:
        return messages.render("today", overview=overview())

    @own_connection
    def summary_text(self) -> str:
        sessions = status.todays_sessions(runtime.clock().now().astimezone(IST).date())
        return "\n\n".join(summary.message(session) for session in sessions) or "No session today."

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
