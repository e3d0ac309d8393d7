"""Every endpoint over real loopback HTTP, as OpenAlgo's clients see it."""

import ast

import pytest
import requests

from brokers.simbroker.ratelimit import RateLimiter

ENDPOINTS = ["funds", "margin", "positionbook", "placeorder", "modifyorder", "cancelorder", "orderstatus",
             "orderbook", "tradebook", "quotes", "multiquotes", "optionchain", "optionsymbol", "expiry", "ping",
             "analyzer", "analyzer/toggle"]
CE, PE = "NIFTY24NOV2624000CE", "NIFTY24NOV2624000PE"


@pytest.fixture
def api(simbroker_server):
    session = requests.Session()

    def post(endpoint: str, **body):
        response = session.post(f"{simbroker_server.url}/api/v1/{endpoint}",
                                json={"apikey": simbroker_server.api_key, **body}, timeout=5)
        return response.status_code, response.json()

    yield post
    session.close()


def place(api, symbol=CE, action="SELL", quantity=65, **extra):
    return api("placeorder", strategy=extra.pop("strategy", "P1"), exchange="NFO", symbol=symbol, action=action,
               quantity=quantity, **extra)


# --- success shapes ---------------------------------------------------------------------


def test_ping_answers_pong_from_the_simulated_broker(api):
    assert api("ping") == (200, {"status": "success", "data": {"message": "pong", "broker": "simulated"}})


def test_analyzer_mode_is_switched_over_openalgos_own_call(api):
    assert api("analyzer/toggle", mode=True)[1]["data"]["mode"] == "analyze"
    status, answer = api("funds")
    assert status == 200 and answer["mode"] == "analyze" and answer["data"]["availablecash"] == 5000000.0
    assert api("analyzer")[1]["data"]["analyze_mode"] is True


def test_funds_carries_the_five_amounts_as_strings(api):
    status, answer = api("funds")
    assert status == 200 and answer["status"] == "success"
    assert answer["data"] == {"availablecash": "5000000.00", "collateral": "0.00", "m2mrealized": "0.00",
                              "m2munrealized": "0.00", "utiliseddebits": "0.00"}


def test_placeorder_answers_an_orderid_string_and_the_order_shows_everywhere(api):
    status, answer = place(api)
    assert status == 200 and answer["status"] == "success" and isinstance(answer["orderid"], str)
    orderid = answer["orderid"]

    status, book = api("orderbook")
    assert status == 200
    [row] = book["data"]["orders"]
    assert row["orderid"] == orderid and row["strategy"] == "P1" and row["order_status"] == "complete"
    assert row["quantity"] == "65" and row["filled_quantity"] == "65" and row["pending_quantity"] == "0"
    assert book["data"]["statistics"]["total_sell_orders"] == 1
    assert book["data"]["statistics"]["total_completed_orders"] == 1

    status, order_status = api("orderstatus", strategy="P1", orderid=orderid)
    assert status == 200 and order_status["data"]["order_status"] == "complete"
    assert order_status["data"]["average_price"] > 0 and order_status["data"]["pricetype"] == "MARKET"

    status, trades = api("tradebook")
    assert status == 200
    assert [(t["orderid"], t["action"], t["quantity"]) for t in trades["data"]] == [(orderid, "SELL", 65)]
    assert trades["data"][0]["trade_value"] == pytest.approx(65 * trades["data"][0]["average_price"])

    status, positions = api("positionbook")
    assert status == 200
    [position] = positions["data"]
    assert position["symbol"] == CE and position["quantity"] == "-65"
    assert set(position) >= {"exchange", "product", "average_price", "ltp", "pnl"}


def test_selling_a_straddle_uses_margin_and_brings_in_premium(api):
    place(api, CE)
    place(api, PE)
    funds = api("funds")[1]["data"]
    assert float(funds["utiliseddebits"]) == pytest.approx(433000, rel=0.01)
    status, trades = api("tradebook")
    premium = sum(t["trade_value"] for t in trades["data"])
    assert float(funds["availablecash"]) == pytest.approx(5000000 + premium - float(funds["utiliseddebits"]))


