"""The checker on small hand-written days: each test asserts the one kind of finding its
result should draw, and (where it makes sense) that the corrected result draws none.

The base day is the sample one-entry-breach: NIFTY 0 DTE (Mu ₹4,33,000, Mh ₹1,87,000),
budget ₹13,00,000, P1 1 basket at 09:20, P2 2 baskets at 09:45. At 09:40 P2 is
upcoming: U = 33.3 %, projection 99.9 % > 95 %, one hedge basket brings it to 81.0 %.
"""

import copy

from tests.days.checker import check_day

QTY = 65


def day(**changes) -> dict:
    scenario = {
        "name": "hand",
        "date": "2026-12-01",
        "index": "NIFTY",
        "expiry": "2026-12-01",
        "lot_size": QTY,
        "lots_per_basket": 1,
        "budget": 1300000,
        "config": {"entry_trigger_pct": 95, "entry_target_pct": 85, "exit_trigger_pct": 70, "lookahead_minutes": 5,
                   "max_hedge_cost_per_day": 50000, "cooldown_seconds": 120},
        "base_used_margin": [["09:15", 0]],
        "schedule": [
            {"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
            {"name": "P2", "entry": "09:45", "exit": "15:15", "baskets": 2},
        ],
        "stop_outs": [],
        "market": {"spot": [["09:15", 24000.0]], "strike_step": 50, "iv_atm": 0.12, "iv_wing_slope": 0.04},
    }
    config = changes.pop("config", {})
    scenario.update(changes)
    scenario["config"] = {**scenario["config"], **config}
    return scenario


def action(time, kind, baskets, cost=None, **fields) -> dict:
    per_leg = (cost if cost is not None else 250.0 * baskets) / 2
    price = round(per_leg / (baskets * QTY), 2)
    return {
        "time": time, "action": kind, "hedge_baskets": baskets, "cost": cost if cost is not None else 250.0 * baskets,
        "status": "filled", "reason": "", "for_entries": [],
        "legs": [
            {"symbol": f"NIFTY01DEC2624500{side}", "option_type": side, "strike": 24500.0 if side == "CE" else 23500.0,
             "quantity": baskets * QTY, "price": price, "mbpr": 1.0}
            for side in ("CE", "PE")
        ],
        **fields,
    }


def alert(time, kind) -> dict:
    return {"time": time, "level": "critical", "kind": kind, "text": kind}


def result(actions=(), alerts=(), entries=None) -> dict:
    entries = entries if entries is not None else {"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 81.0)}
    return {
        "scenario": "hand",
        "actions": list(actions),
        "alerts": list(alerts),
        "entries": [{"name": name, "time": t, "baskets": b, "util_pct": u} for name, (t, b, u) in entries.items()],
        "summary": {},
    }


def kinds(scenario, outcome) -> list[str]:
    return sorted({finding.kind for finding in check_day(scenario, outcome)})


GOOD = [action("09:40:00", "BUY", 1, util_before_pct=33.3, util_projected_pct=99.9)]


def test_a_correct_day_draws_no_finding():
    assert check_day(day(), result(GOOD)) == []


def test_a_buy_with_no_entry_in_the_lookahead_is_a_false_positive():
    findings = check_day(day(), result([action("09:30:00", "BUY", 1)]))
    assert [(f.kind, f.time) for f in findings] == [("false_positive", "09:30:00")]


def test_a_buy_with_the_projection_under_the_trigger_is_a_false_positive():
    roomy = day(budget=3000000)
    assert kinds(
        roomy, result([action("09:40:00", "BUY", 1)], entries={"P1": ("09:20:00", 1, 14.4), "P2": ("09:45:00", 2, 35.1)})
    ) == ["false_positive"]


def test_no_buy_before_an_entry_that_needs_one_is_a_miss():
    findings = check_day(day(), result(entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 99.9)}))
    assert [(f.kind, f.time) for f in findings] == [("miss", "09:40:00")]
    assert "P2 99.92%" in findings[0].text  # it names the entry that then went over the trigger


