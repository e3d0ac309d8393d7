"""Alert delivery, outside the hedge path: an alert row in, Telegram (or the log) out,
the outcome written back on the row. Safe to run twice: a delivered alert is not sent
again."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.db import models, transaction
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
    return send_once(Alert, alert_id, render, notifier, retry)


def send_once(model: type[models.Model], pk: int, text_of: Callable, notifier: Notifier | None, retry) -> str:
    """Send a row's message once and write the outcome on it (its `delivery`,
    `attempts`, `sent_at`, `error`); a delivered row is not sent again."""
    with transaction.atomic():
        # No join under FOR UPDATE: an alert's session side is nullable (an alert for all accounts).
        row = model.objects.select_for_update().get(pk=pk)
        if row.delivery in (Alert.Delivery.SENT, Alert.Delivery.LOGGED):
            return row.delivery
        row.attempts += 1
        results = (notifier or notifier_from_settings()).send(text_of(row))
        failures = [r for r in results if not r.ok]
        if not results:
            row.delivery = Alert.Delivery.LOGGED
        elif not failures:
            row.delivery, row.sent_at, row.error = Alert.Delivery.SENT, timezone.now(), ""
        else:
            row.delivery = Alert.Delivery.FAILED
            row.error = "; ".join(f"chat {r.chat_id}: {r.error}" for r in failures)[:2000]
        row.save(update_fields=["delivery", "attempts", "sent_at", "error"])
    if retry and any(not r.permanent for r in failures) and row.attempts < MAX_ATTEMPTS:
        retry(min(2 ** row.attempts, 300))
    return row.delivery
