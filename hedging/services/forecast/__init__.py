"""Morning forecast: what a day's schedule will need and cost, before the open
(docs/forecast.md).

A forecast is a replay of a derived scenario: the day's schedule, budget and settings,
the margin outside the schedule and the index held flat at what they are now, no
stop-outs. It runs through the replay machinery (the real orchestrator, minute by
minute, on the simulated broker) inside a transaction that is rolled back, so nothing
is written but the Forecast row the morning task stores. A what-if is the same with
some settings overridden.

`result` holds the answer's types, `make` the entry points, `day` the derived day,
`market` the pricing model fitted to the broker's chain, `run` the rolled-back replay,
`morning` the 09:05 task and its message, `actual` the dashboard's plan against the day.
"""

from hedging.services.forecast.actual import plan_against_actual
from hedging.services.forecast.day import other_margin
from hedging.services.forecast.make import forecast, forecast_for_session, forecast_scenario
from hedging.services.forecast.market import calibrate, fit_line
from hedging.services.forecast.morning import SUMMED_UP, deliver, forecast_all, forecast_session, store, telegram_message
from hedging.services.forecast.result import ForecastError, ForecastResult

__all__ = [
    "SUMMED_UP",
    "ForecastError",
    "ForecastResult",
    "calibrate",
    "deliver",
    "fit_line",
    "forecast",
    "forecast_all",
    "forecast_for_session",
    "forecast_scenario",
    "forecast_session",
    "other_margin",
    "plan_against_actual",
    "store",
    "telegram_message",
]
