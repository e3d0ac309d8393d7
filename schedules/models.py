from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from brokers.models import BrokerAccount, Index
from config.dbschema import schema_table

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri"]
ALL_WEEKDAYS = (1 << len(WEEKDAYS)) - 1
MAX_BASKETS = 100  # as for a session's baskets: the most one account carries
BASKETS_MESSAGE = f"Baskets must be 1 to {MAX_BASKETS} (or blank for the session's number)."
BASKETS_VALIDATORS = [MinValueValidator(1, BASKETS_MESSAGE), MaxValueValidator(MAX_BASKETS, BASKETS_MESSAGE)]


class StrategySchedule(models.Model):
    """When a portfolio enters and exits, on which weekdays, and with how many baskets
    (blank: the session's number of baskets)."""

    account = models.ForeignKey(BrokerAccount, on_delete=models.CASCADE, related_name="schedules")
    index_name = models.CharField("index", max_length=10, choices=Index.choices)
    name = models.CharField(max_length=100, help_text="The portfolio's name, e.g. P1.")
    entry_time = models.TimeField()
    exit_time = models.TimeField()
    baskets = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=BASKETS_VALIDATORS, help_text="Blank: the session's number of baskets."
    )
    weekdays = models.PositiveSmallIntegerField(
        default=ALL_WEEKDAYS, help_text="Bit mask, Monday = 1, Tuesday = 2, … Friday = 16."
    )
    enabled = models.BooleanField(default=True)
    notes = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = schema_table("strategy_schedule")
        ordering = ["account_id", "index_name", "entry_time", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "index_name", "name"],
                name="strategy_schedule_unique_name",
                violation_error_message="This account already has a schedule row with this name for this index.",
            ),
            models.CheckConstraint(
                condition=Q(exit_time__gt=F("entry_time")),
                name="strategy_schedule_exit_after_entry",
                violation_error_message="The exit time must be after the entry time.",
            ),
            models.CheckConstraint(
                condition=Q(entry_time__gte="09:15") & Q(exit_time__lte="15:30"),
                name="strategy_schedule_market_hours",
                violation_error_message="Entry and exit must lie within market hours, 09:15–15:30.",
            ),
            models.CheckConstraint(
                condition=Q(baskets__isnull=True) | Q(baskets__gte=1, baskets__lte=MAX_BASKETS),
                name="strategy_schedule_baskets_positive",
                violation_error_message=BASKETS_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(weekdays__gte=1) & Q(weekdays__lte=ALL_WEEKDAYS),
                name="strategy_schedule_weekdays_valid",
                violation_error_message="Pick at least one weekday, Monday to Friday.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.index_name} {self.entry_time:%H:%M}"

    def runs_on(self, weekday: int) -> bool:
        """weekday as date.weekday(): Monday is 0."""
        return weekday < len(WEEKDAYS) and bool(self.weekdays & (1 << weekday))

    @property
    def weekday_names(self) -> str:
        return ", ".join(day for i, day in enumerate(WEEKDAYS) if self.runs_on(i))
