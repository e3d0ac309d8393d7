"""The services on their edge cases, against the simulated broker in-process (the same
request path as over HTTP), with a stepped clock. Each test counts the orders the
broker itself received."""

import uuid
from dataclasses import dataclass
from functools import partial
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from brokers.openalgo import InProcessTransport, OpenAlgoClient
from brokers.simbroker.broker import SimBroker
from brokers.simbroker.scenario import MarginPerBasket, build_simbroker, load_scenario
from hedging.core.clock import SteppedClock, at
from hedging import tasks
from hedging.core.decide import ActionRefused
from hedging.models import ActiveHedge, Alert, Control, DailySession, ExchangeHoliday, HedgeTransaction
from hedging.services import executor, orchestrator, sessions
from hedging.ports import SETTLE, WATCH, Ports
from schedules.models import StrategySchedule
from tests.engine.test_replay_samples import SCENARIOS
from tests.factories import BrokerAccountFactory, DailySessionFactory, StaffFactory

pytestmark = pytest.mark.django_db
NIFTY_0DTE = MarginPerBasket(Decimal("433000"), Decimal("187000"))


@dataclass
class World:
    sim: SimBroker
    clock: SteppedClock
    ports: Ports
    session: DailySession

    def at(self, hhmm: str) -> datetime:
        moment = at(self.session.date, time.fromisoformat(hhmm))
        self.clock.set(moment)
        return moment

    def tick(self, hhmm: str | None = None) -> orchestrator.TickOutcome:
        if hhmm:
            self.at(hhmm)
        return orchestrator.tick(self.session.pk, self.ports)

    def our_orders(self):
        return [o for o in self.sim.order_log if o.strategy.startswith("autohedge")]

    def transactions(self):
        return list(HedgeTransaction.objects.filter(session=self.session).order_by("decided_at"))


def make_world(name: str = "one-entry-breach") -> World:
    scenario = load_scenario(SCENARIOS / f"{name}.json")
    clock = SteppedClock(at(scenario.date, time(9, 15)))
    sim = build_simbroker(scenario, clock, margin_per_basket=NIFTY_0DTE, api_key="k")
    broker = OpenAlgoClient(f"inprocess://{uuid.uuid4().hex}", "k", transport=InProcessTransport(sim.handle), rate_limit=False)
    account = BrokerAccountFactory(mode="live")
    for row in scenario.schedule:
        StrategySchedule.objects.create(account=account, index_name="NIFTY", name=row.name, entry_time=row.entry,
                                        exit_time=row.exit, baskets=row.baskets)
    session = DailySessionFactory(account=account, date=scenario.date, expiry=scenario.expiry, lot_size=65,
                                  num_baskets=1, budget=scenario.budget, baseline_margin=Decimal(0))
    ports = Ports(clock=clock, broker=broker, paper=False, sleep=lambda seconds: None, fill_polls=2)
    return World(sim, clock, ports, session)


@pytest.fixture
def world() -> World:
    return make_world()


def test_buy_before_the_entry_then_nothing_more(world):
    world.tick("09:39")
    assert not world.transactions()
    outcome = world.tick("09:40")
    (tx,) = world.transactions()
    assert outcome.transaction_id == tx.pk and tx.status == "filled" and tx.hedge_baskets == 1
    assert sorted(o.symbol[-2:] for o in world.our_orders()) == ["CE", "PE"]
    assert ActiveHedge.objects.filter(session=world.session, status="open").count() == 2
    assert tx.cost == sum(o.average_price * o.filled_quantity for o in tx.orders.all())
    for minute in ("09:41", "09:44", "09:45", "09:50"):
        world.tick(minute)
    assert len(world.transactions()) == 1 and len(world.our_orders()) == 2


def test_a_duplicated_tick_and_a_repeated_execution_place_nothing_twice(world):
    world.tick("09:40")
    world.tick("09:40")  # the same minute delivered again
    (tx,) = world.transactions()
    executor.execute(tx.pk, world.ports)
    HedgeTransaction.objects.filter(pk=tx.pk).update(status="placed")  # as if the worker died before settling
    executor.execute(tx.pk, world.ports)
    assert len(world.our_orders()) == 2


def test_placement_timeout_is_looked_up_not_sent_again(world):
    world.sim.faults.inject("placeorder", "timeout", seconds=0)
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "filled"
    assert len(world.our_orders()) == 2
    assert any("lost" in o.error or "timed out" in o.error.lower() for o in tx.orders.all())


