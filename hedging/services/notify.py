"""Alert delivery, outside the hedge path: an alert row in, Telegram (or the log) out,
the outcome written back on the row. Safe to run twice: a delivered alert is not sent
again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from hedging.telegram.notifier import Notifier, notifier_from_settings
from hedging import messages
from hedging.models import Alert, Forecast, HedgeTransaction
from hedging.services import summary
from hedging.services.sessions import session_ref

MAX_ATTEMPTS = 8
SWEEP_AFTER = timedelta(minutes=1)
HEDGE_ACTIONS = ("hedge_bought", "hedge_exited", "order_failed")
SETTLED = (HedgeTransaction.Status.FILLED, HedgeTransaction.Status.PARTIAL, HedgeTransaction.Status.PAPER)
# A row with a Telegram message's delivery fields (delivery, attempts, sent_at, error, delivered_to).
Delivered = TypeVar("Delivered", Alert, Forecast)


def render(alert: Alert) -> str:
    """The alert's Telegram message: its kind's template when the alert names what it is
    about (a hedge action, the day), else its text under the header."""
    if alert.session is not None and alert.kind == "daily_summary":
        return summary.message(alert.session)
    header = messages.Header(
        messages.ICONS.get(alert.level, ""),
        alert.kind.replace("_", " ").capitalize(),
        session_ref(alert.session) if alert.session is not None else None,
        at=alert.created_at,
    )
    tx = hedge_action_of(alert)
    if tx is not None:
        return messages.render(alert.kind, a=hedge_action(tx, header))
    return messages.render("alert", header=header, text=alert.text)


def hedge_action_of(alert: Alert) -> HedgeTransaction | None:
    """The transaction a hedge action's alert is about (its dedupe key names it)."""
    if alert.kind not in HEDGE_ACTIONS or not alert.dedupe_key.startswith("tx:") or alert.session is None:
        return None
    return alert.session.transactions.filter(pk=alert.dedupe_key.removeprefix("tx:")).first()


def hedge_action(tx: HedgeTransaction, header: messages.Header) -> messages.HedgeAction:
    session = tx.session
    filled = [o for o in tx.orders.order_by("leg", "attempt") if o.filled_quantity]
    spent = session.transactions.filter(
        action=HedgeTransaction.Action.BUY, status__in=SETTLED, completed_at__lte=tx.completed_at or tx.decided_at
    ).values_list("cost", flat=True)
    return messages.HedgeAction(
        header=header,
        action=tx.action.lower(),
        baskets=tx.hedge_baskets,
        legs=[messages.HedgeLeg(o.symbol, o.filled_quantity, o.average_price) for o in filled],
        amount=tx.cost,
        reason=tx.reason,
        for_entries=tx.for_entries,
        utilisation_after_pct=tx.util_after_pct,
        spent_today=sum(spent, Decimal(0)),
        daily_cap=session.max_hedge_cost_per_day,
        status=tx.get_status_display().lower(),
        error=tx.error,
    )


def deliver(alert_id: int, retry: Callable[[float], None] | None = None, notifier: Notifier | None = None) -> str:
    """Send one alert. `retry(seconds)` is called (and is expected to raise, as
    Celery's does) when Telegram failed in a way worth trying again."""
    return send_once(Alert, alert_id, render, notifier, retry)


def send_once(
    model: type[Delivered],
    pk: int,
    text_of: Callable[[Delivered], str],
    notifier: Notifier | None,
    retry: Callable[[float], None] | None,
) -> str:
    """Send a row's message once to each chat and write the outcome on it (its
    `delivery`, `attempts`, `sent_at`, `error`, `delivered_to`): a retry goes only to
    the chats that have not got it."""
    with transaction.atomic():
        # No join under FOR UPDATE: an alert's session side is nullable (an alert for all accounts).
        row = model.objects.select_for_update().filter(pk=pk).first()
        if row is None:  # deleted since it was queued (with its session): nothing to say
            return "gone"
        if row.delivery in (Alert.Delivery.SENT, Alert.Delivery.LOGGED):
            return row.delivery
        row.attempts += 1
        results = (notifier or notifier_from_settings()).send(text_of(row), skip=row.delivered_to)
        row.delivered_to = row.delivered_to + [r.chat_id for r in results if r.ok]
        failures = [r for r in results if not r.ok]
        if not results and not row.delivered_to:
            row.delivery = Alert.Delivery.LOGGED
        elif not failures:
            row.delivery, row.sent_at, row.error = Alert.Delivery.SENT, timezone.now(), ""
        else:  # pending while worth another try (the sweep finds it), failed once not
            again = any(not r.permanent for r in failures) and row.attempts < MAX_ATTEMPTS
            row.delivery = Alert.Delivery.PENDING if again else Alert.Delivery.FAILED
            row.error = "; ".join(f"chat {r.chat_id}: {r.error}" for r in failures)[:2000]
        row.save(update_fields=["delivery", "attempts", "sent_at", "error", "delivered_to"])
    if retry and row.delivery == Alert.Delivery.PENDING:
        retry(min(2 ** row.attempts, 300))
    return row.delivery


def waiting(now: datetime) -> list[int]:
    """Alerts still undelivered a minute after they were raised, from the last half day:
    their hand-off to the queue or their retry was lost (Redis down, a worker killed).
    Replayed days never reach Telegram."""
    return list(
        Alert.objects.filter(
            delivery=Alert.Delivery.PENDING,
            created_at__lte=now - SWEEP_AFTER,
            created_at__gte=now - timedelta(hours=12),
            attempts__lt=MAX_ATTEMPTS,
        )
        .exclude(session__is_replay=True)
        .values_list("pk", flat=True)
    )
