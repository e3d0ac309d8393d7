"""Margin models of the simulated broker. A model prices a set of open option
positions (signed quantities, shorts negative) given the spot of each underlying."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping, Protocol

from .market import Option

CENT = Decimal("0.01")
Groups = dict[tuple[str, date], dict[Option, int]]


@dataclass(frozen=True)
class MarginBreakdown:
    span: Decimal
    exposure: Decimal

    @property
    def total(self) -> Decimal:
        return self.span + self.exposure


class MarginModel(Protocol):
    def margin(self, positions: Mapping[Option, int], spots: Mapping[str, Decimal]) -> MarginBreakdown: ...


def group_positions(positions: Mapping[Option, int]) -> Groups:
    """Non-zero positions by (underlying, expiry): options of one expiry offset each other."""
    groups: Groups = defaultdict(dict)
    for option, quantity in positions.items():
        if quantity:
            groups[(option.underlying, option.expiry)][option] = quantity
    return groups


def basket_margin(open_baskets: int, hedges: int, unhedged: Decimal, hedged: Decimal) -> Decimal:
    """hedging-rules.md: covered baskets cost Mh, uncovered Mu, spare hedges nothing."""
    return min(open_baskets, hedges) * hedged + max(open_baskets - hedges, 0) * unhedged


@dataclass(frozen=True)
class BasketRates:
    unhedged: Decimal
    hedged: Decimal
    basket_qty: int


class ConstantsMargin:
    """The plan's constants per underlying: margin = Σ basket_margin(N, H) over each
    underlying and expiry, with N the short straddle baskets (short quantity of the
    larger leg / basket quantity, a part basket counting whole) and H the hedge
    baskets (the smaller of long CE and long PE quantity // basket quantity)."""

    def __init__(self, rates: Mapping[str, BasketRates]):
        self.rates = dict(rates)

    @classmethod
    def for_index(cls, index: str, unhedged: Decimal, hedged: Decimal, basket_qty: int) -> ConstantsMargin:
        return cls({index: BasketRates(Decimal(unhedged), Decimal(hedged), basket_qty)})

    def margin(self, positions: Mapping[Option, int], spots: Mapping[str, Decimal]) -> MarginBreakdown:
        total = Decimal(0)
        for (underlying, _), legs in group_positions(positions).items():
            baskets, hedges = self.baskets(underlying, legs)
            rates = self.rates[underlying]
            total += basket_margin(baskets, hedges, rates.unhedged, rates.hedged)
        return MarginBreakdown(span=total.quantize(CENT), exposure=Decimal("0.00"))

    def baskets(self, underlying: str, legs: Mapping[Option, int]) -> tuple[int, int]:
        """(N, H) of one underlying and expiry."""
        if underlying not in self.rates:
            raise KeyError(f"no margin constants for {underlying}")
        basket_qty = self.rates[underlying].basket_qty
        short = {side: sum(-q for o, q in legs.items() if o.option_type == side and q < 0) for side in ("CE", "PE")}
        long = {side: sum(q for o, q in legs.items() if o.option_type == side and q > 0) for side in ("CE", "PE")}
        return math.ceil(max(short.values()) / basket_qty), min(long.values()) // basket_qty


@dataclass(frozen=True)
class SpanParams:
    """span_pct and exposure_pct: fractions of the notional (spot × quantity) charged per
    short unit; a long of the same type covering a short saves that short's span by
    1 − distance / hedge_range_pct (distance in % of spot, OTM side only), so nothing
    beyond hedge_range_pct."""

    span_pct: Decimal
    exposure_pct: Decimal
    hedge_range_pct: Decimal


# Calibrated to the plan's 0DTE constants: a 65-qty NIFTY ATM straddle at 24000 needs
# ≈ ₹4.33L, ≈ ₹1.87L with a long CE and PE 500 points out; a 200-qty SENSEX straddle
# at 80000 ≈ ₹3.67L, ≈ ₹1.60L with longs 1700 points out.
DEFAULT_SPAN_PARAMS = {
    "NIFTY": SpanParams(Decimal("0.1208"), Decimal("0.018"), Decimal("6")),
    "SENSEX": SpanParams(Decimal("0.009982"), Decimal("0.001487"), Decimal("6")),
}


class SpanLikeMargin:
    """A SPAN-like estimate that prices each strike: the nearer a long covers a short of
    the same type, the more of the short's span it saves. Exposure margin is charged on
    every short and no hedge reduces it; longs alone need no margin."""

    def __init__(self, params: Mapping[str, SpanParams] | None = None):
        self.params = dict(DEFAULT_SPAN_PARAMS if params is None else params)

    def margin(self, positions: Mapping[Option, int], spots: Mapping[str, Decimal]) -> MarginBreakdown:
        span = exposure = Decimal(0)
        for (underlying, _), legs in group_positions(positions).items():
            params, spot = self.params[underlying], spots[underlying]
            for side in ("CE", "PE"):
                shorts = {o.strike: -q for o, q in legs.items() if o.option_type == side and q < 0}
                longs = {o.strike: q for o, q in legs.items() if o.option_type == side and q > 0}
                notional = spot * sum(shorts.values())
                span += notional * params.span_pct - self._saving(side, shorts, longs, spot, params)
                exposure += notional * params.exposure_pct
        return MarginBreakdown(span=span.quantize(CENT), exposure=exposure.quantize(CENT))

    @staticmethod
    def _saving(
        side: str, shorts: dict[Decimal, int], longs: dict[Decimal, int], spot: Decimal, params: SpanParams
    ) -> Decimal:
        """Each long unit covers one short unit, nearest pairs first."""
        pairs = sorted(
            ((_credit(side, short, long, spot, params), short, long) for short in shorts for long in longs),
            key=lambda pair: (-pair[0], pair[1], pair[2]),
        )
        saving = Decimal(0)
        for credit, short, long in pairs:
            covered = min(shorts[short], longs[long])
            if credit <= 0 or covered == 0:
                continue
            shorts[short] -= covered
            longs[long] -= covered
            saving += covered * spot * params.span_pct * credit
        return saving


def _credit(side: str, short: Decimal, long: Decimal, spot: Decimal, params: SpanParams) -> Decimal:
    distance = max(long - short, Decimal(0)) if side == "CE" else max(short - long, Decimal(0))
    return max(Decimal(1) - distance / spot * 100 / params.hedge_range_pct, Decimal(0))
