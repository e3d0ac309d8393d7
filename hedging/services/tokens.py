"""A user's own API token (DRF's, one per user): made, replaced or revoked from the token
page, each in the audit trail. The key is shown once, when made; after that only a hint
(its last four characters) is, on the page and in the audit trail."""

from __future__ import annotations

from django.db import transaction
from rest_framework.authtoken.models import Token

from hedging.services import audit


def hint(key: str) -> str:
    return f"…{key[-4:]}"


def current(user) -> Token | None:
    return Token.objects.filter(user=user).first()


@transaction.atomic
def make(actor: audit.Actor, user) -> str:
    """A new key for `user`, replacing the one they had (which stops working at once)."""
    old = Token.objects.select_for_update().filter(user=user).first()
    before = hint(old.key) if old else None  # deleting clears the key
    if old:
        old.delete()
    key = Token.objects.create(user=user).key
    audit.token(actor, "replace" if old else "create", user, before, hint(key))
    return key


@transaction.atomic
def revoke(actor: audit.Actor, user) -> bool:
    """False when there was no token to revoke (nothing recorded then)."""
    old = Token.objects.select_for_update().filter(user=user).first()
    if not old:
        return False
    before = hint(old.key)
    old.delete()
    audit.token(actor, "revoke", user, before, None)
    return True
