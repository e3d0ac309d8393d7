"""Each call's request and its typed answer, over `responses` and in-process."""

import json
from datetime import date
from decimal import Decimal

import pytest

from tests.openalgo.common import HOST, KEY, url

from brokers.models import BrokerAccount
from brokers.openalgo import (
    BrokerTimeout,
    InProcessTransport,
    NotAuthorised,
    OpenAlgoClient,
    RetryPolicy,
    ValidationRejected,
)
from brokers.openalgo_types import (
    AnswerShapeError,
    MarginLeg,
    expiry_code,
    parse_expiry,
    to_decimal,
    to_int,
)





@pytest.fixture
def client():
    return OpenAlgoClient(HOST, KEY, rate_limit=False)


def sent(call) -> dict:
    return json.loads(call.request.body)


ORDER_ROW = {
    "action": "BUY",
    "symbol": "NIFTY01DEC2622000PE",
    "exchange": "NFO",
    "orderid": "250101000001",
    "product": "NRML",
    "quantity": "65",
    "price": 4.5,
    "pricetype": "LIMIT",
    "order_status": "complete",
    "trigger_price": 0.0,
    "average_price": 4.45,
    "filled_quantity": "65",
    "pending_quantity": 0,
    "rejection_reason": "",
    "strategy": "ah-1-ce-1",
    "timestamp": "24-Nov-2026 10:15:02",
}


# --- account --------------------------------------------------------------------------


def test_funds_parses_strings_and_floats_into_decimal(api, client):
    data = {"availablecash": "0.00", "collateral": 0, "m2mrealized": -12.5, "m2munrealized": "1520.75", "utiliseddebits": 0.1}
    api.post(url("funds"), json={"status": "success", "data": data})
    funds = client.funds()
    assert funds.available_cash == Decimal("0.00")
    assert funds.m2m_realized == Decimal("-12.5")
    assert funds.m2m_unrealized == Decimal("1520.75")
    assert funds.utilised_debits == Decimal("0.1")  # not 0.1000000000000000055…
    assert funds.sandbox is False
    assert sent(api.calls[0]) == {"apikey": KEY}


def test_funds_in_analyzer_mode_is_marked_sandbox(api, client):
    data = {"availablecash": 1, "collateral": 0, "m2mrealized": 0, "m2munrealized": 0, "utiliseddebits": 0}
    api.post(url("funds"), json={"status": "success", "mode": "analyze", "data": data})
    assert client.funds().sandbox is True


def test_margin_sends_numbers_as_strings(api, client):
    data = {"total_margin_required": 152340.5, "span_margin": "120000", "exposure_margin": 32340.5, "hedge_benefit": 8000}
    api.post(url("margin"), json={"status": "success", "data": data})
    legs = [
        MarginLeg("NIFTY01DEC2626000CE", "NFO", "SELL", 65, "NRML"),
        MarginLeg("NIFTY01DEC2622000PE", "NFO", "BUY", 130, "NRML", "LIMIT", Decimal("4.50"), Decimal("0")),
    ]
    margin = client.margin(legs)
    assert sent(api.calls[0])["positions"] == [
        {
            "symbol": "NIFTY01DEC2626000CE",
            "exchange": "NFO",
            "action": "SELL",
            "quantity": "65",
            "product": "NRML",
            "pricetype": "MARKET",
        },
        {
            "symbol": "NIFTY01DEC2622000PE",
            "exchange": "NFO",
            "action": "BUY",
            "quantity": "130",
            "product": "NRML",
            "pricetype": "LIMIT",
            "price": "4.50",
            "trigger_price": "0",
        },
    ]
    assert margin.total_margin_required == Decimal("152340.5")
    assert margin.span_margin == Decimal("120000")
    assert margin.hedge_benefit == Decimal("8000")
    assert margin.margin_benefit is None


