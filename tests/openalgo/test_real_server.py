"""What a real OpenAlgo server (2.0.x, analyzer mode, loopback) answered to
bench/real_openalgo.py, word for word but trimmed; and the read timeouts and bounds sized
from how long it took (docs/openalgo.md)."""

from datetime import date
from decimal import Decimal

import pytest
import requests

from brokers.openalgo import (
    BrokerTimeout,
    NotAuthorised,
    NotFound,
    OpenAlgoClient,
    OrderNotFound,
    RetryPolicy,
    ValidationRejected,
    slow_read_timeout,
)
from brokers.openalgo_types import MarginLeg
from tests.openalgo.common import HOST, KEY, url


@pytest.fixture
def client():
    return OpenAlgoClient(HOST, KEY, rate_limit=False, sleep=lambda seconds: None)


ANALYZE = {"mode": "analyze", "status": "success"}
OPEN_ORDER = {
    "action": "BUY", "average_price": 0.0, "exchange": "NFO", "filled_quantity": 0, "order_status": "open",
    "orderid": "26120496990836", "pending_quantity": 65, "price": 35.54, "price_type": "LIMIT", "product": "NRML",
    "quantity": 65, "strategy": "real-bench-open", "symbol": "NIFTY08DEC2626350CE", "timestamp": "2026-12-04 10:42:29",
    "trigger_price": 0.0,
}
BOOK_ROW = {
    "action": "BUY", "average_price": 142.1, "exchange": "NFO", "filled_quantity": 65, "order_status": "complete",
    "orderid": "26120477819468", "pending_quantity": 0, "price": 149.26, "pricetype": "LIMIT", "product": "NRML",
    "quantity": 65, "rejection_reason": "", "strategy": "real-bench-1796361150", "symbol": "NIFTY08DEC2626350CE",
    "timestamp": "2026-12-04 10:42:30", "trigger_price": 0.0,
}


def leg(symbol, label, ltp):
    return {"symbol": symbol, "label": label, "ltp": ltp, "bid": round(ltp - 0.05, 2), "ask": round(ltp + 0.05, 2),
            "bid_qty": 0, "ask_qty": 0, "open": 140.46, "high": 164.88, "low": 137.4, "prev_close": 0, "volume": 1000,
            "oi": 228041, "lotsize": 65, "tick_size": 0.05}


CHAIN = {
    "status": "success", "underlying": "NIFTY", "underlying_symbol": "NIFTY", "underlying_exchange": "NSE_INDEX",
    "underlying_ltp": 25966.88, "underlying_prev_close": 0, "expiry_date": "08DEC26", "expiry_ts": 1796724000,
    "server_ts": 1796361127, "atm_strike": 25950.0, "quotes_included": True, "greeks_included": False,
    "forward_price": None,
    "chain": [
        {"strike": 25950.0, "ce": leg("NIFTY08DEC2625950CE", "ATM", 197.93), "pe": leg("NIFTY08DEC2625950PE", "ATM", 153.98)},
        {"strike": 26000.0, "ce": leg("NIFTY08DEC2626000CE", "OTM1", 152.67), "pe": leg("NIFTY08DEC2626000PE", "ITM1", 158.26)},
    ],
}


# --- answer shapes ------------------------------------------------------------------------


def test_sandbox_funds_with_its_extra_fields(api, client):
    data = {"availablecash": 9990298.1, "collateral": 0.0, "grossexposure": 9701.9, "last_reset": "2026-12-04 10:42:01",
            "m2mrealized": 0.0, "m2munrealized": 0.0, "reset_count": 0, "today_realized_pnl": 0.0,
            "total_realized_pnl": 0.0, "totalpnl": 0.0, "utiliseddebits": 9701.9}
    api.post(url("funds"), json={**ANALYZE, "data": data})
    funds = client.funds()
    assert (funds.utilised_debits, funds.available_cash, funds.sandbox) == (Decimal("9701.9"), Decimal("9990298.1"), True)


