"""Reads retry with backoff; an order is sent once, and a lost answer is looked up by tag."""

import json
from decimal import Decimal

import pytest
import requests

from tests.openalgo.common import HOST, KEY, url
from urllib3.exceptions import MaxRetryError, NewConnectionError

from brokers.openalgo import (
    BrokerFailure,
    BrokerTimeout,
    NotSupported,
    OpenAlgoClient,
    OrderPendingApproval,
    RateLimited,
    RetryPolicy,
    ValidationRejected,
)
from brokers.openalgo_types import Placement

TAG = "ah-42-pe-1"
ORDER = {
    "symbol": "NIFTY01DEC2622000PE",
    "exchange": "NFO",
    "action": "BUY",
    "quantity": 65,
    "pricetype": "LIMIT",
    "product": "NRML",
    "price": Decimal("4.60"),
}
FUNDS = {"availablecash": 1, "collateral": 0, "m2mrealized": 0, "m2munrealized": 0, "utiliseddebits": 0}
STATS = {
    "total_buy_orders": 1,
    "total_sell_orders": 0,
    "total_completed_orders": 0,
    "total_open_orders": 1,
    "total_rejected_orders": 0,
}


def endpoints(api) -> list[str]:
    return [call.request.url.rsplit("/", 1)[1] for call in api.calls]


def book(*tags: str) -> dict:
    orders = [
        {"orderid": f"10{n}", "symbol": ORDER["symbol"], "exchange": "NFO", "action": "BUY", "quantity": 65,
         "price": 4.6, "pricetype": "LIMIT", "product": "NRML", "order_status": "open", "strategy": tag}
        for n, tag in enumerate(tags)
    ]
    return {"status": "success", "data": {"orders": orders, "statistics": STATS}}



@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    return OpenAlgoClient(HOST, KEY, rate_limit=False, sleep=sleeps.append)


# --- reads retry -----------------------------------------------------------------------


def test_read_retries_a_500_then_succeeds(api, client, sleeps):
    api.post(url("funds"), status=500, json={"status": "error", "message": "broker down"})
    api.post(url("funds"), json={"status": "success", "data": FUNDS})
    assert client.funds().available_cash == Decimal(1)
    assert endpoints(api) == ["funds", "funds"]
    assert sleeps == [0.5]


def test_read_gives_up_after_bounded_exponential_backoff(api, client, sleeps):
    api.post(url("positionbook"), body=requests.ReadTimeout())
    with pytest.raises(BrokerTimeout):
        client.positionbook()
    assert endpoints(api) == ["positionbook"] * 3
    assert sleeps == [0.5, 1.0]


def test_backoff_is_capped():
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=3.0)
    timeout = BrokerTimeout("funds", "slow")
    assert [policy.delay(n, timeout) for n in range(1, 6)] == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_read_honours_the_rate_limit_window(api, client, sleeps):
    api.post(url("quotes"), status=429, json={"message": "50 per 2 second"})
    api.post(url("quotes"), json={"status": "success", "data": {"ltp": 4.5}})
    assert client.quotes("X", "NFO").ltp == Decimal("4.5")
    assert sleeps == [2.0]  # the window, longer than the first backoff step


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"status": "error", "message": {"foo": ["Unknown field."]}}, ValidationRejected),
        (501, {"status": "error", "message": "not implemented"}, NotSupported),
        (200, {"status": "success", "data": {"availablecash": None}}, BrokerFailure),
    ],
)
def test_read_does_not_retry_what_cannot_get_better(api, client, sleeps, status, body, error):
    api.post(url("funds"), status=status, json=body)
    with pytest.raises(error):
        client.funds()
    assert endpoints(api) == ["funds"]
    assert sleeps == []


# --- writes are sent once ----------------------------------------------------------------


def test_place_order_sends_once_and_returns_the_order_id(api, client):
    api.post(url("placeorder"), json={"status": "success", "orderid": "250101000007"})
    ack = client.place_order(strategy=TAG, **ORDER)
    assert ack.order_id == "250101000007"
    assert json.loads(api.calls[0].request.body) == {
        "apikey": KEY,
        "strategy": TAG,
        "symbol": "NIFTY01DEC2622000PE",
        "exchange": "NFO",
        "action": "BUY",
        "quantity": 65,
        "pricetype": "LIMIT",
        "product": "NRML",
        "price": "4.60",
        "disclosed_quantity": 0,
    }


@pytest.mark.parametrize(
    "failure",
    [requests.ReadTimeout(), requests.ConnectionError("Connection aborted")],
)
def test_place_order_is_never_retried(api, client, sleeps, failure):
    api.post(url("placeorder"), body=failure)
    with pytest.raises((BrokerTimeout, BrokerFailure)):
        client.place_order(strategy=TAG, **ORDER)
    assert endpoints(api) == ["placeorder"]
    assert sleeps == []