def test_positionbook(api, client):
    rows = [
        {
            "symbol": "NIFTY01DEC2626000CE",
            "exchange": "NFO",
            "product": "NRML",
            "quantity": "-65",
            "average_price": "120.50",
            "ltp": 0,
            "pnl": "0.00",
        },
        {
            "symbol": "NIFTY01DEC2622000PE",
            "exchange": "NFO",
            "product": "NRML",
            "quantity": 65,
            "average_price": 4.45,
            "ltp": 5.1,
            "pnl": 42.25,
        },
    ]
    api.post(url("positionbook"), json={"status": "success", "data": rows})
    short, hedge = client.positionbook()
    assert (short.quantity, short.is_short, short.average_price, short.ltp) == (-65, True, Decimal("120.50"), None)
    assert (hedge.quantity, hedge.ltp, hedge.pnl) == (65, Decimal("5.1"), Decimal("42.25"))


# --- orders ---------------------------------------------------------------------------


def test_cancel_order(api, client):
    api.post(url("cancelorder"), json={"status": "success", "orderid": "250101000001", "message": "Cancelled"})
    assert client.cancel_order("250101000001", "ah-1-ce-1").order_id == "250101000001"
    assert sent(api.calls[0]) == {"apikey": KEY, "strategy": "ah-1-ce-1", "orderid": "250101000001"}


@pytest.mark.parametrize("spelling", ["pricetype", "price_type"])
def test_order_status_accepts_both_pricetype_spellings(api, client, spelling):
    row = {k: v for k, v in ORDER_ROW.items() if k not in ("strategy", "rejection_reason", "pricetype")}
    api.post(url("orderstatus"), json={"status": "success", "data": {**row, spelling: "LIMIT"}})
    order = client.order_status("250101000001", "ah-1-ce-1")
    assert order.pricetype == "LIMIT"
    assert (order.quantity, order.filled_quantity, order.average_price) == (65, 65, Decimal("4.45"))
    assert order.is_complete and order.is_final and not order.is_open
    assert order.strategy is None


def test_orderbook_finds_orders_by_tag(api, client):
    other = {**ORDER_ROW, "orderid": "2", "strategy": "someone-else", "order_status": "trigger pending"}
    stats = {
        "total_buy_orders": 2,
        "total_sell_orders": 0,
        "total_completed_orders": 1,
        "total_open_orders": "1",
        "total_rejected_orders": 0,
    }
    api.post(url("orderbook"), json={"status": "success", "data": {"orders": [ORDER_ROW, other], "statistics": stats}})
    book = client.orderbook()
    assert [o.order_id for o in book.by_strategy("ah-1-ce-1")] == ["250101000001"]
    assert book.by_strategy("missing") == ()
    assert book.orders[1].is_open
    assert book.statistics.total_open_orders == 1
    assert book.orders[0].rejection_reason is None


def test_tradebook(api, client):
    row = {
        "action": "BUY",
        "symbol": "NIFTY01DEC2622000PE",
        "exchange": "NFO",
        "orderid": 250101000001,
        "product": "NRML",
        "quantity": 65.0,
        "average_price": "4.45",
        "timestamp": "10:15:02",
        "trade_value": 289.25,
    }
    api.post(url("tradebook"), json={"status": "success", "data": [row]})
    (trade,) = client.tradebook()
    assert (trade.order_id, trade.quantity, trade.average_price, trade.trade_value) == (
        "250101000001",
        65,
        Decimal("4.45"),
        Decimal("289.25"),
    )


# --- market data ------------------------------------------------------------------------


def test_zero_quotes_mean_no_price(api, client):
    data = {"open": 0, "high": 0, "low": 0, "ltp": 0, "ask": 0, "bid": 0, "prev_close": 0, "volume": 0, "oi": 0}
    api.post(url("quotes"), json={"status": "success", "data": data})
    quote = client.quotes("NIFTY01DEC2622000PE", "NFO")
    assert not quote.has_price
    assert (quote.ltp, quote.bid, quote.ask) == (None, None, None)


