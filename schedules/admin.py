from django.contrib import admin

from hedging.admin import AuditedAdmin
from schedules.forms import StrategyScheduleForm
from schedules.models import StrategySchedule


@admin.register(StrategySchedule)
class StrategyScheduleAdmin(AuditedAdmin):
    form = StrategyScheduleForm
    list_display = ["name", "account", "index_name", "entry_time", "exit_time", "baskets", "weekday_names", "enabled"]
    list_filter = ["index_name", "enabled", "account"]
    list_editable = ["enabled"]
    search_fields = ["name", "notes"]
    ordering = ["account", "index_name", "entry_time"]
