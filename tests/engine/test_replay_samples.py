"""The six sample days, through `manage.py replay`, give what their README table says."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from hedging.models import DailySession, HedgeTransaction

SCENARIOS = Path(__file__).resolve().parents[2] / "docs" / "scenarios"
pytestmark = pytest.mark.django_db


def replay(name: str, *args: str) -> dict:
    out = StringIO()
    call_command("replay", str(SCENARIOS / f"{name}.json"), *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def buys(result):
    return [(a["time"][:5], a["hedge_baskets"]) for a in result["actions"] if a["action"] == "BUY"]


def entry_util(result, name):
    return next(e["util_pct"] for e in result["entries"] if e["name"] == name)


def critical(result, kind):
    return [a for a in result["alerts"] if a["kind"] == kind and a["level"] == "critical"]


def test_roomy_budget_buys_nothing():
    result = replay("roomy-budget")
    assert result["actions"] == []
    assert result["summary"]["hedge_cost"] == 0
    assert entry_util(result, "P2") == 57.7


def test_one_entry_breach_buys_one_hedge_basket_before_the_entry():
    result = replay("one-entry-breach")
    assert buys(result) == [("09:40", 1)]
    action = result["actions"][0]
    assert (action["util_projected_pct"], action["util_after_pct"]) == (99.9, 81.0)
    assert entry_util(result, "P2") == 81.0
    assert action["cost"] == pytest.approx(sum(leg["price"] * leg["quantity"] for leg in action["legs"]))
    assert {leg["option_type"] for leg in action["legs"]} == {"CE", "PE"}


def test_cap_too_small_buys_nothing_and_alerts_once_before_the_entry():
    result = replay("cap-too-small")
    assert result["actions"] == []
    alerts = critical(result, "cap_reached")
    assert len(alerts) == 1 and alerts[0]["time"] < "09:45"
    assert entry_util(result, "P2") == 99.9


def test_unavoidable_breach_buys_all_that_help_and_alerts():
    result = replay("unavoidable-breach")
    assert buys(result) == [("09:25", 3)]
    assert len(critical(result, "breach_unavoidable")) == 1
    assert entry_util(result, "P1") == 118.5


def test_spare_hedges_are_reused_for_a_later_entry():
    result = replay("spare-hedges-reused")
    assert buys(result) == [("09:45", 2)]
    assert entry_util(result, "P3") in (67.2, 87.8)  # both kept, or one sold as the exit rule allows


def test_sensex_expiry_day_buys_twice():
    result = replay("sensex-expiry-day")
    assert buys(result) == [("10:25", 2), ("10:55", 2)]
    assert entry_util(result, "S2") == 73.7
    assert entry_util(result, "S3") == 76.0


def test_replay_leaves_no_rows_unless_saved():
    replay("one-entry-breach")
    assert not DailySession.objects.exists()
    replay("one-entry-breach", "--save")
    session = DailySession.objects.get()
    assert session.is_replay and session.replay_name == "one-entry-breach"
    assert HedgeTransaction.objects.filter(session=session).count() == 1


def test_malformed_scenario_names_the_field(tmp_path):
    data = json.loads((SCENARIOS / "one-entry-breach.json").read_text())
    data["schedule"][1]["entry"] = "9.45"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CommandError, match=r"schedule\[1\]\.entry"):
        call_command("replay", str(bad), stdout=StringIO())
    data = json.loads((SCENARIOS / "one-entry-breach.json").read_text())
    data["config"]["entry_target_pct"] = 99
    bad.write_text(json.dumps(data))
    with pytest.raises(CommandError, match=r"config\.entry_target_pct"):
        call_command("replay", str(bad), stdout=StringIO())
    assert not DailySession.objects.exists()


def test_folder_replay_prints_a_summary_table(tmp_path):
    out = StringIO()
    call_command("replay", str(SCENARIOS), "--out", str(tmp_path), stdout=out, stderr=StringIO())
    table = out.getvalue()
    assert "sensex-expiry-day" in table and "total" in table
    assert len(list(tmp_path.glob("*.json"))) == 6
