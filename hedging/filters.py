"""The lists' filters, one FilterSet per list for the API, the dashboard and the CSV
export alike (django-filter, as NetBox does): they cannot drift apart. A bad value is
refused naming its field (400 in the API and the CSV, a form error on the page), never
read as no filter."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from brokers.models import BrokerAccount
from hedging.models import DailySession, HedgeTransaction

FIRST_DAY, LAST_DAY = "2000-01-01", "2099-12-31"
WHOLE_NUMBER = re.compile(r"^[0-9]{1,20}$")


class DayField(forms.DateField):
    """A date this century, ISO (2026-11-24), as the API's other dates."""

    widget = forms.DateInput(attrs={"type": "date", "min": FIRST_DAY, "max": LAST_DAY})

    def validate(self, value):
        super().validate(value)
        if value and not FIRST_DAY <= value.isoformat() <= LAST_DAY:
            raise ValidationError(f"Give a date from {FIRST_DAY} to {LAST_DAY}.")


class DayFilter(django_filters.DateFilter):
    field_class = DayField


class RowField(forms.ModelChoiceField):
    """A row by its id, a whole number: "x" or "1.5" is refused, not looked up."""

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, **kwargs)
        self.error_messages["invalid_choice"] = f"No {queryset.model._meta.verbose_name} has the id %(value)s."

    def to_python(self, value):
        if value not in self.empty_values and not WHOLE_NUMBER.match(str(value)):
            raise ValidationError("Give the id as a whole number.", code="invalid")
        return super().to_python(value)


class RowFilter(django_filters.ModelChoiceFilter):
    field_class = RowField


class YesNoField(forms.NullBooleanField):
    """true/false (or yes/no, 1/0); anything else is refused, not read as "either"."""

    widget = forms.Select(choices=[("", "either"), ("true", "yes"), ("false", "no")])
    WORDS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, bool):
            return value
        if str(value).lower() not in self.WORDS:
            raise ValidationError("Give true or false.", code="invalid")
        return self.WORDS[str(value).lower()]


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class TransactionFilter(django_filters.FilterSet):
    date = DayFilter(field_name="session__date", label="Date", help_text="The session's date.")
    session = RowFilter(queryset=DailySession.objects.select_related("account"), label="Session", help_text="A session's id.")
    action = django_filters.ChoiceFilter(
        choices=HedgeTransaction.Action.choices, empty_label="any action", label="Action", help_text="A buy or an exit."
    )
    status = django_filters.ChoiceFilter(choices=HedgeTransaction.Status.choices, empty_label="any status", label="Status")
    origin = django_filters.ChoiceFilter(
        choices=HedgeTransaction.Origin.choices, empty_label="automatic or manual", label="Origin",
        help_text="auto: the rules'; manual: a user's.",
    )

    class Meta:
        model = HedgeTransaction
        fields = ["date", "session", "action", "status", "origin"]


class SessionFilter(django_filters.FilterSet):
    date = DayFilter(label="Date", help_text="The trading day.")
    account = RowFilter(queryset=BrokerAccount.objects.all(), label="Account", help_text="An account's id.")
    is_replay = YesNoFilter(label="Replay", help_text="true: replayed days only; false: trading days only.")

    class Meta:
        model = DailySession
        fields = ["date", "account", "is_replay"]


def transactions() -> QuerySet[HedgeTransaction]:
    """Every hedge action, newest first, with what its list shows."""
    return (HedgeTransaction.objects.select_related("session__account", "requested_by").prefetch_related("orders")
            .order_by("-decided_at", "-pk"))
