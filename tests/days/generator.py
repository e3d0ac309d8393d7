"""Seeded random trading days in the replay format (docs/replay-format.md), for the
day fuzzer of issue #16: `generate_day(seed)` gives the same scenario dict for the same
seed, on any machine (only `random.Random(seed)` and integer/Decimal-free arithmetic).

What the days cover (the space hedging-rules.md covers):
- NIFTY at 0, 1 or 2 trading days to expiry, SENSEX at 0; dates are weekdays from
  30 Nov to 18 Dec 2026 with expiries at most two weekdays later (to 22 Dec): no
  NSE/BSE holiday falls in that range (the nearest are 24 Nov and 25 Dec), and days to
  expiry are counted in weekdays;
- 1–10 schedule rows (now and then up to 14) of 1–3 baskets (sometimes up to 6);
  entries at the open (09:15–09:25, 09:15:00 itself included), after 15:00, in the
  same minute as another row, or within one lookahead of another row; times mostly
  HH:MM, sometimes HH:MM:SS; exits before or at 15:30 and after the entry (many at a
  common end of day, some mid-day so baskets close and later entries need hedges
  again); stop-outs between entry and exit;
- other margin (`base_used_margin`) that steps up and down;
- budgets set from the day's own peak margin (with and without hedges) so that roomy
  days, days that need buys and days whose breach is unavoidable all come often;
- daily caps from ₹5 (nothing affordable) to ₹50,000; varied triggers, targets, exit
  triggers (exit < target < trigger), lookahead 1–15, cooldown 0–600, exit buffer,
  premium and OTM-distance windows widened or narrowed; own margin constants now and
  then;
- spot paths with gaps of tens to hundreds of points, so hedges end up held at several
  strikes.

A generated day always parses (`parse_scenario` accepts it; tests/days/test_generator).
Stop-outs and exits fall at least one whole tick after the entry's tick, so no row
opens and closes between two ticks (a case the rules do not speak to).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

OPEN, CLOSE = 9 * 3600 + 15 * 60, 15 * 3600 + 30 * 60
# Weekdays with no Indian exchange holiday, and two more weekdays after the last for expiries.
DATES = [date(2026, 11, 30) + timedelta(days=d) for d in range(19) if (date(2026, 11, 30) + timedelta(days=d)).weekday() < 5]
CONSTANTS = {  # hedging-rules.md's defaults: (Mu, Mh)
    ("NIFTY", 0): (433000, 187000),
    ("NIFTY", 1): (320000, 140000),
    ("NIFTY", 2): (320000, 140000),
    ("SENSEX", 0): (367000, 160000),
}


def add_weekdays(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def clock(seconds: int, with_seconds: bool = False) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if with_seconds or s else f"{h:02d}:{m:02d}"


def ceil_minute(seconds: int) -> int:
    return -(-seconds // 60) * 60


def generate_day(seed: int) -> dict:
    rng = random.Random(seed)
    index = "SENSEX" if rng.random() < 0.25 else "NIFTY"
    dte = 0 if index == "SENSEX" else rng.choice([0, 0, 1, 2])
    day = rng.choice(DATES)
    expiry = add_weekdays(day, dte)
    if index == "NIFTY":
        lot_size = 65 if rng.random() < 0.8 else 75
        lots = 1 if rng.random() < 0.8 else 2
    else:
        lot_size = 20
        lots = rng.choice([1, 2, 5, 10, 10])

    mu, mh = CONSTANTS[(index, dte)]
    own_constants = rng.random() < 0.2
    if own_constants:
        mu = rng.randrange(250, 501) * 1000
        mh = int(mu * rng.uniform(0.3, 0.6)) // 1000 * 1000

    config, cfg = make_config(rng, index, dte)
    lookahead = cfg["lookahead_minutes"]

    # At 0 DTE premiums far enough out die in the afternoon (no eligible strike): most
    # 0 DTE days keep their entries before 12:30, so buys are possible more often.
    busy_until = 12 * 3600 + 30 * 60 if dte == 0 and rng.random() < 0.6 else 15 * 3600 + 25 * 60
    if rng.random() < 0.12:
        schedule, stop_outs, base, budget = make_rebuy_day(rng, mu, cfg)
        if dte == 0:  # afternoon buys at 0 DTE need cheap strikes to be eligible
            config["min_premium"] = rng.choice([0.2, 0.3, 0.5])
            config["max_premium"] = max(config.get("max_premium", 6), 6)
    else:
        schedule = make_schedule(rng, lookahead, busy_until)
        stop_outs = make_stop_outs(rng, schedule)
        base = make_base(rng, mu)
        budget = make_budget(rng, schedule, stop_outs, base, mu, mh, cfg)
    market = make_market(rng, index)

    scenario = {
        "name": f"day-{seed}",
        "date": day.isoformat(),
        "index": index,
        "expiry": expiry.isoformat(),
        "lot_size": lot_size,
        "lots_per_basket": lots,
        "budget": budget,
        "config": config,
        "base_used_margin": [[clock(t), v] for t, v in base],
        "schedule": [
            {"name": r["name"], "entry": clock(r["entry"], r["hms"]), "exit": clock(r["exit"], r["hms"]), "baskets": r["baskets"]}
            for r in schedule
        ],
        "stop_outs": [{"name": name, "time": clock(t)} for name, t in stop_outs],
        "market": market,
    }
    if own_constants:
        scenario["margin_per_basket"] = {"unhedged": mu, "hedged": mh}
    # One day in ten with no surprise after 09:15 (no stop-out, spot and other margin
    # flat), as the morning forecast assumes: there it must foretell every alert. Drawn
    # apart, so the other seeds' days stay as they were.
    if random.Random(-seed).random() < 0.1:
        scenario.update(stop_outs=[], base_used_margin=scenario["base_used_margin"][:1])
        scenario["market"]["spot"] = market["spot"][:1]
    return scenario


def make_config(rng: random.Random, index: str, dte: int) -> tuple[dict, dict]:
    """The scenario's `config`, and the effective values the generator plans with."""
    config: dict = {}
    if rng.random() < 0.35:
        trigger, target, exit_ = 95, 85, 70
    else:
        trigger = rng.choice([95, 90, 98, rng.randint(80, 99), round(rng.uniform(80, 99.5), 1)])
        target = round(trigger - rng.uniform(3, 20), 1)
        exit_ = round(target - rng.uniform(5, 40), 1)
        if exit_ < 5:
            exit_ = 5
        config.update(entry_trigger_pct=trigger, entry_target_pct=target, exit_trigger_pct=exit_)
    if rng.random() < 0.2 and not config:
        config.update(entry_trigger_pct=95, entry_target_pct=85, exit_trigger_pct=70)  # the defaults, spelled out
    lookahead = rng.choice([5, 5, 5, 1, 2, 3, 10, 15, rng.randint(1, 15)])
    if lookahead != 5 or rng.random() < 0.5:
        config["lookahead_minutes"] = lookahead
    cooldown = rng.choice([120, 120, 0, 60, 180, 300, 600, rng.randint(0, 600)])
    if cooldown != 120 or rng.random() < 0.5:
        config["cooldown_seconds"] = cooldown
    cap_kind = rng.random()
    if cap_kind < 0.15:
        cap = rng.choice([5, 20, 100, 250, 400, 600])
    elif cap_kind < 0.4:
        cap = rng.choice([800, 1000, 1500, 2000, 3000, 5000, rng.randint(500, 8000)])
    elif cap_kind < 0.7:
        cap = rng.choice([10000, 20000, 50000, rng.randint(8000, 50000)])
    else:
        cap = None  # the default ₹50,000
    if cap is not None:
        config["max_hedge_cost_per_day"] = cap
    if rng.random() < 0.25:
        config["exit_buffer_minutes"] = rng.choice([0, 5, 10, 30, rng.randint(0, 45)])
    if rng.random() < 0.15:
        config["min_exit_premium"] = rng.choice([0.05, 0.2, 1, 2])
    step = 50 if index == "NIFTY" else 100
    regime = rng.random()
    if regime < 0.45:  # windows where strikes are usually eligible at these days to expiry
        if dte == 0:
            config["min_premium"] = rng.choice([0.5, 1, 1.5, 2])
            config["max_premium"] = rng.choice([6, 8, 10, 15])
        else:
            config["min_premium"] = rng.choice([1, 2, 3])
            config["max_premium"] = rng.choice([15, 25, 40, 60])
            low = rng.randint(4, 10) * step if index == "NIFTY" else rng.randint(5, 15) * step
            config["min_otm_distance"] = low
            config["max_otm_distance"] = rng.choice([1500, 2000, 2500]) if index == "NIFTY" else rng.choice([3000, 3500])
    elif regime < 0.65:
        pass  # the defaults: at 1–2 DTE hardly a strike in ₹2–6 within 1000 points, so alerts
    elif regime < 0.8:  # widened
        config["min_premium"] = rng.choice([0.5, 1, 1.5])
        config["max_premium"] = rng.choice([8, 10, 15, 20])
    else:  # narrowed
        low = rng.choice([2, 3, 3.5, 4])
        config["min_premium"] = low
        config["max_premium"] = round(low + rng.choice([0.1, 0.3, 0.5, 1]), 2)
    if "min_otm_distance" not in config and rng.random() < 0.25:
        low = rng.randint(2, 8) * step
        config["min_otm_distance"] = low
        config["max_otm_distance"] = low + rng.randint(4, 30) * step
    effective = {"entry_trigger_pct": trigger, "entry_target_pct": target, "exit_trigger_pct": exit_,
                 "lookahead_minutes": lookahead}
    return config, effective


