"""An independent oracle for a replayed day: `check_day(scenario, result)` rebuilds the
day from the scenario and judges every hedging action the product took (its replay
result) against docs/hedging-rules.md and docs/replay-format.md — and nothing else. It
imports nothing from the project (stdlib only); money and percentages are Decimal.

The day, as the checker rebuilds it
-----------------------------------
- A tick at second 0 of every minute, 09:15:00 to 15:30:00.
- At a tick `t`, first the day moves: a row whose entry `e ≤ t` is entered (at the first
  tick ≥ e); an entered row whose exit or stop-out time is ≤ t is closed. `N` is the
  baskets of entered, not closed rows. Other margin is `base_used_margin`'s step
  value at `t` (before its first point, the first value).
- Hedges held `H` come from the product's own actions before this tick: the legs'
  filled quantities by option type and strike (BUY adds, EXIT takes away), netted with
  the schedule's short straddles as any broker nets one symbol's positions; H = the
  smaller of the long CE and long PE quantities // (lots_per_basket × lot_size). So
  each action is judged on the state the product's earlier actions made, and a wrong
  action is reported once, not again at every later tick. The straddle's strike is an
  assumption the replay format leaves unsaid: the strike nearest the spot at the entry
  moment (the lower on a tie). It matters only when a hedge strike and a straddle
  strike coincide (after a gap of the spot): then the hedge leg and the short cancel,
  the account holds one hedge basket fewer, and the margin is higher — as the product
  sees it from its broker. Without the netting, such days would draw util mismatches
  that are the account's arithmetic, not the product's.
- `U = other margin + basket_margin(N, H)`, with basket_margin(N, H) = min(N, H)·Mh +
  max(N − H, 0)·Mu; Mu, Mh from the scenario's `margin_per_basket`, else the rules'
  defaults table by index and days to expiry (weekdays: the replay has no holidays).
- Upcoming at `t`: rows not entered with t < e ≤ t + lookahead; K their baskets, all
  counted at once (entries in one minute count together).

What is judged, and the readings chosen where the rules leave room
------------------------------------------------------------------
- need: projection U + bm(N+K, H) − bm(N, H) over `entry_trigger_pct` (strictly: "at
  or under the trigger buys nothing"). Required h: the smallest h in 1..N+K−H whose
  projection is ≤ target; none: all N+K−H (an unavoidable breach).
- `miss`: a need with the cooldown over (≥ cooldown_seconds since the product's last
  action, whatever its status) and N+K−H ≥ 1, and no BUY at that tick, unless excused
  by a `cap_reached` or `no_eligible_strike` alert raised at that tick, or at an
  earlier tick whose upcoming entries were the same (the product raises an alert once
  per set of entries). A `breach_unavoidable` alert alone does NOT excuse buying
  nothing while a hedge would help: the rule is "buy those that bring it closest AND
  send a critical alert" (the brief listed it as an excuse; the careful reading is
  that it excuses only a breach nothing can help, which is never a miss here). Misses
  are reported once per set of upcoming entries (at its first missed tick, with the
  count of ticks and the entries of the set that then entered over the trigger).
  An entry entering over the trigger is judged through the ticks of its window only:
  it is a miss when one of them required a buy the product could make and did not.
  Over the trigger for a reason the rules allow (the cooldown of an earlier action, a
  step of other margin in the entry's own minute, an excuse that holds, an
  unavoidable breach, an entry at 09:15:00 with no tick before it) is no finding.
- `false_positive`: a BUY with no entry inside the lookahead, or with the projection
  at or under the trigger.
- `over_buy`: a BUY of more hedge baskets than required (the smallest h reaching the
  target, or N+K−H when none does: hedges beyond N+K save nothing).
- `under_buy`: a BUY of fewer than required with no `cap_reached` alert (at the tick,
  or earlier for the same entries). When the cap explains it (what was spent plus the
  required count at the price this buy paid per basket passes the cap) and no alert
  came, that is `missing_alert` instead.
- A `cap_reached` excuse is checked against the prices: if the cheapest eligible hedge
  basket (see `false_excuse`; the product, choosing among at least as many strikes,
  can only have found it cheaper) shows the cap left room for more hedge baskets than
  were bought (up to the required count), the excuse does not hold: `under_buy` when
  some were bought, `miss` when none.
- `missing_alert`: a need the target cannot be reached for (cooldown over) with no
  `breach_unavoidable` alert at that tick or earlier for the same entries — except
  when a `no_eligible_strike` alert stands for the tick (its text already says the
  entry is over; the rules do not say whether both are due); a buy cut short by the
  cap with no `cap_reached` alert. Once per set of entries.
- `cooldown`: two actions (BUY or EXIT, any status) less than cooldown_seconds apart.
- `cap`: a BUY after which the day's BUY costs (the result's `cost`, from fills)
  exceed `max_hedge_cost_per_day` (a half-paisa of slack for rounding).
- `exit_rule`: an EXIT that breaks (a) utilisation after the sale stays under
  exit_trigger_pct (strictly), (b) no entry in (t, t + exit_buffer_minutes], or (c)
  the rest of the day's entries (all not entered, today's open baskets kept open, the
  other margin as it is now) would not project over the trigger with the hedges left;
  also an EXIT selling more than is held, or a leg sold under `min_exit_premium`.
  Not exiting is never a finding ("may be sold").
- `util_mismatch`: an entry's `util_pct` more than 0.15 pp from the recount at its
  entry tick (that tick's entries and exits applied, the actions of earlier ticks
  counted, not that tick's); an entry the checker entered that the result lacks; a
  BUY's `util_before_pct` or `util_projected_pct` more than 0.15 pp from the recount.
- `false_excuse`: a `no_eligible_strike` alert at a tick where, by the replay format's
  pricing (Black–Scholes, rate 0, trading minutes to 15:30 on expiry over 252 × 375,
  the IV smile, ₹0.05 ticks, ask a tick above and bid a tick below), both sides had a
  strike that is OTM by a distance in [min_otm_distance, max_otm_distance], has a
  live bid (price above one tick), and whose ask (the premium a buy pays) lies in
  [min_premium, max_premium]. Only strikes within 40 strike steps of the opening
  spot's strike are looked at (a chain lists at least that many; beyond them the
  checker cannot tell, and the excuse stands). A false excuse does not also count as
  a miss. An excuse raised earlier for the same entries is re-checked at every later
  tick: strikes that have become eligible leave a non-buy unexcused (`miss`). This
  pricing reproduced every fill price of 300 generated days to the paisa.
- `hedge_on_short`: a BUY leg at a strike (and type) the account is short at that
  moment: the "hedge" buys back the trader's straddle instead of adding protection,
  and H does not rise. The rules do not forbid it in words; no careful option seller
  would call it a hedge, and the product's next decisions then rest on hedges it does
  not hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

OPEN, CLOSE = 9 * 3600 + 15 * 60, 15 * 3600 + 30 * 60
HUNDRED = Decimal(100)
UTIL_TOLERANCE = Decimal("0.15")
CAP_SLACK = Decimal("0.005")
TICK = Decimal("0.05")
DEFAULT_CONSTANTS = {  # (index, DTE) → (Mu, Mh), hedging-rules.md
    ("SENSEX", 0): (Decimal(367000), Decimal(160000)),
    ("NIFTY", 0): (Decimal(433000), Decimal(187000)),
    ("NIFTY", 1): (Decimal(320000), Decimal(140000)),
    ("NIFTY", 2): (Decimal(320000), Decimal(140000)),
}
DEFAULTS = {
    "entry_trigger_pct": Decimal(95), "entry_target_pct": Decimal(85), "exit_trigger_pct": Decimal(70),
    "lookahead_minutes": 5, "max_hedge_cost_per_day": Decimal(50000), "cooldown_seconds": 120,
    "exit_buffer_minutes": 15, "min_exit_premium": Decimal("0.50"), "min_premium": Decimal(2),
    "max_premium": Decimal(6),
}
OTM_DEFAULTS = {"NIFTY": (Decimal(200), Decimal(1000)), "SENSEX": (Decimal(500), Decimal(2500))}
INTEGER_SETTINGS = {"lookahead_minutes", "cooldown_seconds", "exit_buffer_minutes"}
EXCUSES = ("cap_reached", "no_eligible_strike")
KINDS = ("crash", "miss", "false_positive", "over_buy", "under_buy", "cooldown", "cap", "exit_rule",
         "util_mismatch", "missing_alert", "false_excuse", "hedge_on_short")


@dataclass(frozen=True)
class Finding:
    kind: str
    time: str  # HH:MM:SS, or "" for the day as a whole
    text: str

    def __str__(self) -> str:
        return f"{self.kind} {self.time or '--:--:--'} {self.text}"


def seconds(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def hms(t: int) -> str:
    return f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


def dec(value) -> Decimal:
    return Decimal(str(value))


def fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def weekdays_between(start: date, end: date) -> int:
    """Trading days to expiry: weekdays after `start` up to `end` (0 on expiry day)."""
    return sum(1 for d in range(1, (end - start).days + 1) if (start + timedelta(days=d)).weekday() < 5)


class Steps:
    """A step function over seconds of the day: each value holds until the next."""

    def __init__(self, points):
        self.points = sorted((seconds(t), dec(v)) for t, v in points)

    def at(self, t: int) -> Decimal:
        value = self.points[0][1]
        for moment, amount in self.points:
            if moment <= t:
                value = amount
        return value


@dataclass
class Row:
    name: str
    entry: int
    close: int  # exit or stop-out, whichever first
    baskets: int
    entered_at: int | None = None
    closed_at: int | None = None


class Day:
    """The scenario, parsed the checker's own way."""

    def __init__(self, scenario: dict):
        self.index = scenario["index"]
        self.date = date.fromisoformat(scenario["date"])
        self.expiry = date.fromisoformat(scenario["expiry"])
        self.budget = dec(scenario["budget"])
        lot_size = scenario.get("lot_size", {"NIFTY": 65, "SENSEX": 20}[self.index])
        lots = scenario.get("lots_per_basket", {"NIFTY": 1, "SENSEX": 10}[self.index])
        self.qty = int(lot_size) * int(lots)
        given = scenario.get("margin_per_basket")
        if given:
            self.mu, self.mh = dec(given["unhedged"]), dec(given["hedged"])
        else:
            dte = weekdays_between(self.date, self.expiry)
            if (self.index, dte) not in DEFAULT_CONSTANTS:
                raise ValueError(f"no default margin constants for {self.index} at {dte} DTE")
            self.mu, self.mh = DEFAULT_CONSTANTS[(self.index, dte)]
        settings = dict(DEFAULTS)
        settings["min_otm_distance"], settings["max_otm_distance"] = OTM_DEFAULTS[self.index]
        for key, value in (scenario.get("config") or {}).items():
            if value is None:
                continue
            settings[key] = int(dec(value)) if key in INTEGER_SETTINGS else dec(value)
        self.s = settings
        self.base = Steps(scenario.get("base_used_margin") or [["09:15", 0]])
        self.spot = Steps(scenario["market"]["spot"])
        self.market = scenario["market"]
        stops = {s["name"]: seconds(s["time"]) for s in scenario.get("stop_outs") or []}
        self.rows = [
            Row(r["name"], seconds(r["entry"]), min(seconds(r["exit"]), stops.get(r["name"], CLOSE + 1)), int(r["baskets"]))
            for r in scenario["schedule"]
        ]

    def atm(self, moment: int) -> Decimal:
        """The straddle's strike: the strike nearest the spot at the entry moment, the lower on a tie."""
        step = dec(self.market["strike_step"])
        spot = self.spot.at(moment)
        low = (spot / step).to_integral_value(rounding=ROUND_FLOOR) * step
        return low if spot - low <= low + step - spot else low + step

    def bm(self, n: int, h: int) -> Decimal:
        return min(n, h) * self.mh + max(n - h, 0) * self.mu

    def pct(self, used: Decimal) -> Decimal:
        return used / self.budget * HUNDRED


