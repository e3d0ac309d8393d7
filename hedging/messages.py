"""Alert texts for Telegram, and Indian-rupee formatting.

Each builder takes plain values and returns one screen of Telegram HTML saying what
happened, why, what it cost and where utilisation stands. Pure functions: no models, no
settings, no clock. Money is `Decimal` rupees; percentages are `Decimal` percent values
(`Decimal("84.1")` is 84.1%). Every dynamic string is escaped here, so callers pass raw
names. Messages of paper sessions start with "PAPER".
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from hedging.core.clock import IST

PAISE = Decimal("0.01")
LAKH = Decimal("100000")
CRORE = Decimal("10000000")


# -- formatting ---------------------------------------------------------------------------


def format_inr(amount: Decimal) -> str:
    """Indian grouping, paise only when non-zero: ₹4,33,000 · ₹1,830.50 · -₹250."""
    value = amount.quantize(PAISE, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    rupees, paise = f"{abs(value):.2f}".split(".")
    return f"{sign}₹{_group_indian(rupees)}" + (f".{paise}" if paise != "00" else "")


def _group_indian(digits: str) -> str:
    head, last3 = digits[:-3], digits[-3:]
    pairs = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*pairs, last3])


def format_lakh(amount: Decimal) -> str:
    """Compact: ₹4.33L from one lakh, ₹1.25Cr from one crore; under a lakh as format_inr."""
    sign = "-" if amount < 0 else ""
    lakhs = (abs(amount) / LAKH).quantize(PAISE, rounding=ROUND_HALF_UP)
    if lakhs >= 100:
        crores = (abs(amount) / CRORE).quantize(PAISE, rounding=ROUND_HALF_UP)
        return f"{sign}₹{_trim(crores)}Cr"
    if lakhs >= 1:
        return f"{sign}₹{_trim(lakhs)}L"
    return format_inr(amount)


def format_pct(value: Decimal, places: int = 1) -> str:
    """84.1% · 95% (trailing zeros dropped)."""
    return f"{_trim(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))}%"


def _format_points(value: Decimal) -> str:
    """An index level, grouped: 24,612.35."""
    whole, _, fraction = _trim(abs(value)).partition(".")
    return ("-" if value < 0 else "") + _group_indian(whole) + (f".{fraction}" if fraction else "")


def _trim(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _hhmm(moment: time | datetime) -> str:
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        moment = moment.astimezone(IST)
    return moment.strftime("%H:%M")


def _esc(text: object) -> str:
    return html.escape(str(text))


def _plural(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- the values the builders take ----------------------------------------------------------


@dataclass(frozen=True)
class SessionRef:
    """Which session an alert is about: broker account name, index, expiry, budget, mode."""

    account: str
    index: str
    expiry: date
    budget: Decimal
    paper: bool
    sandbox: bool = False  # a live account on an OpenAlgo in analyzer mode


@dataclass(frozen=True)
class HedgeLeg:
    """One option leg of a hedge basket. `price` is per unit: paid on a buy, received on an
    exit, the limit price on a failed order."""

    option_type: Literal["CE", "PE"]
    strike: Decimal
    quantity: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.price * self.quantity

    def label(self) -> str:
        return f"{self.option_type} {_trim(self.strike)}"


@dataclass(frozen=True)
class Entry:
    """A scheduled entry: strategy name, entry time, baskets it enters."""

    name: str
    at: time
    baskets: int


@dataclass(frozen=True)
class Lookahead:
    """Why the lookahead bought: the coming `entries` would take utilisation to
    `projected_pct` unhedged, over `trigger_pct`; with the hedges it is expected at
    `after_entry_pct` after them (aiming for `target_pct`)."""

    entries: Sequence[Entry]
    projected_pct: Decimal
    trigger_pct: Decimal
    target_pct: Decimal
    after_entry_pct: Decimal


@dataclass(frozen=True)
class ExitRule:
    """Why the exit rule sold: utilisation under `exit_trigger_pct`, no entry needs the hedge."""

    exit_trigger_pct: Decimal


@dataclass(frozen=True)
class Manual:
    """A manual buy or exit, and who asked for it."""

    by: str


@dataclass(frozen=True)
class StrikeExclusions:
    """How many candidate strikes each eligibility rule excluded (each counted once, under
    the first rule it failed)."""

    premium_below_min: int = 0
    premium_above_max: int = 0
    no_live_quote: int = 0
    too_near: int = 0
    too_far: int = 0


@dataclass(frozen=True)
class ExpectedBuy:
    """A hedge buy the forecast expects: when, how many baskets, roughly what cost."""

    at: time
    baskets: int
    cost: Decimal


# -- pieces -------------------------------------------------------------------------------


def _header(icon: str, title: str, paper: bool, at: time | datetime | None, scope: str, sandbox: bool = False) -> str:
    marker = "🧪 <b>PAPER</b> · " if paper else "🧪 <b>SANDBOX</b> · " if sandbox else ""
    when = f" · {_hhmm(at)}" if at is not None else ""
    return f"{marker}{icon} <b>{_esc(title)}</b>{when}\n{scope}"


def _scope(session: SessionRef) -> str:
    return f"{_esc(session.index)} {session.expiry:%d %b} expiry · {_esc(session.account)}"


def _session_header(icon: str, title: str, session: SessionRef, at: time | datetime | None) -> str:
    return _header(icon, title, session.paper, at, _scope(session), session.sandbox)


def _entries(entries: Sequence[Entry]) -> str:
    return _join([f"<b>{_esc(e.name)}</b> at {_hhmm(e.at)} ({_plural(e.baskets, 'basket')})" for e in entries])


def _utilisation(session: SessionRef, now_pct: Decimal, after_entry_pct: Decimal | None = None) -> str:
    line = f"Utilisation now {format_pct(now_pct)}"
    if after_entry_pct is not None:
        line += f", ≈ {format_pct(after_entry_pct)} after the entry"
    return f"{line}, of the {format_lakh(session.budget)} budget."


def _leg_lines(legs: Sequence[HedgeLeg]) -> list[str]:
    return [
        f"• {leg.label()} × {leg.quantity} @ {format_inr(leg.price)} = {format_inr(leg.amount)}" for leg in legs
    ]


def _lines(*lines: str | None) -> str:
    return "\n".join(line for line in lines if line)


# -- the alerts ---------------------------------------------------------------------------


def hedge_bought(
    session: SessionRef,
    *,
    baskets: int,
    legs: Sequence[HedgeLeg],
    reason: Lookahead | Manual,
    utilisation_pct: Decimal,
    spent_today: Decimal,
    daily_cap: Decimal,
    at: datetime | None = None,
) -> str:
    """Hedge baskets bought: the legs and prices, why, utilisation now (after the buy) and
    the day's spend, which includes this buy."""
    cost = sum((leg.amount for leg in legs), Decimal(0))
    if isinstance(reason, Manual):
        why, after_entry = f"Why: manual buy by {_esc(reason.by)}.", None
    else:
        why = (
            f"Why: {_entries(reason.entries)} would take utilisation to {format_pct(reason.projected_pct)}, "
            f"over the {format_pct(reason.trigger_pct)} trigger (target {format_pct(reason.target_pct)})."
        )
        after_entry = reason.after_entry_pct
    return _lines(
        _session_header("🛡", "Hedge bought", session, at),
        f"{_plural(baskets, 'hedge basket')} for <b>{format_inr(cost)}</b>:",
        *_leg_lines(legs),
        why,
        _utilisation(session, utilisation_pct, after_entry),
        f"Spent today {format_inr(spent_today)} of the {format_inr(daily_cap)} cap.",
    )


