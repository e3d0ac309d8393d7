"""The minute's fan-out: sessions ticked in batches, each noted, a failure kept to its own
session, the batch's broker reads on the wire together; a glance without the lock for a
session with nothing to do, the locked tick for one with something."""

import json
import threading
from datetime import time
from decimal import Decimal

import pytest

from hedging import tasks
from hedging.core.clock import IST, at
from hedging.models import Alert, DailySession
from hedging.services import orchestrator, scheduler
from tests.api.fixtures import SIM_KEY_ENV, make_tx
from tests.factories import BrokerAccountFactory, DailySessionFactory, StrategyScheduleFactory
from tests.fixtures.rowlock import held_by_another_tick
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


def glance_rows(session, ports) -> orchestrator.Rows:
    return orchestrator.glance_rows([session], {session.pk: ports.broker}, ports.clock.now())[session.pk]


def test_a_batch_has_its_sessions_broker_reads_on_the_wire_at_once(trading_day, other_sessions, simbroker, celery_eager):
    """From a real OpenAlgo each read takes tens of milliseconds: one after another,
    a thousand accounts' would not fit in the minute's seconds."""
    trading_day.budget = Decimal(5000000)  # nothing to do: each session's funds are read once, by its glance
    trading_day.save(update_fields=["budget"])
    for session in other_sessions:  # past the day's first reading, P2 ahead
        StrategyScheduleFactory(account=session.account, name="P2", entry_time=time(10, 0), exit_time=time(15, 15))
        session.baseline_margin, session.freeze_qty = Decimal(0), 1800
        session.save(update_fields=["baseline_margin", "freeze_qty"])
        scheduler.ensure_executions(session)
    answered_together(simbroker, {"funds": 3})

    assert tasks.lookahead_batch([s.pk for s in (trading_day, *other_sessions)]) == 3

    notes = sorted(DailySession.objects.values_list("last_tick_note", flat=True))
    nothing = "no entry in the next 5 min needs a hedge"
    assert notes == ["auto-hedge off for this session", nothing, nothing]


def test_a_glance_asks_for_its_hedges_bids_beside_its_funds(trading_day, simbroker, celery_eager):
    """Under the exit trigger the held legs' bids decide whether to sell them."""
    assert tasks.lookahead_batch([trading_day.pk]) == 1  # the hedge for P2, bought
    trading_day.budget = Decimal(5000000)  # utilisation far under the exit trigger
    trading_day.save(update_fields=["budget"])
    simbroker.clock.set(at(SIM_DAY, time(9, 57)))
    together = answered_together(simbroker, {"funds": 1, "multiquotes": 1})

    assert tasks.lookahead_batch([trading_day.pk]) == 1

    trading_day.refresh_from_db()
    assert not together.broken and not trading_day.last_tick_note.startswith("broker unreachable")


def test_a_glance_asks_for_the_spot_beside_the_margin_when_its_baskets_near_the_budget(
    trading_day, simbroker, celery_eager
):
    """P2 would take the budget past the entry trigger: the index spot a buy's strikes are
    chosen from is asked for with the minute's funds and positions, not a round trip
    after them (each broker answer held until the three have come)."""
    together = answered_together(simbroker, {"funds": 1, "positionbook": 1, "quotes": 1})

    assert tasks.lookahead_batch([trading_day.pk]) == 1

    assert not together.broken and trading_day.transactions.get().status == "filled"


def test_a_session_far_under_its_budget_is_not_asked_for_the_spot(trading_day, simbroker, celery_eager):
    trading_day.budget = Decimal(5000000)  # its baskets, all unhedged, use a fraction of it
    trading_day.save(update_fields=["budget"])
    spots = index_quotes(simbroker)

    assert tasks.lookahead_batch([trading_day.pk]) == 1

    trading_day.refresh_from_db()
    assert spots == [] and trading_day.last_tick_note == "no entry in the next 5 min needs a hedge"


def test_a_buy_the_guess_missed_reads_the_spot_itself(trading_day, simbroker, celery_eager, monkeypatch):
    """The guess is for speed: a buy due where it said none still chooses from the spot."""
    monkeypatch.setattr(orchestrator, "SPOT_AHEAD_CUSHION", Decimal(-1000))
    spots = index_quotes(simbroker)

    assert tasks.lookahead_batch([trading_day.pk]) == 1

    assert spots == ["NIFTY"] and trading_day.transactions.get().status == "filled"


