"""Telegram messages: one template per kind under `templates/alerts/` (Telegram's HTML
subset, autoescaped: callers pass raw names), each rendered from one small context
object. Money is `Decimal` rupees, percentages `Decimal` percent values; both are shown
by the `money` template filters. Messages of paper and sandbox sessions say so first.

`counted`, `format_inr`, `format_lakh` and `format_pct` live in `hedging.core.money`; they are
named here too for the pages, which take their formatting from this module.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.template.loader import select_template
from django.utils.html import strip_tags

from hedging.core.money import counted, format_inr, format_lakh, format_pct

__all__ = ["counted", "format_inr", "format_lakh", "format_pct", "render", "plain"]

ICONS = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}


def render(kind: str, **context: object) -> str:
    """The `alerts/<kind>.html` template (`alerts/alert.html` for a kind without its
    own), one message line per non-blank template line, so templates stay readable."""
    template = select_template([f"alerts/{kind}.html", "alerts/alert.html"])
    lines = (line.strip() for line in template.render(context).splitlines())
    return "\n".join(line for line in lines if line)


def plain(telegram_html: str) -> str:
    """What the trader reads of a message, for an alert row (the dashboard shows rows as text)."""
    return html.unescape(strip_tags(telegram_html))


# -- the context objects -------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRef:
    """Which session a message is about: broker account name, index, expiry, budget, mode."""

    account: str
    index: str
    expiry: date
    budget: Decimal
    paper: bool
    sandbox: bool = False  # a live account on an OpenAlgo in analyzer mode

    @property
    def mode(self) -> str:
        """The panel's word (`runtime.trading_mode`)."""
        return "paper" if self.paper else "sandbox" if self.sandbox else "live"


@dataclass(frozen=True)
class Header:
    """A message's first lines: the mode marker, icon, title and time, then the session."""

    icon: str
    title: str
    session: SessionRef | None = None
    paper: bool = False  # for a message about no one session (the global switch)
    at: datetime | None = None
    scope: str = ""  # what the message is about, without a session

    @property
    def mode(self) -> str:
        return self.session.mode if self.session else "paper" if self.paper else "live"


@dataclass(frozen=True)
class HedgeLeg:
    """One leg of a hedge action as filled: `price` per unit, paid on a buy, received on an exit."""

    symbol: str
    quantity: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class HedgeAction:
    """A settled buy or exit (or one that failed): its legs, what it cost or brought, why
    (the decision's words: which entry, projected against the trigger; or who asked) and
    utilisation after it."""

    header: Header
    action: str  # "buy" or "exit"
    baskets: int
    legs: Sequence[HedgeLeg]
    amount: Decimal  # paid (buy) or received (exit), from the fills
    reason: str
    for_entries: Sequence[str]
    utilisation_after_pct: Decimal | None
    spent_today: Decimal
    daily_cap: Decimal
    status: str = ""  # a failed action's status, as the pages word it
    error: str = ""


@dataclass(frozen=True)
class DaySummary:
    """One session's day after the close. `static_cost` is what hedging every entered
    basket would have cost (`hedging.services.analytics`), `price_source` how it was priced."""

    header: Header
    buys: int
    baskets_bought: int
    exits: int
    spent: Decimal
    received: Decimal
    daily_cap: Decimal
    static_cost: Decimal
    price_source: str
    peak_utilisation_pct: Decimal | None
    peak_at: datetime | None
    entries: int
    entries_hedged: int
    breaches: int
    failed_orders: int

    @property
    def net(self) -> Decimal:
        return self.spent - self.received

    @property
    def saved(self) -> Decimal:
        return self.static_cost - self.net

    @property
    def entries_unhedged(self) -> int:
        return self.entries - self.entries_hedged

    @property
    def saved_more(self) -> Decimal:
        """What hedging this way cost over hedging every basket (a day of many buys)."""
        return -self.saved


@dataclass(frozen=True)
class ExpectedBuy:
    """A hedge buy the forecast expects: when, how many baskets, roughly what cost."""

    at: time
    baskets: int
    cost: Decimal


# -- the builders other modules call -------------------------------------------------------


def auto_hedge_toggled(
    *, enabled: bool, by: str, session: SessionRef | None = None, paper: bool = False, reason: str = "",
    at: datetime | None = None,
) -> str:
    """Auto-hedge turned on or off by `by`, for one session or (session None) globally;
    `paper` marks a global toggle (a session's own mode is used otherwise)."""
    icon = "▶️" if enabled else "⏸"
    header = Header(icon, f"Auto-hedge {'ON' if enabled else 'OFF'}", session, paper, at, scope="All sessions (global switch)")
    return render("auto_hedge_toggled", header=header, enabled=enabled, by=by, reason=reason)


def forecast(session: SessionRef, *, buys: Sequence[ExpectedBuy], daily_cap: Decimal, spent_today: Decimal = Decimal(0)) -> str:
    """Today's expected hedge buys from the schedule, and whether the cap covers them:
    "Today: 2 hedge buys expected, ~₹3,900, at 10:25 and 10:55; cap ₹50,000 covers it"."""
    total = sum((buy.cost for buy in buys), Decimal(0))
    short = total - (daily_cap - spent_today)
    return render(
        "forecast", header=Header("🗓", "Hedge forecast", session), buys=buys, total=total, daily_cap=daily_cap, short=short
    )
