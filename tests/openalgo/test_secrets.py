"""The API key never reaches a log record, an exception's text or a repr."""

import logging
import traceback
from decimal import Decimal

import pytest
import requests
import responses

from brokers.openalgo import OpenAlgoClient, OpenAlgoError, RetryPolicy

HOST = "http://openalgo.test"
KEY = "oa-SECRET-5d9c0e7b1f2a4c6e8a0b"
ORDER = {"symbol": "NIFTY01DEC2622000PE", "exchange": "NFO", "action": "BUY", "quantity": 65, "pricetype": "LIMIT",
         "price": Decimal("4.6")}


def url(endpoint: str) -> str:
    return f"{HOST}/api/v1/{endpoint}"


def every_text(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(value) for value in vars(error).values()]
    return texts


def test_key_is_never_logged_or_raised(caplog):
    caplog.set_level(logging.DEBUG)  # every logger, requests' and urllib3's included
    client = OpenAlgoClient(HOST, KEY, rate_limit=False, retry=RetryPolicy(attempts=2), sleep=lambda s: None)
    texts = [repr(client)]
    with responses.RequestsMock() as api:
        api.post(url("ping"), json={"status": "success", "data": {"message": "pong"}})
        api.post(url("funds"), status=403, json={"status": "error", "message": "Invalid openalgo apikey"})
        # A server that echoes the key back must not get it into our errors either.
        api.post(url("quotes"), status=400, json={"status": "error", "message": {"apikey": [f"bad key {KEY}"]}})
        api.post(url("tradebook"), status=500, body=f"<html>crash with {KEY}</html>")
        api.post(url("orderbook"), body=requests.ReadTimeout(f"read timed out for {KEY}"))
        api.post(url("placeorder"), body=requests.ReadTimeout("read timed out"))
        client.ping()
        for call in (client.funds, lambda: client.quotes("X", "NFO"), client.tradebook, client.orderbook):
            with pytest.raises(OpenAlgoError) as caught:
                call()
            texts += every_text(caught.value)
        outcome = client.place_order_or_find("tag-1", **ORDER)
        texts.append(repr(outcome))
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    assert len(caplog.records) > 5  # the calls were logged
    assert not [text for text in texts if KEY in text]


def test_transport_errors_do_not_chain_the_request():
    # requests' exceptions hold the prepared request, body and key included.
    client = OpenAlgoClient(HOST, KEY, rate_limit=False, retry=RetryPolicy(attempts=1))
    with responses.RequestsMock() as api:
        api.post(url("funds"), body=requests.ConnectionError("Connection aborted"))
        with pytest.raises(OpenAlgoError) as caught:
            client.funds()
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None
