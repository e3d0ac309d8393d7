"""Generated days through the product's replay, judged by the independent checker
(tests/days/checker.py, from hedging-rules.md alone): no crash, no finding.

DAYS seeds from 1 run in DAYS_JOBS worker processes (default 2; 1 runs them in this
process); about 1–2 s a day in a process. The worker processes use this test's
database, so the test commits (transaction=True): the replay's broker account row must
be visible to them before they start. bin/fuzz-days runs the same with its own options.

The sample days (docs/scenarios) must replay as their README says, and draw no finding.
"""

import json
import os
from pathlib import Path

import pytest

from tests.days import runner
from tests.days.checker import check_day

DAYS = 300
FIRST_SEED = 1
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "scenarios"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_generated_days_draw_no_finding():
    jobs = int(os.environ.get("DAYS_JOBS", "2"))
    verdicts = runner.run_days(list(range(FIRST_SEED, FIRST_SEED + DAYS)), jobs=jobs)
    figures = runner.summary(verdicts)
    failing = [v for v in verdicts if v.findings]
    # The days were not trivial: buys, exits, alerts of every excusing kind happened.
    assert figures["buys"] >= DAYS // 10 and figures["exits"] >= 1, runner.summary_table(figures)
    assert not failing, "\n" + runner.summary_table(figures) + "\n\n" + runner.failures_text(verdicts, limit_days=30)


# Days the 5,000-day run failed on, each for what the trader would have seen.
FIXED_DAYS = {
    750: "a hedge at a strike a later straddle sold, counted apart from that short (two products)",
    3247: "a hedge at a strike a later straddle sold, counted apart from that short (two products)",
    791: "the daily cap allowed a cheaper eligible strike than the four quoted, yet nothing was bought",
    453: "no eligible strike alerted while one was eligible at live prices",
}


@pytest.mark.django_db
@pytest.mark.parametrize("seed", sorted(FIXED_DAYS))
def test_a_day_the_long_run_failed_on_draws_no_finding(seed):
    verdict = runner.run_day(seed)
    assert not verdict.findings, f"{FIXED_DAYS[seed]}:\n" + runner.failures_text([verdict])


# scenario → (buys as (HH:MM, hedge baskets), {entry: util_pct}, critical alert kinds), from samples' README
EXPECTED = {
    "roomy-budget": ([], {"P2": 57.7}, set()),
    "one-entry-breach": ([("09:40", 1)], {"P2": 81.0}, set()),
    "cap-too-small": ([], {"P2": 99.9}, {"cap_reached"}),
    "unavoidable-breach": ([("09:25", 3)], {"P1": 118.5}, {"breach_unavoidable"}),
    "spare-hedges-reused": ([("09:45", 2)], {"P3": 67.2}, set()),
    "sensex-expiry-day": ([("10:25", 2), ("10:55", 2)], {"S2": 73.7, "S3": 76.0}, set()),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_days_replay_as_expected_with_no_finding(name):
    scenario = json.loads((SAMPLES / f"{name}.json").read_text())
    result = runner.replay_day(scenario)
    buys, utils, alerts = EXPECTED[name]
    assert [(a["time"][:5], a["hedge_baskets"]) for a in result["actions"] if a["action"] == "BUY"] == buys
    assert {e["name"]: e["util_pct"] for e in result["entries"] if e["name"] in utils} == utils
    assert {a["kind"] for a in result["alerts"] if a["level"] == "critical"} == alerts
    assert check_day(scenario, result) == []
