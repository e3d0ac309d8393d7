from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.text import Truncator
from django_celery_beat import models as beat

from hedging import models
from hedging.services import audit, sessions

# Celery beat's tables hold the per-minute lookahead, the snapshots and the 09:05 forecast,
# written by migrations: a row changed or deleted in a browser stops the hedging, for a
# superuser as much as for a trader. Not in the admin; changed by migration.
admin.site.unregister([beat.PeriodicTask, beat.IntervalSchedule, beat.CrontabSchedule, beat.SolarSchedule, beat.ClockedSchedule])


class AuditedAdmin(admin.ModelAdmin):
    """Each row added, changed (the list's editable column too) or deleted here goes to
    the audit trail with the fields that changed."""

    def save_model(self, request, obj, form, change):
        before = audit.snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.saved(audit.by(request), obj, before)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.deleted(audit.by(request), obj, audit.snapshot(obj))  # before the delete forgets the row's id
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit.deleted(audit.by(request), obj, audit.snapshot(obj))
            super().delete_queryset(request, queryset)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ExecutionInline(ReadOnlyInline):
    model = models.StrategyExecution
    fields = ["name", "baskets", "planned_entry", "planned_exit", "status", "entered_at", "util_after_entry_pct"]


class HedgeOrderInline(ReadOnlyInline):
    model = models.HedgeOrder
    fields = ["leg", "attempt", "side", "symbol", "quantity", "limit_price", "status", "average_price", "broker_order_id"]


class DailySessionForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        fields = ("index_name", "date", "expiry", "margin_unhedged", "margin_hedged")
        sessions.known_margin(models.DailySession(**{name: data.get(name) for name in fields}))
        return data


@admin.register(models.DailySession)
class DailySessionAdmin(AuditedAdmin):
    form = DailySessionForm
    list_display = ["date", "account", "index_name", "expiry", "num_baskets", "budget", "auto_enabled", "status", "is_replay"]
    list_filter = ["date", "index_name", "status", "auto_enabled", "is_replay", "account"]
    search_fields = ["account__name", "replay_name"]
    date_hierarchy = "date"
    readonly_fields = ["baseline_margin", "baseline_captured_at", "created_at"]
    inlines = [ExecutionInline]
    fieldsets = [
        (None, {"fields": ["account", "date", "index_name", "expiry", "status", "auto_enabled"]}),
        ("Size and budget", {"fields": ["num_baskets", "lots_per_basket", "lot_size", "budget", "excluded_margin"]}),
        (
            "Thresholds and limits",
            {
                "fields": [
                    "entry_trigger_pct", "entry_target_pct", "exit_trigger_pct", "lookahead_minutes",
                    "max_hedge_cost_per_day", "cooldown_seconds", "exit_buffer_minutes",
                ]
            },
        ),
        (
            "Strikes and orders",
            {
                "fields": [
                    "min_premium", "max_premium", "min_otm_distance", "max_otm_distance",
                    "min_exit_premium", "price_protection_pct", "order_retries",
                ]
            },
        ),
        ("Margin model", {"fields": ["margin_model", "margin_unhedged", "margin_hedged"]}),
        ("Baseline", {"fields": ["baseline_margin", "baseline_captured_at", "created_at"]}),
        ("Replay", {"fields": ["is_replay", "replay_name"], "classes": ["collapse"]}),
    ]


@admin.register(models.HedgeTransaction)
class HedgeTransactionAdmin(admin.ModelAdmin):
    list_display = ["decided_at", "session", "action", "origin", "hedge_baskets", "status", "cost", "latency_ms"]
    list_filter = ["decided_at", "action", "origin", "status", "session__index_name"]
    search_fields = ["reason", "idempotency_key", "session__account__name"]
    date_hierarchy = "decided_at"
    readonly_fields = [f.name for f in models.HedgeTransaction._meta.fields]
    inlines = [HedgeOrderInline]

    def has_add_permission(self, request):
        return False  # hedges are bought through the executor, never typed in


@admin.register(models.HedgeOrder)
class HedgeOrderAdmin(admin.ModelAdmin):
    list_display = ["tag", "side", "symbol", "quantity", "limit_price", "status", "average_price", "sent_at"]
    list_filter = ["status", "side", "option_type"]
    search_fields = ["tag", "symbol", "broker_order_id"]
    readonly_fields = [f.name for f in models.HedgeOrder._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(models.StrategyExecution)
class StrategyExecutionAdmin(admin.ModelAdmin):
    list_display = ["name", "session", "baskets", "planned_entry", "status", "entered_at", "util_after_entry_pct", "confirmed"]
    list_filter = ["status", "session__date", "session__index_name"]
    search_fields = ["name"]


@admin.register(models.ActiveHedge)
class ActiveHedgeAdmin(admin.ModelAdmin):
    list_display = ["symbol", "session", "option_type", "strike", "quantity", "entry_price", "status", "opened_at"]
    list_filter = ["status", "option_type", "session__date", "session__index_name"]
    search_fields = ["symbol"]


@admin.register(models.MarginConstant)
class MarginConstantAdmin(admin.ModelAdmin):
    list_display = ["index_name", "dte", "unhedged", "hedged"]
    list_filter = ["index_name"]


@admin.register(models.ExchangeHoliday)
class ExchangeHolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "exchange", "description"]
    list_filter = ["exchange", "date"]
    search_fields = ["description"]


@admin.register(models.MarginSnapshot)
class MarginSnapshotAdmin(admin.ModelAdmin):
    list_display = ["taken_at", "session", "used_margin", "utilisation_pct", "open_baskets", "hedges_held"]
    list_filter = ["taken_at", "session__index_name"]


@admin.register(models.Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "session", "level", "kind", "delivery", "attempts"]
    list_filter = ["level", "kind", "delivery", "created_at"]
    search_fields = ["text"]


@admin.register(models.Control)
class ControlAdmin(AuditedAdmin):
    list_display = ["__str__", "changed_at", "changed_by"]
    readonly_fields = ["changed_at", "changed_by"]

    def has_add_permission(self, request):
        return not models.Control.objects.exists()

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(models.Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = ["day", "session", "made_at", "hedge_buys", "cost", "cap_covers", "shortfall_from", "delivery"]
    list_filter = ["day", "cap_covers", "delivery"]
    search_fields = ["session__account__name", "shortfall_from"]
    readonly_fields = [f.name for f in models.Forecast._meta.fields]

    def has_add_permission(self, request):
        return False  # made by the forecast task, never typed in


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The trail as it was written: nobody adds, changes or deletes a row here, a
    superuser neither."""

    list_display = ["at", "actor", "address", "action", "object_type", "object_repr", "changes"]
    list_filter = ["action", "user"]
    search_fields = ["object_repr", "object_type", "actor"]
    date_hierarchy = "at"
    fields = readonly_fields = (
        "at", "user", "actor", "address", "action", "object_type", "object_id", "object_repr", "before", "after"
    )

    @admin.display(description="changes")
    def changes(self, event: models.AuditEvent) -> str:
        before, after = event.before or {}, event.after or {}
        text = "; ".join(f"{name}: {before.get(name, '—')} → {after.get(name, '—')}" for name in {**before, **after})
        return Truncator(text).chars(160)  # a created session has thirty fields: the row's page shows them all

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
