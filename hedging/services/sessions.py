"""Daily sessions: today's from the defaults in one step, and the auto-hedge switches
(per session and global) with who turned them and an alert saying so."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.html import strip_tags

from brokers.models import OPTION_EXCHANGE, BrokerAccount
from brokers.openalgo import OpenAlgoClient, OpenAlgoError
from hedging import messages
from hedging.core.settings import BUDGET_PER_BASKET, INDEX_DEFAULTS, HedgeSettings
from hedging.models import Alert, Control, DailySession
from hedging.services import calculator
from hedging.services.alerts import Deliver, alert
from hedging.services.runtime import is_paper, trading_mode


# The field each of the session's database constraints is about, for error messages.
SESSION_CONSTRAINT_FIELDS = {
    "daily_session_one_per_account_and_date": "account",
    "daily_session_expiry_not_past": "expiry",
    "daily_session_margin_constants": "margin_hedged",
    "daily_session_budget_positive": "budget",
    "daily_session_baskets_positive": "num_baskets",
}


def validate(instance: models.Model, constraint_fields: Mapping[str, str], *checks: Callable[[Any], None]) -> None:
    """The model's validation and `checks`, with each failed database constraint reported
    under the field it is about (Django reports them all as non-field errors)."""
    errors: dict[str, list[str]] = {}
    for check in (lambda row: row.full_clean(validate_constraints=False), *checks):
        try:
            check(instance)
        except ValidationError as invalid:
            for field, messages in invalid.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(type(instance), instance, exclude=set(errors))
        except ValidationError as violated:
            errors.setdefault(constraint_fields.get(constraint.name, NON_FIELD_ERRORS), []).extend(violated.messages)
    if errors:
        raise ValidationError(errors)


def known_margin(session: DailySession) -> None:
    """An index and days to expiry with no margin constants need the session's own."""
    given = session.margin_unhedged is not None or session.margin_hedged is not None
    if not given and session.index_name and session.date and session.expiry:
        try:
            calculator.margin_model(session)
        except calculator.UnknownMarginConstants as refused:
            raise ValidationError({"margin_unhedged": str(refused)}) from None
        except ValueError:
            pass  # expiry before the date: the constraint says so


def default_expiry(index_name: str, today: date, connect: Callable[[], OpenAlgoClient]) -> date:
    """The nearest option expiry on or after `today`, as the broker (`connect()`) lists them."""
    try:
        expiries = connect().expiry(index_name, OPTION_EXCHANGE[index_name])
    except (OpenAlgoError, ValueError) as failure:
        raise ValidationError({"expiry": f"the broker's expiries could not be read ({failure}): give the expiry"}) from None
    upcoming = sorted(day for day in expiries if day >= today)
    if not upcoming:
        raise ValidationError({"expiry": f"the broker lists no {index_name} expiry on or after {today}: give the expiry"})
    return upcoming[0]


def create(
    account: BrokerAccount,
    index_name: str,
    day: date,
    expiry: date,
    num_baskets: int,
    margin_unhedged: Decimal | None = None,
    margin_hedged: Decimal | None = None,
) -> DailySession:
    """A session from the defaults: budget = baskets × ₹10,00,000, the index's lots per
    basket and strike distances, the plan's thresholds and limits. Raises
    ValidationError naming the field; nothing is written then."""
    if index_name not in INDEX_DEFAULTS:
        raise ValidationError({"index_name": f"unknown index {index_name!r}"})
    defaults = HedgeSettings.for_index(index_name)
    session = DailySession(
        account=account,
        date=day,
        index_name=index_name,
        expiry=expiry,
        num_baskets=num_baskets,
        lots_per_basket=INDEX_DEFAULTS[index_name]["lots_per_basket"],
        budget=num_baskets * BUDGET_PER_BASKET,
        margin_unhedged=margin_unhedged,
        margin_hedged=margin_hedged,
        **{name: getattr(defaults, name) for name in calculator.SETTING_FIELDS},
    )
    validate(session, SESSION_CONSTRAINT_FIELDS, known_margin)
    session.save()
    return session


def set_auto(
    enabled: bool, user, now: datetime, session: DailySession | None = None, reason: str = "", deliver: Deliver | None = None
) -> Alert | None:
    """Turn auto-hedge on or off for one session, or globally (session None). Returns
    the `auto_hedge_toggled` alert, or None when the switch was in that state already."""
    with transaction.atomic():
        if session is None:
            control = Control.objects.select_for_update().get(pk=Control.get().pk)
            if control.auto_enabled == enabled:
                return None
            control.auto_enabled, control.changed_by = enabled, user
            control.save()
            paper, ref = not django_settings.AUTOHEDGE_LIVE_TRADING, None
        else:
            locked = DailySession.objects.select_for_update().get(pk=session.pk)
            if locked.auto_enabled == enabled:
                return None
            locked.auto_enabled = session.auto_enabled = enabled
            locked.save(update_fields=["auto_enabled"])
            paper, ref = is_paper(locked.account), session_ref(locked)
        text = messages.auto_hedge_toggled(
            enabled=enabled, by=user.get_username(), session=ref, paper=paper, reason=reason, at=now
        )
        level = Alert.Level.INFO if enabled else Alert.Level.WARNING
        return alert(session, "auto_hedge_toggled", level, plain(text), now, deliver)


def session_ref(session: DailySession) -> messages.SessionRef:
    return messages.SessionRef(
        account=session.account.name,
        index=session.index_name,
        expiry=session.expiry,
        budget=session.budget,
        paper=is_paper(session.account),
        sandbox=trading_mode(session) == "sandbox",
    )


def plain(telegram_html: str) -> str:
    """Alert rows hold plain text (the notifier escapes it); the builders write Telegram HTML."""
    return html.unescape(strip_tags(telegram_html))
