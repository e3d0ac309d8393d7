from django.db import migrations, models

NAME = "Alerts whose delivery was lost (every minute)"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = CrontabSchedule.objects.get_or_create(
        minute="*", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Kolkata"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={"task": "hedging.redeliver_alerts", "crontab": every_minute, "expire_seconds": 50, "enabled": True},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("hedging", "0005_last_tick")]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="delivered_to",
            field=models.JSONField(blank=True, default=list, editable=False, help_text="Chats that have it."),
        ),
        migrations.AddField(
            model_name="forecast",
            name="delivered_to",
            field=models.JSONField(blank=True, default=list, editable=False, help_text="Chats that have it."),
        ),
        migrations.RunPython(create, remove),
    ]
