"""Shapes of the API. Money and percentages are Decimal, sent as JSON strings with two
decimals ("433000.00", "84.10"); times are ISO 8601 in Asia/Kolkata (+05:30)."""

import re
from copy import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.forms.utils import pretty_name
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from brokers.models import BrokerAccount, Index
from hedging.models import DailySession, HedgeOrder, HedgeTransaction
from hedging.services import sessions
from schedules.models import BASKETS_VALIDATORS, WEEKDAYS, StrategySchedule

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from rest_framework.validators import Validator

MAX_ANALYTICS_DAYS = 366


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def percent(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=7, decimal_places=2, **kwargs)


class TextField(serializers.CharField):
    """A JSON string only: DRF's CharField would take 0.5 as "0.5". Its length is the
    string's as sent, as the schema says: DRF's would be counted once trimmed."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class BooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF's BooleanField would take 0.0 or "yes"."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


WHOLE_NUMBER = re.compile(r"^-?[0-9]{1,20}$")
LARGEST_ID = 2**63 - 1  # PostgreSQL's bigint
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def whole_number(data) -> int | None:
    """A JSON integer, or a string of digits (a query parameter); None for anything else.
    A float is never one, 15.0 included: JSON's 15.9, 1e0 and 1e400 all arrive as floats,
    and DRF would read 15.9 as row 15 (and fail with a 500 on 1e400)."""
    if isinstance(data, int) and not isinstance(data, bool):
        return data
    if isinstance(data, str) and WHOLE_NUMBER.match(data):
        return int(data)
    return None


class IntegerField(serializers.IntegerField):
    """A count: a whole number as `whole_number` takes it, then DRF's bounds."""

    def to_internal_value(self, data):
        number = whole_number(data)
        if number is None:
            self.fail("invalid")
        return super().to_internal_value(number)


class RowField(serializers.PrimaryKeyRelatedField):
    """A row by its id, a whole number as `whole_number` takes it."""

    default_error_messages = {"incorrect_type": "Give the id as a whole number, not {data_type}."}

    def to_internal_value(self, data):
        pk = whole_number(data)
        if pk is None:
            self.fail("incorrect_type", data_type="a float" if isinstance(data, float) else type(data).__name__)
        if not 0 < pk <= LARGEST_ID:
            self.fail("does_not_exist", pk_value=pk)
        return super().to_internal_value(pk)


class DayField(serializers.DateField):
    """A date this century: the services add and subtract days (0001-01-01 less 30 days
    would be an OverflowError, a 500)."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(f"give a date from {FIRST_DAY} to {LAST_DAY}")
        return day


def as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    detail = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    return serializers.ValidationError({("non_field_errors" if k == "__all__" else k): v for k, v in detail.items()})


# --- sessions ------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = DailySession
        fields = [
            "id", "account", "account_name", "date", "index_name", "expiry", "num_baskets", "lots_per_basket",
            "lot_size", "budget", "status", "auto_enabled", "entry_trigger_pct", "entry_target_pct",
            "exit_trigger_pct", "lookahead_minutes", "max_hedge_cost_per_day", "cooldown_seconds",
            "exit_buffer_minutes", "min_exit_premium", "min_premium", "max_premium", "min_otm_distance",
            "max_otm_distance", "price_protection_pct", "order_retries", "margin_model", "margin_unhedged",
            "margin_hedged", "baseline_margin", "baseline_captured_at", "excluded_margin", "is_replay",
            "replay_name", "created_at",
        ]
        read_only_fields = fields


class SessionCreateSerializer(serializers.Serializer):
    """Today's session from the defaults; only these may be given."""

    account = RowField(queryset=BrokerAccount.objects.filter(enabled=True))
    index_name = serializers.ChoiceField(choices=Index.choices)
    num_baskets = IntegerField(min_value=1, max_value=100, default=1)
    expiry = DayField(required=False, help_text="Default: the nearest expiry the broker lists.")
    margin_unhedged = money(required=False, help_text="Mu; needed where the constants table has none.")
    margin_hedged = money(required=False, help_text="Mh; needed where the constants table has none.")


# --- schedule ------------------------------------------------------------------------------

SCHEDULE_CONSTRAINT_FIELDS = {
    "strategy_schedule_unique_name": "name",
    "strategy_schedule_exit_after_entry": "exit_time",
    "strategy_schedule_market_hours": "entry_time",
    "strategy_schedule_baskets_positive": "baskets",
    "strategy_schedule_weekdays_valid": "weekdays",
}


