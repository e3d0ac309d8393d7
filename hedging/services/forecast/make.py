"""Making a forecast: of a scenario file's day, or of a session's day as the broker and
the account stand now; a what-if is either with some settings overridden."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from brokers.simbroker.scenario import Scenario
from hedging.models import Control, DailySession
from hedging.services import replay, runtime
from hedging.services.forecast.day import check_day, from_open, session_scenario, with_overrides
from hedging.services.forecast.market import flat_spot, one_day_move
from hedging.services.forecast.result import Assumptions, ForecastResult
from hedging.services.forecast.run import replay_day

UNLIMITED_CAP = Decimal("999999999999")  # the largest cap the session's column holds


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