@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        ("placeorder", lambda c: c.place_order(strategy=TAG, **ORDER)),
        ("cancelorder", lambda c: c.cancel_order("1", TAG)),
    ],
)
def test_writes_are_not_retried_on_500_or_429(api, client, sleeps, endpoint, call):
    api.post(url(endpoint), status=500, json={"status": "error", "message": "Failed to place order due to internal error"})
    with pytest.raises(BrokerFailure):
        call(client)
    api.post(url(endpoint), status=429, json={"message": "10 per 1 second"})
    with pytest.raises(RateLimited):
        call(client)
    assert endpoints(api) == [endpoint, endpoint]
    assert sleeps == []


def test_semi_auto_answer_is_not_an_order(api, client):
    api.post(
        url("placeorder"),
        json={
            "status": "success",
            "mode": "semi_auto",
            "pending_order_id": 1,
            "message": "Order queued for approval in Action Center",
        },
    )
    with pytest.raises(OrderPendingApproval) as caught:
        client.place_order(strategy=TAG, **ORDER)
    assert caught.value.pending_order_id == "1"
    assert "queued for approval" in str(caught.value)


# --- place_order_or_find -------------------------------------------------------------------


def test_placed(api, client):
    api.post(url("placeorder"), json={"status": "success", "orderid": "250101000007"})
    outcome = client.place_order_or_find(TAG, **ORDER)
    assert (outcome.status, outcome.order_id, outcome.tag) == (Placement.PLACED, "250101000007", TAG)
    assert endpoints(api) == ["placeorder"]


def test_timeout_then_found_in_the_order_book_by_tag(api, client):
    api.post(url("placeorder"), body=requests.ReadTimeout())
    api.post(url("orderbook"), json=book("someone-else", TAG))
    outcome = client.place_order_or_find(TAG, **ORDER)
    assert endpoints(api) == ["placeorder", "orderbook"]  # looked up, never placed twice
    assert outcome.status is Placement.FOUND_AFTER_TIMEOUT
    assert outcome.order_id == "101"
    assert outcome.order is not None and outcome.order.strategy == TAG
    assert "timed out" in outcome.error


def test_timeout_and_not_in_the_order_book_is_unknown(api, client):
    api.post(url("placeorder"), body=requests.ReadTimeout())
    api.post(url("orderbook"), json=book("someone-else"))
    outcome = client.place_order_or_find(TAG, **ORDER)
    assert endpoints(api) == ["placeorder", "orderbook"]
    assert (outcome.status, outcome.order_id) == (Placement.UNKNOWN, None)


@pytest.mark.parametrize(
    "lost",
    [
        {"status": 500, "json": {"status": "error", "message": "Failed to place order due to internal error"}},
        {"body": requests.ConnectionError("Connection aborted: RemoteDisconnected")},
        {"status": 200, "body": '{"status": "success", "orderid": '},
    ],
    ids=["500", "dropped-after-sending", "unreadable-answer"],
)
def test_other_lost_answers_are_looked_up_too(api, client, lost):
    api.post(url("placeorder"), **lost)
    api.post(url("orderbook"), json=book(TAG))
    outcome = client.place_order_or_find(TAG, **ORDER)
    assert endpoints(api) == ["placeorder", "orderbook"]
    assert (outcome.status, outcome.order_id) == (Placement.FOUND_AFTER_TIMEOUT, "100")


def test_lookup_that_fails_leaves_the_order_unknown(api, client, sleeps):
    api.post(url("placeorder"), body=requests.ReadTimeout())
    api.post(url("orderbook"), body=requests.ReadTimeout())
    outcome = client.place_order_or_find(TAG, **ORDER)
    assert endpoints(api) == ["placeorder", "orderbook", "orderbook", "orderbook"]
    assert sleeps == [0.5, 1.0]  # the lookup is a read: it retries
    assert outcome.status is Placement.UNKNOWN
    assert "lookup failed" in outcome.error


def test_refused_before_sending_propagates_without_lookup(api, client):
    refused = MaxRetryError(None, "/api/v1/placeorder", NewConnectionError(None, "Connection refused"))
    api.post(url("placeorder"), body=requests.ConnectionError(refused))
    with pytest.raises(BrokerFailure) as caught:
        client.place_order_or_find(TAG, **ORDER)
    assert caught.value.request_sent is False
    assert endpoints(api) == ["placeorder"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            {"status": 400, "json": {"status": "error", "message": "Quantity must be in multiples of lot size 65"}},
            ValidationRejected,
        ),
        ({"status": 429, "json": {"message": "10 per 1 second"}}, RateLimited),
        ({"json": {"status": "success", "mode": "semi_auto", "pending_order_id": 3, "message": "queued"}}, OrderPendingApproval),
    ],
)
def test_refusals_propagate_without_lookup(api, client, answer, error):
    api.post(url("placeorder"), **answer)
    with pytest.raises(error):
        client.place_order_or_find(TAG, **ORDER)
    assert endpoints(api) == ["placeorder"]
