"""`manage.py forecast SESSION_ID|SCENARIO.json [--date D] [--json]`."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from brokers.simbroker import start_server, stop_server
from hedging.management.commands.forecast import table
from hedging.services import runtime
from tests.factories import BrokerAccountFactory
from tests.forecast.helpers import SCENARIOS, sample, sample_forecast, session_like, sim_broker

pytestmark = pytest.mark.django_db
KEY_ENV = "OPENALGO_FORECAST_TEST_KEY"


def forecast(*args: str) -> str:
    out = StringIO()
    call_command("forecast", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_json_for_a_scenario_is_the_documented_shape_in_plain_numbers():
    answer = json.loads(forecast(str(SCENARIOS / "one-entry-breach.json"), "--json"))
    assert set(answer) == {
        "planned",
        "breaches",
        "cap_covers",
        "shortfall_from",
        "cost_low",
        "cost_high",
        "peak_util_pct",
        "alerts",
    }
    assert answer["planned"] == [
        {"time": "09:40:00", "hedge_baskets": 1, "for_entries": ["P2"], "util_projected_pct": 99.9, "util_after_pct": 81.0}
    ]
    assert (answer["breaches"], answer["cap_covers"], answer["shortfall_from"], answer["peak_util_pct"]) == ([], True, None, 81.0)
    assert answer["alerts"] == []
    assert isinstance(answer["cost_low"], float) and 0 < answer["cost_low"] <= answer["cost_high"]


def test_a_day_no_strike_can_hedge_is_not_called_covered(tmp_path):
    """Its replay raised no_eligible_strike: the forecast says so, not "no buys expected"."""
    day = json.loads((SCENARIOS / "one-entry-breach.json").read_text())
    day["config"].update(min_premium=40, max_premium=60)
    path = tmp_path / "no-strike.json"
    path.write_text(json.dumps(day))

    answer = json.loads(forecast(str(path), "--json"))
    (alert,) = answer["alerts"]
    assert (alert["kind"], alert["time"], alert["entries"]) == ("no_eligible_strike", "09:40:00", ["P2"])
    text = forecast(str(path))
    assert "No hedge buys expected" not in text
    assert "Critical at 09:40: P2 at 09:45: projected 99.9% > 95.0%; no eligible" in text


def test_json_names_the_shortfall_when_the_cap_is_too_small():
    answer = json.loads(forecast(str(SCENARIOS / "cap-too-small.json"), "--json"))
    assert (answer["planned"], answer["cap_covers"], answer["shortfall_from"]) == ([], False, "P2")
    assert answer["peak_util_pct"] == 99.9


def test_the_table_is_for_a_person():
    text = forecast(str(SCENARIOS / "unavoidable-breach.json"))
    assert "09:25:00" in text and "P1" in text
    assert "Over the target even fully hedged: P1." in text
    assert "The cap covers the plan." in text and "Peak utilisation 118.5%." in text


def test_the_table_says_what_the_cap_leaves_out():
    text = table(sample_forecast("cap-too-small"))
    assert "No hedge buys within the cap." in text
    assert re.search(r"The cap runs short from P2: the day needs 09:40 ×1, ~₹\d+", text)


def test_a_session_is_forecast_from_its_broker(monkeypatch):
    scenario = sample("one-entry-breach")
    _, sim = sim_broker(scenario)
    server, url = start_server(sim)
    try:
        monkeypatch.setenv(KEY_ENV, sim.api_key)
        monkeypatch.setattr(runtime, "clock", lambda: sim.clock)
        session = session_like(scenario, account=BrokerAccountFactory(host=url, api_key_env=KEY_ENV))
        answer = json.loads(forecast(str(session.pk), "--json"))
    finally:
        stop_server(server)
    assert [(b["time"], b["hedge_baskets"]) for b in answer["planned"]] == [("09:40:00", 1)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope.json"], "nope.json: scenario: cannot read"),
        ([str(SCENARIOS / "one-entry-breach.json"), "--date", "24/11/2026"], "--date: expected YYYY-MM-DD"),
        (
            [str(SCENARIOS / "one-entry-breach.json"), "--date", "2026-11-28"],
            "one-entry-breach.json: date: 2026-11-28 is not a trading day",
        ),
        (["999999"], "session: no session 999999"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(args, message):
    with pytest.raises(CommandError) as refused:
        forecast(*args)
    assert str(refused.value).startswith(message)
    assert "\n" not in str(refused.value)


def test_a_malformed_scenario_names_its_field(tmp_path):
    data = json.loads((SCENARIOS / "one-entry-breach.json").read_text())
    data["schedule"][1]["entry"] = "9.45"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match=r"^bad\.json: schedule\[1\]\.entry: expected HH:MM"):
        forecast(str(path))


def test_a_session_whose_api_key_is_unset_names_the_broker(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    session = session_like(sample("one-entry-breach"), account=BrokerAccountFactory(api_key_env=KEY_ENV))
    with pytest.raises(CommandError) as refused:
        forecast(str(session.pk))
    assert str(refused.value) == f"broker: No OpenAlgo API key: environment variable {KEY_ENV} is empty or unset"
