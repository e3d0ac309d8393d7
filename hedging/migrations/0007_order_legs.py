"""A transaction may hold several legs of one option type: the leg becomes a name within
the transaction ("CE", "CE2"…) and the option type a field of its own."""

from django.db import migrations, models
from django.db.models import F


def copy_option_type(apps, schema_editor):
    apps.get_model("hedging", "HedgeOrder").objects.update(option_type=F("leg"))


class Migration(migrations.Migration):
    dependencies = [("hedging", "0006_alert_delivery")]

    operations = [
        migrations.AddField(
            model_name="hedgeorder",
            name="option_type",
            field=models.CharField(choices=[("CE", "Call (CE)"), ("PE", "Put (PE)")], default="CE", max_length=2),
            preserve_default=False,
        ),
        migrations.RunPython(copy_option_type, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="hedgeorder",
            name="leg",
            field=models.CharField(help_text="The leg within its transaction: CE, PE, CE2…", max_length=8),
        ),
    ]
