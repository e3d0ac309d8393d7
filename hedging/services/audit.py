"""The audit trail: who did what, when, from which address, to which row, and the
changed fields' values before and after. Every surface records through here: the
pages, the API, the admin, the Telegram bot, and the login signals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from axes.helpers import get_client_ip_address
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from brokers.models import BrokerAccount
from config.guard import ip
from hedging.core.decide import strike_text
from hedging.models import AuditEvent, Control, DailySession, HedgeTransaction
from schedules.models import StrategySchedule

# What each audited table is called in an action ("schedule.update").
NOUNS: dict[type[models.Model], str] = {
    StrategySchedule: "schedule",
    BrokerAccount: "account",
    DailySession: "session",
    Control: "global",
}


@dataclass(frozen=True)
class Actor:
    user: User | None
    name: str
    address: str | None = None


def by(request) -> Actor:
    """The request's user (a page's, the admin's, or the API's, token or session) and the
    client's address as the login lockout resolves it (AXES_CLIENT_IP_CALLABLE: the proxy's
    X-Forwarded-For only from AUTOHEDGE_PROXY_IPS)."""
    user = request.user if request.user.is_authenticated else None
    return Actor(user, user.get_username() if user else "", address_of(request))


def by_chat(chat_id: str) -> Actor:
    """The Telegram bot's commands come from a chat, not a Django user."""
    return Actor(None, f"Telegram chat {chat_id}")


def address_of(request) -> str | None:
    found = get_client_ip_address(request) if request is not None else None
    return str(ip(found)) if found and ip(found) else None


def record(
    actor: Actor, action: str, obj: models.Model | None = None, before: dict | None = None, after: dict | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        user=actor.user,
        actor=actor.name[:150],
        address=actor.address,
        action=action,
        object_type=str(obj._meta.verbose_name) if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        object_repr=str(obj)[:200] if obj is not None else "",
        before=before,
        after=after,
    )


def snapshot(obj: models.Model) -> dict:
    """The fields a person sets, as JSON; not what the code keeps up itself (timestamps,
    ticks' notes, who changed it last: the audit row says that). No audited table holds a
    secret: an account names its key's variable, never the key."""
    values = {
        field.name: field.value_from_object(obj)
        for field in obj._meta.concrete_fields
        if field.editable and not field.primary_key and not getattr(field, "auto_now", False)
        and not getattr(field, "auto_now_add", False) and field.related_model is not get_user_model()
    }
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def saved(actor: Actor, obj: models.Model, before: dict | None) -> AuditEvent | None:
    """A row created (`before` None) or changed (`before` its snapshot beforehand): only the
    changed fields are kept, and nothing is recorded when none changed. A change of the
    on/off field alone is an enable or disable, or for auto-hedge a toggle."""
    noun, after = NOUNS[type(obj)], snapshot(type(obj)._default_manager.get(pk=obj.pk))  # as stored: 95 is 95.00
    if before is None:
        return record(actor, f"{noun}.create", obj, None, after)
    changed = [name for name in after if after[name] != before.get(name)]
    if not changed:
        return None
    if changed == ["enabled"]:
        action = f"{noun}.{'enable' if after['enabled'] else 'disable'}"
    elif changed == ["auto_enabled"]:
        action = f"{noun}.toggle"
    else:
        action = f"{noun}.update"
    return record(actor, action, obj, {name: before.get(name) for name in changed}, {name: after[name] for name in changed})


def deleted(actor: Actor, obj: models.Model, before: dict) -> AuditEvent:
    return record(actor, f"{NOUNS[type(obj)]}.delete", obj, before, None)


def switched(actor: Actor, session: DailySession | None, enabled: bool) -> AuditEvent:
    """Auto-hedge turned on or off, for one session or (None) globally."""
    obj = session or Control.get()
    return record(actor, f"{NOUNS[type(obj)]}.toggle", obj, {"auto_enabled": not enabled}, {"auto_enabled": enabled})


def ordered(actor: Actor, tx: HedgeTransaction, strikes: Mapping[str, Decimal] | None = None) -> AuditEvent:
    """A manual buy or exit, on its session, naming the transaction it made (whose row
    follows its orders), and the strikes the trader chose by hand, if any."""
    after: dict = {"transaction": tx.pk, "hedge_baskets": tx.hedge_baskets}
    if strikes:
        after["strikes"] = {option_type: strike_text(strike) for option_type, strike in strikes.items()}
    return record(actor, f"manual.{tx.action.lower()}", tx.session, None, after)


def token(actor: Actor, action: str, user: User, before: str | None, after: str | None) -> AuditEvent:
    """An API token made, replaced or revoked (hedging.services.tokens), on its user: the
    masked hints only, never a key."""
    return record(
        actor, f"token.{action}", user,
        {"token": before} if before is not None else None, {"token": after} if after is not None else None,
    )


# --- logins (django.contrib.auth's signals; hedging.apps connects them) -------------------------


def logged_in(sender, request, user, **kwargs) -> None:
    record(Actor(user, user.get_username(), address_of(request)), AuditEvent.Action.LOGIN)


def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Actor(user, user.get_username(), address_of(request)), AuditEvent.Action.LOGOUT)


def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """A wrong password (Django hands over the credentials with the password masked: only
    the username is kept), or a wrong API token (the name axes counts them under). The
    user is linked when the name is one. `locked`: the lockout answered (this failure
    reached the limit, or came while locked and was not checked)."""
    users = get_user_model()
    name = str(credentials.get(users.USERNAME_FIELD, ""))
    user = users._default_manager.filter(**{users.USERNAME_FIELD: name}).first()
    after = {"locked": True} if getattr(request, "axes_locked_out", False) else None
    record(Actor(user, name, address_of(request)), AuditEvent.Action.LOGIN_FAILED, None, None, after)