def hedge_exited(
    session: SessionRef,
    *,
    baskets: int,
    legs: Sequence[HedgeLeg],
    reason: ExitRule | Manual,
    utilisation_pct: Decimal,
    paid: Decimal | None = None,
    left_to_expire: Sequence[HedgeLeg] = (),
    min_exit_premium: Decimal = Decimal("0.50"),
    at: datetime | None = None,
) -> str:
    """Hedge baskets sold. `legs` carry the exit prices; `paid` is what they cost when bought
    (for the net); `left_to_expire` are legs not sold because under `min_exit_premium`."""
    received = sum((leg.amount for leg in legs), Decimal(0))
    if isinstance(reason, Manual):
        why = f"Why: manual exit by {_esc(reason.by)}."
    else:
        why = (
            f"Why: utilisation is under the {format_pct(reason.exit_trigger_pct)} exit trigger "
            "and no entry left today needs the hedge."
        )
    net = f"; paid {format_inr(paid)}, net cost {format_inr(paid - received)}" if paid is not None else ""
    expire = None
    if left_to_expire:
        labels = _join([leg.label() for leg in left_to_expire])
        expire = f"Left to expire (under {format_inr(min_exit_premium)}, not worth an order): {labels}."
    return _lines(
        _session_header("↩️", "Hedge exited", session, at),
        f"{_plural(baskets, 'hedge basket')} sold for <b>{format_inr(received)}</b>{net}:",
        *_leg_lines(legs),
        expire,
        why,
        _utilisation(session, utilisation_pct),
    )


