"""Every error shape OpenAlgo answers with, mapped to the client's exceptions."""

import pickle
import socket

import pytest
import requests

from tests.openalgo.common import HOST, KEY, url
from urllib3.exceptions import MaxRetryError, NewConnectionError

from brokers.openalgo import (
    BrokerFailure,
    BrokerTimeout,
    NotAuthorised,
    NotFound,
    NotSupported,
    OpenAlgoClient,
    OrderNotFound,
    RateLimited,
    RetryPolicy,
    ValidationRejected,
    field_errors,
    window_seconds,
)





@pytest.fixture
def client():
    # One attempt: these tests are about mapping, not retrying.
    return OpenAlgoClient(HOST, KEY, rate_limit=False, retry=RetryPolicy(attempts=1))


def error(message, **extra):
    return {"status": "error", "message": message, **extra}


# --- 400: the three forms and business refusals -------------------------------------


def test_400_json_object_form(api, client):  # funds, positionbook, quotes
    api.post(url("funds"), status=400, json=error({"foo": ["Unknown field."]}))
    with pytest.raises(ValidationRejected) as caught:
        client.funds()
    assert caught.value.status == 400
    assert caught.value.field_errors == {"foo": ("Unknown field.",)}
    assert caught.value.message == "foo: Unknown field."


def test_400_python_dict_string_form(api, client):  # placeorder, modify, cancel, orderstatus, margin
    api.post(url("orderstatus"), status=400, json=error("{'orderid': ['Missing data for required field.']}"))
    with pytest.raises(ValidationRejected) as caught:
        client.order_status("1", "tag")
    assert caught.value.field_errors == {"orderid": ("Missing data for required field.",)}
    assert "orderid: Missing data for required field." in str(caught.value)


def test_400_nested_field_errors_are_dotted(api, client):
    message = "{'positions': {0: {'quantity': ['Not a valid string.']}}}"
    api.post(url("margin"), status=400, json=error(message))
    with pytest.raises(ValidationRejected) as caught:
        client.margin([])
    assert caught.value.field_errors == {"positions.0.quantity": ("Not a valid string.",)}


def test_400_optionchain_validation_error_form(api, client):
    body = error("Validation error", errors={"expiry_date": ["Missing data for required field."]})
    api.post(url("optionchain"), status=400, json=body)
    with pytest.raises(ValidationRejected) as caught:
        client.option_chain("NIFTY", "NSE_INDEX", "")
    assert caught.value.field_errors == {"expiry_date": ("Missing data for required field.",)}
    assert caught.value.message == "Validation error: expiry_date: Missing data for required field."


@pytest.mark.parametrize(
    "message",
    ["Quantity must be in multiples of lot size 65", "LIMIT orders require price", "Cannot cancel order in complete status"],
)
def test_400_business_refusal_is_a_plain_message(api, client, message):
    api.post(url("cancelorder"), status=400, json=error(message))
    with pytest.raises(ValidationRejected) as caught:
        client.cancel_order("1", "tag")
    assert caught.value.field_errors == {}
    assert caught.value.message == message


def test_dict_string_is_read_as_literals_only():
    # eval would turn this into {'a': ['1']}; literal_eval refuses the call.
    assert field_errors({"message": "{'a': [str(1)]}"}) == {}
    assert field_errors({"message": "{'a': ['b']"}) == {}  # broken literal


def test_400_flask_malformed_json_message(api, client):
    api.post(url("funds"), status=400, json={"message": "Failed to decode JSON object: Expecting value"})
    with pytest.raises(ValidationRejected, match="Failed to decode JSON object"):
        client.funds()


# --- 403, 404, 501, 500 ---------------------------------------------------------------


def test_403_not_authorised(api, client):
    api.post(url("funds"), status=403, json=error("Invalid openalgo apikey"))
    with pytest.raises(NotAuthorised) as caught:
        client.funds()
    assert (caught.value.status, caught.value.message) == (403, "Invalid openalgo apikey")


def test_404_unknown_order(api, client):
    api.post(url("orderstatus"), status=404, json=error("Order 123 not found"))
    with pytest.raises(OrderNotFound) as caught:
        client.order_status("123", "tag")
    assert caught.value.status == 404


def test_404_broker_without_the_feature(api, client):
    api.post(url("margin"), status=404, json=error("Margin calculation not supported for broker: dhan"))
    with pytest.raises(NotSupported):
        client.margin([])


def test_404_endpoint_missing_on_an_older_server(api, client):
    message = (
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
    )
    api.post(url("optionsymbol"), status=404, json={"message": message})
    with pytest.raises(NotSupported):
        client.option_symbol("NIFTY", "NSE_INDEX", "01DEC26", "OTM5", "PE")


