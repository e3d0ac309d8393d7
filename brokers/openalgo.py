"""OpenAlgo REST client: typed answers, error mapping, timeouts, retries, rate limit.

Every call is `POST {host}/api/v1/<name>` with a JSON body holding `"apikey"`. One
client talks for one account. Two transports feed the same parsing and error mapping:
`HttpTransport` (requests, explicit connect/read timeouts) and `InProcessTransport`
(a handler such as the simulated broker's `sim.handle`, no sockets).

Reads retry with bounded exponential backoff on timeouts, 5xx and 429, except a timed-out
option chain or multiquotes: the server is still quoting for the first one. Their read
timeouts grow with what they ask for (a real server quotes one strike or symbol at a time,
docs/openalgo.md). `within(seconds)` bounds a piece of work's reads, e.g. one tick's. Writes
are sent once: `place_order` never re-sends, and `place_order_or_find` answers a lost placement
answer by looking the order up by its tag, never by placing again.

The API key lives only in the request body: it is never logged, never part of an
exception's text and never in a repr; each client registers its key with
`config.reporting.protect_secret`, which keeps it out of any log record and error report.
"""

from __future__ import annotations

import ast
import copy
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError

from brokers.openalgo_types import (
    AnswerShapeError,
    Funds,
    Margin,
    MarginLeg,
    MultiQuote,
    OptionChain,
    OptionSymbol,
    Order,
    OrderAck,
    OrderBook,
    Placement,
    PlacementOutcome,
    Pong,
    Position,
    Quote,
    Trade,
    decimal_text,
    expiries_from_api,
    expiry_code,
    multiquotes_from_api,
    positions_from_api,
    trades_from_api,
)
from brokers import ratelimit
from brokers.ratelimit import RateLimiter, TakenTurns
from config.reporting import protect_secret

log = logging.getLogger(__name__)

ORDER_ENDPOINTS = frozenset({"placeorder", "modifyorder", "cancelorder"})
# A real OpenAlgo (2.0.x) asks its broker for one quote after another: measured on loopback
# (docs/openalgo.md), the chain took 0.30–0.36 s a strike (51 strikes: 16–18 s) and
# multiquotes 0.13–0.18 s a symbol. These reads are given their pace, twice over, on top
# of the normal read timeout.
CHAIN_SECONDS_PER_STRIKE = 0.35
QUOTE_SECONDS_PER_SYMBOL = 0.16
SLOW_READ_HEADROOM = 2.0
# The sandbox (analyzer mode) prices each position with a quote before answering the
# position book: ~0.15–0.2 s a position with the same plugin (5 positions: 0.7–1.1 s), so
# a day of many straddles and hedges outgrows a 5 s read timeout. No count is known before
# asking: the book gets this floor.
POSITIONBOOK_READ_TIMEOUT = 15.0
WHOLE_CHAIN_STRIKES = 201  # a chain asked without strike_count: taken as strike_count's most, 100 a side
# Reads a server works on for seconds: one that timed out is not asked again, since the
# server is still at it (the thread stays busy after the client left) and a second one
# would only queue beside it.
SLOW_READS = frozenset({"optionchain", "multiquotes"})
Answer = tuple[int, Mapping[str, Any] | str]
T = TypeVar("T")


# --- exceptions ---------------------------------------------------------------------


def _unpickle_error(cls: type[OpenAlgoError], args: tuple[Any, ...], state: dict[str, Any]) -> OpenAlgoError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class OpenAlgoError(Exception):
    """OpenAlgo's message and the HTTP status (None when no answer came back).

    `request_sent` is False only when the transport knows the request never reached the
    server (connection refused, connect timeout)."""

    def __init__(self, endpoint: str, message: str, status: int | None = None, *, request_sent: bool = True):
        self.endpoint = endpoint
        self.message = message
        self.status = status
        self.request_sent = request_sent
        answer = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"OpenAlgo {endpoint}: {message} ({answer})")

    def __reduce__(self):  # keyword state survives pickling (Celery, multiprocessing)
        return (_unpickle_error, (type(self), self.args, self.__dict__))