def order_failed(
    session: SessionRef,
    *,
    action: Literal["buy", "exit"],
    leg: HedgeLeg,
    status: Literal["failed", "rejected", "unfilled"],
    reason: str,
    attempts: int,
    utilisation_pct: Decimal,
    spent: Decimal = Decimal(0),
    at: datetime | None = None,
) -> str:
    """A hedge order that did not fill. `leg.price` is the last limit price, `reason` the
    broker's message, `spent` the premium paid on the action's other legs that did fill."""
    if action == "exit":
        paid = "The leg is still held."
    elif spent:
        paid = f"Paid {format_inr(spent)} on the legs that filled; this leg cost nothing."
    else:
        paid = "Nothing was paid for it."
    return _lines(
        _session_header("⚠️", f"Hedge {action} order {status}", session, at),
        f"{leg.label()} × {leg.quantity}, limit {format_inr(leg.price)}, after {_plural(attempts, 'attempt')}.",
        f"Broker: <i>{_esc(reason or 'no reason given')}</i>",
        paid,
        _utilisation(session, utilisation_pct),
        "Check the order book at the broker.",
    )


def breach_unavoidable(
    session: SessionRef,
    *,
    entries: Sequence[Entry],
    hedges_bought: int,
    cost: Decimal,
    after_entry_pct: Decimal,
    target_pct: Decimal,
    utilisation_pct: Decimal,
    at: datetime | None = None,
) -> str:
    """Critical: even every useful hedge cannot bring the coming entries under the target.
    `after_entry_pct` is the utilisation expected after the entries with the hedges bought."""
    over = session.budget * (after_entry_pct - 100) / 100
    budget_line = f" That is {format_lakh(over)} over the budget." if over > 0 else ""
    return _lines(
        _session_header("🚨", "Entry will breach the budget", session, at),
        f"{_entries(entries)}: even with {_plural(hedges_bought, 'hedge basket')} "
        f"(<b>{format_inr(cost)}</b>) utilisation reaches {format_pct(after_entry_pct)}, "
        f"above the {format_pct(target_pct)} target.{budget_line}",
        _utilisation(session, utilisation_pct),
        "Consider fewer baskets for this entry, or more margin.",
    )


def cap_reached(
    session: SessionRef,
    *,
    entries: Sequence[Entry],
    needed: int,
    bought: int,
    spent_today: Decimal,
    daily_cap: Decimal,
    basket_cost: Decimal,
    after_entry_pct: Decimal,
    at: datetime | None = None,
) -> str:
    """Critical: the daily cap allowed `bought` of the `needed` hedge baskets. `basket_cost`
    is the expected cost of one more basket; `after_entry_pct` is with what was bought."""
    return _lines(
        _session_header("🚨", "Daily hedge cap reached", session, at),
        f"{_entries(entries)} needed {_plural(needed, 'hedge basket')}; the cap allowed {bought}.",
        f"Spent {format_inr(spent_today)} of the {format_inr(daily_cap)} cap; "
        f"one more basket would cost ~{format_inr(basket_cost)}.",
        f"Utilisation ≈ {format_pct(after_entry_pct)} after the entry, "
        f"of the {format_lakh(session.budget)} budget.",
        "Raise max_hedge_cost_per_day in the session to buy more.",
    )


def no_eligible_strike(
    session: SessionRef,
    *,
    option_type: Literal["CE", "PE"],
    spot: Decimal,
    candidates: int,
    excluded: StrikeExclusions,
    min_premium: Decimal,
    max_premium: Decimal,
    min_otm_distance: Decimal,
    max_otm_distance: Decimal,
    entries: Sequence[Entry],
    utilisation_pct: Decimal,
    after_entry_pct: Decimal,
    at: datetime | None = None,
) -> str:
    """No `option_type` strike passed the rules, so nothing was bought and nothing widened;
    says how many of the `candidates` each rule excluded."""
    reasons = [
        (excluded.premium_below_min, f"premium under {format_inr(min_premium)}"),
        (excluded.premium_above_max, f"premium over {format_inr(max_premium)}"),
        (excluded.no_live_quote, "no live bid/ask"),
        (excluded.too_near, f"nearer than {_trim(min_otm_distance)} points to spot"),
        (excluded.too_far, f"farther than {_trim(max_otm_distance)} points from spot"),
    ]
    return _lines(
        _session_header("🚨", f"No eligible {option_type} strike", session, at),
        f"Needed for {_entries(entries)}; nothing bought, no rule widened.",
        f"Of {_plural(candidates, f'{option_type} strike')} (spot {_format_points(spot)}):",
        *[f"• {count} {text}" for count, text in reasons if count],
        _utilisation(session, utilisation_pct, after_entry_pct),
    )


