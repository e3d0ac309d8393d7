"""Choosing hedge strikes by MBPR: margin benefit per rupee of premium.

MBPR of a leg = (margin that leg saves for one basket) / (its ask × one basket's
quantity). Under the constants model each leg is credited half the hedge basket's
saving, the same for every eligible strike, so the cheapest eligible strike wins; a
per-strike benefit (the broker's basket margin) can make a nearer, dearer strike win.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from hedging.core.settings import HedgeSettings

TICK = Decimal("0.05")


@dataclass(frozen=True)
class OptionQuote:
    symbol: str
    option_type: str  # "CE" or "PE"
    strike: Decimal
    bid: Decimal | None  # None: no live price
    ask: Decimal | None
    ltp: Decimal | None = None
    held_short: bool = False  # the account is short this option: buying it would close a strategy's leg


@dataclass(frozen=True)
class LegChoice:
    quote: OptionQuote
    mbpr: Decimal
    runner_up: OptionQuote | None
    runner_up_mbpr: Decimal | None
    saving: Decimal  # margin this leg saves for one basket

    @property
    def ask(self) -> Decimal:
        """The ask the leg was chosen at: choose_leg takes only a quote with a live bid and
        ask (see exclusion), and a strike chosen by hand without them is refused."""
        assert self.quote.ask is not None, f"{self.quote.symbol}: a chosen leg with no ask"
        return self.quote.ask


@dataclass(frozen=True)
class HedgePick:
    ce: LegChoice
    pe: LegChoice

    def cost_per_basket(self, quantity: int) -> Decimal:
        """Expected premium of one hedge basket at today's asks."""
        return (self.ce.ask + self.pe.ask) * quantity

    def saving_per_basket(self) -> Decimal:
        return self.ce.saving + self.pe.saving


@dataclass(frozen=True)
class NoEligibleStrike:
    option_type: str
    excluded: dict[str, int]  # rule → how many candidates it excluded

    def reason(self) -> str:
        if not self.excluded:
            return f"no {self.option_type} strikes in the option chain"
        parts = ", ".join(f"{count} by {rule}" for rule, count in self.excluded.items())
        return f"no eligible {self.option_type} strike: {parts}"


Benefit = Callable[[OptionQuote], Decimal]


def otm_distance(quote: OptionQuote, spot: Decimal) -> Decimal:
    """Points out of the money; zero or less: at or in the money."""
    return quote.strike - spot if quote.option_type == "CE" else spot - quote.strike


def exclusion(quote: OptionQuote, spot: Decimal, settings: HedgeSettings) -> str | None:
    """The first rule that excludes this candidate, or None if it is eligible."""
    distance = otm_distance(quote, spot)
    if distance <= 0:
        return "not OTM"
    if quote.held_short:
        return "a strike the account is short"
    if not settings.min_otm_distance <= distance <= settings.max_otm_distance:
        return f"distance outside {settings.min_otm_distance}–{settings.max_otm_distance} points"
    if not quote.bid or not quote.ask:
        return "no live bid/ask"
    if not settings.min_premium <= quote.ask <= settings.max_premium:
        return f"premium outside ₹{settings.min_premium}–₹{settings.max_premium}"
    return None


@dataclass(frozen=True)
class Candidate:
    """A strike a trader may buy by hand, and the rule that keeps the automatic path off
    it (None: none does)."""

    quote: OptionQuote
    excluded_by: str | None


def nearest(
    quotes: Sequence[OptionQuote], option_type: str, spot: Decimal, settings: HedgeSettings, count: int
) -> tuple[Candidate, ...]:
    """One side's strikes a trader may choose (OTM, not held short), the nearest to
    passing the rules first: eligible ones (cheapest first), then by how far the ask is
    outside the premium window, then the strike outside the distance window; those with
    no live bid/ask last."""
    side = [q for q in quotes if q.option_type == option_type and otm_distance(q, spot) > 0 and not q.held_short]
    return tuple(Candidate(q, exclusion(q, spot, settings)) for q in sorted(side, key=lambda q: _miss(q, spot, settings))[:count])


def _miss(quote: OptionQuote, spot: Decimal, settings: HedgeSettings) -> tuple:
    distance = otm_distance(quote, spot)
    off_distance = max(settings.min_otm_distance - distance, distance - settings.max_otm_distance, Decimal(0))
    if not quote.bid or not quote.ask:
        return (1, Decimal(0), off_distance, Decimal(0))
    off_premium = max(settings.min_premium - quote.ask, quote.ask - settings.max_premium, Decimal(0))
    return (0, off_premium, off_distance, quote.ask)


def choose_leg(
    quotes: Sequence[OptionQuote],
    option_type: str,
    spot: Decimal,
    settings: HedgeSettings,
    quantity: int,
    benefit: Benefit,
) -> LegChoice | NoEligibleStrike:
    excluded: dict[str, int] = {}
    scored: list[tuple[Decimal, Decimal, OptionQuote, Decimal]] = []
    for quote in quotes:
        if quote.option_type != option_type:
            continue
        rule = exclusion(quote, spot, settings)
        if rule:
            excluded[rule] = excluded.get(rule, 0) + 1
            continue
        saving = benefit(quote)
        mbpr = saving / (quote.ask * quantity)  # type: ignore[operator]  # an eligible quote has an ask
        # Highest MBPR; on a tie the nearer strike (more protection for the same money).
        scored.append((mbpr, -abs(quote.strike - spot), quote, saving))
    if not scored:
        return NoEligibleStrike(option_type, excluded)
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    best_mbpr, _, best, saving = scored[0]
    runner = scored[1] if len(scored) > 1 else None
    return LegChoice(
        quote=best,
        mbpr=best_mbpr,
        runner_up=runner[2] if runner else None,
        runner_up_mbpr=runner[0] if runner else None,
        saving=saving,
    )


def choose_hedge(
    quotes: Sequence[OptionQuote], spot: Decimal, settings: HedgeSettings, quantity: int, benefit: Benefit
) -> HedgePick | NoEligibleStrike:
    ce = choose_leg(quotes, "CE", spot, settings, quantity, benefit)
    if isinstance(ce, NoEligibleStrike):
        return ce
    pe = choose_leg(quotes, "PE", spot, settings, quantity, benefit)
    if isinstance(pe, NoEligibleStrike):
        return pe
    return HedgePick(ce=ce, pe=pe)


def limit_price(ask: Decimal, protection_pct: Decimal) -> Decimal:
    """The buy limit: the ask plus the price protection, rounded up to a tick."""
    raw = ask * (1 + protection_pct / 100)
    return (raw / TICK).to_integral_value(rounding=ROUND_CEILING) * TICK
