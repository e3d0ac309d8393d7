"""Replay scenarios: one-line errors naming the field, and the broker a scenario builds."""

import copy
import json
from decimal import Decimal

import pytest

from brokers.simbroker import ScenarioError, build_simbroker, load_scenario, parse_scenario
from brokers.simbroker.scenario import MarginPerBasket

from .helpers import call, moment, used_margin

ONE_ENTRY_BREACH = {
    "name": "one-entry-breach", "date": "2026-11-24", "index": "NIFTY", "expiry": "2026-11-24",
    "lot_size": 65, "lots_per_basket": 1, "budget": 1300000,
    "config": {"entry_trigger_pct": 95, "max_hedge_cost_per_day": 50000},
    "margin_per_basket": {"unhedged": 433000, "hedged": 187000},
    "base_used_margin": [["09:15", 0], ["11:00", 150000]],
    "schedule": [{"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
                 {"name": "P2", "entry": "09:45", "exit": "15:15", "baskets": 2}],
    "stop_outs": [{"name": "P1", "time": "11:42"}],
    "market": {"spot": [["09:15", 24000.0], ["12:00", 24060.0]], "strike_step": 50, "iv_atm": 0.12,
               "iv_wing_slope": 0.04},
}


def changed(path: str, value=None, delete: bool = False) -> dict:
    data = copy.deepcopy(ONE_ENTRY_BREACH)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if delete:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


def test_a_valid_scenario_parses_into_typed_fields():
    scenario = parse_scenario(ONE_ENTRY_BREACH)
    assert (scenario.name, scenario.index, scenario.lot_size, scenario.basket_qty) == ("one-entry-breach", "NIFTY", 65, 65)
    assert scenario.budget == Decimal(1300000)
    assert [(row.name, row.entry.isoformat(), row.baskets) for row in scenario.schedule] == [
        ("P1", "09:20:00", 1), ("P2", "09:45:00", 2)]
    assert scenario.margin_per_basket == MarginPerBasket(Decimal(433000), Decimal(187000))
    assert scenario.config == {"entry_trigger_pct": 95, "max_hedge_cost_per_day": 50000}
    assert scenario.at(scenario.schedule[0].entry) == moment(9, 20)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (changed("schedule.1.entry", "9.45"), "schedule[1].entry: expected HH:MM or HH:MM:SS"),
        (changed("schedule.1.entry", "25:00"), "schedule[1].entry: expected HH:MM or HH:MM:SS"),
        (changed("schedule.0.exit", "16:00"), "schedule[0].exit: outside market hours 09:15–15:30"),
        (changed("schedule.0.exit", "09:10:00"), "schedule[0].exit: outside market hours 09:15–15:30"),
        (changed("schedule.1.exit", "09:30"), "schedule[1].exit: must be after entry"),
        (changed("schedule.1.name", "P1"), "schedule[1].name: duplicate name 'P1'"),
        (changed("schedule.0.baskets", 0), "schedule[0].baskets: must be a positive whole number"),
        (changed("schedule.0.baskets", delete=True), "schedule[0].baskets: required"),
        (changed("schedule", []), "schedule: expected a non-empty list"),
        (changed("budget", -5), "budget: must be a positive number"),
        (changed("budget", "lots"), "budget: must be a positive number"),
        (changed("budget", True), "budget: must be a positive number"),
        (changed("budget", delete=True), "budget: required"),
        (changed("date", "24-11-2026"), "date: expected a date YYYY-MM-DD"),
        (changed("date", "2026-11-28"), "date: not a trading day (a weekend)"),
        (changed("expiry", "2026-11-20"), "expiry: must not be before date"),
        (changed("index", "BANKNIFTY"), "index: expected one of NIFTY, SENSEX"),
        (changed("lot_size", 6.5), "lot_size: must be a positive whole number"),
        (changed("config", [1]), "config: expected an object"),
        (changed("margin_per_basket.hedged", 500000), "margin_per_basket.hedged: must not exceed unhedged"),
        (changed("margin_per_basket.unhedged", 0), "margin_per_basket.unhedged: must be a positive number"),
        (changed("base_used_margin.1", ["10:00"]), "base_used_margin[1]: expected [time, amount]"),
        (changed("base_used_margin.1", ["09:00", 5]), "base_used_margin[1][0]: outside market hours 09:15–15:30"),
        (changed("base_used_margin.1", ["09:15", 5]), "base_used_margin[1][0]: times must increase"),
        (changed("base_used_margin.1", ["10:00", -5]), "base_used_margin[1][1]: must be a non-negative number"),
        (changed("stop_outs.0.name", "P9"), "stop_outs[0].name: no schedule row named 'P9'"),
        (changed("stop_outs.0.time", "15:20"), "stop_outs[0].time: must lie between the entry and exit of P1"),
        (changed("market.spot", []), "market.spot: expected a non-empty list"),
        (changed("market.strike_step", 0), "market.strike_step: must be a positive number"),
        (changed("market.iv_atm", delete=True), "market.iv_atm: required"),
        (changed("market.volatility", 1), "market.volatility: unknown field"),
        (changed("budgett", 1), "budgett: unknown field"),
        ([], "scenario: expected a JSON object"),
    ],
)
def test_a_malformed_scenario_is_refused_in_one_line_naming_the_field(data, message):
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(data)
    assert str(refused.value) == message
    assert "\n" not in str(refused.value)


