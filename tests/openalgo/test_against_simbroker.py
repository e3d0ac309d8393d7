"""The client against the project's simulated broker: over real loopback HTTP and
in-process through InProcessTransport (the replay's way), the same calls, the same answers."""

from datetime import date
from decimal import Decimal

import pytest

from brokers.openalgo import (
    InProcessTransport,
    NotAuthorised,
    OpenAlgoClient,
    OrderNotFound,
    OrderPendingApproval,
    RateLimited,
    ValidationRejected,
    openalgo_limiter,
)
from brokers.openalgo_types import MarginLeg, Placement
from brokers.simbroker import SimulatedTimeout, build_demo_simbroker
from hedging.core.clock import MARKET_OPEN, SteppedClock, at

DAY = date(2026, 11, 24)  # the fixture's day, 0DTE for NIFTY
ATM_CE = "NIFTY24NOV2624000CE"


@pytest.fixture(params=["http", "in_process"])
def connect(request, simbroker):
    """connect(api_key=None, **client options) -> a client to the fixture's simulated broker."""
    if request.param == "http":
        server = request.getfixturevalue("simbroker_server")

        def over_http(api_key=None, **options):
            options.setdefault("rate_limit", False)
            return OpenAlgoClient(server.url, api_key or server.api_key, **options)

        return over_http

    def in_process(api_key=None, **options):
        options.setdefault("rate_limit", False)
        transport = InProcessTransport(simbroker.handle, timeouts=(SimulatedTimeout,))
        return OpenAlgoClient("http://sim.in-process", api_key or simbroker.api_key, transport=transport, **options)

    return in_process


@pytest.fixture
def client(connect):
    return connect()


def order(symbol, **extra):
    return {"symbol": symbol, "exchange": "NFO", "action": "BUY", "quantity": 65, "pricetype": "LIMIT",
            "product": "NRML", **extra}


def hedge_symbol(client, offset="OTM2"):
    return client.option_symbol("NIFTY", "NSE_INDEX", DAY, offset, "PE").symbol


# --- every read -------------------------------------------------------------------------


def test_reads(client):
    assert client.ping().message == "pong"
    funds = client.funds()
    assert funds.available_cash == Decimal("5000000.00") and not funds.sandbox
    assert client.expiry("NIFTY", "NFO")[0] == DAY

    chain = client.option_chain("NIFTY", "NSE_INDEX", DAY, strike_count=3)
    assert len(chain.strikes) == 7 and chain.atm_strike == Decimal(24000)
    atm = next(row for row in chain.strikes if row.strike == chain.atm_strike)
    assert atm.ce is not None and atm.ce.label == "ATM" and atm.ce.lotsize == 65 and atm.ce.has_price

    symbol = client.option_symbol("NIFTY", "NSE_INDEX", DAY, "OTM2", "PE")
    assert (symbol.symbol, symbol.exchange, symbol.lotsize) == ("NIFTY24NOV2623900PE", "NFO", 65)

    spot = client.quotes("NIFTY", "NSE_INDEX")
    assert spot.ltp == Decimal(24000) and (spot.bid, spot.ask) == (None, None)

    bad, good = client.multiquotes([(symbol.symbol, "NFO"), ("NIFTY24NOV2699999PE", "NFO")])  # refused ones first
    assert (good.symbol, bad.symbol) == (symbol.symbol, "NIFTY24NOV2699999PE")
    assert good.quote is not None and good.quote.ask is not None and good.quote.ask > good.quote.bid
    assert bad.quote is None and "not found" in bad.error

    margin = client.margin([MarginLeg(ATM_CE, "NFO", "SELL", 65, "NRML")])
    assert margin.total_margin_required > 0 and margin.span_margin > 0


# --- the life of an order ---------------------------------------------------------------


def test_place_fill_and_see_it_everywhere(client, simbroker):
    symbol = hedge_symbol(client)
    ask = client.quotes(symbol, "NFO").ask
    ack = client.place_order(strategy="ah-t1", price=ask, **order(symbol))

    status = client.order_status(ack.order_id, "ah-t1")
    assert status.is_complete and (status.filled_quantity, status.average_price) == (65, ask)
    (listed,) = client.orderbook().by_strategy("ah-t1")
    assert listed.order_id == ack.order_id and listed.pricetype == "LIMIT"
    assert [t.order_id for t in client.tradebook()] == [ack.order_id]
    (position,) = client.positionbook()
    assert (position.symbol, position.quantity) == (symbol, 65)
    assert [entry.strategy for entry in simbroker.order_log] == ["ah-t1"]


def test_a_resting_order_is_cancelled(client):
    symbol = hedge_symbol(client)
    ask = client.quotes(symbol, "NFO").ask
    other = client.place_order(strategy="ah-t3", price=ask - 5, **order(symbol))
    assert client.cancel_order(other.order_id, "ah-t3").order_id == other.order_id
    assert client.order_status(other.order_id, "ah-t3").status == "cancelled"
    with pytest.raises(ValidationRejected, match="Cannot cancel order in cancelled status"):
        client.cancel_order(other.order_id, "ah-t3")
    with pytest.raises(OrderNotFound):
        client.order_status("999", "ah-t3")