class Book:
    """The account's option positions by (type, strike), netted as a broker nets them:
    the schedule's short straddles and the product's hedge legs. Hedges held H = the
    smaller of the long CE and long PE quantities // the basket quantity."""

    def __init__(self, qty: int):
        self.qty = qty
        self.net: dict[tuple[str, Decimal], int] = {}

    def add(self, option_type: str, strike: Decimal, quantity: int) -> None:
        key = (option_type, strike)
        self.net[key] = self.net.get(key, 0) + quantity

    def long(self, option_type: str) -> int:
        return sum(q for (side, _), q in self.net.items() if side == option_type and q > 0)

    def at(self, option_type: str, strike: Decimal) -> int:
        return self.net.get((option_type, strike), 0)

    def hedges(self) -> int:
        return min(self.long("CE"), self.long("PE")) // self.qty

    def copy(self) -> "Book":
        other = Book(self.qty)
        other.net = dict(self.net)
        return other


def leg_key(leg: dict) -> tuple[str, Decimal]:
    return leg.get("option_type"), dec(leg.get("strike"))


@dataclass
class Action:
    t: int  # its tick (seconds, floored to the minute)
    raw: dict

    @property
    def kind(self) -> str:
        return self.raw.get("action")

    @property
    def baskets(self) -> int:
        return int(self.raw.get("hedge_baskets") or 0)

    @property
    def cost(self) -> Decimal:
        return dec(self.raw.get("cost") or 0)


