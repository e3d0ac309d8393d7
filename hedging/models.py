"""The five tables of the plan (daily_session, hedge_transactions, strategy_executions,
active_hedges; strategy_schedule lives in `schedules`) and what a deployment needs
beside them. Business rules are enforced by the database, not only by forms."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from brokers.models import BrokerAccount, Exchange, Index
from config.dbschema import schema_table
from hedging.rows import fetch
from schedules.models import StrategySchedule


def money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def price(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=10, decimal_places=2, **kwargs)


def percent(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=7, decimal_places=2, **kwargs)


def check(condition: Q, name: str, message: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=condition, name=name, violation_error_message=message)


def within_0_100(field: str, table: str, label: str) -> models.CheckConstraint:
    return check(
        Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100}),
        f"{table}_{field}_0_100",
        f"{label} must be between 0 and 100.",
    )


class OptionType(models.TextChoices):
    CE = "CE", "Call (CE)"
    PE = "PE", "Put (PE)"


class MarginModel(models.TextChoices):
    CONSTANTS = "constants", "Constants per index and DTE"
    PER_STRIKE = "per_strike", "Per strike (broker basket margin)"


class MarginConstant(models.Model):
    """Margin of one basket without and with a hedge basket, per index and days to expiry."""

    index_name = models.CharField("index", max_length=10, choices=Index.choices)
    dte = models.PositiveSmallIntegerField("days to expiry")
    unhedged = money(help_text="Margin of one basket without a hedge (Mu).")
    hedged = money(help_text="Margin of one basket with a hedge basket (Mh).")

    class Meta:
        db_table = schema_table("margin_constants")
        ordering = ["index_name", "dte"]
        constraints = [
            models.UniqueConstraint(
                fields=["index_name", "dte"],
                name="margin_constants_unique_index_dte",
                violation_error_message="Constants for this index and DTE exist already.",
            ),
            check(Q(hedged__gt=0), "margin_constants_hedged_positive", "Hedged margin must be positive."),
            check(
                Q(unhedged__gt=F("hedged")),
                "margin_constants_hedge_saves",
                "Unhedged margin must be larger than hedged margin.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.index_name} {self.dte}DTE"


class ExchangeHoliday(models.Model):
    exchange = models.CharField(max_length=3, choices=Exchange.choices)
    date = models.DateField()
    description = models.CharField(max_length=100, blank=True)

    class Meta:
        db_table = schema_table("exchange_holidays")
        ordering = ["date", "exchange"]
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "date"],
                name="exchange_holidays_unique",
                violation_error_message="This holiday is listed already.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.exchange} {self.date:%Y-%m-%d} {self.description}"


class DailySession(models.Model):
    """One trading day for one broker account, with the hedging settings in force.
    Setting names are the same everywhere: here, in the API and in replay `config`."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    account = models.ForeignKey(BrokerAccount, on_delete=models.PROTECT, related_name="sessions")
    date = models.DateField()
    index_name = models.CharField("index", max_length=10, choices=Index.choices)
    expiry = models.DateField()
    num_baskets = models.PositiveSmallIntegerField(default=1)
    lots_per_basket = models.PositiveSmallIntegerField(default=1)
    lot_size = models.PositiveIntegerField(null=True, blank=True, help_text="Blank: read from the broker.")
    freeze_qty = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The exchange's most units in one order. Blank: read from the broker (0: it did not say).",
    )
    budget = money()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.ACTIVE)
    auto_enabled = models.BooleanField("auto-hedge on", default=True)

    entry_trigger_pct = percent(default=Decimal("95"))
    entry_target_pct = percent(default=Decimal("85"))
    exit_trigger_pct = percent(default=Decimal("70"))
    lookahead_minutes = models.PositiveSmallIntegerField(default=5)
    max_hedge_cost_per_day = money(default=Decimal("50000"))
    cooldown_seconds = models.PositiveIntegerField(default=120)
    exit_buffer_minutes = models.PositiveSmallIntegerField(default=15)
    min_exit_premium = price(default=Decimal("0.50"))
    min_premium = price(default=Decimal("2"))
    max_premium = price(default=Decimal("6"))
    min_otm_distance = price(null=True, blank=True, help_text="Points from spot. Blank: the index's default.")
    max_otm_distance = price(null=True, blank=True, help_text="Points from spot. Blank: the index's default.")
    price_protection_pct = percent(default=Decimal("5"), help_text="Limit price this far above the ask.")
    order_retries = models.PositiveSmallIntegerField(default=2, help_text="Re-placements of an unfilled leg.")

    margin_model = models.CharField(max_length=10, choices=MarginModel.choices, default=MarginModel.CONSTANTS)
    margin_unhedged = money(null=True, blank=True, help_text="Mu. Blank: the constants table.")
    margin_hedged = money(null=True, blank=True, help_text="Mh. Blank: the constants table.")

    baseline_margin = money(null=True, blank=True, help_text="Broker's used margin at session start.")
    baseline_captured_at = models.DateTimeField(null=True, blank=True)
    excluded_margin = money(default=Decimal("0"), help_text="Margin the trader excludes by hand.")

    is_replay = models.BooleanField(default=False)
    replay_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the lookahead last did with the session, and why (its own words).
    last_tick_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_tick_note = models.CharField(max_length=300, blank=True, editable=False)
    last_tick_failed = models.BooleanField(default=False, editable=False)
    # The broker answers from OpenAlgo's sandbox (analyzer mode): its margins and fills are simulated.
    sandbox = models.BooleanField(default=False, editable=False)

    class Meta:
        db_table = schema_table("daily_session")
        ordering = ["-date", "account_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "date"],
                condition=Q(is_replay=False),
                name="daily_session_one_per_account_and_date",
                violation_error_message="This account has a session for this date already.",
            ),
            within_0_100("entry_trigger_pct", "daily_session", "Entry trigger"),
            within_0_100("entry_target_pct", "daily_session", "Entry target"),
            within_0_100("exit_trigger_pct", "daily_session", "Exit trigger"),
            check(
                Q(exit_trigger_pct__lt=F("entry_target_pct")) & Q(entry_target_pct__lt=F("entry_trigger_pct")),
                "daily_session_thresholds_ordered",
                "Thresholds must be ordered: exit trigger < entry target < entry trigger.",
            ),
            check(Q(budget__gt=0), "daily_session_budget_positive", "Budget must be positive."),
            check(Q(num_baskets__gt=0), "daily_session_baskets_positive", "Number of baskets must be at least 1."),
            check(Q(lots_per_basket__gt=0), "daily_session_lots_positive", "Lots per basket must be at least 1."),
            check(
                Q(lot_size__isnull=True) | Q(lot_size__gt=0),
                "daily_session_lot_size_positive",
                "Lot size must be at least 1.",
            ),
            check(Q(lookahead_minutes__gt=0), "daily_session_lookahead_positive", "Lookahead must be at least 1 minute."),
            check(
                Q(max_hedge_cost_per_day__gte=0),
                "daily_session_cap_not_negative",
                "The daily hedge cost cap cannot be negative.",
            ),
            check(Q(min_exit_premium__gte=0), "daily_session_min_exit_premium", "Minimum exit premium cannot be negative."),
            check(
                Q(min_premium__gt=0) & Q(max_premium__gte=F("min_premium")),
                "daily_session_premium_window",
                "Premium window must be positive, with minimum ≤ maximum.",
            ),
            check(
                Q(min_otm_distance__isnull=True)
                | Q(max_otm_distance__isnull=True)
                | (Q(min_otm_distance__gte=0) & Q(max_otm_distance__gte=F("min_otm_distance"))),
                "daily_session_distance_window",
                "OTM distance window must be non-negative, with minimum ≤ maximum.",
            ),
            check(
                Q(price_protection_pct__gte=0) & Q(price_protection_pct__lte=100),
                "daily_session_price_protection_0_100",
                "Price protection must be between 0 and 100.",
            ),
            check(
                (Q(margin_unhedged__isnull=True) & Q(margin_hedged__isnull=True))
                | (
                    Q(margin_unhedged__isnull=False)
                    & Q(margin_hedged__isnull=False)
                    & Q(margin_hedged__gt=0)
                    & Q(margin_unhedged__gt=F("margin_hedged"))
                ),
                "daily_session_margin_constants",
                "Give both margins or neither; hedged must be positive and below unhedged.",
            ),
            check(Q(expiry__gte=F("date")), "daily_session_expiry_not_past", "Expiry cannot be before the session date."),
            check(Q(excluded_margin__gte=0), "daily_session_excluded_not_negative", "Excluded margin cannot be negative."),
        ]
        indexes = [models.Index(fields=["date", "status"], name="daily_session_date_status")]

    def __str__(self) -> str:
        label = f"{self.account} {self.index_name} {self.date:%Y-%m-%d}"
        return f"{label} (replay {self.replay_name})" if self.is_replay else label