def test_index_quote_has_a_price_but_no_bid_or_ask(api, client):
    data = {
        "open": 25900,
        "high": 26010.5,
        "low": 25850,
        "ltp": "25990.35",
        "ask": 0,
        "bid": 0,
        "prev_close": 25870,
        "volume": 0,
        "oi": 0,
    }
    api.post(url("quotes"), json={"status": "success", "data": data})
    quote = client.quotes("NIFTY", "NSE_INDEX")
    assert quote.has_price and quote.ltp == Decimal("25990.35")
    assert (quote.bid, quote.ask) == (None, None)
    assert sent(api.calls[0]) == {"apikey": KEY, "symbol": "NIFTY", "exchange": "NSE_INDEX"}


def test_multiquotes_keeps_per_entry_errors(api, client):
    results = [
        {"symbol": "NIFTY01DEC2622000PE", "exchange": "NFO", "data": {"ltp": 4.5, "bid": 4.45, "ask": 4.55}},
        {"symbol": "BOGUS", "exchange": "NFO", "error": "Symbol not found"},
    ]
    api.post(url("multiquotes"), json={"status": "success", "results": results})
    good, bad = client.multiquotes([("NIFTY01DEC2622000PE", "NFO"), ("BOGUS", "NFO")])
    assert good.quote is not None and good.quote.ask == Decimal("4.55") and good.error is None
    assert (bad.quote, bad.error) == (None, "Symbol not found")
    assert sent(api.calls[0])["symbols"] == [
        {"symbol": "NIFTY01DEC2622000PE", "exchange": "NFO"},
        {"symbol": "BOGUS", "exchange": "NFO"},
    ]


def leg(symbol, label, ltp, bid, ask):
    return {"symbol": symbol, "label": label, "ltp": ltp, "bid": bid, "ask": ask, "bid_qty": 650, "ask_qty": 1300,
            "oi": 125000.0, "volume": 90000, "lotsize": 65, "tick_size": 0.05}


CHAIN = {
    "status": "success",
    "underlying": "NIFTY",
    "underlying_ltp": 25990.35,
    "expiry_date": "01DEC26",
    "atm_strike": 26000.0,
    "chain": [
        {"strike": 25950.0, "ce": None, "pe": leg("NIFTY01DEC2625950PE", "OTM1", 80.5, 80.4, 80.6)},
        {"strike": 26000.0, "ce": leg("NIFTY01DEC2626000CE", "ATM", "95.10", "95.05", "95.15"),
         "pe": leg("NIFTY01DEC2626000PE", "ATM", 0, 0, 0)},
    ],
}


def test_option_chain_top_level_null_leg_and_zero_prices(api, client):
    api.post(url("optionchain"), json=CHAIN)
    chain = client.option_chain("NIFTY", "NSE_INDEX", date(2026, 12, 1), strike_count=10)
    assert sent(api.calls[0]) == {
        "apikey": KEY, "underlying": "NIFTY", "exchange": "NSE_INDEX", "expiry_date": "01DEC26", "strike_count": 10,
    }
    assert (chain.atm_strike, chain.underlying_ltp, chain.expiry_date) == (Decimal("26000.0"), Decimal("25990.35"), "01DEC26")
    low, atm = chain.strikes
    assert low.ce is None and low.pe is not None and low.pe.label == "OTM1"
    assert atm.ce is not None and atm.ce.ask == Decimal("95.15") and atm.ce.lotsize == 65 and atm.ce.oi == 125000
    assert atm.pe is not None and not atm.pe.has_price and atm.pe.bid is None


def test_option_chain_without_strike_count_asks_for_the_whole_chain(api, client):
    api.post(url("optionchain"), json=CHAIN)
    client.option_chain("NIFTY", "NSE_INDEX", "01DEC26")
    assert "strike_count" not in sent(api.calls[0])


