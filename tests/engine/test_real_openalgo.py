"""The hedge path against a broker as slow as a real OpenAlgo: the option chain read only
as far as the distance window reaches, a few candidates quoted on the order path."""

import threading
import uuid
from decimal import Decimal

import pytest

from brokers.openalgo import InProcessTransport, OpenAlgoClient
from brokers.openalgo_types import MultiQuote
from brokers.simbroker.scenario import build_simbroker, load_scenario, parse_scenario
from hedging import tasks
from hedging.models import Alert, DailySession, HedgeOrder
from hedging.services.sessions import session_ref
from hedging.services.replay import replay
from tests.engine.test_replay_samples import SCENARIOS
from tests.engine.test_services import make_world

pytestmark = pytest.mark.django_db
SPOT = Decimal(24000)  # one-entry-breach's index until noon


def otm_distance(symbol: str, option_type: str) -> Decimal:
    strike = Decimal(symbol.removeprefix("NIFTY24NOV26")[:-2])
    return strike - SPOT if option_type == "CE" else SPOT - strike


def test_a_buy_prices_four_candidates_a_side_and_still_gets_the_cheapest_eligible_strike():
    """Each quoted symbol costs a real OpenAlgo ~0.15 s: the order path quotes four
    candidates a side (a side a call, both at once), the likeliest by the strike list's
    prices, and lands on the strike that quoting every candidate would have chosen."""
    world = make_world()
    broker = world.ports.broker
    real_quotes, real_chain = broker.multiquotes, broker.option_chain
    asked, chains = [], []
    broker.multiquotes = lambda symbols: asked.append(list(symbols)) or real_quotes(symbols)
    broker.option_chain = lambda *args, **kwargs: chains.append(kwargs) or real_chain(*args, **kwargs)

    world.tick("09:40")

    (tx,) = world.transactions()
    assert chains == [{"strike_count": 25}]  # 1000 points and a quarter more, at 50 points a strike
    assert sorted(len(call) for call in asked) == [4, 4]  # a side a call, both at once
    legs = [leg for row in real_chain("NIFTY", "NSE_INDEX", world.session.expiry).strikes for leg in (row.ce, row.pe) if leg]
    every = real_quotes([(leg.symbol, "NFO") for leg in legs])
    for order in tx.orders.all():
        eligible = [
            (q.quote.ask, q.symbol) for q in every
            if q.symbol.endswith(order.option_type) and q.quote and q.quote.bid
            and Decimal(2) <= q.quote.ask <= Decimal(6) and 200 <= otm_distance(q.symbol, order.option_type) <= 1000
        ]
        cheapest = min(ask for ask, _ in eligible)
        # Ties go to the nearer strike.
        assert order.symbol == min((otm_distance(s, order.option_type), s) for ask, s in eligible if ask == cheapest)[1]


def test_a_sensex_day_needing_1200_units_a_leg_buys_them_in_slices_under_the_freeze_quantity():
    """SENSEX freezes at 1,000 units an order (the exchange refuses more, and OpenAlgo does
    not slice): six hedge baskets of 10 lots × 20 go out as 1,000 + 200 a leg."""
    day = {
        "name": "sensex-six", "date": "2026-11-26", "index": "SENSEX", "expiry": "2026-11-26", "budget": 1200000,
        "schedule": [{"name": "S1", "entry": "11:00", "exit": "15:15", "baskets": 6}],
        "market": {"spot": [["09:15", 80000.0]], "strike_step": 100, "iv_atm": 0.12, "iv_wing_slope": 0.04},
    }
    run = replay(parse_scenario(day), save=True)
    (buy,) = run.result["actions"]
    assert (buy["time"], buy["hedge_baskets"], buy["status"]) == ("10:55:00", 6, "filled")
    orders = HedgeOrder.objects.filter(transaction__session_id=run.session_id).order_by("leg")
    assert [(o.leg, o.option_type, o.quantity, o.status) for o in orders] == [
        ("CE", "CE", 1000, "complete"), ("CE2", "CE", 200, "complete"),
        ("PE", "PE", 1000, "complete"), ("PE2", "PE", 200, "complete"),
    ]
    assert run.result["entries"][0]["util_pct"] == 80.0  # six hedged baskets: 6 × ₹1,60,000 of ₹12L