@extend_schema_field({"type": "array", "items": {"type": "string", "enum": WEEKDAYS}})
class WeekdaysField(serializers.Field):
    """The model's bit mask as day names: ["Mon", "Wed"]."""

    def to_representation(self, value: int) -> list[str]:
        return [day for i, day in enumerate(WEEKDAYS) if value & (1 << i)]

    def to_internal_value(self, data) -> int:
        if not isinstance(data, list) or not data:
            raise serializers.ValidationError(f"give a non-empty list of day names from {', '.join(WEEKDAYS)}")
        unknown = [day for day in data if day not in WEEKDAYS]
        if unknown:
            raise serializers.ValidationError(f"unknown day(s) {unknown}: use {', '.join(WEEKDAYS)}")
        return sum(1 << WEEKDAYS.index(day) for day in set(data))


TIME_OF_DAY = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


@extend_schema_field({"type": "string", "pattern": TIME_OF_DAY, "example": "09:20:00"})
class TimeOfDayField(serializers.TimeField):
    """A time of day in IST, "HH:MM[:SS]". Stricter than DRF's, which drops an offset
    silently ("03:50Z" would be 03:50 IST); JSON Schema's `time` format would demand one."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.match(TIME_OF_DAY, value):
            self.fail("invalid", format="hh:mm[:ss] in IST, without an offset")
        return super().to_internal_value(value)


class ScheduleSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **{model: IntegerField if field is serializers.IntegerField else field
           for model, field in serializers.ModelSerializer.serializer_field_mapping.items()},
        models.CharField: TextField, models.TextField: TextField, models.BooleanField: BooleanField,
    }
    serializer_related_field = RowField
    entry_time = TimeOfDayField()
    exit_time = TimeOfDayField()
    weekdays = WeekdaysField(required=False, help_text='Day names, e.g. ["Mon", "Tue"]. Default: Monday to Friday.')
    baskets = IntegerField(
        required=False, allow_null=True, validators=BASKETS_VALIDATORS, help_text="Blank: the session's number of baskets."
    )

    class Meta:
        model = StrategySchedule
        fields = ["id", "account", "index_name", "name", "entry_time", "exit_time", "baskets", "weekdays", "enabled", "notes"]
        validators: "list[Validator[Any]]" = []  # every constraint is checked in validate(), under the field it is about

    def validate(self, attrs):
        row = copy(self.instance) if self.instance else StrategySchedule()
        for name, value in attrs.items():
            setattr(row, name, value)
        try:
            sessions.validate(row, SCHEDULE_CONSTRAINT_FIELDS)
        except DjangoValidationError as invalid:
            raise as_drf_error(invalid) from None
        return attrs


# --- transactions --------------------------------------------------------------------------


class HedgeOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = HedgeOrder
        fields = [
            "leg", "option_type", "attempt", "side", "symbol", "exchange", "strike", "quantity", "limit_price", "expected_price",
            "status", "filled_quantity", "average_price", "mbpr", "runner_up_mbpr", "broker_order_id", "error", "sent_at",
        ]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    session_label = serializers.CharField(source="session.__str__", read_only=True)
    is_replay = serializers.BooleanField(source="session.is_replay", read_only=True)
    requested_by: "serializers.SlugRelatedField[User]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    orders = HedgeOrderSerializer(many=True, read_only=True)

    class Meta:
        model = HedgeTransaction
        fields = [
            "id", "session", "session_label", "is_replay", "action", "origin", "requested_by", "hedge_baskets",
            "reason", "for_entries", "util_before_pct", "util_projected_pct", "util_after_pct", "expected_cost",
            "cost", "status", "error", "decided_at", "completed_at", "latency_ms", "orders",
        ]
        read_only_fields = fields


# --- actions -------------------------------------------------------------------------------


class ManualSerializer(serializers.Serializer):
    session = RowField(
        queryset=DailySession.objects.filter(status=DailySession.Status.ACTIVE, is_replay=False).select_related("account")
    )
    hedge_baskets = IntegerField(min_value=1, max_value=50)
    client_key = TextField(
        required=False, default="", max_length=60, help_text="Repeat it to retry safely: the same key never orders twice."
    )


def strike(option_type: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=9, decimal_places=2, min_value=Decimal("0.05"), required=False, allow_null=True,
        help_text=f"A {option_type} strike chosen by hand (give both, or neither): the premium and distance windows are "
                  "left aside for this buy; the rest of the limits hold. A refusal for no eligible strike lists candidates.",
    )


class ManualBuySerializer(ManualSerializer):
    ce_strike = strike("CE")
    pe_strike = strike("PE")


class CandidateSerializer(serializers.Serializer):
    symbol = serializers.CharField(source="quote.symbol")
    strike = money(source="quote.strike")
    bid = money(source="quote.bid", allow_null=True)
    ask = money(source="quote.ask", allow_null=True)
    excluded_by = serializers.CharField(allow_null=True, help_text="The rule that keeps the automatic path off it; null: none.")


class CandidatesSerializer(serializers.Serializer):
    """A refused manual buy's nearest candidates, a side each, nearest to the rules first."""

    CE = CandidateSerializer(many=True)
    PE = CandidateSerializer(many=True)


