"""Done when: on each sample day the forecast plans the buys `manage.py replay` makes
(times to the minute, hedge baskets), up to the first thing a morning cannot know — a
stop-out or a change in the other margin — and differs after it."""

import json
from datetime import time
from io import StringIO

import pytest
from django.core.management import call_command

from brokers.simbroker.scenario import Scenario
from tests.forecast.helpers import SAMPLE_DAYS, SCENARIOS, buys, sample, sample_forecast

pytestmark = pytest.mark.django_db


def replayed(name: str) -> dict:
    out = StringIO()
    call_command("replay", str(SCENARIOS / f"{name}.json"), stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def replay_buys(result: dict) -> list[tuple[str, int]]:
    return [(a["time"][:5], a["hedge_baskets"]) for a in result["actions"] if a["action"] == "BUY"]


def first_surprise(scenario: Scenario) -> time | None:
    """A stop-out or a change of the other margin: the forecast holds both at 09:15."""
    return min([moment for moment, _ in scenario.base_used_margin[1:]] + [stop.time for stop in scenario.stop_outs], default=None)


@pytest.mark.parametrize("name", SAMPLE_DAYS)
def test_the_plan_is_the_replays_buys_until_the_first_surprise(name):
    planned, replay = buys(sample_forecast(name).planned), replay_buys(replayed(name))
    surprise = first_surprise(sample(name))
    if surprise is None:
        assert planned == replay
    else:
        cut = f"{surprise:%H:%M}"
        assert [b for b in planned if b[0] < cut] == [b for b in replay if b[0] < cut]


def test_the_samples_cover_days_with_and_without_surprises():
    assert len(SAMPLE_DAYS) == 6
    assert {name for name in SAMPLE_DAYS if first_surprise(sample(name))} == {"spare-hedges-reused", "sensex-expiry-day"}


def test_a_stop_out_changes_the_day_after_it():
    # P2 stops out at 12:30 and leaves its two hedges spare for P3 at 13:05. The forecast
    # keeps P2 open all day, so it plans three more hedge baskets for P3.
    assert replay_buys(replayed("spare-hedges-reused")) == [("09:45", 2)]
    forecast = sample_forecast("spare-hedges-reused")
    assert buys(forecast.planned) == [("09:45", 2), ("13:00", 3)]
    assert forecast.planned[1].for_entries == ("P3",)


def test_a_margin_rise_changes_the_utilisation_after_it():
    # The other margin rises ₹70,000 at 10:50 (7 points of the ₹10L budget): the same
    # buys, but S3 enters 7 points lower in the forecast than in the replay.
    entries = {e["name"]: e["util_pct"] for e in replayed("sensex-expiry-day")["entries"]}
    planned = {e.name: float(e.util_pct) for e in sample_forecast("sensex-expiry-day").entries}
    assert planned["S2"] == entries["S2"] == 73.7
    assert (entries["S3"], planned["S3"]) == (76.0, 69.0)