class ValidationRejected(OpenAlgoError):
    """400: a malformed request or a business refusal ("LIMIT orders require price").
    `field_errors` maps field names (nested ones dotted) to their messages; it is empty
    for a plain refusal."""

    def __init__(self, endpoint: str, message: str, status: int, field_errors: dict[str, tuple[str, ...]]):
        super().__init__(endpoint, message, status)
        self.field_errors = field_errors


class NotAuthorised(OpenAlgoError):
    """403: wrong key, or no broker session behind it (OpenAlgo answers both alike)."""


class NotFound(OpenAlgoError):
    """404: nothing there (e.g. no strikes for an expiry)."""


class OrderNotFound(NotFound):
    """404: "Order … not found"."""


class NotSupported(OpenAlgoError):
    """The broker lacks the feature: 404 "not supported" / 501 "not implemented"."""


class BrokerFailure(OpenAlgoError):
    """500s, unreadable or unexpected answers, dropped connections."""


class RateLimited(OpenAlgoError):
    """429. `retry_after` is the limit's window in seconds ("10 per 1 second" -> 1.0)."""

    def __init__(self, endpoint: str, message: str, status: int, retry_after: float):
        super().__init__(endpoint, message, status)
        self.retry_after = retry_after


class BrokerTimeout(OpenAlgoError):
    """No answer in time. After a read timeout the request may have been acted on."""


class OrderPendingApproval(OpenAlgoError):
    """A semi-auto account queued the order for manual approval: it is NOT placed and
    there is no order id. Alert the trader."""

    def __init__(self, endpoint: str, message: str, status: int, pending_order_id: str | None):
        super().__init__(endpoint, message, status)
        self.pending_order_id = pending_order_id


# --- error answers ------------------------------------------------------------------