class ToggleSerializer(serializers.Serializer):
    enabled = BooleanField()
    session = RowField(
        queryset=DailySession.objects.filter(is_replay=False).select_related("account"),
        required=False,
        allow_null=True,
        help_text="Omit for the global switch.",
    )
    reason = TextField(required=False, default="", max_length=200)


class ToggleResultSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["global", "session"])
    session = serializers.IntegerField(allow_null=True)
    enabled = serializers.BooleanField()
    changed = serializers.BooleanField(help_text="False when the switch was in that state already.")
    auto_global = serializers.BooleanField()


# --- status --------------------------------------------------------------------------------


class StatusQuerySerializer(serializers.Serializer):
    session = RowField(
        queryset=DailySession.objects.select_related("account"), required=False, help_text="Default: today's sessions."
    )
    read = serializers.ChoiceField(
        choices=["now"], required=False,
        help_text="now: read the broker for this answer; default: as the last tick and the minute's snapshot left it.",
    )


class SessionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account = serializers.CharField(source="account.name")
    date = serializers.DateField()
    index_name = serializers.CharField()
    expiry = serializers.DateField()
    num_baskets = serializers.IntegerField()
    is_replay = serializers.BooleanField()


class MarginSerializer(serializers.Serializer):
    broker_used = money()
    used = money()
    utilisation_pct = percent()
    as_of = serializers.DateTimeField()
    # The JSON key is "source": DRF's metaclass takes a declared field off the class, so
    # Field.source is not shadowed, but the stubs see a class attribute of Field retyped.
    source = serializers.ChoiceField(choices=["broker", "snapshot"])  # type: ignore[assignment]


class ThresholdsSerializer(serializers.Serializer):
    entry_trigger_pct = percent()
    entry_target_pct = percent()
    exit_trigger_pct = percent()


class HedgeLegSerializer(serializers.Serializer):
    symbol = serializers.CharField()
    option_type = serializers.CharField()
    strike = money()
    quantity = serializers.IntegerField()
    entry_price = money()
    opened_at = serializers.DateTimeField()


class CapSerializer(serializers.Serializer):
    max = money(source="cap")
    spent = money()
    left = money(source="cap_left")


class NextEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    at = serializers.DateTimeField()
    baskets = serializers.IntegerField()
    projected_pct = percent(allow_null=True)
    needs_hedge = serializers.BooleanField()
    in_lookahead = serializers.BooleanField()


class VerdictSerializer(serializers.Serializer):
    action = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class LastActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    origin = serializers.CharField()
    hedge_baskets = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()
    cost = money()
    decided_at = serializers.DateTimeField()


class BrokerHealthSerializer(serializers.Serializer):
    reachable = serializers.BooleanField(allow_null=True, help_text="null: not read today yet")
    error = serializers.CharField()
    latency_ms = serializers.FloatField(allow_null=True, help_text="read now (read=now), this fast")
    as_of = serializers.DateTimeField(allow_null=True, help_text="as the last tick or snapshot found it")


class WorkerHealthSerializer(serializers.Serializer):
    last_tick_at = serializers.DateTimeField(allow_null=True)
    healthy = serializers.BooleanField(allow_null=True, help_text="null: market closed, no tick expected.")


class AlertSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    level = serializers.CharField()
    kind = serializers.CharField()
    text = serializers.CharField()