def test_404_no_strikes_is_not_found_but_neither_order_nor_feature(api, client):
    message = "No strikes found for NIFTY expiring 01DEC26. Please check expiry date or update master contract."
    api.post(url("optionchain"), status=404, json=error(message))
    with pytest.raises(NotFound) as caught:
        client.option_chain("NIFTY", "NSE_INDEX", "01DEC26")
    assert not isinstance(caught.value, (OrderNotFound, NotSupported))


def test_501_not_implemented(api, client):
    api.post(url("margin"), status=501, json=error("Margin calculation not implemented for broker: x"))
    with pytest.raises(NotSupported) as caught:
        client.margin([])
    assert caught.value.status == 501


def test_500_broker_failure(api, client):
    api.post(url("margin"), status=500, json=error("Failed to calculate margin: [Errno 111] Connection refused"))
    with pytest.raises(BrokerFailure) as caught:
        client.margin([])
    assert caught.value.status == 500
    assert caught.value.message == "Failed to calculate margin: [Errno 111] Connection refused"


# --- 429 ------------------------------------------------------------------------------


def test_429_has_retry_after_from_the_window(api, client):
    api.post(url("quotes"), status=429, json={"message": "10 per 1 second"})
    with pytest.raises(RateLimited) as caught:
        client.quotes("NIFTY", "NSE_INDEX")
    assert caught.value.retry_after == 1.0
    assert caught.value.status == 429


@pytest.mark.parametrize(
    ("limit", "seconds"),
    [("10 per 1 second", 1.0), ("50 per second", 1.0), ("100 per 1 minute", 60.0), ("5 per 2 seconds", 2.0), ("?", 1.0)],
)
def test_window_seconds(limit, seconds):
    assert window_seconds(limit) == seconds


# --- unreadable or unexpected answers ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, '{"status": "success", "data": '),  # malformed JSON
        (200, "<html>Internal proxy page</html>"),  # not JSON
        (200, "[1, 2]"),  # JSON but not an object
        (200, '{"status": "error", "message": "odd"}'),  # error at 200
        (404, "<html>nginx 404</html>"),  # a proxy, not OpenAlgo
        (500, ""),  # missing Content-Type: Flask answers 500
        (302, ""),  # a redirect is not followed
    ],
)
def test_unreadable_answers_are_broker_failures(api, client, status, body):
    api.post(url("funds"), status=status, body=body)
    with pytest.raises(BrokerFailure) as caught:
        client.funds()
    assert caught.value.status == status


def test_success_with_an_unexpected_shape_is_a_broker_failure(api, client):
    api.post(url("funds"), json={"status": "success", "data": {"availablecash": "x"}})
    with pytest.raises(BrokerFailure, match="unexpected answer: availablecash"):
        client.funds()


# --- no answer -------------------------------------------------------------------------


def test_read_timeout(api, client):
    api.post(url("funds"), body=requests.ReadTimeout("read timed out"))
    with pytest.raises(BrokerTimeout) as caught:
        client.funds()
    assert caught.value.status is None
    assert caught.value.request_sent is True


def test_connect_timeout_means_nothing_was_sent(api, client):
    api.post(url("funds"), body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(BrokerTimeout) as caught:
        client.funds()
    assert caught.value.request_sent is False


def test_connection_dropped_after_sending(api, client):
    api.post(url("funds"), body=requests.ConnectionError("Connection aborted: RemoteDisconnected"))
    with pytest.raises(BrokerFailure) as caught:
        client.funds()
    assert (caught.value.status, caught.value.request_sent) == (None, True)


def test_connection_refused_on_a_real_closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OpenAlgoClient(f"http://127.0.0.1:{port}", KEY, rate_limit=False, retry=RetryPolicy(attempts=1))
    with pytest.raises(BrokerFailure) as caught:
        client.funds()
    assert caught.value.request_sent is False


def test_refused_is_told_apart_from_other_connection_errors(api, client):
    refused = MaxRetryError(None, "/api/v1/funds", NewConnectionError(None, "Connection refused"))
    api.post(url("funds"), body=requests.ConnectionError(refused))
    with pytest.raises(BrokerFailure) as caught:
        client.funds()
    assert caught.value.request_sent is False


# --- the exceptions themselves ---------------------------------------------------------


def test_errors_survive_pickling(api, client):
    api.post(url("quotes"), status=429, json={"message": "100 per 1 minute"})
    with pytest.raises(RateLimited) as caught:
        client.quotes("NIFTY", "NSE_INDEX")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (type(copy), copy.retry_after, copy.status, str(copy)) == (
        RateLimited,
        60.0,
        429,
        str(caught.value),
    )