def test_modify_and_cancel_an_open_limit_order(api):
    status, answer = place(api, action="BUY", pricetype="LIMIT", price=1)
    orderid = answer["orderid"]
    modify = dict(strategy="P1", orderid=orderid, exchange="NFO", symbol=CE, action="BUY", product="MIS",
                  pricetype="LIMIT", price=2, quantity=130, trigger_price=0, disclosed_quantity=0)
    assert api("modifyorder", **modify) == (200, {"status": "success", "orderid": orderid,
                                                   "message": "Order modified successfully"})
    assert api("orderstatus", strategy="P1", orderid=orderid)[1]["data"]["quantity"] == "130"
    assert api("cancelorder", strategy="P1", orderid=orderid) == (
        200, {"status": "success", "orderid": orderid, "message": "Order cancelled successfully"})
    assert api("orderstatus", strategy="P1", orderid=orderid)[1]["data"]["order_status"] == "cancelled"


def test_quotes_of_an_option_and_of_the_index(api):
    status, answer = api("quotes", symbol=CE, exchange="NFO")
    assert status == 200
    data = answer["data"]
    assert set(data) == {"open", "high", "low", "ltp", "ask", "bid", "prev_close", "volume", "oi"}
    assert data["ask"] == pytest.approx(data["ltp"] + 0.05) and data["bid"] == pytest.approx(data["ltp"] - 0.05)
    index = api("quotes", symbol="SENSEX", exchange="BSE_INDEX")[1]["data"]
    assert index["ltp"] == 80000 and index["bid"] == index["ask"] == 0


UNLISTED = "NIFTY24NOV2624010CE"
NOT_IN_MASTER = ("Symbol 'NIFTY24NOV2624010CE' not found for exchange 'NFO'. Please verify the symbol name and "
                 "ensure master contracts are downloaded.")


def test_multiquotes_lists_the_refused_symbols_first_then_the_others_in_order(api):
    status, answer = api("multiquotes", symbols=[{"symbol": CE, "exchange": "NFO"},
                                                 {"symbol": "NIFTY", "exchange": "NSE_INDEX"},
                                                 {"symbol": UNLISTED, "exchange": "NFO"}])
    assert status == 200 and answer["status"] == "success"
    bad, first, index = answer["results"]
    assert bad == {"symbol": UNLISTED, "exchange": "NFO", "error": NOT_IN_MASTER}
    assert first["symbol"] == CE and first["data"]["ltp"] > 0
    assert index["symbol"] == "NIFTY" and index["data"]["ltp"] == 24000


def test_multiquotes_with_no_listed_symbol_is_400_naming_them(api):
    status, answer = api("multiquotes", symbols=[{"symbol": UNLISTED, "exchange": "NFO"}])
    assert (status, answer) == (400, {"status": "error", "message": NOT_IN_MASTER, "invalid_symbols": [
        {"symbol": UNLISTED, "exchange": "NFO", "error": NOT_IN_MASTER}]})


def test_quotes_of_an_unlisted_symbol_is_400(api):
    assert api("quotes", symbol=UNLISTED, exchange="NFO") == (400, {"status": "error", "message": NOT_IN_MASTER})


def test_optionchain_answers_at_top_level_with_labels_lot_and_tick_size(api):
    status, answer = api("optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26", strike_count=2)
    assert status == 200 and "data" not in answer
    assert (answer["underlying"], answer["underlying_ltp"], answer["expiry_date"], answer["atm_strike"]) == (
        "NIFTY", 24000, "24NOV26", 24000)
    assert [row["strike"] for row in answer["chain"]] == [23900, 23950, 24000, 24050, 24100]
    assert [row["ce"]["label"] for row in answer["chain"]] == ["ITM2", "ITM1", "ATM", "OTM1", "OTM2"]
    assert [row["pe"]["label"] for row in answer["chain"]] == ["OTM2", "OTM1", "ATM", "ITM1", "ITM2"]
    leg = answer["chain"][4]["ce"]
    assert leg["symbol"] == "NIFTY24NOV2624100CE" and leg["lotsize"] == 65 and leg["tick_size"] == 0.05
    assert leg["ask"] > leg["ltp"] > leg["bid"] > 0 and leg["bid_qty"] > 0 and leg["ask_qty"] > 0


def test_optionchain_without_strike_count_answers_the_whole_chain(api):
    status, answer = api("optionchain", underlying="SENSEX", exchange="BSE_INDEX", expiry_date="24NOV26")
    assert status == 200 and len(answer["chain"]) > 100
    assert answer["chain"][0]["ce"]["lotsize"] == 20


def test_optionchain_answers_strike_count_strikes_each_side_of_the_atm_and_no_more_than_are_listed(api):
    answer = api("optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26", strike_count=10)[1]
    chain = answer["chain"]
    assert len(chain) == 21 and chain[10]["strike"] == answer["atm_strike"]
    assert (chain[0]["ce"]["label"], chain[-1]["ce"]["label"]) == ("ITM10", "OTM10")
    whole = api("optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26", strike_count=100)[1]
    assert len(whole["chain"]) == 121  # 60 listed each side