class SessionStatusSerializer(serializers.Serializer):
    session = SessionRefSerializer()
    mode = serializers.ChoiceField(
        choices=["paper", "sandbox", "live"], help_text="sandbox: a live account whose OpenAlgo answers from its analyzer mode."
    )
    auto_enabled = serializers.BooleanField(help_text="This session's switch.")
    auto_effective = serializers.BooleanField(help_text="Session switch and global switch both on.")
    budget = money()
    margin = MarginSerializer(allow_null=True)
    thresholds = ThresholdsSerializer(source="settings")
    open_baskets = serializers.IntegerField()
    hedges_held = serializers.IntegerField(help_text="Whole hedge baskets.")
    hedge_legs = HedgeLegSerializer(many=True)
    cap = CapSerializer(source="*")
    cooldown_left = serializers.IntegerField(help_text="Seconds until the next hedge action is allowed.")
    next_entries = NextEntrySerializer(many=True)
    decision = VerdictSerializer(help_text="What the rules say now (strikes are chosen by the tick).")
    last_action = LastActionSerializer(allow_null=True)
    broker = BrokerHealthSerializer()
    worker = WorkerHealthSerializer()
    alerts = AlertSerializer(many=True)
    problem = serializers.CharField()


class StatusSerializer(serializers.Serializer):
    now = serializers.DateTimeField()
    auto_global = serializers.BooleanField()
    sessions = SessionStatusSerializer(many=True)


# --- analytics -----------------------------------------------------------------------------


class AnalyticsQuerySerializer(serializers.Serializer):
    date_from = DayField(required=False, help_text="Default: 30 days before date_to.")
    date_to = DayField(required=False, help_text="Default: today.")
    include_replays = serializers.BooleanField(default=True)
    account = RowField(queryset=BrokerAccount.objects.all(), required=False)
    session = RowField(
        queryset=DailySession.objects.all(), required=False, help_text="Add this session's utilisation through the day."
    )

    def validate(self, attrs):
        today = self.context["today"]
        attrs.setdefault("date_to", today)
        attrs.setdefault("date_from", attrs["date_to"] - timedelta(days=30))
        if attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_from": "must not be after date_to"})
        if (attrs["date_to"] - attrs["date_from"]).days >= MAX_ANALYTICS_DAYS:
            raise serializers.ValidationError({"date_from": f"the range is limited to {MAX_ANALYTICS_DAYS} days"})
        return attrs


class SessionDaySerializer(serializers.Serializer):
    session = SessionRefSerializer()
    spent = money()
    received = money()
    net = money()
    hedge_buys = serializers.IntegerField()
    baskets_bought = serializers.IntegerField()
    entries = serializers.IntegerField()
    entered_baskets = serializers.IntegerField()
    entries_hedged = serializers.IntegerField()
    entries_unhedged = serializers.IntegerField(help_text="Hedges avoided: entries that went in without one.")
    static_cost = money(help_text='Estimated cost of "hedge every basket" for the same entries.')
    basket_price = money()
    price_source = serializers.ChoiceField(choices=["paid", "range", "floor"])
    saved = money()


class MarkerSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    # The JSON key is "label": a declared field, not Field.label (see MarginSerializer.source).
    label = serializers.CharField()  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=["entry", "buy", "exit"])


class PointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    utilisation_pct = percent()


class SeriesSerializer(serializers.Serializer):
    session = SessionRefSerializer()
    points = PointSerializer(many=True)
    markers = MarkerSerializer(many=True)


class TotalsSerializer(serializers.Serializer):
    spent = money()
    received = money()
    net = money()
    static_cost = money()
    saved = money()
    hedge_buys = serializers.IntegerField()
    entries = serializers.IntegerField()
    entries_hedged = serializers.IntegerField()
    entries_unhedged = serializers.IntegerField()


class AnalyticsSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    days = SessionDaySerializer(many=True)
    totals = TotalsSerializer()
    utilisation = SeriesSerializer(allow_null=True, required=False)


# --- forecast ------------------------------------------------------------------------------


