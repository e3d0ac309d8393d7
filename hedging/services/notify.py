"""Alert delivery, outside the hedge path: an alert row in, Telegram (or the log) out,
the outcome written back on the row. Safe to run twice: a delivered alert is not sent
again."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.db import transaction
from django.utils import timezone

from brokers.telegram import Notifier, notifier_from_settings
from hedging.models import Alert
from hedging.services.runtime import is_paper

ICONS = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}
MAX_ATTEMPTS = 8


def render(alert: Alert) -> str:
    title = alert.kind.replace("_", " ").capitalize()
    lines = [f"{ICONS.get(alert.level, '')} <b>{escape(title)}</b>"]
    session = alert.session
    if session is not None:
        paper = "🧪 PAPER · " if is_paper(session.account) else ""
        lines.append(f"{paper}{escape(session.account.name)} · {session.index_name} · {session.date:%d %b}")
    lines.append(escape(alert.text))
    return "\n".join(lines)


def deliver(alert_id: int, retry: Callable[[float], None] | None = None, notifier: Notifier | None = None) -> str:
    """Send one alert. `retry(seconds)` is called (and is expected to raise, as
    Celery's does) when Telegram failed in a way worth trying again."""
    with transaction.atomic():
        # No join under FOR UPDATE: the session side is nullable (an alert for all accounts).
        alert = Alert.objects.select_for_update().get(pk=alert_id)
        if alert.delivery in (Alert.Delivery.SENT, Alert.Delivery.LOGGED):
            return alert.delivery
        alert.attempts += 1
        results = (notifier or notifier_from_settings()).send(render(alert))
        failures = [r for r in results if not r.ok]
        if not results:
            alert.delivery = Alert.Delivery.LOGGED
        elif not failures:
            alert.delivery, alert.sent_at, alert.error = Alert.Delivery.SENT, timezone.now(), ""
        else:
            alert.delivery = Alert.Delivery.FAILED
            alert.error = "; ".join(f"chat {r.chat_id}: {r.error}" for r in failures)[:2000]
        alert.save(update_fields=["delivery", "attempts", "sent_at", "error"])
    retryable = any(not r.permanent for r in failures)
    if retryable and retry and alert.attempts < MAX_ATTEMPTS:
        retry(min(2 ** alert.attempts, 300))
    return alert.delivery