def test_sandbox_positionbook_with_its_totals(api, client):
    row = {"average_price": 142.1, "exchange": "NFO", "lot_size": 1.0, "ltp": 142.1, "pnl": 0.0, "pnlpercent": 0.0,
           "product": "NRML", "quantity": 65, "symbol": "NIFTY08DEC2626350CE", "today_realized_pnl": 0.0,
           "total_pnl_today": 0.0, "unrealized_pnl": 0.0}
    api.post(url("positionbook"), json={**ANALYZE, "data": [row], "total_pnl": 0.0, "total_pnl_today": 0.0,
                                        "total_today_realized_pnl": 0.0, "total_unrealized_pnl": 0.0})
    (position,) = client.positionbook()
    assert (position.symbol, position.quantity, position.product, position.pnl) == ("NIFTY08DEC2626350CE", 65, "NRML", 0)


def test_sandbox_placeorder_and_its_refusals(api, client):
    api.post(url("placeorder"), json={**ANALYZE, "orderid": "26120496990836"})
    api.post(url("placeorder"), status=400,
             json={"message": "Quantity must be in multiples of lot size 65", "mode": "analyze", "status": "error"})
    order = {"symbol": "NIFTY08DEC2626350CE", "exchange": "NFO", "action": "BUY", "pricetype": "LIMIT",
             "product": "NRML", "price": Decimal("35.55")}
    assert client.place_order(strategy="t", quantity=65, **order).order_id == "26120496990836"
    with pytest.raises(ValidationRejected, match="multiples of lot size 65") as refused:
        client.place_order(strategy="t", quantity=1, **order)
    assert refused.value.field_errors == {}


def test_sandbox_orderstatus_spells_price_type_and_names_the_strategy(api, client):
    api.post(url("orderstatus"), json={**ANALYZE, "data": OPEN_ORDER})
    order = client.order_status("26120496990836", "real-bench-open")
    assert (order.status, order.pricetype, order.strategy, order.filled_quantity, order.pending_quantity) == (
        "open", "LIMIT", "real-bench-open", 0, 65)
    assert order.average_price == 0  # nothing filled: the executor takes no price from it


def test_sandbox_cancel_twice_and_an_unknown_order(api, client):
    api.post(url("cancelorder"), json={**ANALYZE, "message": "Order cancelled successfully", "orderid": "2612"})
    api.post(url("cancelorder"), status=400,
             json={"message": "Cannot cancel order in cancelled status", "mode": "analyze", "status": "error"})
    api.post(url("orderstatus"), status=404, json={"message": "Order 999999999 not found", "mode": "analyze", "status": "error"})
    assert client.cancel_order("2612", "t").message == "Order cancelled successfully"
    with pytest.raises(ValidationRejected, match="cancelled status"):
        client.cancel_order("2612", "t")
    with pytest.raises(OrderNotFound):
        client.order_status("999999999", "t")


def test_sandbox_orderbook_and_tradebook(api, client):
    cancelled = {**BOOK_ROW, "order_status": "cancelled", "filled_quantity": 0, "pending_quantity": 65, "average_price": 0.0,
                 "orderid": "26120496990836", "strategy": "real-bench-open"}
    statistics = {"total_buy_orders": 2, "total_completed_orders": 1, "total_open_orders": 0, "total_rejected_orders": 0,
                  "total_sell_orders": 0, "total_trigger_pending_orders": 0}
    api.post(url("orderbook"), json={**ANALYZE, "data": {"orders": [BOOK_ROW, cancelled], "statistics": statistics}})
    trade = {"action": "BUY", "average_price": 142.1, "exchange": "NFO", "orderid": "26120477819468", "price": 142.1,
             "product": "NRML", "quantity": 65, "strategy": "real-bench-1796361150", "symbol": "NIFTY08DEC2626350CE",
             "timestamp": "2026-12-04 10:42:30", "trade_value": 9236.5, "tradeid": "TRADE-20261204-104230-b136b8ae"}
    api.post(url("tradebook"), json={**ANALYZE, "data": [trade]})
    book = client.orderbook()
    (found,) = book.by_strategy("real-bench-1796361150")
    assert (found.status, found.filled_quantity, found.average_price) == ("complete", 65, Decimal("142.1"))
    assert book.statistics.total_completed_orders == 1
    (filled,) = client.tradebook()
    assert (filled.order_id, filled.trade_value) == ("26120477819468", Decimal("9236.5"))


