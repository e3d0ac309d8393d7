"""Morning forecast: what a day's schedule will need and cost, before the open
(docs/forecast.md).

A forecast is a replay of a derived scenario: the day's schedule, budget and settings,
the margin outside the schedule and the index held flat at what they are now, no
stop-outs. It runs through the replay machinery (the real orchestrator, minute by
minute, on the simulated broker) inside a transaction that is rolled back, so nothing
is written but the Forecast row the morning task stores. A what-if is the same with
some settings overridden.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from brokers.models import SPOT_EXCHANGE
from brokers.openalgo import OpenAlgoError
from brokers.openalgo_types import OptionChain
from brokers.simbroker import pricing
from brokers.simbroker.scenario import MarginPerBasket, MarketSpec, Scenario, ScheduleRow
from hedging.telegram.notifier import Notifier
from hedging import messages
from hedging.core.calendar import is_trading_day
from hedging.core.clock import IST, MARKET_OPEN
from hedging.core.margin import ConstantsMargin
from hedging.core.settings import BUDGET_PER_BASKET, HedgeSettings, SettingsError
from hedging.models import Alert, Control, DailySession, Forecast, HedgeTransaction, StrategyExecution
from hedging.services import calculator, monitor, replay, runtime, scheduler, selector
from hedging.services.alerts import Deliver, alert
from hedging.services.executor import spent_today
from hedging.services.notify import send_once
from hedging.services.replay import number
from hedging.services.sessions import session_ref

UNLIMITED_CAP = Decimal("999999999999")  # the largest cap the session's column holds
MAX_BUDGET = BUDGET_PER_BASKET * 32767  # the replay session counts budget ÷ ₹10L baskets in a small-integer column
# Under it a day's utilisation (a few baskets of ₹4L) runs past what its percent columns hold.
MIN_BUDGET = Decimal(10000)
MIN_CALIBRATION_PRICE = Decimal("1")  # under ₹1 a ₹0.05 tick is 5% of the price: too coarse to read a volatility
TRADING_DAYS_A_YEAR = 252
ENTRY_ALERTS = ("breach_unavoidable", "cap_reached", "no_eligible_strike")  # decide keys these `prefix:NAME,NAME`
SUMMED_UP = ("breach_unavoidable", "cap_reached")  # the message's shortfall and breach lines say these


class ForecastError(ValueError):
    """Input the forecast refuses; `field` names it and the message is one line."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.reason = field, message


# --- the result --------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    option_type: str
    strike: Decimal
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class PlannedBuy:
    time: time
    hedge_baskets: int
    for_entries: tuple[str, ...]
    util_before_pct: Decimal
    util_projected_pct: Decimal  # with the coming entries, unhedged
    util_after_pct: Decimal  # with the coming entries and this buy
    cost: Decimal  # premium at the model's prices, index flat
    cost_low: Decimal
    cost_high: Decimal
    legs: tuple[Leg, ...]


@dataclass(frozen=True)
class ProjectedEntry:
    name: str
    time: time
    baskets: int
    util_pct: Decimal | None  # just after the entry; None if it never entered


@dataclass(frozen=True)
class Point:
    """Projected utilisation from `time` until the next point."""

    time: time
    util_pct: Decimal
    open_baskets: int
    hedges_held: int


@dataclass(frozen=True)
class RunAlert:
    time: time
    kind: str
    level: str
    text: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class DayRun:
    """What one replay of the derived day did."""

    buys: tuple[PlannedBuy, ...]
    entries: tuple[ProjectedEntry, ...]
    timeline: tuple[Point, ...]
    alerts: tuple[RunAlert, ...]
    peak_util_pct: Decimal

    def entries_alerted(self, kind: str) -> list[str]:
        """Entry names of the alerts of one kind, first alerted first."""
        names: list[str] = []
        for item in self.alerts:
            names += [name for name in item.entries if item.kind == kind and name not in names]
        return names


@dataclass(frozen=True)
class Assumptions:
    spot: Decimal  # held flat through the day
    other_margin: Decimal  # intraday margin outside the schedule, held flat
    iv_atm: Decimal
    iv_wing_slope: Decimal
    one_day_move: Decimal  # spot × iv_atm × √(1/252): the cost range's index move