def test_a_miss_excused_by_a_cap_alert_is_not_a_miss_when_the_cap_allowed_nothing():
    # The cheapest eligible hedge basket at 09:40 costs about ₹260 (asks near ₹2 a leg × 65).
    outcome = result(
        alerts=[alert("09:40:00", "cap_reached")], entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 99.9)}
    )
    assert check_day(day(config={"max_hedge_cost_per_day": 100}), outcome) == []
    assert kinds(day(config={"max_hedge_cost_per_day": 50000}), outcome) == ["miss"]  # the cap allowed one


def test_a_breach_alert_alone_does_not_excuse_buying_nothing():
    outcome = result(
        alerts=[alert("09:40:00", "breach_unavoidable")], entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 99.9)}
    )
    assert kinds(day(), outcome) == ["miss"]


def test_buying_more_than_the_smallest_count_reaching_the_target_is_an_over_buy():
    outcome = result([action("09:40:00", "BUY", 2)], entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 62.1)})
    assert kinds(day(), outcome) == ["over_buy"]


def test_two_actions_inside_the_cooldown_are_a_cooldown_break():
    twice = result(GOOD + [action("09:41:00", "BUY", 1)], entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 62.1)})
    assert "cooldown" in kinds(day(), twice)
    assert "cooldown" not in kinds(day(config={"cooldown_seconds": 60}), twice)


def test_buys_costing_more_than_the_daily_cap_are_a_cap_break():
    assert kinds(day(config={"max_hedge_cost_per_day": 100}), result(GOOD)) == ["cap"]
    assert kinds(day(config={"max_hedge_cost_per_day": 250}), result(GOOD)) == []


def test_an_entry_utilisation_off_the_recount_is_a_util_mismatch():
    outcome = result(GOOD, entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 99.9)})
    findings = check_day(day(), outcome)
    assert [(f.kind, f.time) for f in findings] == [("util_mismatch", "09:45:00")]
    assert "H=0" in findings[0].text  # the hint: the product's figure counts no hedge


# --- exits: the sample spare-hedges-reused (P2 stops out at 12:30 leaving 2 spare hedges, P3 at 13:05)