def test_optionchain_for_an_unknown_expiry_is_404(api):
    status, answer = api("optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="25NOV26")
    assert status == 404 and answer["status"] == "error" and "No strikes found" in answer["message"]


def test_optionsymbol_resolves_offsets_from_the_atm_strike(api):
    status, answer = api("optionsymbol", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26",
                         offset="OTM10", option_type="PE")
    assert status == 200
    assert answer == {"status": "success", "symbol": "NIFTY24NOV2623500PE", "exchange": "NFO", "lotsize": 65,
                      "tick_size": 0.05, "freeze_qty": 1800, "underlying_ltp": 24000.0}
    assert api("optionsymbol", underlying="SENSEX", exchange="BSE_INDEX", expiry_date="24NOV26", offset="ITM2",
               option_type="CE")[1]["symbol"] == "SENSEX24NOV2679800CE"


def test_expiry_answers_dd_mmm_yy_strings(api):
    status, answer = api("expiry", symbol="NIFTY", exchange="NFO", instrumenttype="options")
    assert status == 200
    assert answer["data"] == ["24-NOV-26", "01-DEC-26", "08-DEC-26", "15-DEC-26"]


def test_margin_answers_total_span_and_exposure(api):
    positions = [{"symbol": symbol, "exchange": "NFO", "action": "SELL", "quantity": "65", "product": "MIS",
                  "pricetype": "MARKET"} for symbol in (CE, PE)]
    status, answer = api("margin", positions=positions)
    assert status == 200
    data = {name: float(value) for name, value in answer["data"].items()}
    assert data["total_margin_required"] == pytest.approx(433000, rel=0.01)
    assert data["total_margin_required"] == pytest.approx(data["span_margin"] + data["exposure_margin"])


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_wrong_apikey_is_403_on_every_endpoint(simbroker_server, endpoint):
    valid = VALID_BODIES[endpoint]
    response = requests.post(f"{simbroker_server.url}/api/v1/{endpoint}", json={**valid, "apikey": "wrong"}, timeout=5)
    assert response.status_code == 403
    assert response.json() == {"status": "error", "message": "Invalid openalgo apikey"}


VALID_BODIES = {
    "funds": {}, "positionbook": {}, "orderbook": {}, "tradebook": {}, "ping": {},
    "placeorder": {"strategy": "P1", "exchange": "NFO", "symbol": CE, "action": "BUY", "quantity": 65},
    "modifyorder": {"strategy": "P1", "orderid": "1", "exchange": "NFO", "symbol": CE, "action": "BUY",
                    "product": "MIS", "pricetype": "LIMIT", "price": 1, "quantity": 65, "trigger_price": 0,
                    "disclosed_quantity": 0},
    "cancelorder": {"strategy": "P1", "orderid": "1"},
    "orderstatus": {"strategy": "P1", "orderid": "1"},
    "margin": {"positions": [{"symbol": CE, "exchange": "NFO", "action": "BUY", "quantity": "65", "product": "MIS",
                              "pricetype": "MARKET"}]},
    "quotes": {"symbol": CE, "exchange": "NFO"},
    "multiquotes": {"symbols": [{"symbol": CE, "exchange": "NFO"}]},
    "optionchain": {"underlying": "NIFTY", "exchange": "NSE_INDEX", "expiry_date": "24NOV26"},
    "optionsymbol": {"underlying": "NIFTY", "exchange": "NSE_INDEX", "expiry_date": "24NOV26", "offset": "ATM",
                     "option_type": "CE"},
    "expiry": {"symbol": "NIFTY", "exchange": "NFO", "instrumenttype": "options"},
    "analyzer": {}, "analyzer/toggle": {"mode": False},
}
OBJECT_FORM = {"funds", "positionbook", "orderbook", "tradebook", "ping", "quotes", "multiquotes", "expiry"}
STRING_FORM = {"placeorder", "modifyorder", "cancelorder", "orderstatus", "margin", "analyzer", "analyzer/toggle"}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_field_is_400_in_the_endpoints_own_message_form(api, endpoint):
    status, answer = api(endpoint, **VALID_BODIES[endpoint], foo=1)
    assert status == 400 and answer["status"] == "error"
    if endpoint in OBJECT_FORM:
        assert answer["message"] == {"foo": ["Unknown field."]}
    elif endpoint in STRING_FORM:
        assert answer["message"] == "{'foo': ['Unknown field.']}"
        assert ast.literal_eval(answer["message"]) == {"foo": ["Unknown field."]}
    else:
        assert answer["message"] == "Validation error" and answer["errors"] == {"foo": ["Unknown field."]}


def test_a_missing_field_is_named_in_a_python_style_string(api):
    status, answer = api("placeorder", strategy="P1", exchange="NFO", action="BUY", quantity=65)
    assert (status, answer) == (400, {"status": "error", "message": "{'symbol': ['Missing data for required field.']}"})


def test_margin_refuses_a_quantity_sent_as_a_number(api):
    positions = [{"symbol": CE, "exchange": "NFO", "action": "BUY", "quantity": 65, "product": "MIS",
                  "pricetype": "MARKET"}]
    status, answer = api("margin", positions=positions)
    assert status == 400
    assert answer["message"] == "{'positions': {0: {'quantity': ['Not a valid string.']}}}"


def test_quantity_must_be_a_multiple_of_the_lot_size(api):
    assert place(api, quantity=50) == (400, {"status": "error", "message": "Quantity must be in multiples of lot size 65"})
    status, answer = api("placeorder", strategy="S1", exchange="BFO", symbol="SENSEX24NOV2680000CE", action="SELL",
                         quantity=30)
    assert (status, answer["message"]) == (400, "Quantity must be in multiples of lot size 20")


def test_a_limit_order_needs_a_price(api):
    assert place(api, pricetype="LIMIT") == (400, {"status": "error", "message": "LIMIT orders require price"})


def test_an_unknown_order_is_404(api):
    assert api("orderstatus", strategy="P1", orderid="123") == (404, {"status": "error", "message": "Order 123 not found"})
    assert api("cancelorder", strategy="P1", orderid="123")[0] == 404


def test_cancelling_a_complete_order_is_400(api):
    orderid = place(api)[1]["orderid"]
    assert api("cancelorder", strategy="P1", orderid=orderid) == (
        400, {"status": "error", "message": "Cannot cancel order in complete status"})


def test_malformed_json_is_400_with_a_non_openalgo_message(simbroker_server):
    response = requests.post(f"{simbroker_server.url}/api/v1/funds", data=b'{"apikey": ',
                             headers={"Content-Type": "application/json"}, timeout=5)
    assert response.status_code == 400
    assert "status" not in response.json() and "decode JSON" in response.json()["message"]


def test_a_request_without_content_type_is_500(simbroker_server):
    response = requests.post(f"{simbroker_server.url}/api/v1/funds", data=b'{"apikey": "demo"}', timeout=5)
    assert response.status_code == 500
    assert response.json() == {"status": "error", "message": "An unexpected error occurred"}


def test_an_unknown_endpoint_is_404(simbroker_server):
    response = requests.post(f"{simbroker_server.url}/api/v1/nosuchcall", json={"apikey": "demo"}, timeout=5)
    assert response.status_code == 404


def test_behind_a_reverse_proxy_path_the_api_still_answers(simbroker_server):
    from brokers.openalgo import OpenAlgoClient

    client = OpenAlgoClient(f"{simbroker_server.url}/openalgo-7", simbroker_server.api_key, rate_limit=False)
    assert client.funds().available_cash > 0
    assert requests.post(f"{simbroker_server.url}/openalgo-7/funds", json={"apikey": "demo"}, timeout=5).status_code == 404


def test_over_the_rate_limit_the_answer_is_429_with_only_a_message(simbroker_server, api):
    sim = simbroker_server.sim
    sim.limiter = RateLimiter(monotonic=lambda: 0.0)  # time stands still: the window never moves
    sim.rate_limits = True
    answers = [api("cancelorder", strategy="P1", orderid="1") for _ in range(11)]
    assert [status for status, _ in answers] == [404] * 10 + [429]
    response = requests.post(f"{simbroker_server.url}/api/v1/cancelorder",
                             json={"apikey": "demo", "strategy": "P1", "orderid": "1"}, timeout=5)
    assert response.status_code == 429
    assert response.json() == {"message": "10 per 1 second"}
    assert "Retry-After" not in response.headers
    assert api("funds")[0] == 200  # other endpoints have their own window


def test_optionsymbol_refuses_an_offset_beyond_fifty(api):
    status, answer = api("optionsymbol", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26",
                         offset="OTM51", option_type="CE")
    assert (status, answer) == (400, {"status": "error", "message": "Validation error",
                                      "errors": {"offset": ["Offset must be ATM, ITM1-ITM50, or OTM1-OTM50"]}})
