"""The global switch's one row exists from the start: made on first read inside a
long transaction (a replayed day, rolled back), every other reader waited on its
uniqueness check until that transaction ended."""

from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("hedging", "Control").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("hedging", "0011_sandbox")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
