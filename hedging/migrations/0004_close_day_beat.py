from django.db import migrations

NAME = "Daily summary and close (after the market)"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    after_close, _ = CrontabSchedule.objects.get_or_create(
        minute="35", hour="15", day_of_week="1-5", day_of_month="*", month_of_year="*", timezone="Asia/Kolkata"
    )
    PeriodicTask.objects.update_or_create(
        name=NAME, defaults={"task": "hedging.close_day_all", "crontab": after_close, "expire_seconds": 3600, "enabled": True}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("hedging", "0003_forecast")]

    operations = [migrations.RunPython(create, remove)]