SPARE = dict(
    budget=1200000,
    schedule=[
        {"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
        {"name": "P2", "entry": "09:50", "exit": "15:15", "baskets": 2},
        {"name": "P3", "entry": "13:05", "exit": "15:15", "baskets": 2},
    ],
    stop_outs=[{"name": "P2", "time": "12:30"}],
)
SPARE_ENTRIES = {"P1": ("09:20:00", 1, 36.1), "P2": ("09:50:00", 2, 67.2), "P3": ("13:05:00", 2, 67.2)}


def test_selling_a_hedge_a_later_entry_needs_breaks_exit_rule_c():
    actions = [action("09:45:00", "BUY", 2), action("12:40:00", "EXIT", 2, cost=260.0), action("13:00:00", "BUY", 2)]
    findings = check_day(day(**SPARE), result(actions, entries=SPARE_ENTRIES))
    assert [f.kind for f in findings] == ["exit_rule"]
    assert findings[0].text.startswith("(c)")


def test_selling_the_spare_hedge_the_rest_of_the_day_does_not_need_is_allowed():
    actions = [action("09:45:00", "BUY", 2), action("12:40:00", "EXIT", 1, cost=130.0)]
    entries = dict(SPARE_ENTRIES, P3=("13:05:00", 2, 87.8))
    assert check_day(day(**SPARE), result(actions, entries=entries)) == []


def test_selling_inside_the_exit_buffer_breaks_exit_rule_b():
    actions = [action("09:45:00", "BUY", 2), action("12:55:00", "EXIT", 1, cost=130.0)]
    entries = dict(SPARE_ENTRIES, P3=("13:05:00", 2, 87.8))
    findings = check_day(day(**SPARE), result(actions, entries=entries))
    assert [f.text[:3] for f in findings] == ["(b)"]


# --- an unavoidable breach: the sample unavoidable-breach (3 baskets, ₹1.5L other margin, ₹6L budget)

UNAVOIDABLE = dict(budget=600000, base_used_margin=[["09:15", 150000]], config={"cooldown_seconds": 600},
                   schedule=[{"name": "P1", "entry": "09:30", "exit": "15:15", "baskets": 3}])


def test_an_unavoidable_breach_buys_all_that_help_and_alerts():
    outcome = result([action("09:25:00", "BUY", 3)], [alert("09:25:00", "breach_unavoidable")],
                     entries={"P1": ("09:30:00", 3, 118.5)})
    assert check_day(day(**UNAVOIDABLE), outcome) == []


def test_an_unavoidable_breach_with_no_alert_is_a_missing_alert():
    outcome = result([action("09:25:00", "BUY", 3)], entries={"P1": ("09:30:00", 3, 118.5)})
    assert kinds(day(**UNAVOIDABLE), outcome) == ["missing_alert"]


def test_buying_fewer_than_all_that_help_with_no_cap_alert_is_an_under_buy():
    outcome = result([action("09:25:00", "BUY", 2)], [alert("09:25:00", "breach_unavoidable")],
                     entries={"P1": ("09:30:00", 3, 159.5)})
    assert kinds(day(**UNAVOIDABLE), outcome) == ["under_buy"]
    with_cap = result([action("09:25:00", "BUY", 2)], [alert("09:25:00", "breach_unavoidable"), alert("09:25:00", "cap_reached")],
                      entries={"P1": ("09:30:00", 3, 159.5)})
    assert kinds(day(**{**UNAVOIDABLE, "config": {"cooldown_seconds": 600, "max_hedge_cost_per_day": 600}}), with_cap) == []
    # A cap that allowed all three: the cap_reached alert does not excuse the shortfall.
    assert kinds(day(**UNAVOIDABLE), with_cap) == ["under_buy"]


def test_an_entry_at_the_open_has_no_tick_before_it_and_is_not_a_miss():
    opening = copy.deepcopy(UNAVOIDABLE)
    opening["schedule"][0]["entry"] = "09:15"
    assert check_day(day(**opening), result(entries={"P1": ("09:15:00", 3, 241.5)})) == []


def test_entries_in_one_minute_count_together():
    together = dict(schedule=[
        {"name": "P1", "entry": "09:20", "exit": "15:15", "baskets": 1},
        {"name": "P2", "entry": "09:45", "exit": "15:15", "baskets": 1},
        {"name": "P3", "entry": "09:45", "exit": "15:15", "baskets": 1},
    ])
    entries = {"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 1, 81.0), "P3": ("09:45:00", 1, 81.0)}
    # P2 alone (66.6 %) needs nothing; P2 and P3 together (99.9 %) need one hedge basket at 09:40.
    assert check_day(day(**together), result(GOOD, entries=entries)) == []
    assert kinds(day(**together), result(entries={**entries, "P2": ("09:45:00", 1, 99.9), "P3": ("09:45:00", 1, 99.9)})) == [
        "miss"
    ]


def test_a_no_eligible_strike_alert_is_checked_against_the_prices():
    # At 09:40, 0 DTE, IV 12 %: NIFTY strikes 400–600 points out cost ₹2–₹6, so the excuse is false.
    outcome = result(
        alerts=[alert("09:40:00", "no_eligible_strike")], entries={"P1": ("09:20:00", 1, 33.3), "P2": ("09:45:00", 2, 99.9)}
    )
    assert kinds(day(), outcome) == ["false_excuse"]
    # With a premium window no strike fits (₹50–₹60 at 0 DTE, ≥ 200 points out), it is true.
    assert check_day(day(config={"min_premium": 50, "max_premium": 60}), outcome) == []
