"""What a forecast answers: the plan and what it assumed (with their JSON), or the input it refuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

from hedging.services.replay import number


class ForecastError(ValueError):
    """Input the forecast refuses; `field` names it and the message is one line."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.reason = field, message


@dataclass(frozen=True)
class Leg:
    option_type: str
    strike: Decimal
    quantity: int
    price: Decimal


@dataclass(frozen=True)
class PlannedBuy:
    time: time
    hedge_baskets: int
    for_entries: tuple[str, ...]
    util_before_pct: Decimal
    util_projected_pct: Decimal  # with the coming entries, unhedged
    util_after_pct: Decimal  # with the coming entries and this buy
    cost: Decimal  # premium at the model's prices, index flat
    cost_low: Decimal
    cost_high: Decimal
    legs: tuple[Leg, ...]


@dataclass(frozen=True)
class ProjectedEntry:
    name: str
    time: time
    baskets: int
    util_pct: Decimal | None  # just after the entry; None if it never entered


@dataclass(frozen=True)
class Point:
    """Projected utilisation from `time` until the next point."""

    time: time
    util_pct: Decimal
    open_baskets: int
    hedges_held: int


@dataclass(frozen=True)
class RunAlert:
    time: time
    kind: str
    level: str
    text: str
    entries: tuple[str, ...]


@dataclass(frozen=True)
class DayRun:
    """What one replay of the derived day did."""

    buys: tuple[PlannedBuy, ...]
    entries: tuple[ProjectedEntry, ...]
    timeline: tuple[Point, ...]
    alerts: tuple[RunAlert, ...]
    peak_util_pct: Decimal

    def entries_alerted(self, kind: str) -> list[str]:
        """Entry names of the alerts of one kind, first alerted first."""
        names: list[str] = []
        for item in self.alerts:
            names += [name for name in item.entries if item.kind == kind and name not in names]
        return names


@dataclass(frozen=True)
class Assumptions:
    spot: Decimal  # held flat through the day
    other_margin: Decimal  # intraday margin outside the schedule, held flat
    iv_atm: Decimal
    iv_wing_slope: Decimal
    one_day_move: Decimal  # spot × iv_atm × √(1/252): the cost range's index move


@dataclass(frozen=True)
class ForecastResult:
    name: str
    day: date
    index: str
    budget: Decimal
    cap: Decimal
    entry_trigger_pct: Decimal
    entry_target_pct: Decimal
    assumptions: Assumptions
    auto_enabled: bool  # the session's and the global switch; the plan assumes them on
    planned: tuple[PlannedBuy, ...]  # what auto-hedge will buy, within the cap
    needed: tuple[PlannedBuy, ...]  # what the day needs with no cap (the same when the cap covers)
    breaches: tuple[str, ...]  # entries over the target even fully hedged
    shortfall_from: str | None  # the first entry the cap cannot hedge
    peak_util_pct: Decimal
    entries: tuple[ProjectedEntry, ...]
    timeline: tuple[Point, ...]
    alerts: tuple[RunAlert, ...]

    @property
    def cap_covers(self) -> bool:
        return self.shortfall_from is None

    @property
    def warnings(self) -> tuple[RunAlert, ...]:
        """Every alert above info the day would raise: a strike that can't be found is
        as much the trader's business as a cap or a breach."""
        return tuple(x for x in self.alerts if x.level != "info")

    @property
    def cost(self) -> Decimal:
        return sum((buy.cost for buy in self.planned), Decimal(0))

    @property
    def cost_low(self) -> Decimal:
        return sum((buy.cost_low for buy in self.planned), Decimal(0))

    @property
    def cost_high(self) -> Decimal:
        return sum((buy.cost_high for buy in self.planned), Decimal(0))

    def to_json(self) -> dict[str, Any]:
        """The command's `--json` answer: plain numbers, times HH:MM:SS."""
        return {
            "planned": [buy_json(buy) for buy in self.planned],
            "breaches": list(self.breaches),
            "cap_covers": self.cap_covers,
            "shortfall_from": self.shortfall_from,
            "cost_low": number(self.cost_low, "0.01"),
            "cost_high": number(self.cost_high, "0.01"),
            "peak_util_pct": number(self.peak_util_pct),
            "alerts": [alert_json(x) for x in self.warnings],
        }

    def detail(self) -> dict[str, Any]:
        """Everything, for the dashboard's panel and the stored row: to_json's keys plus
        costs and legs of each buy, the uncapped plan, entries, timeline and assumptions."""
        a = self.assumptions
        return {
            **self.to_json(),
            "planned": [buy_detail(buy) for buy in self.planned],
            "needed": [buy_detail(buy) for buy in self.needed],
            "name": self.name,
            "day": self.day.isoformat(),
            "index": self.index,
            "budget": number(self.budget, "0.01"),
            "cap": number(self.cap, "0.01"),
            "cost": number(self.cost, "0.01"),
            "entry_trigger_pct": number(self.entry_trigger_pct),
            "entry_target_pct": number(self.entry_target_pct),
            "auto_enabled": self.auto_enabled,
            "market": {
                "spot": number(a.spot, "0.01"),
                "other_margin": number(a.other_margin, "0.01"),
                "iv_atm": number(a.iv_atm, "0.0001"),
                "iv_wing_slope": number(a.iv_wing_slope, "0.0001"),
                "one_day_move": number(a.one_day_move, "0.01"),
            },
            "entries": [
                {"name": e.name, "time": f"{e.time:%H:%M:%S}", "baskets": e.baskets, "util_pct": number(e.util_pct)}
                for e in self.entries
            ],
            "timeline": [
                {
                    "time": f"{p.time:%H:%M:%S}",
                    "util_pct": number(p.util_pct),
                    "open_baskets": p.open_baskets,
                    "hedges_held": p.hedges_held,
                }
                for p in self.timeline
            ],
            "alerts": [alert_json(x) for x in self.alerts],
        }


def alert_json(x: RunAlert) -> dict[str, Any]:
    return {"time": f"{x.time:%H:%M:%S}", "kind": x.kind, "level": x.level, "text": x.text, "entries": list(x.entries)}


def buy_json(buy: PlannedBuy) -> dict[str, Any]:
    return {
        "time": f"{buy.time:%H:%M:%S}",
        "hedge_baskets": buy.hedge_baskets,
        "for_entries": list(buy.for_entries),
        "util_projected_pct": number(buy.util_projected_pct),
        "util_after_pct": number(buy.util_after_pct),
    }


def buy_detail(buy: PlannedBuy) -> dict[str, Any]:
    return {
        **buy_json(buy),
        "util_before_pct": number(buy.util_before_pct),
        "cost": number(buy.cost, "0.01"),
        "cost_low": number(buy.cost_low, "0.01"),
        "cost_high": number(buy.cost_high, "0.01"),
        "legs": [
            {
                "option_type": leg.option_type,
                "strike": number(leg.strike, "1"),
                "quantity": leg.quantity,
                "price": number(leg.price, "0.01"),
            }
            for leg in buy.legs
        ],
    }
