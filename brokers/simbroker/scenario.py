"""Replay scenarios (replay-format.md): parse and validate into typed objects, and build
the SimBroker a scenario describes; also the demo's two-index SimBroker.

Every refusal is a ScenarioError whose message is one line naming the field, e.g.
`schedule[1].entry: expected HH:MM or HH:MM:SS`.
"""

from __future__ import annotations

import json
import re
import datetime as dt
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Sequence

from hedging.core.clock import MARKET_CLOSE, MARKET_OPEN, Clock, SteppedClock, at

from .broker import SimBroker
from .margin import ConstantsMargin, MarginModel, SpanLikeMargin
from .market import INDEX_PRESETS, Market, RandomWalk, StepFunction, nifty, sensex

TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_LOT_SIZE = {"NIFTY": 65, "SENSEX": 20}
DEFAULT_LOTS_PER_BASKET = {"NIFTY": 1, "SENSEX": 10}
TOP_LEVEL = {"name", "date", "index", "expiry", "lot_size", "lots_per_basket", "budget", "config",
             "margin_per_basket", "base_used_margin", "schedule", "stop_outs", "market"}


class ScenarioError(ValueError):
    """A malformed scenario; the message is one line naming the field."""


@dataclass(frozen=True)
class ScheduleRow:
    name: str
    entry: time
    exit: time
    baskets: int


@dataclass(frozen=True)
class StopOut:
    name: str
    time: time


@dataclass(frozen=True)
class MarginPerBasket:
    unhedged: Decimal
    hedged: Decimal


@dataclass(frozen=True)
class MarketSpec:
    spot: list[tuple[time, Decimal]]
    strike_step: Decimal
    iv_atm: Decimal
    iv_wing_slope: Decimal


@dataclass(frozen=True)
class Scenario:
    name: str
    date: dt.date  # dt.: the field's name shadows the class in the annotations after it
    index: str
    expiry: dt.date
    lot_size: int
    lots_per_basket: int
    budget: Decimal
    schedule: list[ScheduleRow]
    market: MarketSpec
    margin_per_basket: MarginPerBasket | None = None
    base_used_margin: list[tuple[time, Decimal]] = field(default_factory=lambda: [(MARKET_OPEN, Decimal(0))])
    stop_outs: list[StopOut] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def basket_qty(self) -> int:
        return self.lots_per_basket * self.lot_size

    def at(self, moment: time) -> datetime:
        return at(self.date, moment)


# --- parsing ---------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise ScenarioError(f"scenario: cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise ScenarioError(f"scenario: not valid JSON ({error})") from None
    return parse_scenario(data)