_ORDER_NOT_FOUND = re.compile(r"\border\b.*\bnot found\b", re.IGNORECASE)
# The last: Flask's own 404, from an OpenAlgo too old to have the endpoint.
_FEATURE_MISSING = re.compile(r"not supported|not implemented|module not found|requested URL was not found", re.IGNORECASE)
_LIMIT_WINDOW = re.compile(r"per\s+(\d+(?:\.\d+)?)?\s*(second|minute|hour|day)", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_LITERAL_LIMIT = 10_000  # longest Python-style dict we hand to ast.literal_eval


def window_seconds(limit: str) -> float:
    """The window of a Flask-Limiter limit: "10 per 1 second" -> 1.0; unknown -> 1.0."""
    match = _LIMIT_WINDOW.search(limit)
    if not match:
        return 1.0
    return float(match.group(1) or 1) * _UNIT_SECONDS[match.group(2).lower()]


def _flatten(errors: Mapping[Any, Any], prefix: str = "") -> dict[str, tuple[str, ...]]:
    flat: dict[str, tuple[str, ...]] = {}
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = tuple(str(item) for item in value)
        else:
            flat[name] = (str(value),)
    return flat


def field_errors(body: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Field errors from any of OpenAlgo's three 400 forms: a JSON object `message`, a
    string holding a Python-style dict, or `"Validation error"` with `errors`."""
    if isinstance(body.get("errors"), Mapping):
        return _flatten(body["errors"])
    message = body.get("message")
    if isinstance(message, Mapping):
        return _flatten(message)
    if isinstance(message, str) and message.lstrip().startswith("{") and len(message) <= _LITERAL_LIMIT:
        try:
            parsed = ast.literal_eval(message)  # literals only: never runs code
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return {}
        if isinstance(parsed, Mapping):
            return _flatten(parsed)
    return {}


def _describe(errors: Mapping[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())


def _message_of(body: Mapping[str, Any] | None, raw: Mapping[str, Any] | str) -> str:
    if body is None:
        snippet = " ".join(str(raw).split())[:120]
        return f"unreadable answer (not a JSON object): {snippet!r}"
    message = body.get("message")
    if isinstance(message, str) and message:
        return message
    if isinstance(message, Mapping):
        return _describe(_flatten(message))
    return "no message"


def _as_object(raw: Mapping[str, Any] | str) -> Mapping[str, Any] | None:
    if isinstance(raw, Mapping):
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    return decoded if isinstance(decoded, Mapping) else None


def _error_for(endpoint: str, status: int, body: Mapping[str, Any] | None, message: str) -> OpenAlgoError:
    if status == 429:
        return RateLimited(endpoint, message, status, window_seconds(message))
    if body is None:  # not OpenAlgo talking (a proxy's page, a crash): whatever the status
        return BrokerFailure(endpoint, message, status)
    if status == 400:
        errors = field_errors(body)
        if body.get("errors") is not None:
            message = f"{message}: {_describe(errors)}"
        elif errors:
            message = _describe(errors)
        return ValidationRejected(endpoint, message, status, errors)
    if status in (401, 403):
        return NotAuthorised(endpoint, message, status)
    if status == 404:
        if _ORDER_NOT_FOUND.search(message):
            return OrderNotFound(endpoint, message, status)
        if _FEATURE_MISSING.search(message) or endpoint == "margin":
            return NotSupported(endpoint, message, status)
        return NotFound(endpoint, message, status)
    if status == 501:
        return NotSupported(endpoint, message, status)
    return BrokerFailure(endpoint, message, status)


# --- transports ---------------------------------------------------------------------


class Transport(Protocol):
    def post(self, endpoint: str, body: dict[str, Any], timeout: tuple[float, float]) -> Answer:
        """Send one call; answer (HTTP status, JSON object or raw text). Raises
        BrokerTimeout or BrokerFailure when no answer comes back."""
        ...


def _refused(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made, so nothing was sent."""
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", cause), NewConnectionError)


def _transport_error(endpoint: str, exc: requests.RequestException) -> OpenAlgoError:
    if isinstance(exc, requests.ConnectTimeout):
        return BrokerTimeout(endpoint, "timed out connecting", request_sent=False)
    if isinstance(exc, requests.Timeout):
        return BrokerTimeout(endpoint, "timed out waiting for the answer")
    if isinstance(exc, requests.ConnectionError) and _refused(exc):
        return BrokerFailure(endpoint, "could not connect", request_sent=False)
    if isinstance(exc, ValueError):  # bad URL or header: raised before sending
        return BrokerFailure(endpoint, f"request not sent: {type(exc).__name__}", request_sent=False)
    return BrokerFailure(endpoint, f"connection failed: {type(exc).__name__}")


class OneHostAdapter(HTTPAdapter):
    """requests' adapter for a transport's one host: its connection pool found once, not
    looked up by a pool key each call, and an answer kept as its status and body (no
    headers, cookies or URL copied: nothing here reads them). A sixth of a call's CPU."""

    _pool = None

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        if self._pool is None:
            self._pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        return self._pool

    def build_response(self, req, resp) -> requests.Response:
        response = requests.Response()
        response.status_code, response.raw, response.encoding, response.request = resp.status, resp, "utf-8", req
        return response


class HttpTransport:
    """Sends through requests' connection adapter, not `Session.post`: the session's
    per-call merging of settings, cookies and hooks (none used here) was half the CPU
    of a call, twice a tick (bench/run.py --only fanout)."""

    def __init__(self, host: str):
        self._base = f"{host.rstrip('/')}/api/v1/"
        # No silent re-sends: urllib3 must never retry a POST on its own. The adapter, unlike a
        # session, never looks for proxies in the environment: OpenAlgo is reached directly.
        self._adapter = OneHostAdapter(max_retries=0)
        self._verify = os.environ.get("REQUESTS_CA_BUNDLE") or True  # read once, not per call
        self._urls: dict[str, str] = {}

    def post(self, endpoint: str, body: dict[str, Any], timeout: tuple[float, float]) -> Answer:
        try:
            response = self._adapter.send(self._request(endpoint, body), timeout=timeout, verify=self._verify)
        except requests.RequestException as exc:
            error = _transport_error(endpoint, exc)
        else:
            return response.status_code, response.text
        # Raised outside the except block on purpose: the requests exception carries the
        # prepared request (body, so the API key) and must not ride along as __context__.
        raise error

    def _request(self, endpoint: str, body: dict[str, Any]) -> requests.PreparedRequest:
        """The call, its endpoint's URL checked once (a prepared request's copy, with its
        cookie jar, cost a twentieth of the workers' CPU in the fan-out)."""
        if endpoint not in self._urls:
            self._urls[endpoint] = requests.Request("POST", self._base + endpoint).prepare().url or ""
        request = requests.PreparedRequest()
        request.method, request.url = "POST", self._urls[endpoint]
        request.headers = CaseInsensitiveDict({"Accept": "application/json"})
        request.prepare_body(data=None, files=None, json=body)
        return request

    def __repr__(self) -> str:
        return f"HttpTransport({self._base!r})"


Handler = Callable[[str, dict[str, Any]], Answer]


class InProcessTransport:
    """Calls `handler(endpoint, body) -> (status, dict | str)` directly (the simulated
    broker's `sim.handle`). The body goes through JSON first, as on the wire. A handler
    raising one of `timeouts` stands for an answer that never came."""

    def __init__(self, handler: Handler, timeouts: tuple[type[BaseException], ...] = (TimeoutError,)):
        self._handler = handler
        self._timeouts = timeouts

    def post(self, endpoint: str, body: dict[str, Any], timeout: tuple[float, float]) -> Answer:
        try:
            return self._handler(endpoint, json.loads(json.dumps(body)))
        except self._timeouts:
            pass
        # Raised outside the except block, like HttpTransport's: nothing of the handler's
        # exception (which may hold the request) rides along.
        raise BrokerTimeout(endpoint, "timed out waiting for the answer")

    def __repr__(self) -> str:
        return f"InProcessTransport({self._handler!r})"


# --- rate limit and retries ---------------------------------------------------------


# OpenAlgo's defaults are 10 and 50 a moving second, per endpoint and client IP. We count
# a call when it is let go and the server when it arrives, a few milliseconds apart and
# not always in the same order: a tenth kept back is the slack (with no slack, 100
# buyers on one host drew 91–150 refusals a minute in bench/run.py --one-host).
ORDER_LIMIT, OTHER_LIMIT = 9, 45


def openalgo_limiter(host: str, storage: str = "memory://") -> RateLimiter:
    """The limiter of every client of `host` in this process; with a Redis `storage`,
    counted with every other process's too."""
    return ratelimit.shared(host.rstrip("/"), dict.fromkeys(ORDER_ENDPOINTS, ORDER_LIMIT), OTHER_LIMIT, storage)


@dataclass(frozen=True)
class RetryPolicy:
    """Reads only. attempts counts the first try."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 4.0

    def delay(self, attempt: int, error: OpenAlgoError) -> float:
        backoff = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        if isinstance(error, RateLimited):
            return max(backoff, error.retry_after)
        return backoff


def slow_read_timeout(read_timeout: float, items: int, seconds_each: float) -> float:
    """The read timeout of a call the server answers one item (strike, symbol) at a time."""
    return read_timeout + SLOW_READ_HEADROOM * seconds_each * max(items, 1)


def _transient(error: OpenAlgoError) -> bool:
    if isinstance(error, BrokerTimeout) and error.request_sent and error.endpoint in SLOW_READS:
        return False
    if isinstance(error, (BrokerTimeout, RateLimited)):
        return True
    return isinstance(error, BrokerFailure) and (error.status is None or error.status >= 500)


# --- the client ---------------------------------------------------------------------


class OpenAlgoAccount(Protocol):
    host: str

    def api_key(self) -> str: ...


class OpenAlgoClient:
    def __init__(
        self,
        host: str,
        api_key: str,
        *,
        timeout: tuple[float, float] = (2.0, 5.0),
        transport: Transport | None = None,
        rate_limit: bool | RateLimiter = True,
        retry: RetryPolicy = RetryPolicy(),
        option_chain_read_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        """`timeout`: (connect, read) seconds. The chain's and multiquotes' read timeouts
        grow from the read timeout with the strikes or symbols asked for (a real server
        took ~16 s for 51 strikes); `option_chain_read_timeout` fixes the chain's instead."""
        if not api_key:
            raise ValueError("OpenAlgo API key is empty")
        protect_secret(api_key)  # e.g. the request body, a local variable of a failed call's frame
        self.host = host.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout
        self._transport = transport or HttpTransport(self.host)
        self._limiter: RateLimiter | TakenTurns | None
        if isinstance(rate_limit, RateLimiter):
            self._limiter = rate_limit
        else:
            self._limiter = openalgo_limiter(self.host) if rate_limit else None
        self._retry = retry
        self._chain_timeout = option_chain_read_timeout
        self._sleep = sleep
        self._deadline: float | None = None  # time.monotonic() by which reads must be done (see within)

    @classmethod
    def for_account(cls, account: OpenAlgoAccount, **options: Any) -> OpenAlgoClient:
        """A client for a `BrokerAccount` (or any object with `.host` and `.api_key()`),
        with the timeouts from settings OPENALGO_TIMEOUT_CONNECT / _READ, its calls
        counted against the host's limits with every process's (AUTOHEDGE_RATE_LIMIT_STORAGE)."""
        from django.conf import settings

        api_key = account.api_key()
        if not api_key:
            source = getattr(account, "api_key_env", "the account's variable")
            raise ValueError(f"No OpenAlgo API key: environment variable {source} is empty or unset")
        timeout = (float(settings.OPENALGO_TIMEOUT_CONNECT), float(settings.OPENALGO_TIMEOUT_READ))
        options.setdefault("rate_limit", openalgo_limiter(account.host, settings.AUTOHEDGE_RATE_LIMIT_STORAGE))
        return cls(account.host, api_key, timeout=timeout, **options)

    def __repr__(self) -> str:
        return f"OpenAlgoClient(host={self.host!r})"

    def within(self, seconds: float) -> OpenAlgoClient:
        """This client (same key, connections and rate limit) with its reads bounded to
        `seconds` from now, for one piece of work such as a tick's reading and deciding:
        each read's timeout is cut to the time left, no retry starts that would outlast
        it, and a read asked for after it is not sent (BrokerTimeout, `request_sent`
        False). Writes are not bound: an order decided is sent with its own timeout, and
        its outcome looked up as usual. The client itself is left as it was."""
        bound = copy.copy(self)
        bound._deadline = time.monotonic() + seconds
        return bound

    def with_turns(self, endpoints: list[str]) -> OpenAlgoClient:
        """This client with its rate limit's turns for a call to each of `endpoints` taken
        now, in one question to the shared store, for reads sent at once (a glance's): the
        first call to each finds its turn taken. A copy: the turns are its calls' alone."""
        if self._limiter is None:
            return self
        bound = copy.copy(self)
        bound._limiter = TakenTurns(self._limiter, endpoints)
        return bound

    # --- account --------------------------------------------------------------------

    def funds(self) -> Funds:
        return self._parse("funds", Funds.from_api, self._read("funds"))

    def margin(self, positions: Sequence[MarginLeg]) -> Margin:
        legs = [leg.to_api() for leg in positions]
        return self._parse("margin", Margin.from_api, self._read("margin", positions=legs))

    def positionbook(self) -> tuple[Position, ...]:
        payload = self._read("positionbook", read_timeout=max(self._timeout[1], POSITIONBOOK_READ_TIMEOUT))
        return self._parse("positionbook", positions_from_api, payload)

    # --- orders ---------------------------------------------------------------------

    def place_order(
        self,
        *,
        strategy: str,
        symbol: str,
        exchange: str,
        action: str,
        quantity: int,
        pricetype: str = "MARKET",
        product: str = "MIS",
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        disclosed_quantity: int = 0,
    ) -> OrderAck:
        """Sent exactly once, whatever happens. Raises OrderPendingApproval when a
        semi-auto account queues the order instead of placing it."""
        fields: dict[str, Any] = {
            "strategy": strategy,
            "symbol": symbol,
            "exchange": exchange,
            "action": action,
            "quantity": quantity,
            "pricetype": pricetype,
            "product": product,
            "disclosed_quantity": disclosed_quantity,
        }
        if price is not None:
            fields["price"] = decimal_text(price)
        if trigger_price is not None:
            fields["trigger_price"] = decimal_text(trigger_price)
        payload = self._send("placeorder", fields)
        if payload.get("mode") == "semi_auto" or ("pending_order_id" in payload and "orderid" not in payload):
            pending = payload.get("pending_order_id")
            raise OrderPendingApproval(
                "placeorder",
                str(payload.get("message") or "order queued for approval"),
                200,
                None if pending is None else str(pending),
            )
        return self._parse("placeorder", OrderAck.from_api, payload)

    def place_order_or_find(self, tag: str, **order: Any) -> PlacementOutcome:
        """Place once with `strategy=tag`; if the answer is lost (timeout, a connection
        dropped after sending, a 5xx, an unreadable answer) look the tag up in the order
        book instead of sending again. Tags must be unique per order attempt.

        Refusals (ValidationRejected, NotAuthorised, RateLimited, …), an error where the
        request never left, and OrderPendingApproval propagate: nothing was placed."""
        try:
            ack = self.place_order(strategy=tag, **order)
        except (BrokerTimeout, BrokerFailure) as lost:
            if not lost.request_sent:
                raise
            log.warning("OpenAlgo placeorder answer lost for tag %s (%s); looking it up", tag, lost)
            return self._find_placed(tag, str(lost))
        return PlacementOutcome(Placement.PLACED, tag, order_id=ack.order_id)

    def _find_placed(self, tag: str, lost: str) -> PlacementOutcome:
        try:
            matches = self.orderbook().by_strategy(tag)
        except OpenAlgoError as failure:
            log.error("OpenAlgo order %s unknown: the order-book lookup failed (%s)", tag, failure)
            return PlacementOutcome(Placement.UNKNOWN, tag, error=f"{lost}; lookup failed: {failure}")
        if not matches:
            log.error("OpenAlgo order %s unknown: not in the order book after a lost answer", tag)
            return PlacementOutcome(Placement.UNKNOWN, tag, error=f"{lost}; not in the order book")
        if len(matches) > 1:
            log.error("OpenAlgo order book holds %d orders tagged %s", len(matches), tag)
        found = matches[0]
        return PlacementOutcome(Placement.FOUND_AFTER_TIMEOUT, tag, order_id=found.order_id, order=found, error=lost)

    def cancel_order(self, order_id: str, strategy: str) -> OrderAck:
        """Sent once (not retried). 400 if already complete or cancelled, 404 if unknown."""
        payload = self._send("cancelorder", {"strategy": strategy, "orderid": str(order_id)})
        return self._parse("cancelorder", OrderAck.from_api, payload)

    def order_status(self, order_id: str, strategy: str) -> Order:
        payload = self._read("orderstatus", strategy=strategy, orderid=str(order_id))
        return self._parse("orderstatus", lambda p: Order.from_api(p.get("data")), payload)

    def orderbook(self) -> OrderBook:
        return self._parse("orderbook", OrderBook.from_api, self._read("orderbook"))

    def tradebook(self) -> tuple[Trade, ...]:
        return self._parse("tradebook", trades_from_api, self._read("tradebook"))

    # --- market data ----------------------------------------------------------------

    def quotes(self, symbol: str, exchange: str) -> Quote:
        payload = self._read("quotes", symbol=symbol, exchange=exchange)
        return self._parse("quotes", lambda p: Quote.from_api(symbol, exchange, p.get("data")), payload)

    def multiquotes(self, symbols: Iterable[tuple[str, str]]) -> tuple[MultiQuote, ...]:
        """`symbols` as (symbol, exchange) pairs. A bad entry keeps its error."""
        wanted = [{"symbol": symbol, "exchange": exchange} for symbol, exchange in symbols]
        read_timeout = slow_read_timeout(self._timeout[1], len(wanted), QUOTE_SECONDS_PER_SYMBOL)
        payload = self._read("multiquotes", read_timeout=read_timeout, symbols=wanted)
        return self._parse("multiquotes", multiquotes_from_api, payload)

    def option_chain(
        self, underlying: str, exchange: str, expiry_date: date | str, strike_count: int | None = None
    ) -> OptionChain:
        """Slow (~0.3 s a strike on a real server; `strike_count` a side around the ATM,
        the whole chain without it): refresh ahead of time, keep off the order path."""
        fields: dict[str, Any] = {"underlying": underlying, "exchange": exchange, "expiry_date": _expiry(expiry_date)}
        strikes = WHOLE_CHAIN_STRIKES
        if strike_count is not None:
            fields["strike_count"] = strike_count
            strikes = 2 * strike_count + 1
        read_timeout = self._chain_timeout or slow_read_timeout(self._timeout[1], strikes, CHAIN_SECONDS_PER_STRIKE)
        payload = self._read("optionchain", read_timeout=read_timeout, **fields)
        return self._parse("optionchain", OptionChain.from_api, payload)

    def option_symbol(
        self, underlying: str, exchange: str, expiry_date: date | str, offset: str, option_type: str
    ) -> OptionSymbol:
        payload = self._read(
            "optionsymbol",
            underlying=underlying,
            exchange=exchange,
            expiry_date=_expiry(expiry_date),
            offset=offset,
            option_type=option_type,
        )
        return self._parse("optionsymbol", OptionSymbol.from_api, payload)

    def expiry(self, symbol: str, exchange: str) -> tuple[date, ...]:
        """Option expiries of `symbol` on `exchange` (NFO, BFO), as dates."""
        payload = self._read("expiry", symbol=symbol, exchange=exchange, instrumenttype="options")
        return self._parse("expiry", expiries_from_api, payload)

    def ping(self) -> Pong:
        """A health check: 403 (NotAuthorised) when the broker session is gone."""
        return self._parse("ping", Pong.from_api, self._read("ping"))

    # --- plumbing -------------------------------------------------------------------

    def _read(self, endpoint: str, *, read_timeout: float | None = None, **fields: Any) -> Mapping[str, Any]:
        attempts = max(1, self._retry.attempts)
        attempt = 1
        while True:
            try:
                return self._send(endpoint, fields, self._bounded(endpoint, read_timeout or self._timeout[1]))
            except OpenAlgoError as error:
                if attempt >= attempts or not _transient(error):
                    raise
                delay = self._retry.delay(attempt, error)
                if self._deadline is not None and time.monotonic() + delay >= self._deadline:
                    raise
                log.warning("%s; retry %d of %d in %.1f s", error, attempt, attempts - 1, delay)
                self._sleep(delay)
            attempt += 1

    def _bounded(self, endpoint: str, read_timeout: float) -> tuple[float, float]:
        """(connect, read) timeouts of a read, cut to the time `within` left."""
        if self._deadline is None:
            return (self._timeout[0], read_timeout)
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise BrokerTimeout(endpoint, "the broker time given to this work is spent: not sent", request_sent=False)
        return (min(self._timeout[0], left), min(read_timeout, left))

    def _send(
        self, endpoint: str, fields: Mapping[str, Any], timeout: tuple[float, float] | None = None
    ) -> Mapping[str, Any]:
        if self._limiter is not None:
            self._limiter.acquire(endpoint)
        timeout = timeout or self._timeout
        started = time.monotonic()
        try:
            status, raw = self._transport.post(endpoint, {"apikey": self._api_key, **fields}, timeout)
        except OpenAlgoError as error:
            log.debug("OpenAlgo %s -> %s after %.0f ms", endpoint, type(error).__name__, _ms_since(started))
            self._redacted(error)
            raise
        log.debug("OpenAlgo %s -> HTTP %s in %.0f ms", endpoint, status, _ms_since(started))
        body = _as_object(raw)
        if status == 200 and body is not None and body.get("status") == "success":
            return body
        raise self._redacted(_error_for(endpoint, status, body, _message_of(body, raw)))

    def _parse(self, endpoint: str, parser: Callable[[Mapping[str, Any]], T], payload: Mapping[str, Any]) -> T:
        try:
            return parser(payload)
        except AnswerShapeError as shape:
            raise BrokerFailure(endpoint, f"unexpected answer: {shape}", 200) from None

    def _redacted(self, error: OpenAlgoError) -> OpenAlgoError:
        """Defence in depth: a server that echoes the key must not put it in our errors."""
        error.message = error.message.replace(self._api_key, "***")
        error.args = tuple(str(arg).replace(self._api_key, "***") for arg in error.args)
        if isinstance(error, ValidationRejected):
            error.field_errors = {
                name: tuple(text.replace(self._api_key, "***") for text in messages)
                for name, messages in error.field_errors.items()
            }
        return error


def _expiry(value: date | str) -> str:
    return expiry_code(value) if isinstance(value, date) else value


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
