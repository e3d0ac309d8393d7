"""The minute's fan-out: sessions ticked in batches, each noted, a failure kept to its own
session."""

from datetime import time

import pytest

from hedging import tasks
from hedging.core.clock import IST
from hedging.models import DailySession
from hedging.services import orchestrator
from tests.api.fixtures import SIM_KEY_ENV
from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_sessions(trading_day):
    """Two more accounts on the same broker: one paused, one whose tick breaks."""
    def session(**fields):
        account = BrokerAccountFactory(host=trading_day.account.host, mode="live", api_key_env=SIM_KEY_ENV)
        return DailySessionFactory(account=account, date=SIM_DAY, expiry=SIM_DAY, **fields)

    return session(auto_enabled=False), session()


def test_a_batch_ticks_each_session_and_one_failure_stops_only_its_own(
    trading_day, other_sessions, celery_eager, monkeypatch, caplog
):
    paused, broken = other_sessions
    real_tick = orchestrator.tick

    def tick(session_id, *args, **kwargs):
        if session_id == broken.pk:
            raise RuntimeError("a bug in this session's tick")
        return real_tick(session_id, *args, **kwargs)

    monkeypatch.setattr(orchestrator, "tick", tick)

    assert tasks.lookahead_batch([broken.pk, trading_day.pk, paused.pk]) == 2

    for session in (trading_day, paused, broken):
        session.refresh_from_db()
    assert trading_day.transactions.get().status == "filled"  # the hedge before P2, bought
    assert trading_day.last_tick_note.startswith("P2 at 10:00: projected")
    assert trading_day.last_tick_at.astimezone(IST).time() == time(9, 56)
    assert paused.last_tick_note == "auto-hedge off for this session"
    assert broken.last_tick_at is None and not broken.transactions.exists()
    assert f"lookahead of session {broken.pk} failed" in caplog.text


def test_the_minute_sends_sessions_out_in_batches_of_the_configured_size(
    trading_day, other_sessions, celery_eager, monkeypatch, settings
):
    settings.AUTOHEDGE_TICK_BATCH = 2
    sent = []
    send = tasks.lookahead_batch.apply_async

    def record(args, **options):
        sent.append(args[0])
        return send(args, **options)

    monkeypatch.setattr(tasks.lookahead_batch, "apply_async", record)

    assert tasks.lookahead_all() == 3
    assert [len(batch) for batch in sent] == [2, 1]
    assert sorted(pk for batch in sent for pk in batch) == sorted(s.pk for s in (trading_day, *other_sessions))
    assert DailySession.objects.filter(last_tick_at__isnull=True).count() == 0