def test_a_file_that_is_not_json_is_refused_in_one_line(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": \n')
    with pytest.raises(ScenarioError, match=r"^scenario: not valid JSON \(.*\)$"):
        load_scenario(broken)


def test_lot_size_and_lots_per_basket_default_per_index(tmp_path):
    data = changed("lot_size", delete=True)
    del data["lots_per_basket"]
    data["index"] = "SENSEX"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    scenario = load_scenario(path)
    assert (scenario.lot_size, scenario.lots_per_basket, scenario.basket_qty) == (20, 10, 200)


def test_the_built_broker_runs_the_schedule_with_the_constants_and_other_margin():
    sim = build_simbroker(parse_scenario(ONE_ENTRY_BREACH))
    assert sim.clock.now() == moment(9, 15) and not sim.rate_limits
    sim.clock.set(moment(9, 20))
    assert used_margin(sim) == Decimal(433000)
    sim.clock.set(moment(9, 45))
    assert used_margin(sim) == 3 * Decimal(433000)
    sim.clock.set(moment(11, 0))
    assert used_margin(sim) == Decimal(150000) + 3 * Decimal(433000)
    sim.clock.set(moment(11, 42))  # P1 stops out
    assert used_margin(sim) == Decimal(150000) + 2 * Decimal(433000)
    assert [(e.strategy, e.action, e.quantity) for e in sim.order_log][-2:] == [("P1", "BUY", 65)] * 2


def test_the_built_broker_prices_from_the_scenarios_spot_steps():
    sim = build_simbroker(parse_scenario(ONE_ENTRY_BREACH))
    sim.clock.set(moment(12, 0))
    assert call(sim, "quotes", symbol="NIFTY", exchange="NSE_INDEX")[1]["data"]["ltp"] == 24060.0
    chain = call(sim, "optionchain", underlying="NIFTY", exchange="NSE_INDEX", expiry_date="24NOV26", strike_count=1)[1]
    assert chain["atm_strike"] == 24050.0


def test_constants_come_from_the_caller_when_the_scenario_has_none():
    scenario = parse_scenario(changed("margin_per_basket", delete=True))
    with pytest.raises(ScenarioError, match=r"^margin_per_basket: not in the scenario and none given"):
        build_simbroker(scenario)
    sim = build_simbroker(scenario, margin_per_basket=MarginPerBasket(Decimal(320000), Decimal(140000)))
    sim.clock.set(moment(9, 20))
    assert used_margin(sim) == Decimal(320000)