def parse_scenario(data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError("scenario: expected a JSON object")
    _no_unknown(data, TOP_LEVEL, "")
    index = _required(data, "index")
    if index not in INDEX_PRESETS:
        raise ScenarioError(f"index: expected one of {', '.join(INDEX_PRESETS)}")
    day = _date(_required(data, "date"), "date")
    if day.weekday() >= 5:
        raise ScenarioError("date: not a trading day (a weekend)")
    expiry = _date(_required(data, "expiry"), "expiry")
    if expiry < day:
        raise ScenarioError("expiry: must not be before date")
    schedule = _schedule(_required(data, "schedule"))
    return Scenario(
        name=_name(_required(data, "name"), "name"),
        date=day,
        index=index,
        expiry=expiry,
        lot_size=_positive_int(data.get("lot_size", DEFAULT_LOT_SIZE[index]), "lot_size"),
        lots_per_basket=_positive_int(data.get("lots_per_basket", DEFAULT_LOTS_PER_BASKET[index]), "lots_per_basket"),
        budget=_amount(_required(data, "budget"), "budget", positive=True),
        schedule=schedule,
        market=_market(_required(data, "market")),
        margin_per_basket=_margin_per_basket(data["margin_per_basket"]) if "margin_per_basket" in data else None,
        base_used_margin=_steps(data.get("base_used_margin", [["09:15", 0]]), "base_used_margin", positive=False),
        stop_outs=_stop_outs(data.get("stop_outs", []), schedule),
        config=_config(data.get("config", {})),
    )


def _required(data: dict, key: str, prefix: str = "") -> Any:
    if key not in data:
        raise ScenarioError(f"{prefix}{key}: required")
    return data[key]


def _no_unknown(data: dict, known: set[str], prefix: str) -> None:
    for key in data:
        if key not in known:
            raise ScenarioError(f"{prefix}{key}: unknown field")


def _name(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{path}: expected a non-empty string")
    return value


def _date(value: Any, path: str) -> date:
    if isinstance(value, str) and DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ScenarioError(f"{path}: expected a date YYYY-MM-DD")


def _time(value: Any, path: str) -> time:
    match = TIME.match(value) if isinstance(value, str) else None
    try:
        moment = time(int(match[1]), int(match[2]), int(match[3] or 0)) if match else None
    except ValueError:
        moment = None
    if moment is None:
        raise ScenarioError(f"{path}: expected HH:MM or HH:MM:SS")
    if not MARKET_OPEN <= moment <= MARKET_CLOSE:
        raise ScenarioError(f"{path}: outside market hours 09:15–15:30")
    return moment


def _amount(value: Any, path: str, positive: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{path}: must be a {'positive' if positive else 'non-negative'} number")
    try:
        amount = Decimal(repr(value))
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ScenarioError(f"{path}: must be a {'positive' if positive else 'non-negative'} number")
    return amount


def _positive_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ScenarioError(f"{path}: must be a positive whole number")
    return value


def _list(value: Any, path: str, non_empty: bool = True) -> list:
    if not isinstance(value, list) or (non_empty and not value):
        raise ScenarioError(f"{path}: expected a {'non-empty ' if non_empty else ''}list")
    return value


def _object(value: Any, path: str, known: set[str]) -> dict:
    if not isinstance(value, dict):
        raise ScenarioError(f"{path}: expected an object")
    _no_unknown(value, known, f"{path}.")
    return value


def _steps(value: Any, path: str, positive: bool) -> list[tuple[time, Decimal]]:
    points: list[tuple[time, Decimal]] = []
    for number, point in enumerate(_list(value, path)):
        where = f"{path}[{number}]"
        if not isinstance(point, list) or len(point) != 2:
            raise ScenarioError(f"{where}: expected [time, amount]")
        moment = _time(point[0], f"{where}[0]")
        if points and moment <= points[-1][0]:
            raise ScenarioError(f"{where}[0]: times must increase")
        points.append((moment, _amount(point[1], f"{where}[1]", positive)))
    return points


def _schedule(value: Any) -> list[ScheduleRow]:
    rows: list[ScheduleRow] = []
    for number, raw in enumerate(_list(value, "schedule")):
        where = f"schedule[{number}]"
        row = _object(raw, where, {"name", "entry", "exit", "baskets"})
        name = _name(_required(row, "name", f"{where}."), f"{where}.name")
        if any(existing.name == name for existing in rows):
            raise ScenarioError(f"{where}.name: duplicate name {name!r}")
        entry = _time(_required(row, "entry", f"{where}."), f"{where}.entry")
        exit_ = _time(_required(row, "exit", f"{where}."), f"{where}.exit")
        if exit_ <= entry:
            raise ScenarioError(f"{where}.exit: must be after entry")
        baskets = _positive_int(_required(row, "baskets", f"{where}."), f"{where}.baskets")
        rows.append(ScheduleRow(name, entry, exit_, baskets))
    return rows


def _stop_outs(value: Any, schedule: list[ScheduleRow]) -> list[StopOut]:
    rows = {row.name: row for row in schedule}
    stops: list[StopOut] = []
    for number, raw in enumerate(_list(value, "stop_outs", non_empty=False)):
        where = f"stop_outs[{number}]"
        stop = _object(raw, where, {"name", "time"})
        name = _required(stop, "name", f"{where}.")
        if name not in rows:
            raise ScenarioError(f"{where}.name: no schedule row named {name!r}")
        if any(existing.name == name for existing in stops):
            raise ScenarioError(f"{where}.name: {name} is already stopped out")
        moment = _time(_required(stop, "time", f"{where}."), f"{where}.time")
        if not rows[name].entry < moment < rows[name].exit:
            raise ScenarioError(f"{where}.time: must lie between the entry and exit of {name}")
        stops.append(StopOut(name, moment))
    return stops


def _margin_per_basket(value: Any) -> MarginPerBasket:
    margin = _object(value, "margin_per_basket", {"unhedged", "hedged"})
    unhedged = _amount(_required(margin, "unhedged", "margin_per_basket."), "margin_per_basket.unhedged", positive=True)
    hedged = _amount(_required(margin, "hedged", "margin_per_basket."), "margin_per_basket.hedged", positive=True)
    if hedged > unhedged:
        raise ScenarioError("margin_per_basket.hedged: must not exceed unhedged")
    return MarginPerBasket(unhedged, hedged)


def _market(value: Any) -> MarketSpec:
    market = _object(value, "market", {"spot", "strike_step", "iv_atm", "iv_wing_slope"})
    return MarketSpec(
        spot=_steps(_required(market, "spot", "market."), "market.spot", positive=True),
        strike_step=_amount(_required(market, "strike_step", "market."), "market.strike_step", positive=True),
        iv_atm=_amount(_required(market, "iv_atm", "market."), "market.iv_atm", positive=True),
        iv_wing_slope=_amount(_required(market, "iv_wing_slope", "market."), "market.iv_wing_slope", positive=False),
    )


def _config(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError("config: expected an object")
    return dict(value)


# --- building brokers ------------------------------------------------------------------


def build_simbroker(
    scenario: Scenario,
    clock: Clock | None = None,
    *,
    margin_per_basket: MarginPerBasket | None = None,
    margin: MarginModel | None = None,
    api_key: str = "demo",
    rate_limits: bool = False,
    product: str = "NRML",
    **options: Any,
) -> SimBroker:
    """The scenario's broker: its index with the scenario's spot steps and pricing, the
    constants margin model (from the scenario's margin_per_basket, else the one given;
    `margin` replaces the model outright), the other margin from base_used_margin, and
    one strategy per schedule row with its stop-out, in `product` (the account's: the
    hedges go in the strategies' product, so the broker nets a hedge and a short at one
    strike as one position). The clock defaults to a
    SteppedClock at 09:15 on the scenario's date. Further SimBroker options (latency,
    analyze, margin_api) pass through."""
    clock = clock or SteppedClock(scenario.at(MARKET_OPEN))
    spec = scenario.market
    underlying = INDEX_PRESETS[scenario.index](
        StepFunction([(scenario.at(moment), level) for moment, level in spec.spot]),
        [scenario.expiry],
        lot_size=scenario.lot_size,
        strike_step=spec.strike_step,
        iv_atm=spec.iv_atm,
        iv_wing_slope=spec.iv_wing_slope,
    )
    sim = SimBroker(
        clock,
        Market([underlying]),
        api_key=api_key,
        margin=margin or _constants(scenario, margin_per_basket),
        other_margin=StepFunction([(scenario.at(moment), amount) for moment, amount in scenario.base_used_margin]),
        rate_limits=rate_limits,
        **options,
    )
    for row in scenario.schedule:
        sim.add_strategy(row.name, scenario.index, scenario.at(row.entry), scenario.at(row.exit),
                         row.baskets * scenario.basket_qty, product)
    for stop in scenario.stop_outs:
        sim.stop_out(stop.name, scenario.at(stop.time))
    return sim


def _constants(scenario: Scenario, given: MarginPerBasket | None) -> ConstantsMargin:
    rates = scenario.margin_per_basket or given
    if rates is None:
        raise ScenarioError(
            f"margin_per_basket: not in the scenario and none given (constants for {scenario.index} "
            f"at {_trading_days(scenario.date, scenario.expiry)} DTE are needed)"
        )
    return ConstantsMargin.for_index(scenario.index, rates.unhedged, rates.hedged, scenario.basket_qty)


def _trading_days(start: date, end: date) -> int:
    return sum(1 for offset in range(1, (end - start).days + 1) if (start + timedelta(offset)).weekday() < 5)


@dataclass(frozen=True)
class DemoStrategy:
    name: str
    underlying: str
    entry: time
    exit: time
    lots: int


DEMO_STRATEGIES = (
    DemoStrategy("N1", "NIFTY", time(9, 20), time(15, 15), 1),
    DemoStrategy("N2", "NIFTY", time(10, 0), time(15, 15), 2),
    DemoStrategy("S1", "SENSEX", time(9, 30), time(15, 15), 10),
    DemoStrategy("S2", "SENSEX", time(11, 0), time(15, 15), 10),
)


def build_demo_simbroker(
    clock: Clock,
    *,
    seed: int = 1,
    api_key: str = "demo",
    strategies: Sequence[DemoStrategy] = DEMO_STRATEGIES,
    rate_limits: bool = True,
    nifty_spot: Decimal = Decimal(24000),
    sensex_spot: Decimal = Decimal(80000),
    **options: Any,
) -> SimBroker:
    """NIFTY and SENSEX from 09:15 on the clock's day, each spot a seeded random walk
    (per-minute steps sized to a 12% volatility), weekly expiries on that weekday
    starting with the day itself (so the day is 0DTE for both), SPAN-like margin.
    Further SimBroker options (latency, analyze, margin_api) pass through."""
    day = clock.now().date()
    opening = at(day, MARKET_OPEN)
    expiries = [day + timedelta(weeks=week) for week in range(4)]
    market = Market([
        nifty(RandomWalk(opening, nifty_spot, seed, nifty_spot * Decimal("0.0004")), expiries),
        sensex(RandomWalk(opening, sensex_spot, seed + 1, sensex_spot * Decimal("0.0004")), expiries),
    ])
    sim = SimBroker(clock, market, api_key=api_key, margin=SpanLikeMargin(), rate_limits=rate_limits, **options)
    for strategy in strategies:
        lot_size = market.underlyings[strategy.underlying].lot_size
        sim.add_strategy(strategy.name, strategy.underlying, at(day, strategy.entry), at(day, strategy.exit),
                         strategy.lots * lot_size)
    return sim
