from django import forms

from schedules.models import BASKETS_VALIDATORS, MAX_BASKETS, WEEKDAYS, StrategySchedule


class WeekdaysField(forms.TypedMultipleChoiceField):
    """Checkboxes for Monday–Friday, stored as the model's bit mask."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.pop("max_value", None)
        kwargs.pop("min_value", None)
        super().__init__(choices=[(i, day) for i, day in enumerate(WEEKDAYS)], coerce=int, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return [i for i in range(len(WEEKDAYS)) if value & (1 << i)]
        return value

    def has_changed(self, initial, data):  # the admin asks, on every change, with the stored bit mask
        return super().has_changed(self.prepare_value(initial), data)

    def clean(self, value):
        return sum(1 << day for day in set(super().clean(value)))


class StrategyScheduleForm(forms.ModelForm):
    # The model's bounds and message alone: the field's own would add "≥ 0" and the like.
    baskets = forms.IntegerField(
        label="Baskets", required=False, validators=BASKETS_VALIDATORS,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_BASKETS}),
        help_text=StrategySchedule._meta.get_field("baskets").help_text,
    )
    weekdays = WeekdaysField(label="Weekdays")

    class Meta:
        model = StrategySchedule
        fields = ["account", "index_name", "name", "entry_time", "exit_time", "baskets", "weekdays", "enabled", "notes"]
