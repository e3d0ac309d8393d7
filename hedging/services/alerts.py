"""Alerts: written to the database first (at most once per dedupe key and session),
delivered afterwards by whoever the caller hands in — a Celery task live, nothing in a
replay. A slow or dead Telegram never delays an order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import IntegrityError, transaction

from hedging.core.decide import Alert as CoreAlert
from hedging.models import Alert, DailySession

Deliver = Callable[[int], None]


def raise_alert(
    session: DailySession | None, alert: CoreAlert, now: datetime, deliver: Deliver | None = None
) -> Alert | None:
    """The stored alert, or None when this dedupe key was alerted already."""
    try:
        with transaction.atomic():
            row = Alert.objects.create(
                session=session,
                kind=alert.kind,
                level=alert.level,
                text=alert.text,
                dedupe_key=alert.dedupe_key,
                created_at=now,
            )
    except IntegrityError:
        return None
    if deliver:  # robust: a failed hand-off is logged, and never stops the tick's own order
        transaction.on_commit(lambda: deliver(row.pk), robust=True)
    return row


def alert(session, kind: str, level: str, text: str, now: datetime, deliver: Deliver | None = None, dedupe_key: str = ""):
    return raise_alert(session, CoreAlert(kind, level, text, dedupe_key), now, deliver)
