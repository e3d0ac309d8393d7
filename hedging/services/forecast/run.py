"""One replay of the derived day, rolled back, read as a DayRun."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from brokers.simbroker import pricing
from brokers.simbroker.scenario import Scenario
from hedging.core.clock import IST
from hedging.models import Alert, Control, HedgeTransaction, MarginSnapshot
from hedging.services import replay
from hedging.services.forecast.market import flat_spot, one_day_move
from hedging.services.forecast.result import DayRun, Leg, PlannedBuy, Point, ProjectedEntry, RunAlert

ENTRY_ALERTS = ("breach_unavoidable", "cap_reached", "no_eligible_strike")  # decide keys these `prefix:NAME,NAME`


class _Finished(Exception):
    def __init__(self, run: DayRun):
        self.run = run


def replay_day(scenario: Scenario) -> DayRun:
    settings = replay.scenario_settings(scenario)
    try:
        with transaction.atomic():
            # The forecast tells what the day needs, switches or not: the global switch is
            # turned on inside this transaction only (when off; no lock otherwise).
            Control.objects.filter(pk=Control.get().pk, auto_enabled=False).update(auto_enabled=True)
            session = replay.create_session(scenario, settings)
            replay.run_day(scenario, session)
            raise _Finished(day_run(scenario, replay.read_day(session)))
    except _Finished as finished:
        return finished.run


def day_run(scenario: Scenario, day: replay.ReplayedDay) -> DayRun:
    return DayRun(
        buys=tuple(planned_buy(tx, scenario) for tx in day.buys),
        entries=tuple(ProjectedEntry(e.name, e.planned_entry, e.baskets, e.util_after_entry_pct) for e in day.executions),
        timeline=timeline(day.snapshots),
        alerts=tuple(run_alert(row) for row in day.alerts),
        peak_util_pct=day.peak_util_pct,
    )


def planned_buy(tx: HedgeTransaction, scenario: Scenario) -> PlannedBuy:
    legs = tuple(Leg(o.option_type, o.strike, o.filled_quantity, o.average_price) for o in tx.orders.all() if o.filled_quantity)
    low, high = cost_range(legs, tx.decided_at, scenario, tx.cost)
    return PlannedBuy(
        time=tx.decided_at.astimezone(IST).time(),
        hedge_baskets=tx.hedge_baskets,
        for_entries=tuple(tx.for_entries),
        util_before_pct=tx.util_before_pct,
        util_projected_pct=tx.util_projected_pct,
        util_after_pct=tx.util_after_pct,
        cost=tx.cost,
        cost_low=low,
        cost_high=high,
        legs=legs,
    )


def cost_range(legs: Sequence[Leg], moment: datetime, scenario: Scenario, estimate: Decimal) -> tuple[Decimal, Decimal]:
    """The buy's strikes priced at the ask, at its time, with the index a day's move
    lower and higher (both legs with the same index); the estimate lies within."""
    spot, move, market = flat_spot(scenario), one_day_move(scenario), scenario.market
    moved = [
        sum(
            (
                pricing.quote(
                    level, leg.strike, leg.option_type, moment, scenario.expiry, market.iv_atm, market.iv_wing_slope
                ).ask
                * leg.quantity
                for leg in legs
            ),
            Decimal(0),
        )
        for level in (spot - move, spot + move)
    ]
    return min(estimate, *moved), max(estimate, *moved)


def timeline(snapshots: Sequence[MarginSnapshot]) -> tuple[Point, ...]:
    """The minute snapshots, kept where something changed."""
    points: list[Point] = []
    for s in snapshots:
        point = Point(s.taken_at.astimezone(IST).time(), s.utilisation_pct, s.open_baskets, s.hedges_held)
        if not points or replace(points[-1], time=point.time) != point:
            points.append(point)
    return tuple(points)


def run_alert(row: Alert) -> RunAlert:
    entries = tuple(row.dedupe_key.partition(":")[2].split(",")) if row.kind in ENTRY_ALERTS else ()
    return RunAlert(row.created_at.astimezone(IST).time(), row.kind, row.level, row.text, entries)