def test_option_symbol(api, client):
    answer = {"status": "success", "symbol": "NIFTY01DEC2622000PE", "exchange": "NFO", "lotsize": 65, "tick_size": 0.05,
              "freeze_qty": 1800, "underlying_ltp": 25990.35}
    api.post(url("optionsymbol"), json=answer)
    symbol = client.option_symbol("NIFTY", "NSE_INDEX", date(2026, 12, 1), "OTM80", "PE")
    assert (symbol.symbol, symbol.lotsize, symbol.tick_size, symbol.freeze_qty) == (
        "NIFTY01DEC2622000PE",
        65,
        Decimal("0.05"),
        1800,
    )
    assert sent(api.calls[0])["expiry_date"] == "01DEC26"


def test_expiry_returns_dates(api, client):
    api.post(url("expiry"), json={"status": "success", "data": ["01-DEC-26", "08-DEC-26", "29-DEC-26"]})
    assert client.expiry("NIFTY", "NFO") == (date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 29))
    assert sent(api.calls[0]) == {"apikey": KEY, "symbol": "NIFTY", "exchange": "NFO", "instrumenttype": "options"}


def test_ping(api, client):
    api.post(url("ping"), json={"status": "success", "data": {"message": "pong", "broker": "zerodha"}})
    pong = client.ping()
    assert (pong.message, pong.broker) == ("pong", "zerodha")


# --- parsing helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),
        ("0.00", Decimal("0.00")),
        (" 12.5 ", Decimal("12.5")),
        (65, Decimal(65)),
        (Decimal("1.5"), Decimal("1.5")),
    ],
)
def test_to_decimal(value, expected):
    assert to_decimal(value, "x") == expected


@pytest.mark.parametrize("value", [None, True, "", "abc", "NaN", "Infinity", [1], {}])
def test_to_decimal_refuses_non_numbers(value):
    with pytest.raises(AnswerShapeError):
        to_decimal(value, "x")


def test_to_int():
    assert (to_int(65.0, "q"), to_int("65", "q"), to_int("-130", "q")) == (65, 65, -130)
    with pytest.raises(AnswerShapeError):
        to_int(65.5, "q")


def test_expiry_conversions():
    assert parse_expiry("29-dec-26") == date(2026, 12, 29)
    assert expiry_code(date(2027, 1, 5)) == "05JAN27"
    for bad in ("2026-12-01", "31-FEB-26", "01-XYZ-26"):
        with pytest.raises(AnswerShapeError):
            parse_expiry(bad)


def test_money_refuses_floats_on_the_way_out(client):
    with pytest.raises(TypeError):
        client.place_order(strategy="t", symbol="S", exchange="NFO", action="BUY", quantity=65, price=4.5)


# --- in-process transport, timeouts, construction -----------------------------------------