class Findings:
    def __init__(self):
        self.items: list[Finding] = []

    def add(self, kind: str, t: int | None, text: str) -> None:
        self.items.append(Finding(kind, hms(t) if t is not None else "", text))


def check_day(scenario: dict, result: dict) -> list[Finding]:
    day = Day(scenario)
    s = day.s
    out = Findings()
    lookahead = s["lookahead_minutes"] * 60
    trigger, target_pct = s["entry_trigger_pct"], s["entry_target_pct"]
    target = target_pct * day.budget / HUNDRED

    actions = sorted((Action(seconds(a["time"]) // 60 * 60, a) for a in result.get("actions") or []), key=lambda a: a.t)
    by_tick: dict[int, list[Action]] = {}
    for a in actions:
        by_tick.setdefault(a.t, []).append(a)
    alerts: dict[int, set[str]] = {}
    for alert in result.get("alerts") or []:
        alerts.setdefault(seconds(alert["time"]) // 60 * 60, set()).add(alert["kind"])

    check_cooldown(actions, s["cooldown_seconds"], out)

    book = Book(day.qty)
    spent = Decimal(0)
    last_action: int | None = None
    set_alerts: dict[frozenset, set[str]] = {}  # alerts raised at ticks with that upcoming set
    misses: dict[frozenset, list] = {}  # set → [first tick, ticks]
    reported_missing: set[tuple[frozenset, str]] = set()
    falsely_excused_sets: set[frozenset] = set()  # a false excuse is reported once, not again as misses
    cap_checked: set[frozenset] = set()  # sets whose cap excuse the prices contradicted (reported once)
    entry_util: dict[str, Decimal] = {}
    entry_state: dict[str, tuple[Decimal, int, int]] = {}

    for t in range(OPEN, CLOSE + 1, 60):
        # The day moves: entries due, then exits and stop-outs due.
        for row in day.rows:
            if row.entered_at is None and row.entry <= t:
                row.entered_at = t
                for side in ("CE", "PE"):
                    book.add(side, day.atm(row.entry), -row.baskets * day.qty)
        for row in day.rows:
            if row.entered_at is not None and row.closed_at is None and row.close <= t:
                row.closed_at = t
                for side in ("CE", "PE"):
                    book.add(side, day.atm(row.entry), row.baskets * day.qty)
        n = sum(r.baskets for r in day.rows if r.entered_at is not None and r.closed_at is None)
        h = book.hedges()
        base = day.base.at(t)
        used = base + day.bm(n, h)
        for row in day.rows:
            if row.entered_at == t:
                entry_util[row.name] = day.pct(used)
                entry_state[row.name] = (base, n, h)

        pending = [r for r in day.rows if r.entered_at is None]
        upcoming = [r for r in pending if t < r.entry <= t + lookahead]
        k = sum(r.baskets for r in upcoming)
        names = frozenset(r.name for r in upcoming)
        here = alerts.get(t, set())
        if upcoming and here:
            set_alerts.setdefault(names, set()).update(here)
        known = set_alerts.get(names, set()) if upcoming else here
        label = ", ".join(f"{r.name} at {hms(r.entry)}" for r in upcoming)

        need = None
        if k:
            projected = used + day.bm(n + k, h) - day.bm(n, h)
            if day.pct(projected) > trigger:
                useful = max(n + k - h, 0)
                required, reaches = useful, False
                if day.mh < day.mu:
                    for extra in range(1, useful + 1):
                        if used + day.bm(n + k, h + extra) - day.bm(n, h) <= target:
                            required, reaches = extra, True
                            break
                need = (projected, useful, required, reaches)
        cooldown_over = last_action is None or t - last_action >= s["cooldown_seconds"]

        tick_actions = by_tick.get(t, [])
        bought = any(a.kind == "BUY" for a in tick_actions)
        if need and cooldown_over:
            projected, useful, required, reaches = need
            excused_by = [kind for kind in EXCUSES if kind in known]
            if "no_eligible_strike" in excused_by and useful >= 1 and not bought:
                eligible = eligible_both_sides(day, t, book)
                if eligible:  # strikes were (or have become) eligible: no excuse at this tick
                    excused_by.remove("no_eligible_strike")
                    if "no_eligible_strike" in here:
                        falsely_excused_sets.add(names)
                        out.add("false_excuse", t, f"no_eligible_strike alert for {label}, but {eligible}")
            got = sum(a.baskets for a in tick_actions if a.kind == "BUY")
            if "cap_reached" in excused_by and useful >= 1 and got < required:
                found = cheapest_basket(day, t, book)
                cap = s["max_hedge_cost_per_day"]
                if found and found[0] > 0:
                    allowed = max(int((cap - spent) / found[0]), 0)
                    if min(required, allowed) > got:  # the cap allowed more: no excuse
                        excused_by.remove("cap_reached")
                        if got and names not in cap_checked:
                            out.add("under_buy", t, f"{label}: BUY of {got} with a cap_reached alert, but the cap ₹{cap} "
                                                    f"(spent ₹{fmt(spent)}) allows {min(required, allowed)} of the {required} "
                                                    f"required at ₹{fmt(found[0])} a basket ({found[1]})")
                        if got:
                            bought = True  # judged here, not again as a miss
                        cap_checked.add(names)
            if not reaches and "breach_unavoidable" not in known and "no_eligible_strike" not in known \
                    and (names, "breach") not in reported_missing:
                reported_missing.add((names, "breach"))
                out.add("missing_alert", t, f"{label}: even {useful} hedge basket(s) leave the projection over the target "
                                            f"{target_pct}% and no breach_unavoidable alert was raised")
            if useful >= 1 and not bought and not excused_by and names not in falsely_excused_sets:
                if names in misses:
                    misses[names][1] += 1
                else:
                    misses[names] = [t, 1, f"{label}: projected {fmt(day.pct(projected))}% > {trigger}% "
                                           f"(U {fmt(day.pct(used))}%, N={n}, K={k}, H={h}), cooldown over; "
                                           f"{required} hedge basket(s) required, none bought"
                                           + (" (the cap_reached excuse does not hold: the cap allowed some)"
                                              if names in cap_checked else "")
                                           + (f" (alerts at the tick: {', '.join(sorted(here))})" if here else "")]

        for a in tick_actions:
            if a.kind == "BUY":
                judge_buy(day, a, t, upcoming, label, n, h, used, need, here, known, spent, out, names, reported_missing)
                for leg in a.raw.get("legs") or []:
                    if leg.get("quantity") and book.at(*leg_key(leg)) < 0:
                        out.add("hedge_on_short", t, f"BUY leg {leg.get('symbol')} ×{leg['quantity']} at a strike the "
                                                     f"account is short ({book.at(*leg_key(leg))}): it buys back the "
                                                     f"trader's straddle instead of adding a hedge")
                spent += a.cost
                if spent > s["max_hedge_cost_per_day"] + CAP_SLACK:
                    out.add("cap", t, f"hedge buys of the day cost ₹{fmt(spent)} > cap ₹{s['max_hedge_cost_per_day']}")
            elif a.kind == "EXIT":
                judge_exit(day, a, t, pending, n, h, used, book, out)
            for leg in a.raw.get("legs") or []:
                book.add(*leg_key(leg), int(leg.get("quantity") or 0) * (1 if a.kind == "BUY" else -1))
            last_action = t

    for names, (first, ticks, text) in misses.items():
        over = [name for name in sorted(names) if name in entry_util and entry_util[name] > trigger]
        tail = f"; {ticks} tick(s) missed" + ("; entered over the trigger: " +
                                                ", ".join(f"{name} {fmt(entry_util[name])}%" for name in over) if over else "")
        out.add("miss", first, text + tail)

    check_entries(day, result, entry_util, entry_state, out)
    return sorted(out.items, key=lambda f: (f.time, f.kind))


def judge_buy(day, a, t, upcoming, label, n, h, used, need, here, known, spent, out, names, reported_missing) -> None:
    s = day.s
    if not upcoming:
        out.add("false_positive", t, f"BUY of {a.baskets} with no entry inside the {s['lookahead_minutes']}-minute lookahead "
                                     f"(U {fmt(day.pct(used))}%)")
        return
    k = sum(r.baskets for r in upcoming)
    projected = used + day.bm(n + k, h) - day.bm(n, h)
    util_field(a, "util_before_pct", day.pct(used), t, out)
    util_field(a, "util_projected_pct", day.pct(projected), t, out)
    if need is None:
        out.add("false_positive", t, f"BUY of {a.baskets} for {label}: projected {fmt(day.pct(projected))}% is not over "
                                     f"the trigger {s['entry_trigger_pct']}% (N={n}, K={k}, H={h})")
        return
    projected, useful, required, reaches = need
    got = a.baskets
    why = (f"{label}: projected {fmt(day.pct(projected))}% (N={n}, K={k}, H={h}); "
           + (f"{required} reach the target {s['entry_target_pct']}%" if reaches
              else f"the target cannot be reached, {useful} help"))
    if got > required:
        out.add("over_buy", t, f"BUY of {got} hedge basket(s), {required} required: {why}")
    elif got < required:
        if "cap_reached" in known:
            return
        per_basket = a.cost / got if got else Decimal(0)
        cap = s["max_hedge_cost_per_day"]
        if got and spent + per_basket * required > cap and (names, "cap") not in reported_missing:
            reported_missing.add((names, "cap"))
            out.add("missing_alert", t, f"BUY of {got} of {required} required hedge basket(s), cut short by the cap "
                                        f"₹{cap} (spent ₹{fmt(spent)}, ₹{fmt(per_basket)} a basket) "
                                        f"with no cap_reached alert: {why}")
        elif not (got and spent + per_basket * required > cap):
            out.add("under_buy", t, f"BUY of {got} hedge basket(s), {required} required, no cap_reached alert: {why}")


def util_field(a: Action, field: str, expected: Decimal, t: int, out: Findings) -> None:
    value = a.raw.get(field)
    if value is not None and abs(dec(value) - expected) > UTIL_TOLERANCE:
        out.add("util_mismatch", t, f"{a.kind} {field} {value}% but the recount gives {fmt(expected)}%")


def judge_exit(day, a, t, pending, n, h, used, book, out) -> None:
    s = day.s
    after_book = book.copy()
    for leg in a.raw.get("legs") or []:
        qty = int(leg.get("quantity") or 0)
        if qty > book.at(*leg_key(leg)):
            out.add("exit_rule", t, f"EXIT sold {leg.get('symbol')} ×{qty} with {book.at(*leg_key(leg))} held at that strike")
        after_book.add(*leg_key(leg), -qty)
        price = leg.get("price")
        if price is not None and dec(price) < s["min_exit_premium"]:
            out.add("exit_rule", t, f"EXIT sold {leg.get('symbol')} at ₹{price}, under min_exit_premium ₹{s['min_exit_premium']}")
    if a.baskets > h:
        out.add("exit_rule", t, f"EXIT of {a.baskets} hedge basket(s) with {h} held")
    h_after = after_book.hedges()
    after = used - day.bm(n, h) + day.bm(n, h_after)
    if day.pct(after) >= s["exit_trigger_pct"]:
        out.add("exit_rule", t, f"(a) EXIT leaves utilisation {fmt(day.pct(after))}% (before {fmt(day.pct(used))}%), "
                                f"not under {s['exit_trigger_pct']}% (N={n}, H {h}→{h_after})")
    buffer_end = t + s["exit_buffer_minutes"] * 60
    due = [r for r in pending if t < r.entry <= buffer_end]
    if due:
        out.add("exit_rule", t, f"(b) EXIT with {', '.join(r.name + ' at ' + hms(r.entry) for r in due)} due within "
                                f"{s['exit_buffer_minutes']} minutes")
    later = sum(r.baskets for r in pending if r.entry > t)
    if later:
        rest = after + day.bm(n + later, h_after) - day.bm(n, h_after)
        if day.pct(rest) > s["entry_trigger_pct"]:
            out.add("exit_rule", t, f"(c) EXIT of {h - h_after}: the rest of the day's entries ({later} basket(s)) "
                                    f"would project {fmt(day.pct(rest))}% > {s['entry_trigger_pct']}% with {h_after} "
                                    f"hedge(s) left (N={n})")


def check_cooldown(actions: list[Action], cooldown: int, out: Findings) -> None:
    for before, after in zip(actions, actions[1:]):
        gap = seconds(after.raw["time"]) - seconds(before.raw["time"])
        if gap < cooldown:
            out.add("cooldown", after.t, f"{after.kind} {gap}s after the {before.kind} at {before.raw['time']} "
                                         f"(cooldown {cooldown}s)")


def check_entries(day: Day, result: dict, entry_util: dict[str, Decimal], entry_state: dict, out: Findings) -> None:
    reported = {e["name"]: e for e in result.get("entries") or []}
    for row in day.rows:
        if row.name not in entry_util:
            continue
        got = reported.get(row.name)
        if got is None or got.get("util_pct") is None:
            out.add("util_mismatch", row.entered_at, f"{row.name} entered at {hms(row.entered_at)} but the result "
                                                     f"has no utilisation for it")
            continue
        if abs(dec(got["util_pct"]) - entry_util[row.name]) > UTIL_TOLERANCE:
            base, n, h = entry_state[row.name]
            hint = next((f"; the result's figure is what H={other} would give (N={n})" for other in range(0, n + h + 1)
                         if abs(day.pct(base + day.bm(n, other)) - dec(got["util_pct"])) <= UTIL_TOLERANCE), "")
            out.add("util_mismatch", row.entered_at, f"{row.name} util_pct {got['util_pct']}% but the recount gives "
                                                     f"{fmt(entry_util[row.name])}% (N={n}, H={h}){hint}")


# --- pricing (replay-format.md), for no_eligible_strike alerts ------------------------


def trading_minutes(start: datetime, end: datetime) -> float:
    total, day = 0.0, start.date()
    while day <= end.date():
        if day.weekday() < 5:
            low = max(start, datetime.combine(day, datetime.min.time()) + timedelta(seconds=OPEN))
            high = min(end, datetime.combine(day, datetime.min.time()) + timedelta(seconds=CLOSE))
            if high > low:
                total += (high - low).total_seconds() / 60
        day += timedelta(days=1)
    return total


def norm_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def option_price(spot: float, strike: float, years: float, vol: float, option_type: str) -> Decimal:
    if years <= 0 or vol <= 0:
        value = max(spot - strike, 0.0) if option_type == "CE" else max(strike - spot, 0.0)
    else:
        spread = vol * math.sqrt(years)
        d1 = (math.log(spot / strike) + spread * spread / 2) / spread
        d2 = d1 - spread
        value = spot * norm_cdf(d1) - strike * norm_cdf(d2) if option_type == "CE" \
            else strike * norm_cdf(-d2) - spot * norm_cdf(-d1)
    ticks = (Decimal(repr(float(value))) / TICK).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(ticks * TICK, TICK)


def cheapest_basket(day: Day, t: int, book: Book) -> tuple[Decimal, str] | None:
    """The cheapest eligible strike a side at tick `t` by the replay format's pricing, and
    one hedge basket's cost at their asks; None if a side has no eligible strike.
    Eligible: OTM by a distance in [min_otm_distance, max_otm_distance], a live bid (a
    price above one tick), the ask in [min_premium, max_premium], and not a strike the
    account is short (buying it closes the straddle's leg: see hedge_on_short). Only strikes within 40
    steps of the opening spot's strike are looked at, so the product, seeing at least as
    many, can only have found cheaper ones."""
    s, market = day.s, day.market
    step = dec(market["strike_step"])
    spot = day.spot.at(t)
    opening = (day.spot.at(OPEN) / step).quantize(Decimal(1)) * step
    now = datetime.combine(day.date, datetime.min.time()) + timedelta(seconds=t)
    years = trading_minutes(now, datetime.combine(day.expiry, datetime.min.time()) + timedelta(seconds=CLOSE)) / (252 * 375)
    low, high = s["min_premium"], s["max_premium"]
    picks = []
    for option_type in ("CE", "PE"):
        best = None
        for offset in range(-40, 41):
            strike = opening + offset * step
            distance = strike - spot if option_type == "CE" else spot - strike
            if distance <= 0 or not s["min_otm_distance"] <= distance <= s["max_otm_distance"]:
                continue
            if book.at(option_type, strike) < 0:
                continue
            vol = float(market["iv_atm"]) + float(market["iv_wing_slope"]) * abs(float(strike) / float(spot) - 1) * 100
            price = option_price(float(spot), float(strike), years, vol, option_type)
            bid, ask = price - TICK, price + TICK
            if bid > 0 and low <= ask <= high and (best is None or ask < best[0]):
                best = (ask, strike)
        if best is None:
            return None
        picks.append((option_type, *best))
    cost = sum(ask for _, ask, _ in picks) * day.qty
    return cost, " and ".join(f"{side} {strike} (ask ₹{ask})" for side, ask, strike in picks) + f" at spot {spot}"


def eligible_both_sides(day: Day, t: int, book: Book) -> str:
    """A description of the cheapest eligible strike a side, or "" if a side has none."""
    found = cheapest_basket(day, t, book)
    return f"{found[1]} were eligible" if found else ""