def make_schedule(rng: random.Random, lookahead: int, busy_until: int) -> list[dict]:
    count = rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8, 9, 10]) if rng.random() < 0.92 else rng.randint(11, 14)
    day_end = rng.choice([15 * 3600 + 15 * 60, 15 * 3600 + 20 * 60, 15 * 3600 + 25 * 60, CLOSE])
    rows: list[dict] = []
    for number in range(count):
        mode = rng.random()
        if rows and mode < 0.15:  # the same minute as another row's entry
            other = rng.choice(rows)["entry"] // 60 * 60
            entry = other + (rng.randint(0, 59) if rng.random() < 0.4 else 0)
        elif rows and mode < 0.35:  # within one lookahead of another row's entry
            other = rng.choice(rows)["entry"]
            entry = other + rng.choice([-1, 1]) * rng.randint(1, lookahead) * 60
        elif mode < 0.5:  # at the open
            entry = OPEN + rng.randint(0, 10) * 60
        elif mode < 0.6:  # after 15:00
            entry = 15 * 3600 + rng.randint(0, 24) * 60
        else:
            entry = OPEN + rng.randint(0, (busy_until - OPEN) // 60) * 60
        hms = rng.random() < 0.15
        if hms and entry % 60 == 0 and rng.random() < 0.7:
            entry += rng.randint(1, 59)
        entry = min(max(entry, OPEN), 15 * 3600 + 25 * 60 + 59)
        first_close = ceil_minute(entry) + 60  # a whole tick after the entry's tick
        if rng.random() < 0.65 and day_end >= first_close:
            exit_ = day_end
        else:
            exit_ = rng.randint(first_close // 60, CLOSE // 60) * 60
        baskets = rng.choice([1, 1, 1, 2, 2, 3]) if rng.random() < 0.9 else rng.randint(4, 6)
        rows.append({"name": f"R{number + 1}", "entry": entry, "exit": exit_, "baskets": baskets, "hms": hms})
    return rows


def make_rebuy_day(rng: random.Random, mu: int, cfg: dict):
    """A day built for an exit and a later re-buy: C (1 basket) all day; A (2–3) in the
    morning needs hedges and stops out before noon, leaving them spare; the rest of the
    day's entry B (1 basket) would not need them (so the exit rule lets them go); then
    other margin surges and B needs hedges again."""
    a = rng.choice([2, 3])
    trigger = cfg["entry_trigger_pct"] / 100
    low, high = 2 * mu / trigger * 1.01, (1 + a) * mu / trigger * 0.99
    budget = rng.uniform(low, high)
    a_entry = rng.randint(9 * 60 + 35, 10 * 60 + 30) * 60
    stop = rng.randint(11 * 60 + 15, 12 * 60 + 15) * 60
    b_entry = rng.randint(13 * 60, 14 * 60 + 30) * 60
    surge_at = rng.randint(stop // 60 + 20, b_entry // 60 - 10) * 60
    surge = int(trigger * budget - 2 * mu + rng.uniform(0.1, 0.6) * mu) // 1000 * 1000
    schedule = [
        {"name": "C", "entry": 9 * 3600 + 20 * 60, "exit": 15 * 3600 + 20 * 60, "baskets": 1, "hms": False},
        {"name": "A", "entry": a_entry, "exit": 15 * 3600 + 20 * 60, "baskets": a, "hms": False},
        {"name": "B", "entry": b_entry, "exit": 15 * 3600 + 20 * 60, "baskets": 1, "hms": rng.random() < 0.3},
    ]
    return schedule, [("A", stop)], [(OPEN, 0), (surge_at, max(surge, 1000))], int(budget) // 1000 * 1000


def make_stop_outs(rng: random.Random, schedule: list[dict]) -> list[tuple[str, int]]:
    stops = []
    chance = rng.choice([0, 0.15, 0.3, 0.5])
    for row in schedule:
        first = ceil_minute(row["entry"]) + 60
        if row["exit"] - first >= 120 and rng.random() < chance:
            stops.append((row["name"], rng.randint(first // 60, row["exit"] // 60 - 1) * 60))
    return stops


def make_base(rng: random.Random, mu: int) -> list[tuple[int, int]]:
    """Other margin: flat, or steps up and down; on some days a surge after midday (it
    can make a later entry need hedges again after spare ones were sold)."""
    if rng.random() < 0.2:
        points = [(OPEN, 0)]
    else:
        points = [(OPEN, rng.choice([0, 0, rng.randint(0, int(1.5 * mu)) // 1000 * 1000]))]
        value = points[0][1]
        for minute in sorted(rng.sample(range(OPEN // 60 + 1, CLOSE // 60), rng.randint(0, 5))):
            move = rng.choice([-1, 1]) * rng.randint(20, int(0.8 * mu)) // 1000 * 1000
            value = max(value + move, 0)
            points.append((minute * 60, value))
    if rng.random() < 0.3:
        moment = rng.randint(12 * 60, 15 * 60) * 60
        surge = rng.randint(int(0.5 * mu), int(2 * mu)) // 1000 * 1000
        points = [(t, v) for t, v in points if t < moment] + [(moment, value_at(points, moment) + surge)]
    return points


def value_at(steps: list[tuple[int, int]], t: int) -> int:
    value = steps[0][1]
    for moment, amount in steps:
        if moment <= t:
            value = amount
    return value


def make_budget(rng, schedule, stop_outs, base, mu, mh, cfg) -> int:
    """A budget picked from the day's own peaks: roomy, needing buys, unavoidable."""
    stop = dict(stop_outs)
    peak_u = peak_h = 1
    for minute in range(OPEN // 60, CLOSE // 60 + 1):
        t = minute * 60
        n = sum(r["baskets"] for r in schedule
                if r["entry"] <= t and min(r["exit"], stop.get(r["name"], CLOSE + 1)) > t)
        b = value_at(base, t)
        peak_u, peak_h = max(peak_u, b + n * mu), max(peak_h, b + n * mh)
    trigger, target = cfg["entry_trigger_pct"] / 100, cfg["entry_target_pct"] / 100
    kind = rng.random()
    if kind < 0.12:  # roomy
        budget = peak_u / rng.uniform(0.3, trigger - 0.01)
    elif kind < 0.65:  # buys reach the target
        low, high = peak_u / 1.6, peak_u / (trigger + 0.01)
        low = max(low, peak_h / (target - 0.01))
        budget = rng.uniform(min(low, high), high)
    elif kind < 0.85:  # even every hedge leaves the peak over the target
        budget = peak_h / rng.uniform(target + 0.01, 1.4)
    else:
        budget = peak_u / rng.uniform(0.4, 2.2)
    return max(int(budget) // 1000 * 1000, 1000)


def make_market(rng: random.Random, index: str) -> dict:
    if index == "NIFTY":
        level, step = rng.randint(22000, 26500) + rng.choice([0, 0.5, 0.25]), 50
    else:
        level, step = rng.randint(74000, 86000) + rng.choice([0, 0.5]), 100
    scale = 1 if index == "NIFTY" else 3.3
    spot = [[clock(OPEN), level]]
    for minute in sorted(rng.sample(range(OPEN // 60 + 1, CLOSE // 60), rng.randint(1, 9))):
        size = rng.choice([rng.uniform(5, 60), rng.uniform(60, 200), rng.uniform(200, 500)]) * scale
        level = round(level + rng.choice([-1, 1]) * size, 2)
        level = round(round(level / 0.05) * 0.05, 2)
        spot.append([clock(minute * 60), level])
    return {
        "spot": spot,
        "strike_step": step,
        "iv_atm": round(rng.uniform(0.09, 0.22), 3),
        "iv_wing_slope": rng.choice([0, 0.02, 0.04, 0.04, 0.06]),
    }
