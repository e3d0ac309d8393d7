"""Secrets out of logs and error reports.

Every secret the process is given — each OpenAlgo API key a client is made with, the
Telegram bot token — is registered with `protect_secret`, and from then on:

- it is scrubbed from every log record created, in any logger, whatever the handlers
  (Celery's, the console's, pytest's): a log record factory, not a handler filter;
- Django's error reports (the technical 500 page, the admins' mail) hide it by value,
  wherever it appears: frame variables, the request's META, the settings. Django's own
  filter hides settings and META entries by *name* only, and frame variables only with
  DEBUG off and `@sensitive_variables`. SECRET_KEY and TELEGRAM_BOT_TOKEN are hidden
  this way too, registered or not. (settings.DEFAULT_EXCEPTION_REPORTER_FILTER)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pprint import pformat
from typing import Any
from urllib.parse import quote

from django.views.debug import SafeExceptionReporterFilter

REDACTED = "<redacted>"
# Shorter strings are not scrubbed: they would garble every line, and no real key is that
# short (OpenAlgo's are 64 characters, Telegram's tokens about 46).
MIN_SECRET = 8

_secrets: set[str] = set()
_forms: tuple[str, ...] = ()  # each secret as it is and URL-encoded (in a URL path), made once
_secrets_lock = threading.Lock()
_previous_factory: Callable[..., logging.LogRecord] | None = None


def protect_secret(secret: str) -> None:
    """Scrub `secret` from every log record created from now on, in any logger, and
    from Django's error reports."""
    global _previous_factory, _forms
    if len(secret) < MIN_SECRET or secret in _secrets:  # read on every tick: the common case is known
        return
    with _secrets_lock:
        _secrets.add(secret)
        _forms += forms_of([secret])  # not all again: a worker meets a thousand accounts' keys one by one
        if _previous_factory is None:
            _previous_factory = logging.getLogRecordFactory()
            logging.setLogRecordFactory(_scrubbing_factory)


def forms_of(secrets: Iterable[str]) -> tuple[str, ...]:
    return tuple({form for secret in secrets for form in (secret, quote(secret, safe=""))})


def redact(text: str, secrets: Iterable[str] | None = None, substitute: str = REDACTED) -> str:
    """`text` without the secrets (default: the registered ones), as they are or URL-encoded.
    Every log record passes here, and a worker may know a thousand accounts' keys: a
    substring test per form, a copy only when one is found."""
    for form in _forms if secrets is None else forms_of(secrets):
        if form in text:
            text = text.replace(form, substitute)
    return text


def _scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call: let the handler report it
        return record
    if (clean := redact(message)) != message:
        record.msg, record.args = clean, ()
    if record.exc_info:
        trace = logging.Formatter().formatException(record.exc_info)
        if (clean := redact(trace)) != trace:
            record.exc_text, record.exc_info = clean, None
    return record


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus every known secret hidden by value, with DEBUG on or off."""

    def secrets(self) -> set[str]:
        from django.conf import settings

        return {s for s in (*_secrets, settings.SECRET_KEY, getattr(settings, "TELEGRAM_BOT_TOKEN", "")) if s}

    def cleanse_setting(self, key, value):  # settings and request.META, recursively
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str) and redact(cleansed, self.secrets()) != cleansed:
            return self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        secrets = self.secrets()
        return [
            (name, _Scrubbed(value, secrets, self.cleansed_substitute))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class _Scrubbed:
    """A frame variable as the report prints it (pformat), secrets replaced."""

    def __init__(self, value: Any, secrets: set[str], substitute: str):
        self.value, self.secrets, self.substitute = value, secrets, substitute

    def __repr__(self) -> str:
        return redact(pformat(self.value), self.secrets, self.substitute)
