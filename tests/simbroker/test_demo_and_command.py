"""The demo's two-index broker and the `simbroker` management command."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from brokers.simbroker import REAL_OPENALGO, Latency, build_demo_simbroker
from hedging.core.clock import MARKET_OPEN, SteppedClock, at

from .helpers import call, moment
from .test_scenario import ONE_ENTRY_BREACH


def demo(seed: int):
    return build_demo_simbroker(SteppedClock(at(date(2026, 11, 24), MARKET_OPEN)), seed=seed)


def spot(sim, name: str, exchange: str) -> float:
    return call(sim, "quotes", symbol=name, exchange=exchange)[1]["data"]["ltp"]


def test_the_demo_spot_is_a_random_walk_fixed_by_its_seed():
    first, again, other = demo(3), demo(3), demo(4)
    for sim in (first, again, other):
        sim.clock.set(moment(13, 0))
    assert spot(first, "NIFTY", "NSE_INDEX") == spot(again, "NIFTY", "NSE_INDEX") != spot(other, "NIFTY", "NSE_INDEX")
    assert spot(first, "NIFTY", "NSE_INDEX") != 24000
    assert 70000 < spot(first, "SENSEX", "BSE_INDEX") < 90000


def test_the_demo_runs_its_strategies_on_both_indices():
    sim = demo(1)
    sim.clock.set(moment(11, 0))
    tags = {(entry.strategy, entry.symbol[:6]) for entry in sim.order_log}
    assert tags == {("N1", "NIFTY2"), ("N2", "NIFTY2"), ("S1", "SENSEX"), ("S2", "SENSEX")}
    assert Decimal(call(sim, "funds")[1]["data"]["utiliseddebits"]) > 0


def test_the_command_refuses_a_malformed_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**ONE_ENTRY_BREACH, "budget": -1}))
    with pytest.raises(CommandError) as refused:
        call_command("simbroker", "--scenario", str(bad), "--port", "0", stdout=io.StringIO())
    assert str(refused.value) == "budget: must be a positive number"


class ServedSim(Exception):
    """Stops the command where it would serve, carrying the sim it built."""


@pytest.fixture
def served(monkeypatch):
    def capture(server):
        raise ServedSim(server.sim)

    monkeypatch.setattr("brokers.simbroker.server.SimServer.serve_forever", capture)

    def run(*args, **env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with pytest.raises(ServedSim) as caught:
            call_command("simbroker", "--port", "0", *args, stdout=io.StringIO())
        return caught.value.args[0]

    return run


def test_the_command_takes_its_options_or_the_environments(served):
    assert served().latency == Latency()
    assert served("--latency", "real-openalgo", "--latency-scale", "0.5").latency == REAL_OPENALGO.scaled(0.5)
    assert served(SIMBROKER_LATENCY="real-openalgo", SIMBROKER_LATENCY_SCALE="0.2").latency == REAL_OPENALGO.scaled(0.2)
    assert served().margin_api and not served("--no-margin-api").margin_api
    assert not served().analyze and served("--analyze").analyze and served(SIMBROKER_ANALYZE="1").analyze
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("simbroker", "--latency", "slow", stdout=io.StringIO())