class HedgeTransaction(models.Model):
    """One hedge action (a buy or an exit of whole hedge baskets), written before any of
    its orders leaves. Its legs' orders are HedgeOrder rows."""

    class Action(models.TextChoices):
        BUY = "BUY", "Buy"
        EXIT = "EXIT", "Exit"

    class Origin(models.TextChoices):
        AUTO = "auto", "Automatic"
        MANUAL = "manual", "Manual"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PLACED = "placed", "Placed"
        FILLED = "filled", "Filled"
        PARTIAL = "partial", "Partly filled"
        FAILED = "failed", "Failed"
        PAPER = "paper", "Paper (not sent)"

    session = models.ForeignKey(DailySession, on_delete=models.CASCADE, related_name="transactions")
    idempotency_key = models.CharField(max_length=120, unique=True)
    action = models.CharField(max_length=4, choices=Action.choices)
    origin = models.CharField(max_length=6, choices=Origin.choices, default=Origin.AUTO)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    hedge_baskets = models.PositiveSmallIntegerField()
    reason = models.TextField()
    for_entries = models.JSONField(default=list, blank=True)
    util_before_pct = percent(null=True, blank=True)
    util_projected_pct = percent(null=True, blank=True)
    util_after_pct = percent(null=True, blank=True)
    expected_cost = money(default=Decimal("0"))
    cost = money(default=Decimal("0"), help_text="Premium paid (buy) or received (exit), from the fills.")
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    decided_at = models.DateTimeField(help_text="The tick that decided it.")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True, help_text="Tick to first order on the wire.")

    class Meta:
        db_table = schema_table("hedge_transactions")
        ordering = ["-decided_at", "-id"]
        constraints = [
            check(Q(hedge_baskets__gt=0), "hedge_transactions_baskets_positive", "Hedge baskets must be at least 1."),
            check(Q(cost__gte=0) & Q(expected_cost__gte=0), "hedge_transactions_cost_not_negative", "Cost cannot be negative."),
        ]
        indexes = [models.Index(fields=["session", "decided_at"], name="hedge_tx_session_time")]

    def __str__(self) -> str:
        return f"{self.action} {self.hedge_baskets} @ {self.decided_at:%H:%M:%S} ({self.status})"


