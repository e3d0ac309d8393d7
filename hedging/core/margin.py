"""Margin of the baskets (hedging-rules.md, "Margin of the baskets")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

HUNDRED = Decimal(100)


class MarginModel(Protocol):
    def basket_margin(self, open_baskets: int, hedges: int) -> Decimal: ...

    def saving_per_hedge_basket(self) -> Decimal: ...


@dataclass(frozen=True)
class ConstantsMargin:
    """Mu and Mh per basket. Each hedge basket covers one open basket; a spare hedge
    (no open basket to cover) changes nothing.

    The per-strike model is the same arithmetic with Mh = Mu − (the margin the chosen
    CE and PE strikes save, as the broker's basket margin says): see `with_saving`."""

    unhedged: Decimal
    hedged: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) < self.hedged < self.unhedged:
            raise ValueError("margin constants need 0 < hedged < unhedged")

    def basket_margin(self, open_baskets: int, hedges: int) -> Decimal:
        covered = min(open_baskets, hedges)
        return covered * self.hedged + max(open_baskets - hedges, 0) * self.unhedged

    def saving_per_hedge_basket(self) -> Decimal:
        return self.unhedged - self.hedged

    def with_saving(self, saving: Decimal) -> "ConstantsMargin":
        return ConstantsMargin(self.unhedged, self.unhedged - saving)


def utilisation_pct(used: Decimal, budget: Decimal) -> Decimal:
    return used * HUNDRED / budget


def one_decimal(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