def test_margin_answer_with_the_brokers_raw_strings_inside(api, client):
    raw = {"commodity_margin": "0.00", "currency": "INR", "equity_margin": "0.00", "exposure_margin": "67600.00",
           "fo_margin": "270400.00", "hedge_benefit": "0.00", "span_margin": "202800.00", "total_margin": "270400.00"}
    data = {"commodity_margin": 0.0, "currency": "INR", "equity_margin": 0.0, "exposure_margin": 67600.0, "fo_margin": 270400.0,
            "hedge_benefit": "0.00", "margin_benefit": 0.0, "positions": [], "raw_response": raw, "span_margin": 202800.0,
            "total_margin": 270400.0, "total_margin_required": 270400.0}
    api.post(url("margin"), json={"status": "success", "data": data})  # no "mode": margin always asks the broker
    margin = client.margin([MarginLeg("NIFTY08DEC2625950CE", "NFO", "SELL", 65, "NRML")])
    assert (margin.total_margin_required, margin.span_margin, margin.hedge_benefit) == (
        Decimal("270400.0"), Decimal("202800.0"), Decimal("0.00"))


def test_index_quote_has_no_bid_or_ask(api, client):
    data = {"ask": 0, "bid": 0, "high": 26068.43, "low": 25912.3, "ltp": 25966.88, "oi": 5944, "open": 26001.92,
            "prev_close": 0, "volume": 1000}
    api.post(url("quotes"), json={"status": "success", "data": data})
    quote = client.quotes("NIFTY", "NSE_INDEX")
    assert (quote.ltp, quote.bid, quote.ask) == (Decimal("25966.88"), None, None)


def test_multiquotes_lists_an_unknown_symbol_first(api, client):
    refused = {"error": "Symbol 'NIFTY01JAN2099999CE' not found for exchange 'NFO'. Please verify the symbol name and "
                        "ensure master contracts are downloaded.", "exchange": "NFO", "symbol": "NIFTY01JAN2099999CE"}
    quoted = {"data": {"ask": 150.33, "bid": 150.23, "high": 162.3, "low": 135.25, "ltp": 150.28, "oi": 210283,
                       "open": 138.26, "prev_close": 0, "volume": 1000}, "exchange": "NFO", "symbol": "NIFTY08DEC2626200CE"}
    api.post(url("multiquotes"), json={"status": "success", "results": [refused, quoted]})
    answers = client.multiquotes([("NIFTY08DEC2626200CE", "NFO"), ("NIFTY01JAN2099999CE", "NFO")])
    by_symbol = {answer.symbol: answer for answer in answers}
    assert by_symbol["NIFTY08DEC2626200CE"].quote.ask == Decimal("150.33")
    assert by_symbol["NIFTY01JAN2099999CE"].quote is None
    assert "not found" in by_symbol["NIFTY01JAN2099999CE"].error


def test_option_chain_with_its_extra_top_level_fields(api, client):
    api.post(url("optionchain"), json=CHAIN)
    chain = client.option_chain("NIFTY", "NSE_INDEX", date(2026, 12, 8), strike_count=1)
    assert (chain.underlying_ltp, chain.atm_strike, chain.expiry_date) == (Decimal("25966.88"), Decimal("25950.0"), "08DEC26")
    assert [row.ce.label for row in chain.strikes] == ["ATM", "OTM1"]
    assert (chain.strikes[1].ce.ask, chain.strikes[1].ce.lotsize, chain.strikes[1].ce.tick_size) == (
        Decimal("152.72"), 65, Decimal("0.05"))


def test_option_chain_of_a_day_with_no_expiry(api, client):
    message = "No strikes found for NIFTY expiring 01JAN99. Please check expiry date or update master contract."
    api.post(url("optionchain"), status=404, json={"status": "error", "message": message})
    with pytest.raises(NotFound) as caught:
        client.option_chain("NIFTY", "NSE_INDEX", date(2099, 1, 1), strike_count=5)
    assert type(caught.value) is NotFound