class HedgeOrder(models.Model):
    """One leg's order attempt. The tag (OpenAlgo's `strategy`) finds it again in the
    broker's order book after a crash or a timeout. A decision may hold several legs of
    one option type (hedges held at two strikes, sold together): `leg` names each one
    within its transaction, "CE", "PE", then "CE2", "PE2"…"""

    class Side(models.TextChoices):
        BUY = "BUY", "Buy"
        SELL = "SELL", "Sell"

    class Status(models.TextChoices):
        NEW = "new", "New (not sent)"
        SENT = "sent", "Sent, no answer yet"
        LOST = "lost", "Answer lost, not in the order book"
        OPEN = "open", "Open"
        COMPLETE = "complete", "Filled"
        PARTIAL = "partial", "Partly filled"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"
        PAPER = "paper", "Paper (not sent)"

    transaction = models.ForeignKey(HedgeTransaction, on_delete=models.CASCADE, related_name="orders")
    leg = models.CharField(max_length=8, help_text="The leg within its transaction: CE, PE, CE2…")
    option_type = models.CharField(max_length=2, choices=OptionType.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    tag = models.CharField(max_length=60, unique=True)
    symbol = models.CharField(max_length=40)
    exchange = models.CharField(max_length=10)
    strike = price()
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.PositiveIntegerField()
    limit_price = price()
    expected_price = price(help_text="The ask (buy) or bid (sell) the decision was priced at.")
    mbpr = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    runner_up_mbpr = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    broker_order_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.NEW)
    filled_quantity = models.PositiveIntegerField(default=0)
    average_price = price(null=True, blank=True)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = schema_table("hedge_orders")
        ordering = ["transaction_id", "leg", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "leg", "attempt"], name="hedge_orders_unique_attempt"),
            check(Q(quantity__gt=0), "hedge_orders_quantity_positive", "Quantity must be positive."),
            check(Q(limit_price__gt=0), "hedge_orders_price_positive", "Limit price must be positive."),
            check(Q(filled_quantity__lte=F("quantity")), "hedge_orders_fill_within_quantity", "Filled more than ordered."),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.symbol} ({self.status})"


