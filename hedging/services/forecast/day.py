"""The derived day: a session's day as a scenario (its schedule, settings and budget,
the margin outside the schedule, the market calibrated to the broker's chain), and a
what-if's overrides of it."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models

from brokers.models import SPOT_EXCHANGE
from brokers.openalgo_types import OptionChain
from brokers.simbroker.scenario import MarginPerBasket, Scenario, ScheduleRow
from hedging.core.calendar import is_trading_day
from hedging.core.clock import MARKET_OPEN
from hedging.core.margin import ConstantsMargin
from hedging.core.money import format_inr
from hedging.core.settings import BUDGET_PER_BASKET, HedgeSettings, SettingsError
from hedging.models import DailySession, StrategyExecution
from hedging.services import calculator, monitor, runtime, scheduler, selector
from hedging.services.forecast.market import calibrate
from hedging.services.forecast.result import ForecastError

MAX_BUDGET = BUDGET_PER_BASKET * 32767  # the replay session counts budget ÷ ₹10L baskets in a small-integer column
# Under it a day's utilisation (a few baskets of ₹4L) runs past what its percent columns hold.
MIN_BUDGET = Decimal(10000)

Number = TypeVar("Number", Decimal, int)


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
        return cast(models.Field, model._meta.get_field(name)).clean(raw, None)
    except ValidationError as invalid:
        raise ForecastError(label or name, " ".join(invalid.messages)) from None


def checked_budget(raw: Any) -> Decimal:
    budget = positive(cleaned(DailySession, "budget", raw), "budget")
    if budget < MIN_BUDGET:
        raise ForecastError("budget", f"must be at least {format_inr(MIN_BUDGET)}")
    if budget > MAX_BUDGET:
        raise ForecastError("budget", f"must be at most {format_inr(MAX_BUDGET)}")
    return budget


def positive(value: Number, label: str) -> Number:
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
