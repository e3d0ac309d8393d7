"""Sample days, forecasts of them (made once per test run: they are deterministic), and
a simulated broker and a session standing for a sample day before its open."""

import functools
import uuid
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path

from brokers.openalgo import InProcessTransport, OpenAlgoClient
from brokers.simbroker import SimBroker
from brokers.simbroker.scenario import MarginPerBasket, Scenario, build_simbroker, load_scenario
from hedging.core.clock import SteppedClock
from hedging.models import DailySession
from hedging.services.forecast import ForecastResult, forecast_scenario
from tests.factories import BrokerAccountFactory, DailySessionFactory, StrategyScheduleFactory

SCENARIOS = Path(__file__).resolve().parents[2] / "docs" / "scenarios"
SAMPLE_DAYS = sorted(path.stem for path in SCENARIOS.glob("*.json"))
assert SAMPLE_DAYS, f"no sample days in {SCENARIOS}"
BEFORE_OPEN = time(9, 5)
NIFTY_0DTE = MarginPerBasket(Decimal(433000), Decimal(187000))
SIM_KEY = "forecast-test-key"


@functools.cache
def sample(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.json")


@functools.cache
def sample_forecast(name: str) -> ForecastResult:
    return forecast_scenario(sample(name))


def before_open(scenario: Scenario) -> datetime:
    return scenario.at(BEFORE_OPEN)


def sim_broker(scenario: Scenario, margin: MarginPerBasket = NIFTY_0DTE) -> tuple[OpenAlgoClient, SimBroker]:
    """The scenario's simulated broker at 09:05, and a client talking to it in-process."""
    sim = build_simbroker(scenario, SteppedClock(before_open(scenario)), margin_per_basket=margin, api_key=SIM_KEY)
    client = OpenAlgoClient(
        f"inprocess://forecast-{uuid.uuid4().hex}", SIM_KEY, transport=InProcessTransport(sim.handle), rate_limit=False
    )
    return client, sim


def session_like(scenario: Scenario, **fields) -> DailySession:
    """A live session whose account schedule, budget and settings are the scenario's."""
    account = fields.pop("account", None) or BrokerAccountFactory()
    for row in scenario.schedule:
        StrategyScheduleFactory(
            account=account,
            index_name=scenario.index,
            name=row.name,
            entry_time=row.entry,
            exit_time=row.exit,
            baskets=row.baskets,
        )
    values = dict(
        account=account,
        date=scenario.date,
        index_name=scenario.index,
        expiry=scenario.expiry,
        lots_per_basket=scenario.lots_per_basket,
        lot_size=scenario.lot_size,
        budget=scenario.budget,
        **scenario.config,
    )
    return DailySessionFactory(**{**values, **fields})


def buys(planned) -> list[tuple[str, int]]:
    return [(f"{buy.time:%H:%M}", buy.hedge_baskets) for buy in planned]
