"""The project's simulated OpenAlgo broker: a library (market, pricing, account, margin
models, faults) answering OpenAlgo's REST calls through one path, `SimBroker.handle`,
with a thin HTTP face (`server`) for the demo and for tests in other processes.
See docs/simbroker.md."""

from .broker import LoggedOrder, SimBroker, Strategy
from .faults import Faults, SimulatedTimeout
from .latency import REAL_OPENALGO, Latency, latency_profile
from .margin import (
    DEFAULT_SPAN_PARAMS,
    BasketRates,
    ConstantsMargin,
    MarginBreakdown,
    MarginModel,
    SpanLikeMargin,
    SpanParams,
    basket_margin,
)
from .market import Market, Option, RandomWalk, StepFunction, Underlying, nifty, option_symbol, sensex
from .pricing import Quote, option_price, quote
from .scenario import (
    DemoStrategy,
    Scenario,
    ScenarioError,
    build_demo_simbroker,
    build_simbroker,
    load_scenario,
    parse_scenario,
)
from .server import SimServer, start_server, stop_server

__all__ = [
    "DEFAULT_SPAN_PARAMS", "REAL_OPENALGO", "BasketRates", "ConstantsMargin", "DemoStrategy", "Faults", "Latency",
    "LoggedOrder", "MarginBreakdown", "MarginModel", "Market", "Option", "Quote", "RandomWalk", "Scenario",
    "ScenarioError", "SimBroker", "SimServer", "SimulatedTimeout", "SpanLikeMargin", "SpanParams", "StepFunction",
    "Strategy", "Underlying", "basket_margin", "build_demo_simbroker", "build_simbroker", "latency_profile",
    "load_scenario", "nifty", "option_price", "option_symbol", "parse_scenario", "quote", "sensex", "start_server",
    "stop_server",
]