def test_optionsymbol_expiry_ping_and_a_wrong_key(api, client):
    api.post(url("optionsymbol"), json={"status": "success", "symbol": "NIFTY08DEC2625950CE", "exchange": "NFO",
                                        "lotsize": 65, "tick_size": 0.05, "freeze_qty": 1800, "underlying_ltp": 25966.88})
    api.post(url("expiry"), json={"data": ["08-DEC-26", "15-DEC-26"], "message": "Found 2 expiry dates for NIFTY options in NFO",
                                  "status": "success"})
    api.post(url("ping"), json={"data": {"broker": "dhan_sandbox", "message": "pong"}, "status": "success"})
    api.post(url("ping"), status=403, json={"status": "error", "message": "Invalid openalgo apikey"})
    symbol = client.option_symbol("NIFTY", "NSE_INDEX", date(2026, 12, 8), "ATM", "CE")
    assert (symbol.lotsize, symbol.freeze_qty, symbol.tick_size) == (65, 1800, Decimal("0.05"))
    assert client.expiry("NIFTY", "NFO") == (date(2026, 12, 8), date(2026, 12, 15))
    assert client.ping().broker == "dhan_sandbox"
    with pytest.raises(NotAuthorised):
        client.ping()


# --- read timeouts sized from the real server's pace ---------------------------------------


class Recorder:
    """A transport that records each call's timeouts and answers from a list per endpoint
    (an exception in the list is raised)."""

    def __init__(self, answers):
        self.answers = {endpoint: list(items) for endpoint, items in answers.items()}
        self.calls = []

    def post(self, endpoint, body, timeout):
        self.calls.append((endpoint, timeout))
        answer = self.answers[endpoint].pop(0) if len(self.answers[endpoint]) > 1 else self.answers[endpoint][0]
        if isinstance(answer, Exception):
            raise answer
        return answer


QUOTES = (200, {"status": "success", "results": []})
FUNDS = (200, {"status": "success", "data": {"availablecash": 1, "collateral": 0, "m2mrealized": 0, "m2munrealized": 0,
                                               "utiliseddebits": 0}})


def recorded(answers, **options):
    transport = Recorder(answers)
    return OpenAlgoClient(HOST, KEY, timeout=(2.0, 5.0), transport=transport, rate_limit=False,
                          sleep=lambda seconds: None, **options), transport


def test_chain_read_timeout_grows_with_the_strikes_asked_for():
    client, transport = recorded({"optionchain": [(200, CHAIN)]})
    client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=25)  # the product's NIFTY default: 51 strikes
    client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=10)
    client.option_chain("NIFTY", "NSE_INDEX", "08DEC26")  # the whole chain
    reads = [timeout[1] for _, timeout in transport.calls]
    assert reads == pytest.approx([5 + 2 * 0.35 * 51, 5 + 2 * 0.35 * 21, 5 + 2 * 0.35 * 201])
    assert reads[0] > 2 * 18.2  # twice the slowest 51-strike chain measured


def test_multiquotes_read_timeout_grows_with_the_symbols():
    client, transport = recorded({"multiquotes": [QUOTES]})
    client.multiquotes([(f"S{n}", "NFO") for n in range(8)])  # the product's: 4 candidates a side
    client.multiquotes([(f"S{n}", "NFO") for n in range(62)])
    assert [timeout for _, timeout in transport.calls] == [
        (2.0, pytest.approx(5 + 2 * 0.16 * 8)), (2.0, pytest.approx(5 + 2 * 0.16 * 62))]
    assert transport.calls[1][1][1] > 2 * 9.7  # twice what 62 symbols took


def test_slow_read_timeout():
    assert slow_read_timeout(5.0, 0, 0.16) == pytest.approx(5.32)  # never under one item's worth
    assert slow_read_timeout(5.0, 10, 0.35) == pytest.approx(12.0)