def broker_unreachable(
    *,
    account: str,
    paper: bool,
    error: str,
    since: datetime,
    failures: int,
    last_utilisation_pct: Decimal | None = None,
    last_seen: datetime | None = None,
    at: datetime | None = None,
) -> str:
    """The account's OpenAlgo server stopped answering: since when, how many checks failed,
    the last error, and the last utilisation known."""
    last = None
    if last_utilisation_pct is not None:
        seen = f" at {_hhmm(last_seen)}" if last_seen else ""
        last = f"Last known utilisation {format_pct(last_utilisation_pct)}{seen}."
    return _lines(
        _header("🚨", "Broker unreachable", paper, at, _esc(account)),
        f"No answer since {_hhmm(since)} ({_plural(failures, 'failed check')}): <i>{_esc(error)}</i>",
        "Auto-hedge cannot buy or sell hedges for this account until it answers.",
        last,
    )


def auto_hedge_toggled(
    *,
    enabled: bool,
    by: str,
    session: SessionRef | None = None,
    paper: bool = False,
    reason: str = "",
    at: datetime | None = None,
) -> str:
    """Auto-hedge turned on or off by `by`, for one session or (session None) globally;
    `paper` marks a global toggle (a session's own mode is used otherwise)."""
    scope = _scope(session) if session else "All sessions (global switch)"
    state = "ON" if enabled else "OFF"
    consequence = (
        "Hedges are bought again when an entry needs one."
        if enabled
        else "No automatic hedge buys or exits. Manual buy and exit still work, within the same limits."
    )
    return _lines(
        _header("▶️" if enabled else "⏸", f"Auto-hedge {state}", session.paper if session else paper, at, scope),
        f"Turned {state.lower()} by {_esc(by)}." + (f" Reason: {_esc(reason)}" if reason else ""),
        consequence,
    )


def daily_summary(
    session: SessionRef,
    *,
    day: date,
    buys: int,
    baskets_bought: int,
    exits: int,
    spent: Decimal,
    received: Decimal,
    daily_cap: Decimal,
    peak_utilisation_pct: Decimal,
    peak_at: time | None,
    entries: int,
    entries_hedged: int,
    breaches: int = 0,
    failed_orders: int = 0,
) -> str:
    """After the close: hedge buys and exits, spend against the cap, peak utilisation, and
    how many entries needed a hedge (the others went in at ₹0 of hedging)."""
    peak = f" at {_hhmm(peak_at)}" if peak_at else ""
    problems = [
        _plural(breaches, "entry", "entries") + " above the target" if breaches else "",
        _plural(failed_orders, "order") + " failed" if failed_orders else "",
    ]
    problem_line = f"⚠️ {_join([p for p in problems if p])}." if any(problems) else None
    return _lines(
        _session_header("📊", f"Day summary · {day:%a %d %b}", session, None),
        f"Hedge buys: {buys} ({_plural(baskets_bought, 'basket')}); exits: {exits}.",
        f"Spent {format_inr(spent)} of the {format_inr(daily_cap)} cap; received {format_inr(received)}; "
        f"net <b>{format_inr(spent - received)}</b>.",
        f"Peak utilisation {format_pct(peak_utilisation_pct)}{peak}.",
        f"Entries: {entries} ({entries_hedged} hedged, {entries - entries_hedged} needed none).",
        problem_line,
    )


def forecast(
    session: SessionRef,
    *,
    buys: Sequence[ExpectedBuy],
    daily_cap: Decimal,
    spent_today: Decimal = Decimal(0),
) -> str:
    """Today's expected hedge buys from the schedule, and whether the cap covers them:
    "Today: 2 hedge buys expected, ~₹3,900, at 10:25 and 10:55; cap ₹50,000 covers it"."""
    header = _session_header("🗓", "Hedge forecast", session, None)
    if not buys:
        return _lines(header, f"Today: no hedge buys expected; the {format_inr(daily_cap)} cap stays untouched.")
    total = sum((buy.cost for buy in buys), Decimal(0))
    left = daily_cap - spent_today
    cover = (
        f"cap {format_inr(daily_cap)} covers it"
        if total <= left
        else f"cap {format_inr(daily_cap)} leaves it {format_inr(total - left)} short"
    )
    times = _join([_hhmm(buy.at) for buy in buys])
    return _lines(
        header,
        f"Today: {_plural(len(buys), 'hedge buy')} expected, ~{format_inr(total)}, at {times}; {cover}.",
    )
