from decimal import Decimal

from django.db import migrations

# The plan's table: margin of one basket without (Mu) and with (Mh) a hedge basket.
PLAN_CONSTANTS = [
    ("SENSEX", 0, Decimal("367000"), Decimal("160000")),
    ("NIFTY", 0, Decimal("433000"), Decimal("187000")),
    ("NIFTY", 1, Decimal("320000"), Decimal("140000")),
    ("NIFTY", 2, Decimal("320000"), Decimal("140000")),
]

# Per-minute beat entries. They expire within the minute, so ticks missed while the
# workers were down are dropped rather than replayed as a burst of orders.
BEAT_TASKS = [
    ("Auto-hedge lookahead (every minute)", "hedging.lookahead_all"),
    ("Margin snapshot (every minute)", "hedging.snapshot_all"),
]


def seed(apps, schema_editor):
    MarginConstant = apps.get_model("hedging", "MarginConstant")
    for index_name, dte, unhedged, hedged in PLAN_CONSTANTS:
        MarginConstant.objects.update_or_create(
            index_name=index_name, dte=dte, defaults={"unhedged": unhedged, "hedged": hedged}
        )

    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Kolkata"
    )
    for name, task in BEAT_TASKS:
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": every_minute, "expire_seconds": 50, "enabled": True}
        )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, _ in BEAT_TASKS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("hedging", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