class StrategyExecution(models.Model):
    """A schedule row's life on one session's day: planned, entered, exited."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ENTERED = "entered", "Entered"
        EXITED = "exited", "Exited"
        STOPPED_OUT = "stopped_out", "Stopped out"
        SKIPPED = "skipped", "Skipped"

    session = models.ForeignKey(DailySession, on_delete=models.CASCADE, related_name="executions")
    schedule = models.ForeignKey(StrategySchedule, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=100)
    baskets = models.PositiveSmallIntegerField()
    planned_entry = models.TimeField()
    planned_exit = models.TimeField()
    status = models.CharField(max_length=11, choices=Status.choices, default=Status.SCHEDULED)
    entered_at = models.DateTimeField(null=True, blank=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    margin_before = money(null=True, blank=True)
    margin_after = money(null=True, blank=True)
    util_after_entry_pct = percent(null=True, blank=True)
    confirmed = models.BooleanField(default=False, help_text="Seen in the broker's positions.")

    class Meta:
        db_table = schema_table("strategy_executions")
        ordering = ["session_id", "planned_entry", "name"]
        constraints = [
            models.UniqueConstraint(fields=["session", "name"], name="strategy_executions_unique_name"),
            check(Q(baskets__gt=0), "strategy_executions_baskets_positive", "Baskets must be at least 1."),
            check(Q(planned_exit__gt=F("planned_entry")), "strategy_executions_exit_after_entry", "Exit must follow entry."),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.planned_entry:%H:%M} ({self.status})"


class ActiveHedge(models.Model):
    """A hedge leg held now (or held earlier today, once closed)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        EXPIRED = "expired", "Left to expire"
        GONE = "gone", "Not held at the broker"

    session = models.ForeignKey(DailySession, on_delete=models.CASCADE, related_name="hedges")
    buy_order = models.ForeignKey(HedgeOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    exit_order = models.ForeignKey(HedgeOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    symbol = models.CharField(max_length=40)
    exchange = models.CharField(max_length=10)
    option_type = models.CharField(max_length=2, choices=OptionType.choices)
    strike = price()
    quantity = models.PositiveIntegerField()
    entry_price = price()
    exit_price = price(null=True, blank=True)
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = schema_table("active_hedges")
        ordering = ["session_id", "opened_at", "option_type"]
        constraints = [
            check(Q(quantity__gt=0), "active_hedges_quantity_positive", "Quantity must be positive."),
            check(Q(entry_price__gt=0), "active_hedges_price_positive", "Entry price must be positive."),
        ]

    def __str__(self) -> str:
        return f"{self.symbol} x{self.quantity} ({self.status})"


class MarginSnapshot(models.Model):
    """The margin monitor's minute-by-minute record of one session."""

    session = models.ForeignKey(DailySession, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField()
    broker_used_margin = money(help_text="OpenAlgo funds.utiliseddebits.")
    used_margin = money(help_text="Intraday: broker's minus baseline minus excluded.")
    utilisation_pct = percent()
    open_baskets = models.PositiveSmallIntegerField(default=0)
    hedges_held = models.PositiveSmallIntegerField(default=0)
    positions = models.JSONField(default=dict, blank=True, help_text="Positions split: shorts, hedges, others.")

    class Meta:
        db_table = schema_table("margin_snapshots")
        ordering = ["session_id", "taken_at"]
        indexes = [models.Index(fields=["session", "taken_at"], name="margin_snapshot_session_time")]

    def __str__(self) -> str:
        return f"{self.session_id} {self.taken_at:%H:%M} {self.utilisation_pct}%"


class Alert(models.Model):
    """Every alert, whether it reached Telegram or only the log and the dashboard.
    A non-empty dedupe key makes an alert at most once per session."""

    class Level(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Delivery(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        LOGGED = "logged", "Logged only (no Telegram token)"

    session = models.ForeignKey(DailySession, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=40)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    text = models.TextField()
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField()
    delivery = models.CharField(max_length=7, choices=Delivery.choices, default=Delivery.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_to = models.JSONField(default=list, blank=True, editable=False, help_text="Chats that have it.")

    class Meta:
        db_table = schema_table("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "dedupe_key"], condition=~Q(dedupe_key=""), name="alerts_once_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.level} {self.kind} {self.created_at:%H:%M:%S}"


class Control(models.Model):
    """The global kill switch: one row. Off stops every automatic action of every account."""

    auto_enabled = models.BooleanField("auto-hedge on (all accounts)", default=True)
    changed_at = models.DateTimeField(auto_now=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        db_table = schema_table("control")
        verbose_name = "global switch"

    def __str__(self) -> str:
        return "Auto-hedge on" if self.auto_enabled else "Auto-hedge off (global kill switch)"

    @classmethod
    def get(cls) -> "Control":
        """Read by every tick that decides something: through the hot-path reader."""
        found = fetch(cls, "id = %s", [1])
        return found[0] if found else cls.objects.get_or_create(pk=1)[0]


class Forecast(models.Model):
    """A session's forecast for one day (hedging.services.forecast): the hedge buys the
    schedule will need and what they will cost, made before the open, and the delivery
    of its Telegram message. One per session and day: a retried task reuses it."""

    session = models.ForeignKey(DailySession, on_delete=models.CASCADE, related_name="forecasts")
    day = models.DateField(help_text="The trading day forecast.")
    made_at = models.DateTimeField()
    result = models.JSONField(help_text="The forecast in full: planned buys, entries, timeline, assumptions.")
    hedge_buys = models.PositiveSmallIntegerField(default=0)
    cost = money(help_text="Estimated premium of the planned buys.")
    cost_low = money()
    cost_high = money()
    cap_covers = models.BooleanField(help_text="The daily cap pays for every hedge the day needs.")
    shortfall_from = models.CharField(max_length=100, blank=True, help_text="The first entry the cap cannot hedge.")
    message = models.TextField(help_text="The Telegram message (HTML).")
    delivery = models.CharField(max_length=7, choices=Alert.Delivery.choices, default=Alert.Delivery.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_to = models.JSONField(default=list, blank=True, editable=False, help_text="Chats that have it.")

    class Meta:
        db_table = schema_table("forecasts")
        ordering = ["-made_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "day"], name="forecasts_one_per_session_and_day"),
            check(
                Q(cost_low__gte=0) & Q(cost_low__lte=F("cost")) & Q(cost__lte=F("cost_high")),
                "forecasts_cost_range",
                "The cost range must hold the estimate: 0 ≤ low ≤ cost ≤ high.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} forecast {self.day:%Y-%m-%d}"


class AuditEvent(models.Model):
    """Who did what, when and from where: logins, switches, manual orders and edits of
    schedules, accounts and sessions, from the pages, the API, the admin and the Telegram
    bot (hedging.services.audit). Written, never edited: the admin shows it read-only."""

    class Action(models.TextChoices):
        LOGIN = "login", "login"
        LOGIN_FAILED = "login.failed", "login failed"
        LOGOUT = "logout", "logout"
        GLOBAL_TOGGLE = "global.toggle", "global switch turned"
        GLOBAL_DELETE = "global.delete", "global switch's row deleted"
        SESSION_TOGGLE = "session.toggle", "session auto-hedge turned"
        MANUAL_BUY = "manual.buy", "manual buy"
        MANUAL_EXIT = "manual.exit", "manual exit"
        SCHEDULE_CREATE = "schedule.create", "schedule row added"
        SCHEDULE_UPDATE = "schedule.update", "schedule row changed"
        SCHEDULE_ENABLE = "schedule.enable", "schedule row enabled"
        SCHEDULE_DISABLE = "schedule.disable", "schedule row disabled"
        SCHEDULE_DELETE = "schedule.delete", "schedule row deleted"
        ACCOUNT_CREATE = "account.create", "broker account added"
        ACCOUNT_UPDATE = "account.update", "broker account changed"
        ACCOUNT_ENABLE = "account.enable", "broker account enabled"
        ACCOUNT_DISABLE = "account.disable", "broker account disabled"
        ACCOUNT_DELETE = "account.delete", "broker account deleted"
        SESSION_CREATE = "session.create", "session created"
        SESSION_UPDATE = "session.update", "session changed"
        SESSION_DELETE = "session.delete", "session deleted"
        TOKEN_CREATE = "token.create", "API token made"
        TOKEN_REPLACE = "token.replace", "API token replaced"
        TOKEN_REVOKE = "token.revoke", "API token revoked"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.CharField(max_length=150, help_text="The username (as typed, for a failed login), or the Telegram chat.")
    address = models.GenericIPAddressField(null=True, blank=True, help_text="The client's, as the login lockout sees it.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    object_repr = models.CharField("object", max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True, help_text="The changed fields' values before.")
    after = models.JSONField(null=True, blank=True, help_text="The changed fields' values after.")

    class Meta:
        db_table = schema_table("audit_events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_events_object")]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_repr}".rstrip()
