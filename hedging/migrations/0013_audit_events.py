"""Who did what: the audit trail (hedging.services.audit)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from config.dbschema import schema_table


class Migration(migrations.Migration):

    dependencies = [
        ('hedging', '0012_control_row'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('actor', models.CharField(help_text='The username (as typed, for a failed login), or the Telegram chat.', max_length=150)),
                ('address', models.GenericIPAddressField(blank=True, help_text="The client's, as the login lockout sees it.", null=True)),
                ('action', models.CharField(choices=[('login', 'login'), ('login.failed', 'login failed'), ('logout', 'logout'), ('global.toggle', 'global switch turned'), ('global.delete', "global switch's row deleted"), ('session.toggle', 'session auto-hedge turned'), ('manual.buy', 'manual buy'), ('manual.exit', 'manual exit'), ('schedule.create', 'schedule row added'), ('schedule.update', 'schedule row changed'), ('schedule.enable', 'schedule row enabled'), ('schedule.disable', 'schedule row disabled'), ('schedule.delete', 'schedule row deleted'), ('account.create', 'broker account added'), ('account.update', 'broker account changed'), ('account.enable', 'broker account enabled'), ('account.disable', 'broker account disabled'), ('account.delete', 'broker account deleted'), ('session.create', 'session created'), ('session.update', 'session changed'), ('session.delete', 'session deleted')], max_length=20)),
                ('object_type', models.CharField(blank=True, max_length=50)),
                ('object_id', models.PositiveBigIntegerField(blank=True, null=True)),
                ('object_repr', models.CharField(blank=True, max_length=200, verbose_name='object')),
                ('before', models.JSONField(blank=True, help_text="The changed fields' values before.", null=True)),
                ('after', models.JSONField(blank=True, help_text="The changed fields' values after.", null=True)),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': schema_table('audit_events'),
                'ordering': ['-at', '-id'],
                'indexes': [models.Index(fields=['object_type', 'object_id'], name='audit_events_object')],
            },
        ),
    ]
