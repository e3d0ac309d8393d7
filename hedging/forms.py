from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import pretty_name

from brokers.models import BrokerAccount, Index
from hedging.models import DailySession, HedgeTransaction
from schedules.forms import StrategyScheduleForm


class ScheduleRowForm(StrategyScheduleForm):
    """The admin's form (the same validation), with the browser's time pickers."""

    class Meta(StrategyScheduleForm.Meta):
        widgets = {
            "entry_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "exit_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }


class ToggleForm(forms.Form):
    enabled = forms.TypedChoiceField(choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on")
    session = forms.ModelChoiceField(DailySession.objects.filter(is_replay=False).select_related("account"), required=False)


class ManualForm(forms.Form):
    session = forms.ModelChoiceField(
        DailySession.objects.filter(status=DailySession.Status.ACTIVE, is_replay=False).select_related("account")
    )
    action = forms.ChoiceField(choices=HedgeTransaction.Action.choices)
    hedge_baskets = forms.IntegerField(min_value=1, max_value=50, initial=1)
    # Chosen by hand from a refused buy's candidates: the premium and distance windows are left aside.
    ce_strike = forms.DecimalField(label="CE strike", required=False, min_value=Decimal("0.05"), max_digits=9, decimal_places=2)
    pe_strike = forms.DecimalField(label="PE strike", required=False, min_value=Decimal("0.05"), max_digits=9, decimal_places=2)


class SessionCreateForm(forms.Form):
    account = forms.ModelChoiceField(BrokerAccount.objects.filter(enabled=True))
    index_name = forms.ChoiceField(label="Index", choices=Index.choices)
    num_baskets = forms.IntegerField(label="Baskets", min_value=1, max_value=100, initial=1)
    expiry = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Blank: the nearest expiry."
    )


class AnalyticsForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    include_replays = forms.BooleanField(label="Include replays", required=False)
    session = forms.ModelChoiceField(
        DailySession.objects.select_related("account"),
        required=False,
        label="Day to chart",
        empty_label="latest day with readings",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_from", "Must not be after the end date.")
        return data


class PlanForm(forms.Form):
    """A what-if on the day's plan, its fields filled with today's values (so sending it
    unchanged forecasts the day as it stands now); a field left blank keeps the session's
    value. One `baskets.NAME` field per schedule row of the day. The forecast checks the rest."""

    SETTINGS = ("budget", "entry_trigger_pct", "entry_target_pct", "max_hedge_cost_per_day")
    budget = forms.DecimalField(label="Budget ₹", required=False, min_value=1, decimal_places=2)
    entry_trigger_pct = forms.DecimalField(label="Trigger %", required=False, decimal_places=2)
    entry_target_pct = forms.DecimalField(label="Target %", required=False, decimal_places=2)
    max_hedge_cost_per_day = forms.DecimalField(label="Cap ₹", required=False, decimal_places=2)

    def __init__(self, session: DailySession, rows, data=None):
        initial: dict[str, Any] = {name: f"{getattr(session, name):f}".removesuffix(".00") for name in self.SETTINGS}
        super().__init__(data, initial=initial)
        for row in rows:
            name = f"baskets.{row.name}"
            self.fields[name] = forms.IntegerField(label=f"{row.name} baskets", required=False, min_value=1)
            self.initial[name] = row.baskets or session.num_baskets

    def overrides(self) -> dict:
        """The filled fields, as forecast_for_session takes them."""
        data = {name: value for name, value in self.cleaned_data.items() if value is not None}
        baskets = {name.removeprefix("baskets."): data.pop(name) for name in list(data) if name.startswith("baskets.")}
        return {**data, "baskets": baskets} if baskets else data


def errors_in_words(form: forms.Form) -> str:
    """A form's errors for a message or a plain-text answer: "Action: Select a valid
    choice. …", labels not field names, and no heading over the ones of no field."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field and (field.label or pretty_name(name))
        words = " ".join(str(error) for error in errors)  # each a message: ErrorList iterates its strings
        parts.append(f"{label}: {words}" if label else words)
    return " ".join(parts)
