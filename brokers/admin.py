from django.contrib import admin
from django.db import models

from brokers.models import BrokerAccount
from hedging.admin import AuditedAdmin


@admin.register(BrokerAccount)
class BrokerAccountAdmin(AuditedAdmin):
    list_display = ["name", "host", "api_key_env", "product", "mode", "enabled"]
    list_filter = ["mode", "enabled", "product"]
    search_fields = ["name"]
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}  # OpenAlgo usually runs on plain http locally