def test_an_order_whose_answer_was_lost_is_never_sent_again(world):
    """Not in the book, it may still be placed late: it is looked for through the watch,
    the trader told at once, then given up (the leg unfilled), and never sent twice."""
    world.sim.faults.inject("placeorder", "timeout", seconds=0, placed=False)
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "placed" and len(world.our_orders()) == 1  # one leg in doubt
    (unknown,) = Alert.objects.filter(session=world.session, kind="order_unknown")
    assert unknown.level == "critical" and "is not sent again" in unknown.text and "09:42:00" in unknown.text
    outcome = world.tick("09:40:05")
    assert "in flight" in outcome.note and len(world.transactions()) == 1
    world.clock.advance(SETTLE.total_seconds())
    executor.execute(tx.pk, world.ports)
    assert len(world.our_orders()) == 1 and HedgeTransaction.objects.get(pk=tx.pk).status == "placed"
    world.clock.advance(WATCH.total_seconds())
    tx = executor.execute(tx.pk, world.ports)
    assert tx.status == "partial" and len(world.our_orders()) == 1
    assert Alert.objects.get(session=world.session, kind="order_failed").level == "critical"


def test_a_rejected_leg_is_alerted_not_retried(world):
    world.sim.faults.inject("placeorder", "reject", reason="margin shortfall")
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "partial"
    assert len(world.our_orders()) == 2  # one rejected, one filled; nothing re-sent
    alert = Alert.objects.get(session=world.session, kind="order_failed")
    assert alert.level == "critical" and "margin shortfall" in alert.text


def test_an_unfilled_leg_is_cancelled_and_placed_again_at_the_new_price(world):
    world.sim.faults.inject("placeorder", "no_fill")
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "filled"
    attempts = {o.leg: o.attempt for o in tx.orders.all() if o.status == "complete"}
    assert sorted(attempts.values()) == [1, 2]
    assert len(world.our_orders()) == 3
    assert sum(o.filled_quantity for o in tx.orders.all()) == 130  # exactly what was wanted


def test_a_tick_leaves_fills_still_to_come_to_the_buy_task(world, monkeypatch):
    """The minute's batch goes on to its next session: it never waits out this one's fills."""
    world.sim.faults.inject("placeorder", "no_fill")
    slept, queued = [], []
    world.ports.sleep = slept.append
    world.ports.dispatch = partial(tasks.execute_here, world.ports, world.session)
    monkeypatch.setattr(tasks.execute_hedge, "apply_async", lambda args, countdown: queued.append((args, countdown)))

    world.tick("09:40")

    (tx,) = world.transactions()
    assert tx.status == "pending" and not slept
    assert sorted(tx.orders.values_list("leg", "status")) == [("CE", "open"), ("PE", "complete")]
    assert queued == [((tx.pk,), world.ports.poll_interval)]
    # The buy task waits for the fill, then re-prices the open leg, as the tick would have.
    assert executor.execute(tx.pk, world.ports).status == "filled"
    assert len(world.our_orders()) == 3 and slept


def test_a_partial_fill_is_completed_without_overbuying():
    world = make_world("spare-hedges-reused")
    world.sim.faults.inject("placeorder", "partial_fill", fraction=0.5)
    world.tick("09:45")
    (tx,) = world.transactions()
    assert tx.status == "filled" and tx.hedge_baskets == 2
    for leg in ("CE", "PE"):
        assert sum(o.filled_quantity for o in tx.orders.filter(leg=leg)) == 130


def test_semi_auto_answer_is_not_an_order(world):
    world.sim.faults.inject("placeorder", "semi_auto")
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "partial"
    assert "approval" in tx.error
    assert Alert.objects.filter(session=world.session, kind="order_failed").exists()


def test_broker_down_is_alerted_and_nothing_decided(world):
    world.sim.faults.inject("funds", "error_500", count=5)
    outcome = world.tick("09:40")
    assert "unreachable" in outcome.note
    assert Alert.objects.filter(session=world.session, kind="broker_unreachable", level="critical").exists()
    assert not world.transactions()


def test_market_closed_and_holiday(world):
    assert world.tick("15:45").note == "market closed"
    ExchangeHoliday.objects.create(exchange="NSE", date=world.session.date, description="test holiday")
    assert world.tick("09:40").note == "market closed"
    assert not world.our_orders()