@pytest.mark.parametrize("endpoint", ["optionchain", "multiquotes"])
def test_a_slow_read_that_timed_out_is_not_asked_again(endpoint):
    client, transport = recorded({endpoint: [BrokerTimeout(endpoint, "timed out waiting for the answer")]})
    with pytest.raises(BrokerTimeout):
        if endpoint == "optionchain":
            client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=25)
        else:
            client.multiquotes([("S", "NFO")])
    assert [name for name, _ in transport.calls] == [endpoint]  # the server is still quoting the first


def test_a_slow_read_never_sent_is_tried_again():
    unsent = BrokerTimeout("optionchain", "timed out connecting", request_sent=False)
    client, transport = recorded({"optionchain": [unsent, (200, CHAIN)]})
    assert client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=1).atm_strike == Decimal("25950.0")
    assert len(transport.calls) == 2


def test_other_reads_still_retry_a_timeout():
    client, transport = recorded({"funds": [BrokerTimeout("funds", "slow"), FUNDS]})
    assert client.funds().available_cash == 1
    assert len(transport.calls) == 2


# --- a bound on a piece of work's broker time -----------------------------------------------


def test_within_cuts_each_reads_timeouts_to_the_time_left():
    client, transport = recorded({"optionchain": [(200, CHAIN)], "funds": [FUNDS]})
    bound = client.within(8.0)
    bound.funds()
    bound.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=25)
    (_, funds), (_, chain) = transport.calls
    assert funds == (2.0, 5.0)  # under the bound: as it was
    assert chain[0] == 2.0 and 7.0 < chain[1] <= 8.0  # the chain's 40.7 s cut to what is left
    client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=25)
    assert transport.calls[-1][1][1] == pytest.approx(5 + 2 * 0.35 * 51)  # the client itself is not bound


def test_within_spent_sends_no_read():
    client, transport = recorded({"funds": [FUNDS]})
    bound = client.within(0)
    with pytest.raises(BrokerTimeout) as caught:
        bound.funds()
    assert caught.value.request_sent is False
    assert transport.calls == []


def test_within_starts_no_retry_it_would_outlast():
    client, transport = recorded({"funds": [BrokerTimeout("funds", "slow"), FUNDS]},
                                 retry=RetryPolicy(attempts=3, base_delay=5.0))
    with pytest.raises(BrokerTimeout):
        client.within(3.0).funds()  # the first backoff (5 s) ends after the bound
    assert len(transport.calls) == 1
    assert client.funds().available_cash == 1  # unbound, the same client retries


def test_within_leaves_orders_alone():
    client, transport = recorded({"placeorder": [(200, {**ANALYZE, "orderid": "1"})],
                                  "cancelorder": [(200, {**ANALYZE, "orderid": "1", "message": "ok"})]})
    bound = client.within(0)
    assert bound.place_order(strategy="t", symbol="S", exchange="NFO", action="BUY", quantity=65).order_id == "1"
    assert bound.cancel_order("1", "t").order_id == "1"
    assert [timeout for _, timeout in transport.calls] == [(2.0, 5.0), (2.0, 5.0)]


def test_within_keeps_the_key_out_of_its_repr():
    bound = OpenAlgoClient(HOST, KEY, rate_limit=False).within(5)
    assert KEY not in repr(bound)


def test_real_http_chain_timeout_reaches_requests(api, client):
    api.post(url("optionchain"), body=requests.ReadTimeout("read timed out"))
    with pytest.raises(BrokerTimeout):
        client.option_chain("NIFTY", "NSE_INDEX", "08DEC26", strike_count=25)
    assert len(api.calls) == 1
    assert api.calls[0].request.req_kwargs["timeout"] == (2.0, pytest.approx(5 + 2 * 0.35 * 51))


def test_positionbook_gets_the_time_a_sandbox_takes_to_price_many_positions():
    book = (200, {**ANALYZE, "data": []})
    client, transport = recorded({"positionbook": [book]})
    client.positionbook()
    slow_reader, slow_transport = recorded({"positionbook": [book]})
    slow_reader._timeout = (2.0, 20.0)
    slow_reader.positionbook()
    assert [timeout for _, timeout in transport.calls + slow_transport.calls] == [(2.0, 15.0), (2.0, 20.0)]