def index_quotes(sim) -> list[str]:
    """The index spots the broker is asked for, as they are asked."""
    asked: list[str] = []
    handle = sim.handle

    def recording(endpoint, body, *args, **kwargs):
        fields = json.loads(body) if isinstance(body, (bytes, str)) else body
        if endpoint == "quotes" and fields.get("exchange") == "NSE_INDEX":
            asked.append(fields["symbol"])
        return handle(endpoint, body, *args, **kwargs)

    sim.handle = recording
    return asked


def answered_together(sim, first_calls: dict[str, int]) -> threading.Barrier:
    """The first `n` calls of each endpoint named are answered only once all of them have
    come (5 s at most: then each fails, as a broken broker would)."""
    together = threading.Barrier(sum(first_calls.values()), timeout=5)
    waiting = dict(first_calls)
    lock = threading.Lock()
    handle = sim.handle

    def held(endpoint, body, *args, **kwargs):
        with lock:
            wait = waiting.get(endpoint, 0) > 0
            if wait:
                waiting[endpoint] -= 1
        if wait:
            together.wait()
        return handle(endpoint, body, *args, **kwargs)

    sim.handle = held
    return together


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the other connection must see the rows
def test_a_session_with_nothing_to_do_is_ticked_without_its_lock(trading_day, sim_ports):
    trading_day.budget = Decimal(5000000)  # P2 stays far under the trigger
    trading_day.save(update_fields=["budget"])
    rows = glance_rows(trading_day, sim_ports)

    with held_by_another_tick(trading_day):
        outcome = orchestrator.tick(trading_day.pk, sim_ports, glanced=(trading_day, rows))

    assert outcome.note == "no entry in the next 5 min needs a hedge" and outcome.at.astimezone(IST).time() == time(9, 56)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_session_that_needs_a_hedge_is_never_decided_for_without_its_lock(trading_day, sim_ports):
    rows = glance_rows(trading_day, sim_ports)

    with held_by_another_tick(trading_day):
        outcome = orchestrator.tick(trading_day.pk, sim_ports, glanced=(trading_day, rows))

    assert outcome.note == orchestrator.BUSY
    assert not trading_day.transactions.exists()
    assert not [order for order in sim_ports.broker.orderbook().orders if order.action == "BUY"]  # only P1's sells


def test_a_glance_on_rows_gone_stale_leaves_the_decision_to_the_locked_tick(trading_day, sim_ports):
    rows = glance_rows(trading_day, sim_ports)  # read before another tick's buy
    bought = make_tx(trading_day, time(9, 55), status="placed")

    outcome = orchestrator.tick(trading_day.pk, sim_ports, glanced=(trading_day, rows))

    assert outcome.note == f"transaction {bought.pk} in flight"  # settled now, and no second buy
    assert list(trading_day.transactions.values_list("pk", "status")) == [(bought.pk, "filled")]


def test_a_broker_outage_is_read_once_a_tick_and_alerted_once(trading_day, simbroker, celery_eager):
    simbroker.faults.inject("funds", "error_500", count=100)

    assert tasks.lookahead_batch([trading_day.pk]) == 1

    reads = 100 - sum(fault.count for fault in simbroker.faults.pending())
    assert reads == 3  # the client's three tries, not taken again under the lock
    trading_day.refresh_from_db()
    assert trading_day.last_tick_note.startswith("broker unreachable")
    assert Alert.objects.filter(session=trading_day, kind="broker_unreachable").count() == 1


def test_the_minutes_snapshots_wait_half_a_minute_for_its_lookahead(trading_day, other_sessions, monkeypatch):
    """Both fire in the same second: a snapshot holding a session's lock would make the
    lookahead skip it, and its hedge wait a minute."""
    queued = []
    monkeypatch.setattr(tasks.snapshot, "apply_async", lambda args, **options: queued.append((args, options)))

    assert tasks.snapshot_all() == 3

    assert sorted(args[0] for args, _ in queued) == sorted(s.pk for s in (trading_day, *other_sessions))
    for _, options in queued:
        assert options["countdown"] == 30 and options["expires"] == 55  # taken at :30, dropped if not by :55