def test_kill_switches_stop_automatic_buys(world):
    DailySession.objects.filter(pk=world.session.pk).update(auto_enabled=False)
    world.tick("09:40")
    DailySession.objects.filter(pk=world.session.pk).update(auto_enabled=True)
    Control.objects.update_or_create(pk=1, defaults={"auto_enabled": False})
    world.tick("09:41")
    assert not world.transactions() and not world.our_orders()
    Control.objects.filter(pk=1).update(auto_enabled=True)
    world.tick("09:42")
    assert len(world.transactions()) == 1


def test_manual_buy_uses_the_same_executor_and_records_who(world):
    user = StaffFactory()
    world.tick("09:30")
    tx = orchestrator.manual(world.session.pk, "BUY", 1, user, world.ports, client_key="abc")
    assert tx.origin == "manual" and tx.requested_by == user and tx.status == "filled"
    again = orchestrator.manual(world.session.pk, "BUY", 1, user, world.ports, client_key="abc")
    assert again.pk == tx.pk and len(world.our_orders()) == 2
    world.at("09:31")
    with pytest.raises(ActionRefused, match="cooldown"):
        orchestrator.manual(world.session.pk, "BUY", 1, user, world.ports)
    world.at("09:33")
    with pytest.raises(ActionRefused) as refused:
        orchestrator.manual(world.session.pk, "EXIT", 5, user, world.ports)
    assert refused.value.field == "hedge_baskets"
    assert len(world.our_orders()) == 2


def test_stopped_out_strategy_frees_its_hedges():
    world = make_world("spare-hedges-reused")
    world.tick("09:45")
    for minute in ("12:29", "12:30", "12:31"):
        world.tick(minute)
    statuses = dict(world.session.executions.values_list("name", "status"))
    assert statuses["P2"] == "stopped_out" and statuses["P1"] == "entered"
    world.tick("13:00")
    world.tick("13:05")
    assert [tx.action for tx in world.transactions()] in (["BUY"], ["BUY", "EXIT"])  # P3 needs no new buy


def test_unknown_index_and_dte_is_refused(world):
    DailySession.objects.filter(pk=world.session.pk).update(expiry=world.session.date + timedelta(days=7))
    outcome = world.tick("09:40")
    assert "No margin constants for NIFTY at 5 DTE" in outcome.note
    assert Alert.objects.filter(session=world.session, kind="no_margin_constants").count() == 1
    session = DailySessionFactory.build(account=BrokerAccountFactory(), expiry=world.session.date + timedelta(days=7))
    with pytest.raises(ValidationError) as refused:
        sessions.validate(session, sessions.SESSION_CONSTRAINT_FIELDS, sessions.known_margin)
    assert "margin_unhedged" in refused.value.message_dict


def test_the_day_closes_with_a_summary(world):
    from hedging.services.summary import close_day

    for minute in ("09:20", "09:40", "09:45", "15:20"):
        world.tick(minute)
    alert = close_day(world.session, world.at("15:35"))
    assert "Hedge buys: 1 (1 basket); exits: 0." in alert.text
    assert "Entries: 2 made, 1 needed a hedge, 1 needed none." in alert.text
    assert "against hedging every basket" in alert.text and "Peak utilisation" in alert.text
    assert world.tick("15:36").note == "busy or not active"
    assert close_day(world.session, world.at("15:40")) is None  # once a day


def test_per_strike_model_scores_strikes_by_the_brokers_basket_margin():
    from brokers.simbroker.margin import SpanLikeMargin

    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    clock = SteppedClock(at(scenario.date, time(9, 15)))
    sim = build_simbroker(scenario, clock, margin=SpanLikeMargin(), api_key="k")
    asked = []
    handle = sim.handle

    def counting(endpoint, body, *args, **kwargs):
        asked.append(endpoint)
        return handle(endpoint, body, *args, **kwargs)

    broker = OpenAlgoClient(f"inprocess://{uuid.uuid4().hex}", "k", transport=InProcessTransport(counting), rate_limit=False)
    world = make_world()
    DailySession.objects.filter(pk=world.session.pk).update(margin_model="per_strike")
    world.session.refresh_from_db()
    world.sim, world.ports.broker, world.ports.clock, world.clock = sim, broker, clock, clock
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.action == "BUY" and tx.hedge_baskets >= 1
    assert asked.count("margin") > 2  # the straddle alone, then with each candidate leg
    for order in tx.orders.all():
        assert order.mbpr >= order.runner_up_mbpr
    savings = {round(o.mbpr * o.expected_price * o.quantity / tx.hedge_baskets, -2) for o in tx.orders.all()}
    assert len(savings) == 2  # per strike, not half of a constant each