class Recorder:
    """A transport that records what it is given and answers from a table."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def post(self, endpoint, body, timeout):
        self.calls.append((endpoint, body, timeout))
        return self.answers[endpoint]


def test_in_process_transport_feeds_the_same_parsing_and_errors():
    seen = []

    def handler(endpoint, body):
        seen.append((endpoint, body))
        if endpoint == "ping":
            return 200, {"status": "success", "data": {"message": "pong", "broker": "sim"}}
        if endpoint == "quotes":
            return 200, '{"status": "success", "data": {"ltp": "4.50", "bid": 0, "ask": 4.55}}'
        return 403, {"status": "error", "message": "Invalid openalgo apikey"}

    client = OpenAlgoClient("http://sim", KEY, transport=InProcessTransport(handler), rate_limit=False)
    assert client.ping().broker == "sim"
    quote = client.quotes("X", "NFO")
    assert (quote.ltp, quote.bid) == (Decimal("4.50"), None)
    with pytest.raises(NotAuthorised):
        client.funds()
    assert seen[1] == ("quotes", {"apikey": KEY, "symbol": "X", "exchange": "NFO"})


def test_in_process_body_goes_through_json_like_the_wire():
    bodies = []

    def handler(endpoint, body):
        bodies.append(body)
        return 400, {"status": "error", "message": "LIMIT orders require price"}

    client = OpenAlgoClient("http://sim", KEY, transport=InProcessTransport(handler), rate_limit=False)
    with pytest.raises(ValidationRejected):
        client.multiquotes((("A", "NFO"),))
    assert bodies[0]["symbols"] == [{"symbol": "A", "exchange": "NFO"}]  # lists, as JSON gives them


class LateAnswer(Exception):
    pass


@pytest.mark.parametrize(("raised", "timeouts"), [(TimeoutError, (TimeoutError,)), (LateAnswer, (LateAnswer,))])
def test_in_process_handler_timeout_is_a_broker_timeout(raised, timeouts):
    def handler(endpoint, body):
        raise raised

    transport = InProcessTransport(handler, timeouts=timeouts)
    client = OpenAlgoClient("http://sim", KEY, transport=transport, rate_limit=False, retry=RetryPolicy(attempts=1))
    with pytest.raises(BrokerTimeout) as caught:
        client.funds()
    assert caught.value.__context__ is None


def test_timeouts_and_the_slower_option_chain_read_timeout():
    recorder = Recorder({"optionchain": (200, CHAIN), "ping": (200, {"status": "success", "data": {"message": "pong"}})})
    client = OpenAlgoClient(HOST, KEY, timeout=(1.5, 4.0), transport=recorder, rate_limit=False, option_chain_read_timeout=20.0)
    client.ping()
    client.option_chain("NIFTY", "NSE_INDEX", "01DEC26")
    assert [call[2] for call in recorder.calls] == [(1.5, 4.0), (1.5, 20.0)]


def test_real_http_transport_passes_timeouts_to_requests(api, client):
    api.post(url("ping"), json={"status": "success", "data": {"message": "pong"}})
    client.ping()
    assert api.calls[0].request.req_kwargs["timeout"] == (2.0, 5.0)
    assert api.calls[0].request.headers["Content-Type"] == "application/json"


def test_for_account_reads_key_from_env_and_timeouts_from_settings(monkeypatch, settings):
    monkeypatch.setenv("OPENALGO_KEY_TEST", KEY)
    settings.OPENALGO_TIMEOUT_CONNECT = 3
    settings.OPENALGO_TIMEOUT_READ = 7
    recorder = Recorder({"ping": (200, {"status": "success", "data": {"message": "pong"}})})
    account = BrokerAccount(name="a", host="http://10.0.0.5:5000/", api_key_env="OPENALGO_KEY_TEST")
    client = OpenAlgoClient.for_account(account, transport=recorder, rate_limit=False)
    client.ping()
    assert client.host == "http://10.0.0.5:5000"
    assert recorder.calls == [("ping", {"apikey": KEY}, (3.0, 7.0))]


def test_for_account_without_a_key_names_the_variable(monkeypatch):
    monkeypatch.delenv("OPENALGO_KEY_UNSET", raising=False)
    account = BrokerAccount(name="a", host="http://x", api_key_env="OPENALGO_KEY_UNSET")
    with pytest.raises(ValueError, match="OPENALGO_KEY_UNSET"):
        OpenAlgoClient.for_account(account)


def test_two_accounts_side_by_side_send_their_own_keys():
    recorder = Recorder({"ping": (200, {"status": "success", "data": {"message": "pong"}})})
    first = OpenAlgoClient("http://a", "key-a", transport=recorder, rate_limit=False)
    second = OpenAlgoClient("http://b", "key-b", transport=recorder, rate_limit=False)
    first.ping()
    second.ping()
    assert [call[1]["apikey"] for call in recorder.calls] == ["key-a", "key-b"]