# --- refusals in each of the simulator's forms ---------------------------------------------


def test_refusals(client, simbroker):
    symbol = hedge_symbol(client)
    with pytest.raises(ValidationRejected, match="multiples of lot size 65") as caught:
        client.place_order(strategy="ah-t4", price=Decimal("10"), **order(symbol, quantity=10))
    assert caught.value.field_errors == {}
    with pytest.raises(ValidationRejected) as caught:  # a Python-style dict in a string
        client.margin([MarginLeg(ATM_CE, "XXX", "SELL", 65, "NRML")])
    assert list(caught.value.field_errors) == ["positions.0.exchange"]
    with pytest.raises(ValidationRejected) as caught:  # "Validation error" + errors
        client.option_chain("NIFTY", "NSE_INDEX", DAY, strike_count=0)
    assert list(caught.value.field_errors) == ["strike_count"]
    with pytest.raises(ValidationRejected) as caught:  # a JSON object
        client.multiquotes([(symbol, "XXX")])
    assert list(caught.value.field_errors) == ["symbols.0.exchange"]
    assert simbroker.order_log == []


def test_wrong_key_is_not_authorised(connect):
    with pytest.raises(NotAuthorised) as caught:
        connect(api_key="not-the-key").funds()
    assert caught.value.status == 403


# --- lost placement answers -------------------------------------------------------------------


def test_placement_timeout_is_found_by_tag_not_placed_again(connect, simbroker):
    client = connect(timeout=(2.0, 0.3))
    symbol = hedge_symbol(client)
    ask = client.quotes(symbol, "NFO").ask
    simbroker.faults.inject("placeorder", "timeout", seconds=3)  # placed, answer late
    outcome = client.place_order_or_find("ah-t5", price=ask, **order(symbol))
    (placed,) = simbroker.order_log
    assert outcome.status is Placement.FOUND_AFTER_TIMEOUT
    assert (outcome.order_id, placed.strategy) == (placed.orderid, "ah-t5")


def test_placement_timeout_without_an_order_is_unknown(connect, simbroker):
    client = connect(timeout=(2.0, 0.3))
    symbol = hedge_symbol(client)
    simbroker.faults.inject("placeorder", "timeout", seconds=3, placed=False)
    outcome = client.place_order_or_find("ah-t6", price=Decimal("50"), **order(symbol))
    assert (outcome.status, outcome.order_id) == (Placement.UNKNOWN, None)
    assert simbroker.order_log == []


def test_unreadable_placement_answer_is_looked_up(client, simbroker):
    symbol = hedge_symbol(client)
    simbroker.faults.inject("placeorder", "malformed_json")
    outcome = client.place_order_or_find("ah-t7", price=Decimal("50"), **order(symbol))
    (placed,) = simbroker.order_log
    assert (outcome.status, outcome.order_id) == (Placement.FOUND_AFTER_TIMEOUT, placed.orderid)


def test_semi_auto_queues_instead_of_placing(client, simbroker):
    simbroker.faults.inject("placeorder", "semi_auto")
    with pytest.raises(OrderPendingApproval):
        client.place_order_or_find("ah-t8", price=Decimal("50"), **order(hedge_symbol(client)))
    assert simbroker.order_log == []


# --- 429 ------------------------------------------------------------------------------------------


def test_429_on_a_read_waits_out_the_window_then_retries(connect, simbroker):
    sleeps = []
    client = connect(sleep=sleeps.append)
    simbroker.faults.inject("quotes", "rate_limit")
    assert client.quotes("NIFTY", "NSE_INDEX").has_price
    assert sleeps == [1.0]


def test_429_placement_is_not_retried(client, simbroker):
    simbroker.faults.inject("placeorder", "rate_limit")
    with pytest.raises(RateLimited) as caught:
        client.place_order(strategy="ah-t9", price=Decimal("50"), **order(hedge_symbol(client)))
    assert caught.value.retry_after == 1.0
    assert simbroker.order_log == []


def test_own_rate_limit_keeps_under_the_simulators_limiter():
    sim = build_demo_simbroker(SteppedClock(at(DAY, MARKET_OPEN)), strategies=(), rate_limits=True)
    transport = InProcessTransport(sim.handle, timeouts=(SimulatedTimeout,))

    def burst(client, prefix):
        for n in range(11):
            client.place_order(strategy=f"{prefix}{n}", price=Decimal("50"), **order("NIFTY24NOV2623900PE"))

    with pytest.raises(RateLimited):  # unguarded, the eleventh order in a second is refused
        burst(OpenAlgoClient("http://sim", sim.api_key, transport=transport, rate_limit=False), "raw")
    assert len(sim.order_log) == 10
    sim.reset()
    guarded = openalgo_limiter("http://sim-guarded")  # the product's limits, in this process
    burst(OpenAlgoClient("http://sim", sim.api_key, transport=transport, rate_limit=guarded), "guarded")
    assert len(sim.order_log) == 11