class ForecastQuerySerializer(serializers.Serializer):
    """A what-if: every setting left blank keeps the session's; `baskets.NAME=n` sets a
    schedule row's baskets. The forecast itself checks the values (docs/forecast.md)."""

    session = RowField(queryset=DailySession.objects.select_related("account"), help_text="A trading day's, not a replay.")
    date = DayField(required=False, help_text="Default: the session's day.")
    budget = serializers.CharField(required=False, allow_blank=True)
    entry_trigger_pct = serializers.CharField(required=False, allow_blank=True)
    entry_target_pct = serializers.CharField(required=False, allow_blank=True)
    max_hedge_cost_per_day = serializers.CharField(required=False, allow_blank=True)

    def validate_session(self, session: DailySession) -> DailySession:
        """A replayed day's account is no broker's (the replay's stand-in): there is no
        market to read for it now."""
        if session.is_replay:
            raise serializers.ValidationError(
                f"Session {session.pk} is a replayed day ({session.replay_name}): a forecast reads the market from the "
                "session's broker now, and a replay has none. Forecast the scenario instead: manage.py forecast SCENARIO.json."
            )
        return session

    def refusal(self, refused) -> dict[str, list[str]]:
        """The forecast's ForecastError under its parameter; one about no parameter (the
        broker's chain, the margin constants) is the request's as a whole, naming what."""
        if refused.field in self.fields or refused.field.startswith("baskets."):
            return {refused.field: [refused.reason]}
        return {"non_field_errors": [f"{pretty_name(refused.field)}: {refused.reason}"]}

    def overrides(self, params) -> dict:
        data = {name: value for name, value in self.validated_data.items() if name not in ("session", "date")}
        baskets = {name.removeprefix("baskets."): value for name, value in params.items() if name.startswith("baskets.")}
        return {**data, "baskets": baskets} if baskets else data


CLOCK_TIME = {"type": "string", "pattern": r"^\d\d:\d\d:\d\d$", "example": "10:25:00"}


@extend_schema_field(CLOCK_TIME)
class ClockField(serializers.CharField):
    """A time of the day, "HH:MM:SS" (IST), as the stored forecast keeps it."""


def plain(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(**kwargs)


class PlannedLegSerializer(serializers.Serializer):
    option_type = serializers.ChoiceField(choices=["CE", "PE"])
    strike = plain()
    quantity = serializers.IntegerField()
    price = plain(help_text="₹ a unit, at the model's price.")


class PlannedBuySerializer(serializers.Serializer):
    time = ClockField()
    hedge_baskets = serializers.IntegerField()
    for_entries = serializers.ListField(child=serializers.CharField(), help_text="The schedule rows it is bought for.")
    util_before_pct = plain()
    util_projected_pct = plain(help_text="With the coming entries, unhedged.")
    util_after_pct = plain(help_text="With the coming entries and this buy.")
    cost = plain()
    cost_low = plain()
    cost_high = plain()
    legs = PlannedLegSerializer(many=True)


class ForecastAlertSerializer(serializers.Serializer):
    time = ClockField()
    kind = serializers.CharField()
    level = serializers.CharField()
    text = serializers.CharField()
    entries = serializers.ListField(child=serializers.CharField())


class MarketSerializer(serializers.Serializer):
    spot = plain(help_text="Held flat through the day.")
    other_margin = plain(help_text="Margin outside the schedule, held flat.")
    iv_atm = plain()
    iv_wing_slope = plain()
    one_day_move = plain(help_text="The index move the cost range allows for.")


class ProjectedEntrySerializer(serializers.Serializer):
    name = serializers.CharField()
    time = ClockField()
    baskets = serializers.IntegerField()
    util_pct = plain(allow_null=True, help_text="Just after the entry; null if it never enters.")


class TimelinePointSerializer(serializers.Serializer):
    time = ClockField()
    util_pct = plain(help_text="From this time until the next point.")
    open_baskets = serializers.IntegerField()
    hedges_held = serializers.IntegerField()


class ForecastSerializer(serializers.Serializer):
    """ForecastResult.detail(): plain JSON numbers (rupees and percentages), times HH:MM:SS."""

    name = serializers.CharField()
    day = serializers.DateField()
    index = serializers.CharField()
    budget = plain()
    cap = plain(help_text="The daily hedge cost cap.")
    entry_trigger_pct = plain()
    entry_target_pct = plain()
    auto_enabled = serializers.BooleanField(help_text="The session's and the global switch now; the plan assumes them on.")
    planned = PlannedBuySerializer(many=True, help_text="What auto-hedge will buy, within the cap.")
    needed = PlannedBuySerializer(many=True, help_text="What the day needs with no cap (the same when the cap covers).")
    breaches = serializers.ListField(child=serializers.CharField(), help_text="Entries over the target even fully hedged.")
    cap_covers = serializers.BooleanField()
    shortfall_from = serializers.CharField(allow_null=True, help_text="The first entry the cap cannot hedge.")
    cost = plain()
    cost_low = plain()
    cost_high = plain()
    peak_util_pct = plain()
    market = MarketSerializer()
    entries = ProjectedEntrySerializer(many=True)
    timeline = TimelinePointSerializer(many=True)
    alerts = ForecastAlertSerializer(many=True, help_text="Every alert the day would raise.")
