"""Failures that random days nobody wrote found in the landed code, each held here by
what the trader would see (issue: right on every day)."""

import pytest

from brokers.simbroker.scenario import parse_scenario
from hedging import tasks
from hedging.models import Alert, StrategyExecution
from hedging.services import orchestrator
from hedging.services.replay import replay
from tests.api.fixtures import SIM_KEY_ENV
from tests.engine.test_services import make_world
from tests.factories import BrokerAccountFactory, DailySessionFactory
from tests.fixtures.simbroker import SIM_DAY

pytestmark = pytest.mark.django_db


def two_strike_day(stop_out: str) -> dict:
    """Hedges bought at 09:40 and, after spot rose 300 points, at 10:25: held at two CE
    and two PE strikes. P2 and P3 stop out at `stop_out`, leaving every hedge free to sell."""
    return {
        "name": "two-strikes", "date": "2026-11-24", "index": "NIFTY", "expiry": "2026-11-24",
        "lot_size": 65, "lots_per_basket": 1, "budget": 1300000,
        "schedule": [
            {"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
            {"name": "P2", "entry": "09:45", "exit": "15:15", "baskets": 2},
            {"name": "P3", "entry": "10:30", "exit": "15:15", "baskets": 1},
        ],
        "stop_outs": [{"name": "P2", "time": stop_out}, {"name": "P3", "time": stop_out}],
        "market": {"spot": [["09:15", 24000.0], ["10:00", 24300.0]], "strike_step": 50, "iv_atm": 0.12, "iv_wing_slope": 0.04},
    }


def test_hedges_held_at_two_strikes_are_sold_in_one_exit():
    """The exit's legs include two CEs: before, its orders could not be written and the
    tick failed every minute."""
    result = replay(parse_scenario(two_strike_day("10:40"))).result
    buys, (sold,) = result["actions"][:2], result["actions"][2:]
    assert [(b["time"], b["hedge_baskets"]) for b in buys] == [("09:40:00", 1), ("10:25:00", 2)]
    assert sold["action"] == "EXIT" and sold["status"] == "filled"
    ce_strikes = {leg["strike"] for leg in sold["legs"] if leg["option_type"] == "CE"}
    assert ce_strikes == {buys[0]["legs"][0]["strike"], buys[1]["legs"][0]["strike"]}
    assert not [a for a in result["alerts"] if a["level"] == "critical"]


def test_a_broker_failing_while_pricing_a_buy_is_told_and_keeps_the_tick_s_reading():
    """The first tick since the open comes at 09:40, with P1 entered meanwhile and the buy
    for P2 due; the quotes fail. P1's entry stays recorded, a critical alert says why no
    hedge was bought, and the next minute buys."""
    world = make_world()
    world.tick("09:15")
    world.sim.faults.inject("multiquotes", "error_500", count=10)

    outcome = world.tick("09:40")

    assert outcome.failed and "pricing a hedge buy" in outcome.note and not world.transactions()
    p1 = world.session.executions.get(name="P1")
    assert p1.status == StrategyExecution.Status.ENTERED and p1.util_after_entry_pct is not None
    (alert,) = Alert.objects.filter(session=world.session)
    assert alert.kind == "broker_unreachable" and alert.level == "critical" and "pricing a hedge buy" in alert.text

    world.sim.faults.clear()
    world.tick("09:42")
    (tx,) = world.transactions()
    assert tx.status == "filled" and tx.for_entries == ["P2"]


def test_a_tick_that_fails_is_noted_alerted_once_and_the_batch_goes_on(trading_day, celery_eager, monkeypatch, trader_api):
    """A bug in one session's decision: its note and the status panel say the tick
    failed, one critical alert a quarter hour says so; the batch's other session ticks."""
    other = DailySessionFactory(
        account=BrokerAccountFactory(host=trading_day.account.host, mode="live", api_key_env=SIM_KEY_ENV),
        date=SIM_DAY, expiry=SIM_DAY, budget=trading_day.budget + 1,
    )
    real_decide = orchestrator.decide

    def decide(state, *args, **kwargs):
        if state.budget == trading_day.budget:
            raise ZeroDivisionError("a bug in the decision")
        return real_decide(state, *args, **kwargs)

    monkeypatch.setattr(orchestrator, "decide", decide)
    for _ in range(2):
        assert tasks.lookahead_batch([trading_day.pk, other.pk]) == 2

    trading_day.refresh_from_db()
    other.refresh_from_db()
    assert trading_day.last_tick_failed and trading_day.last_tick_note == "tick failed: ZeroDivisionError: a bug in the decision"
    (alert,) = Alert.objects.filter(session=trading_day, kind="tick_failed")
    assert alert.level == "critical" and "09:56" in alert.text
    assert not other.last_tick_failed and other.last_tick_at is not None
    status = next(s for s in trader_api.get("/api/hedge/status").json()["sessions"] if s["session"]["id"] == trading_day.pk)
    assert "tick failed: ZeroDivisionError" in status["problem"]


def test_quotes_are_matched_by_symbol_whatever_the_order_of_the_answers():
    """A real OpenAlgo does not answer multiquotes in the order asked (refused symbols
    come first): taking the first answer as the spot made a strike's price the spot, and
    no strike was eligible."""
    world = make_world()
    real = world.ports.broker.multiquotes
    world.ports.broker.multiquotes = lambda symbols: tuple(reversed(real(symbols)))

    world.tick("09:40")

    (tx,) = world.transactions()
    assert tx.status == "filled" and tx.hedge_baskets == 1
    assert not Alert.objects.filter(session=world.session, kind="no_eligible_strike").exists()


def test_a_hedge_is_never_bought_at_a_strike_the_account_is_short():
    """The index rose 600 points after P1 sold its 24000 straddle, so P1's 24000 PE sits
    in the hedge window. Buying it would close P1's leg, not hedge it, and the hedge
    would count for nothing: the next tick bought again (seen on random days)."""
    day = {
        "name": "short-strike", "date": "2026-11-24", "index": "NIFTY", "expiry": "2026-11-24", "budget": 1300000,
        "config": {"min_otm_distance": 600, "max_otm_distance": 600, "min_premium": 0.05, "max_premium": 500},
        "schedule": [
            {"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
            {"name": "P2", "entry": "10:30", "exit": "15:15", "baskets": 2},
        ],
        "market": {"spot": [["09:15", 24000.0], ["10:00", 24600.0]], "strike_step": 50, "iv_atm": 0.12, "iv_wing_slope": 0.04},
    }
    result = replay(parse_scenario(day)).result
    assert not result["actions"]
    (alert,) = [a for a in result["alerts"] if a["kind"] == "no_eligible_strike"]
    assert alert["time"] == "10:25:00" and "1 by a strike the account is short" in alert["text"]



def test_an_exit_whose_legs_are_left_to_expire_says_so_and_counts_only_the_baskets_it_breaks():
    """At noon only one CE still bids ₹0.50 or more: selling it breaks one hedge basket;
    the rest stay held, to expire, and still hedge (hedges held counts them)."""
    (exit_,) = [a for a in replay(parse_scenario(two_strike_day("12:00"))).result["actions"] if a["action"] == "EXIT"]
    assert exit_["hedge_baskets"] == 1 and [leg["option_type"] for leg in exit_["legs"]] == ["CE"]
    assert "1 hedge basket not needed" in exit_["reason"]
    assert exit_["reason"].endswith("CE ×130 and PE ×195 left to expire (bid under ₹0.50)")
