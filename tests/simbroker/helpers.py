"""Small builders shared by the simulated broker's tests."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from brokers.simbroker import Market, SimBroker, StepFunction, nifty, sensex
from hedging.core.clock import MARKET_OPEN, SteppedClock, at

DAY = date(2026, 11, 24)  # a Tuesday, the expiry of the fixture's options
KEY = "demo"


def moment(hh: int, mm: int, ss: int = 0) -> datetime:
    return at(DAY, time(hh, mm, ss))


def flat_sim(**options: Any) -> SimBroker:
    """NIFTY held at 24000 and SENSEX at 80000 all day: option prices only decay."""
    market = Market([
        nifty(StepFunction([(moment(9, 15), Decimal(24000))]), [DAY]),
        sensex(StepFunction([(moment(9, 15), Decimal(80000))]), [DAY]),
    ])
    options.setdefault("rate_limits", False)
    return SimBroker(SteppedClock(at(DAY, MARKET_OPEN)), market, api_key=KEY, **options)


def call(sim: SimBroker, endpoint: str, **body: Any) -> tuple[int, Any]:
    return sim.handle(endpoint, {"apikey": KEY, **body})


def order(sim: SimBroker, symbol: str, action: str, quantity: int, **extra: Any) -> tuple[int, Any]:
    exchange = "BFO" if symbol.startswith("SENSEX") else "NFO"
    return call(sim, "placeorder", strategy=extra.pop("strategy", "test"), exchange=exchange, symbol=symbol,
                action=action, quantity=quantity, **extra)


def used_margin(sim: SimBroker) -> Decimal:
    status, answer = call(sim, "funds")
    assert status == 200
    return Decimal(answer["data"]["utiliseddebits"])


def status_of(sim: SimBroker, orderid: str) -> dict:
    status, answer = call(sim, "orderstatus", strategy="test", orderid=orderid)
    assert status == 200
    return answer["data"]
