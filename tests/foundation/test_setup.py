from decimal import Decimal

import pytest
from django.db import connection
from django_celery_beat.models import PeriodicTask

from hedging.models import MarginConstant

pytestmark = pytest.mark.django_db


def test_plan_margin_constants_are_seeded():
    rows = {(c.index_name, c.dte): (c.unhedged, c.hedged) for c in MarginConstant.objects.all()}
    assert rows == {
        ("SENSEX", 0): (Decimal("367000"), Decimal("160000")),
        ("NIFTY", 0): (Decimal("433000"), Decimal("187000")),
        ("NIFTY", 1): (Decimal("320000"), Decimal("140000")),
        ("NIFTY", 2): (Decimal("320000"), Decimal("140000")),
    }


def test_the_five_plan_tables_live_in_the_auto_hedge_schema():
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'auto_hedge'")
        tables = {row[0] for row in cursor.fetchall()}
    assert {"strategy_schedule", "daily_session", "hedge_transactions", "strategy_executions", "active_hedges"} <= tables


def test_beat_fires_lookahead_and_snapshot_every_minute_and_drops_backlog():
    tasks = {t.task: t for t in PeriodicTask.objects.filter(enabled=True)}
    for name in ("hedging.lookahead_all", "hedging.snapshot_all"):
        entry = tasks[name]
        assert entry.crontab.minute == "*"
        assert 0 < entry.expire_seconds < 60