@dataclass(frozen=True)
class ForecastResult:
    name: str
    day: date
    index: str
    budget: Decimal
    cap: Decimal
    entry_trigger_pct: Decimal
    entry_target_pct: Decimal
    assumptions: Assumptions
    auto_enabled: bool  # the session's and the global switch; the plan assumes them on
    planned: tuple[PlannedBuy, ...]  # what auto-hedge will buy, within the cap
    needed: tuple[PlannedBuy, ...]  # what the day needs with no cap (the same when the cap covers)
    breaches: tuple[str, ...]  # entries over the target even fully hedged
    shortfall_from: str | None  # the first entry the cap cannot hedge
    peak_util_pct: Decimal
    entries: tuple[ProjectedEntry, ...]
    timeline: tuple[Point, ...]
    alerts: tuple[RunAlert, ...]

    @property
    def cap_covers(self) -> bool:
        return self.shortfall_from is None

    @property
    def warnings(self) -> tuple[RunAlert, ...]:
        """Every alert above info the day would raise: a strike that can't be found is
        as much the trader's business as a cap or a breach."""
        return tuple(x for x in self.alerts if x.level != "info")

    @property
    def cost(self) -> Decimal:
        return sum((buy.cost for buy in self.planned), Decimal(0))

    @property
    def cost_low(self) -> Decimal:
        return sum((buy.cost_low for buy in self.planned), Decimal(0))

    @property
    def cost_high(self) -> Decimal:
        return sum((buy.cost_high for buy in self.planned), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        """The command's `--json` answer: plain numbers, times HH:MM:SS."""
        return {
            "planned": [buy_json(buy) for buy in self.planned],
            "breaches": list(self.breaches),
            "cap_covers": self.cap_covers,
            "shortfall_from": self.shortfall_from,
            "cost_low": number(self.cost_low, "0.01"),
            "cost_high": number(self.cost_high, "0.01"),
            "peak_util_pct": number(self.peak_util_pct),
            "alerts": [alert_json(x) for x in self.warnings],
        }

    def detail(self) -> dict[str, Any]:
        """Everything, for the dashboard's panel and the stored row: to_json's keys plus
        costs and legs of each buy, the uncapped plan, entries, timeline and assumptions."""
        a = self.assumptions
        return {
            **self.to_json(),
            "planned": [buy_detail(buy) for buy in self.planned],
            "needed": [buy_detail(buy) for buy in self.needed],
            "name": self.name,
            "day": self.day.isoformat(),
            "index": self.index,
            "budget": number(self.budget, "0.01"),
            "cap": number(self.cap, "0.01"),
            "cost": number(self.cost, "0.01"),
            "entry_trigger_pct": number(self.entry_trigger_pct),
            "entry_target_pct": number(self.entry_target_pct),
            "auto_enabled": self.auto_enabled,
            "market": {
                "spot": number(a.spot, "0.01"),
                "other_margin": number(a.other_margin, "0.01"),
                "iv_atm": number(a.iv_atm, "0.0001"),
                "iv_wing_slope": number(a.iv_wing_slope, "0.0001"),
                "one_day_move": number(a.one_day_move, "0.01"),
            },
            "entries": [
                {"name": e.name, "time": f"{e.time:%H:%M:%S}", "baskets": e.baskets, "util_pct": number(e.util_pct)}
                for e in self.entries
            ],
            "timeline": [
                {
                    "time": f"{p.time:%H:%M:%S}",
                    "util_pct": number(p.util_pct),
                    "open_baskets": p.open_baskets,
                    "hedges_held": p.hedges_held,
                }
                for p in self.timeline
            ],
            "alerts": [alert_json(x) for x in self.alerts],
        }


def alert_json(x: RunAlert) -> dict[str, Any]:
    return {"time": f"{x.time:%H:%M:%S}", "kind": x.kind, "level": x.level, "text": x.text, "entries": list(x.entries)}


def buy_json(buy: PlannedBuy) -> dict[str, Any]:
    return {
        "time": f"{buy.time:%H:%M:%S}",
        "hedge_baskets": buy.hedge_baskets,
        "for_entries": list(buy.for_entries),
        "util_projected_pct": number(buy.util_projected_pct),
        "util_after_pct": number(buy.util_after_pct),
    }


def buy_detail(buy: PlannedBuy) -> dict[str, Any]:
    return {
        **buy_json(buy),
        "util_before_pct": number(buy.util_before_pct),
        "cost": number(buy.cost, "0.01"),
        "cost_low": number(buy.cost_low, "0.01"),
        "cost_high": number(buy.cost_high, "0.01"),
        "legs": [
            {
                "option_type": leg.option_type,
                "strike": number(leg.strike, "1"),
                "quantity": leg.quantity,
                "price": number(leg.price, "0.01"),
            }
            for leg in buy.legs
        ],
    }


# --- entry points ------------------------------------------------------------------------


def forecast_scenario(scenario: Scenario, overrides: Mapping[str, Any] | None = None, day: date | None = None) -> ForecastResult:
    """A scenario file's day from its 09:15 state: schedule, budget and settings as
    written, other margin and spot held at their 09:15 values, no stop-outs."""
    if day is not None:
        check_day(scenario.index, day, scenario.expiry)
        scenario = replace(scenario, date=day)
    return forecast(with_overrides(from_open(scenario), overrides or {}))


def forecast_for_session(
    session: DailySession,
    overrides: Mapping[str, Any] | None = None,
    *,
    day: date | None = None,
    broker=None,
    now: datetime | None = None,
) -> ForecastResult:
    """The session's day (or `day`) as the market and the account stand `now`. Saves
    nothing. Raises ForecastError naming the field, or the broker's OpenAlgoError."""
    day = day or session.date
    check_day(session.index_name, day, session.expiry)
    broker = broker or runtime.broker_for(session.account)
    scenario = session_scenario(session, day, broker, now or runtime.clock().now())
    auto = session.auto_enabled and Control.get().auto_enabled
    return forecast(with_overrides(scenario, overrides or {}), auto_enabled=auto)


def forecast(scenario: Scenario, auto_enabled: bool = True) -> ForecastResult:
    """Replay the derived day; when the cap falls short, replay it again uncapped to
    learn what the day needs."""
    capped = replay_day(scenario)
    short = capped.entries_alerted("cap_reached")
    full = replay_day(replace(scenario, config={**scenario.config, "max_hedge_cost_per_day": UNLIMITED_CAP})) if short else capped
    settings = replay.scenario_settings(scenario)
    return ForecastResult(
        name=scenario.name,
        day=scenario.date,
        index=scenario.index,
        budget=scenario.budget,
        cap=settings.max_hedge_cost_per_day,
        entry_trigger_pct=settings.entry_trigger_pct,
        entry_target_pct=settings.entry_target_pct,
        assumptions=Assumptions(
            spot=flat_spot(scenario),
            other_margin=scenario.base_used_margin[0][1],
            iv_atm=scenario.market.iv_atm,
            iv_wing_slope=scenario.market.iv_wing_slope,
            one_day_move=one_day_move(scenario),
        ),
        auto_enabled=auto_enabled,
        planned=capped.buys,
        needed=full.buys,
        breaches=tuple(full.entries_alerted("breach_unavoidable")),
        shortfall_from=short[0] if short else None,
        peak_util_pct=capped.peak_util_pct,
        entries=capped.entries,
        timeline=capped.timeline,
        alerts=capped.alerts,
    )


# --- the derived day ---------------------------------------------------------------------


def check_day(index: str, day: date, expiry: date) -> None:
    if not is_trading_day(day, calculator.holidays(index)):
        raise ForecastError("date", f"{day} is not a trading day")
    if day > expiry:
        raise ForecastError("date", f"{day} is after the expiry {expiry}")


def from_open(scenario: Scenario) -> Scenario:
    """Held at 09:15: a step function's value then is its first (it holds before its first point too)."""
    return replace(
        scenario,
        base_used_margin=[(MARKET_OPEN, scenario.base_used_margin[0][1])],
        stop_outs=[],
        market=replace(scenario.market, spot=[(MARKET_OPEN, scenario.market.spot[0][1])]),
    )


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A what-if: `budget`, `baskets` ({row name: baskets}) and any hedging setting; a
    blank (None or "") leaves it as it is."""
    changes = {name: value for name, value in overrides.items() if value not in (None, "")}
    budget, baskets = changes.pop("budget", None), changes.pop("baskets", None)
    for name in changes:
        if name not in calculator.SETTING_FIELDS:
            raise ForecastError(name, "unknown setting")
    config = {**scenario.config, **{name: cleaned(DailySession, name, raw) for name, raw in changes.items()}}
    if changes:
        try:
            HedgeSettings.for_index(scenario.index, config)
        except SettingsError as error:
            raise ForecastError(error.field, str(error).removeprefix(f"{error.field}: ")) from None
    return replace(
        scenario,
        config=config,
        budget=scenario.budget if budget is None else checked_budget(budget),
        schedule=scenario.schedule if baskets is None else rows_with_baskets(scenario.schedule, baskets),
    )


def cleaned(model: type[models.Model], name: str, raw: Any, label: str | None = None) -> Any:
    """The value as the model's column takes it (so a what-if can't overflow the replay's rows)."""
    try:
        return model._meta.get_field(name).clean(raw, None)
    except ValidationError as invalid:
        raise ForecastError(label or name, " ".join(invalid.messages)) from None


def checked_budget(raw: Any) -> Decimal:
    budget = positive(cleaned(DailySession, "budget", raw), "budget")
    if budget < MIN_BUDGET:
        raise ForecastError("budget", f"must be at least {messages.format_inr(MIN_BUDGET)}")
    if budget > MAX_BUDGET:
        raise ForecastError("budget", f"must be at most {messages.format_inr(MAX_BUDGET)}")
    return budget


def positive(value: Decimal | int, label: str) -> Decimal | int:
    if value < 1:
        raise ForecastError(label, "must be at least 1")
    return value


def rows_with_baskets(rows: Sequence[ScheduleRow], baskets: Any) -> list[ScheduleRow]:
    if not isinstance(baskets, Mapping):
        raise ForecastError("baskets", "expected {schedule row name: baskets}")
    names = {row.name for row in rows}
    counts = {}
    for name, raw in baskets.items():
        if name not in names:
            raise ForecastError(f"baskets.{name}", "no such schedule row on this day")
        counts[name] = positive(cleaned(StrategyExecution, "baskets", raw, f"baskets.{name}"), f"baskets.{name}")
    return [replace(row, baskets=counts.get(row.name, row.baskets)) for row in rows]


def session_scenario(session: DailySession, day: date, broker, now: datetime) -> Scenario:
    """The session's schedule rows for `day`, its settings and budget, the margin
    outside the schedule as the monitor sees it now, and the market as the broker
    quotes it now (before the open: the last prices)."""
    dated = copy.copy(session)
    dated.date = day
    index, exchange = session.index_name, SPOT_EXCHANGE[session.index_name]
    settings = calculator.session_settings(session)
    chain = selector.strike_list(session, broker, now, settings)  # the monitor keeps it fresh during the day
    spot = broker.quotes(index, exchange).ltp
    if not spot:
        raise ForecastError("spot", f"the broker gave no price for {index}")
    margin = margin_on(dated)
    lot_size = session.lot_size or chain_lot_size(chain)
    return Scenario(
        name=f"forecast:{session.pk}",
        date=day,
        index=index,
        expiry=session.expiry,
        lot_size=lot_size,
        lots_per_basket=session.lots_per_basket,
        budget=session.budget,
        schedule=[
            ScheduleRow(row.name, row.entry_time, row.exit_time, row.baskets or session.num_baskets)
            for row in scheduler.todays_rows(dated)
        ],
        market=calibrate(chain, spot, now, session.expiry, settings.max_otm_distance),
        margin_per_basket=margin,
        base_used_margin=[(MARKET_OPEN, other_margin(session, broker, margin, session.lots_per_basket * lot_size, now))],
        config={name: getattr(settings, name) for name in calculator.SETTING_FIELDS},
    )


def margin_on(dated: DailySession) -> MarginPerBasket:
    try:
        model = calculator.margin_model(dated)
    except calculator.UnknownMarginConstants as error:
        raise ForecastError("margin_hedged", str(error)) from None
    return MarginPerBasket(model.unhedged, model.hedged)


def chain_lot_size(chain: OptionChain) -> int:
    for row in chain.strikes:
        for leg in (row.ce, row.pe):
            if leg is not None:
                return leg.lotsize
    raise ForecastError("option_chain", "no strikes listed")


def other_margin(session: DailySession, broker, margin: MarginPerBasket, quantity: int, now: datetime) -> Decimal:
    """Intraday used margin outside the session's own baskets and hedges, as the monitor
    reads it now (never below 0). Before the session's first reading there is none:
    everything in use then is the overnight baseline."""
    if session.baseline_margin is None:
        return Decimal(0)
    model = ConstantsMargin(margin.unhedged, margin.hedged)
    scheduled_open = scheduler.open_baskets(list(session.executions.all()))
    reading = monitor.read(session, broker, quantity, model, scheduled_open, runtime.is_paper(session.account))
    own = model.basket_margin(max(scheduled_open, reading.short_baskets), reading.hedges_held)
    return max(reading.used - own, Decimal(0))


# --- the market: the pricing model fitted to the broker's chain ---------------------------


def calibrate(chain: OptionChain, spot: Decimal, now: datetime, expiry: date, max_distance: Decimal) -> MarketSpec:
    """The simulated broker's pricing fitted to the chain's last prices: the implied
    volatility of each OTM strike within `max_distance` points priced at ₹1 or more, and
    the line iv = iv_atm + iv_wing_slope × |K/S − 1| × 100 through them (least squares)."""
    years = pricing.years_to_expiry(now, expiry)
    if years <= 0:
        raise ForecastError("expiry", f"the {expiry} series has expired")
    points = [
        (float(abs(strike / spot - 1) * 100), implied_vol(float(price), float(spot), float(strike), years, option_type))
        for strike, option_type, price in otm_prices(chain, spot, max_distance)
    ]
    if not points:
        raise ForecastError(
            "option_chain",
            f"no OTM strike within {max_distance} points priced at {messages.format_inr(MIN_CALIBRATION_PRICE)} or more",
        )
    iv_atm, slope = fit_line(points)
    return MarketSpec(
        spot=[(MARKET_OPEN, spot)],
        strike_step=strike_step(chain),
        iv_atm=Decimal(f"{iv_atm:.4f}"),
        iv_wing_slope=Decimal(f"{slope:.4f}"),
    )


def otm_prices(chain: OptionChain, spot: Decimal, max_distance: Decimal) -> list[tuple[Decimal, str, Decimal]]:
    found = []
    for row in chain.strikes:
        option_type, leg = ("CE", row.ce) if row.strike >= spot else ("PE", row.pe)
        if leg is not None and leg.ltp and leg.ltp >= MIN_CALIBRATION_PRICE and abs(row.strike - spot) <= max_distance:
            found.append((row.strike, option_type, leg.ltp))
    return found


def implied_vol(price: float, spot: float, strike: float, years: float, option_type: str) -> float:
    """Bisection: the model's price rises with volatility."""
    low, high = 1e-4, 5.0
    for _ in range(60):
        middle = (low + high) / 2
        if pricing.black_scholes(spot, strike, years, middle, option_type) < price:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b·x; a flat line at the mean when the points give no rising wing."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    if slope <= 0:
        return mean_y, 0.0
    return mean_y - slope * mean_x, slope


def strike_step(chain: OptionChain) -> Decimal:
    strikes = sorted({row.strike for row in chain.strikes})
    steps = [b - a for a, b in zip(strikes, strikes[1:])]
    if not steps:
        raise ForecastError("option_chain", "fewer than two strikes listed")
    return min(steps)


def flat_spot(scenario: Scenario) -> Decimal:
    return scenario.market.spot[0][1]


def one_day_move(scenario: Scenario) -> Decimal:
    """One standard deviation of a day's index move under the model."""
    daily = (Decimal(1) / TRADING_DAYS_A_YEAR).sqrt()
    return (flat_spot(scenario) * scenario.market.iv_atm * daily).quantize(Decimal("0.01"))


# --- one replay of the derived day, rolled back ------------------------------------------


class _Finished(Exception):
    def __init__(self, run: DayRun):
        self.run = run


def replay_day(scenario: Scenario) -> DayRun:
    settings = replay.scenario_settings(scenario)
    try:
        with transaction.atomic():
            # The forecast tells what the day needs, switches or not: the global switch is
            # turned on inside this transaction only (when off; no lock otherwise).
            Control.objects.filter(pk=Control.get().pk, auto_enabled=False).update(auto_enabled=True)
            session = replay.create_session(scenario, settings)
            replay.run_day(scenario, session)
            raise _Finished(read_day(scenario, session))
    except _Finished as finished:
        return finished.run


def read_day(scenario: Scenario, session: DailySession) -> DayRun:
    buys = session.transactions.filter(action=HedgeTransaction.Action.BUY).order_by("decided_at", "pk").prefetch_related("orders")
    entries = list(session.executions.order_by("planned_entry", "name"))
    snapshots = list(session.snapshots.order_by("taken_at"))
    entered = [e.util_after_entry_pct for e in entries if e.util_after_entry_pct is not None]
    return DayRun(
        buys=tuple(planned_buy(tx, scenario) for tx in buys),
        entries=tuple(ProjectedEntry(e.name, e.planned_entry, e.baskets, e.util_after_entry_pct) for e in entries),
        timeline=timeline(snapshots),
        alerts=tuple(run_alert(row) for row in session.alerts.order_by("created_at", "pk")),
        peak_util_pct=max([s.utilisation_pct for s in snapshots] + entered, default=Decimal(0)),
    )


def planned_buy(tx: HedgeTransaction, scenario: Scenario) -> PlannedBuy:
    legs = tuple(Leg(o.option_type, o.strike, o.filled_quantity, o.average_price) for o in tx.orders.all() if o.filled_quantity)
    low, high = cost_range(legs, tx.decided_at, scenario, tx.cost)
    return PlannedBuy(
        time=tx.decided_at.astimezone(IST).time(),
        hedge_baskets=tx.hedge_baskets,
        for_entries=tuple(tx.for_entries),
        util_before_pct=tx.util_before_pct,
        util_projected_pct=tx.util_projected_pct,
        util_after_pct=tx.util_after_pct,
        cost=tx.cost,
        cost_low=low,
        cost_high=high,
        legs=legs,
    )


def cost_range(legs: Sequence[Leg], moment: datetime, scenario: Scenario, estimate: Decimal) -> tuple[Decimal, Decimal]:
    """The buy's strikes priced at the ask, at its time, with the index a day's move
    lower and higher (both legs with the same index); the estimate lies within."""
    spot, move, market = flat_spot(scenario), one_day_move(scenario), scenario.market
    moved = [
        sum(
            (
                pricing.quote(
                    level, leg.strike, leg.option_type, moment, scenario.expiry, market.iv_atm, market.iv_wing_slope
                ).ask
                * leg.quantity
                for leg in legs
            ),
            Decimal(0),
        )
        for level in (spot - move, spot + move)
    ]
    return min(estimate, *moved), max(estimate, *moved)


def timeline(snapshots: Sequence) -> tuple[Point, ...]:
    """The minute snapshots, kept where something changed."""
    points: list[Point] = []
    for s in snapshots:
        point = Point(s.taken_at.astimezone(IST).time(), s.utilisation_pct, s.open_baskets, s.hedges_held)
        if not points or replace(points[-1], time=point.time) != point:
            points.append(point)
    return tuple(points)


def run_alert(row: Alert) -> RunAlert:
    entries = tuple(row.dedupe_key.partition(":")[2].split(",")) if row.kind in ENTRY_ALERTS else ()
    return RunAlert(row.created_at.astimezone(IST).time(), row.kind, row.level, row.text, entries)


# --- the morning task: forecast, store, send ---------------------------------------------


def forecast_all(now: datetime, dispatch: Callable[[int], object] | None = None) -> list[int]:
    """Today's active sessions, on a trading day of their exchange: each forecast by
    `dispatch(session_id)` (the Celery task), or here when none is given."""
    today = now.astimezone(IST).date()
    sessions = DailySession.objects.filter(date=today, status=DailySession.Status.ACTIVE, is_replay=False, account__enabled=True)
    ids = [s.pk for s in sessions.order_by("pk") if is_trading_day(today, calculator.holidays(s.index_name))]
    for session_id in ids:
        (dispatch or (lambda pk: forecast_session(pk, now)))(session_id)
    return ids


def forecast_session(
    session_id: int,
    now: datetime,
    *,
    broker=None,
    notifier: Notifier | None = None,
    retry: Callable[[float], None] | None = None,
    deliver_alert: Deliver | None = None,
) -> str:
    """Forecast the session's day once, store it, and send it. Safe to run again: a
    stored forecast is not made twice, a delivered one not sent twice. A forecast that
    cannot be made becomes a `forecast_failed` warning alert."""
    session = DailySession.objects.select_related("account").get(pk=session_id)
    stored = Forecast.objects.filter(session=session, day=session.date).first()
    if stored is None:
        try:
            result = forecast_for_session(session, broker=broker, now=now)
        except (OpenAlgoError, ValueError) as failure:  # ForecastError, a missing API key, …
            alert(session, "forecast_failed", "warning", f"No hedge forecast for {session.date:%d %b}: {failure}", now,
                  deliver_alert, dedupe_key=f"forecast:{session.date}")
            return f"no forecast: {failure}"
        stored = store(session, result, now)
    return deliver(stored.pk, notifier, retry)


def store(session: DailySession, result: ForecastResult, now: datetime) -> Forecast:
    row, _ = Forecast.objects.get_or_create(
        session=session,
        day=result.day,
        defaults=dict(
            made_at=now,
            result=result.detail(),
            hedge_buys=len(result.planned),
            cost=result.cost,
            cost_low=result.cost_low,
            cost_high=result.cost_high,
            cap_covers=result.cap_covers,
            shortfall_from=result.shortfall_from or "",
            message=telegram_message(result, session_ref(session)),
        ),
    )
    return row


def deliver(forecast_id: int, notifier: Notifier | None = None, retry: Callable[[float], None] | None = None) -> str:
    """Send the stored message once; `retry(seconds)` (Celery's, which raises) when
    Telegram failed in a way worth trying again."""
    return send_once(Forecast, forecast_id, lambda row: row.message, notifier, retry)


def telegram_message(result: ForecastResult, session: messages.SessionRef) -> str:
    """One message: the buys (the uncapped ones when the cap falls short, so the
    builder says by how much), their range, and what needs the trader's attention."""
    buys = result.planned if result.cap_covers else result.needed
    rupees = Decimal(1)
    lines = [
        messages.forecast(
            session,
            buys=[messages.ExpectedBuy(b.time, b.hedge_baskets, b.cost.quantize(rupees)) for b in buys],
            daily_cap=result.cap,
        )
    ]
    if buys:
        low, high = (sum((getattr(b, name) for b in buys), Decimal(0)).quantize(rupees) for name in ("cost_low", "cost_high"))
        lines.append(
            f"Range {messages.format_inr(low)}–{messages.format_inr(high)} if {result.index} moves "
            f"a day's ±{result.assumptions.one_day_move:.0f} points."
        )
    if result.shortfall_from:
        planned, needed = (sum(b.hedge_baskets for b in plan) for plan in (result.planned, result.needed))
        lines.append(
            f"⚠️ Shortfall from <b>{html.escape(result.shortfall_from)}</b>: the cap pays for {planned} of the "
            f"{needed} hedge baskets the day needs."
        )
    if result.breaches:
        names = ", ".join(f"<b>{html.escape(name)}</b>" for name in result.breaches)
        lines.append(f"🚨 Even fully hedged, {names} will breach the budget.")
    lines += [f"⚠️ {x.time:%H:%M} {html.escape(x.text)}" for x in result.warnings if x.kind not in SUMMED_UP]
    if not result.auto_enabled:
        lines.append("⏸ Auto-hedge is off: none of this is bought unless it is turned on.")
    return "\n".join(lines)


# --- the dashboard: plan against what happened -------------------------------------------


def plan_against_actual(session: DailySession) -> dict[str, Any] | None:
    """The stored forecast of the session's day beside what happened so far; None when
    no forecast was stored."""
    stored = session.forecasts.filter(day=session.date).first()
    if stored is None:
        return None
    executions = {e.name: e for e in session.executions.all()}
    transactions = list(session.transactions.order_by("decided_at", "pk"))
    return {
        "made_at": stored.made_at.astimezone(IST).isoformat(),
        "forecast": stored.result,
        "entries": [entry_against_plan(entry, executions.get(entry["name"])) for entry in stored.result["entries"]],
        "actual_buys": [
            {
                "time": f"{tx.decided_at.astimezone(IST):%H:%M:%S}",
                "hedge_baskets": tx.hedge_baskets,
                "for_entries": tx.for_entries,
                "cost": number(tx.cost, "0.01"),
                "status": tx.status,
            }
            for tx in transactions
            if tx.action == HedgeTransaction.Action.BUY
        ],
        "spent": number(spent_today(transactions), "0.01"),
    }


def entry_against_plan(entry: dict[str, Any], execution: StrategyExecution | None) -> dict[str, Any]:
    """A planned entry (util_pct projected) with its status and actual utilisation after entry."""
    if execution is None:
        return {**entry, "status": StrategyExecution.Status.SCHEDULED.value, "actual_util_pct": None}
    return {**entry, "status": execution.status, "actual_util_pct": number(execution.util_after_entry_pct)}