def test_a_live_account_on_a_sandbox_openalgo_is_shown_as_sandbox_and_warned_once(
    trading_day, simbroker, celery_eager, trader_api
):
    """An OpenAlgo in analyzer mode answers funds with "mode": "analyze": its margins
    and fills are simulated, so the panel, the API and Telegram must not say LIVE."""
    simbroker.analyze = True
    for _ in range(2):
        tasks.lookahead_batch([trading_day.pk])

    trading_day.refresh_from_db()
    assert trading_day.sandbox
    (warned,) = Alert.objects.filter(session=trading_day, kind="sandbox")
    assert warned.level == "warning" and "analyzer mode" in warned.text
    (status,) = trader_api.get("/api/hedge/status").json()["sessions"]
    assert status["mode"] == "sandbox"
    assert session_ref(trading_day).sandbox


def per_strike_world(**sim_options):
    """one-entry-breach on a broker pricing each strike (SPAN-like margin), the session
    on the per-strike model; the broker's calls are logged by endpoint and thread."""
    from brokers.simbroker.margin import SpanLikeMargin

    world = make_world()
    scenario = load_scenario(SCENARIOS / "one-entry-breach.json")
    sim = build_simbroker(scenario, world.clock, margin=SpanLikeMargin(), api_key="k", **sim_options)
    calls = []

    def logged(endpoint, body, *args, **kwargs):
        calls.append((endpoint, threading.current_thread().name))
        return sim.handle(endpoint, body, *args, **kwargs)

    world.sim = sim
    world.ports.broker = OpenAlgoClient(f"inprocess://{uuid.uuid4().hex}", "k", transport=InProcessTransport(logged),
                                        rate_limit=False)
    DailySession.objects.filter(pk=world.session.pk).update(margin_model="per_strike")
    world.session.refresh_from_db()
    return world, calls


def test_the_per_strike_model_asks_every_candidates_margin_at_once():
    world, calls = per_strike_world()
    world.tick("09:40")
    (tx,) = world.transactions()
    margins = [thread for endpoint, thread in calls if endpoint == "margin"]
    assert tx.status == "filled" and len(margins) == 1 + 2 * 4  # the straddle alone, then with each candidate
    assert all(thread.startswith("broker-reads") for thread in margins)  # on the pool, together


def test_a_broker_without_the_margin_call_leaves_the_constants_with_one_warning():
    world, calls = per_strike_world(margin_api=False)
    world.tick("09:40")
    (tx,) = world.transactions()
    assert tx.status == "filled" and tx.hedge_baskets == 1  # as under the constants model
    (warned,) = Alert.objects.filter(session=world.session, kind="margin_unsupported")
    assert warned.level == "warning" and "margin constants" in warned.text


def test_symbols_the_broker_refused_to_quote_are_named_in_the_alert():
    world = make_world()
    world.ports.broker.multiquotes = lambda symbols: tuple(MultiQuote(s, e, None, "Symbol not found") for s, e in symbols)
    world.tick("09:40")
    assert not world.transactions()
    (alert,) = Alert.objects.filter(session=world.session, kind="no_eligible_strike")
    # Four a side, then, none eligible, the rest of each side's window: every one named.
    assert "the broker refused to quote NIFTY24NOV26" in alert.text and alert.text.count("NIFTY24NOV26") > 8


def test_hedges_go_in_the_strategies_product_nrml_unless_the_account_says():
    world = make_world()
    world.tick("09:40")
    longs = [p for p in world.ports.broker.positionbook() if p.quantity > 0]
    assert len(longs) == 2 and {p.product for p in longs} == {"NRML"}


def test_a_tick_waits_on_a_hung_broker_no_longer_than_its_bound():
    """The quotes hang past the tick's broker time: the candidates are not asked for, the
    tick ends saying the broker is unreachable, and the session's lock is let go."""
    world = make_world()
    world.ports.tick_broker_seconds = 0.5
    world.sim.faults.inject("quotes", "latency", ms=800)

    outcome = world.tick("09:40")

    assert outcome.failed and outcome.note.startswith("broker unreachable while pricing a hedge buy")
    assert not world.transactions() and not world.our_orders()
    world.ports.tick_broker_seconds = None
    assert world.tick("09:41").transaction_id  # unbound, the same tick buys
