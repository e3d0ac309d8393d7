"""Replay: one scripted trading day through the real services, minute by minute, with a
stepped clock and the simulated broker in-process (replay-format.md).

The day's rows are written like a live day's (a session marked as a replay) inside one
database transaction, read back into the result, and rolled back unless saved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from brokers.models import BrokerAccount, Mode
from brokers.openalgo import InProcessTransport, OpenAlgoClient
from brokers.simbroker.scenario import MarginPerBasket, Scenario, ScenarioError, build_simbroker
from hedging.core.clock import IST, MARKET_CLOSE, MARKET_OPEN, SteppedClock
from hedging.core.settings import BUDGET_PER_BASKET, HedgeSettings, SettingsError
from hedging.models import Alert, DailySession, HedgeTransaction, MarginSnapshot, StrategyExecution
from hedging.services import calculator, orchestrator
from hedging.ports import Ports

REPLAY_ACCOUNT = "replay"
REPLAY_KEY = "replay"


class _Rollback(Exception):
    pass


@dataclass(frozen=True)
class ReplayRun:
    result: dict[str, Any]
    session_id: int | None  # kept only when saved


def replay(scenario: Scenario, save: bool = False) -> ReplayRun:
    settings = scenario_settings(scenario)
    holder: dict[str, Any] = {}
    try:
        with transaction.atomic():
            session = create_session(scenario, settings)
            run_day(scenario, session)
            holder["result"] = result(scenario, session, settings)
            if not save:
                raise _Rollback
    except _Rollback:
        return ReplayRun(holder["result"], None)
    return ReplayRun(holder["result"], session.pk)


def scenario_settings(scenario: Scenario) -> HedgeSettings:
    try:
        return HedgeSettings.for_index(scenario.index, scenario.config)
    except SettingsError as error:
        raise ScenarioError(f"config.{error}") from None


def create_session(scenario: Scenario, settings: HedgeSettings) -> DailySession:
    account, _ = BrokerAccount.objects.get_or_create(
        name=REPLAY_ACCOUNT, defaults={"host": "http://127.0.0.1/replay", "mode": Mode.LIVE, "enabled": False}
    )
    margin = scenario.margin_per_basket
    session = DailySession.objects.create(
        account=account,
        date=scenario.date,
        index_name=scenario.index,
        expiry=scenario.expiry,
        num_baskets=max(int(scenario.budget / BUDGET_PER_BASKET), 1),
        lots_per_basket=scenario.lots_per_basket,
        lot_size=scenario.lot_size,
        budget=scenario.budget,
        baseline_margin=Decimal(0),  # the scenario's other margin is intraday margin
        margin_unhedged=margin.unhedged if margin else None,
        margin_hedged=margin.hedged if margin else None,
        is_replay=True,
        replay_name=scenario.name,
        **{name: getattr(settings, name) for name in calculator.SETTING_FIELDS},
    )
    try:
        model = calculator.margin_model(session)
    except calculator.UnknownMarginConstants as error:
        raise ScenarioError(f"margin_per_basket: {error}") from None
    session.margin_unhedged, session.margin_hedged = model.unhedged, model.hedged
    session.save(update_fields=["margin_unhedged", "margin_hedged"])
    StrategyExecution.objects.bulk_create(
        StrategyExecution(session=session, name=row.name, baskets=row.baskets, planned_entry=row.entry, planned_exit=row.exit)
        for row in scenario.schedule
    )
    return session


def run_day(scenario: Scenario, session: DailySession) -> None:
    clock = SteppedClock(scenario.at(MARKET_OPEN))
    sim = build_simbroker(
        scenario,
        clock,
        margin_per_basket=MarginPerBasket(session.margin_unhedged, session.margin_hedged),
        api_key=REPLAY_KEY,
        product=session.account.product,
    )
    # A host of its own: market data cached per host must not leak from one replayed day to another.
    host = f"inprocess://replay-{uuid.uuid4().hex}"
    broker = OpenAlgoClient(host, REPLAY_KEY, transport=InProcessTransport(sim.handle), rate_limit=False)
    ports = Ports(clock=clock, broker=broker, paper=False, sleep=lambda seconds: None, fill_polls=1)
    for minute in day_minutes(scenario):
        clock.set(minute)
        orchestrator.tick(session.pk, ports)


def day_minutes(scenario: Scenario) -> list[datetime]:
    moment, close = scenario.at(MARKET_OPEN), scenario.at(MARKET_CLOSE)
    minutes = []
    while moment <= close:
        minutes.append(moment)
        moment += timedelta(minutes=1)
    return minutes


def number(value: Decimal | None, places: str = "0.1") -> float | None:
    return None if value is None else float(value.quantize(Decimal(places)))


@dataclass(frozen=True)
class ReplayedDay:
    """What a replayed day wrote, read back before the rollback (the result and the forecast read this)."""

    transactions: list[HedgeTransaction]  # in decision order, with their orders
    executions: list[StrategyExecution]  # every schedule row, in entry order
    alerts: list[Alert]
    snapshots: list[MarginSnapshot]  # a minute's each, in order

    @property
    def buys(self) -> list[HedgeTransaction]:
        return [tx for tx in self.transactions if tx.action == HedgeTransaction.Action.BUY]

    @property
    def entries(self) -> list[StrategyExecution]:
        """The rows the day came to: entered, exited, stopped out or skipped."""
        return [e for e in self.executions if e.status != StrategyExecution.Status.SCHEDULED]

    @property
    def peak_util_pct(self) -> Decimal:
        """The highest utilisation of a minute or just after an entry."""
        entered = [e.util_after_entry_pct for e in self.entries if e.util_after_entry_pct is not None]
        return max([s.utilisation_pct for s in self.snapshots] + entered, default=Decimal(0))


def read_day(session: DailySession) -> ReplayedDay:
    return ReplayedDay(
        transactions=list(session.transactions.order_by("decided_at", "pk").prefetch_related("orders")),
        executions=list(session.executions.order_by("planned_entry", "name")),
        alerts=list(session.alerts.order_by("created_at", "pk")),
        snapshots=list(session.snapshots.order_by("taken_at")),
    )


def result(scenario: Scenario, session: DailySession, settings: HedgeSettings) -> dict[str, Any]:
    day = read_day(session)
    buys, entries = day.buys, day.entries
    return {
        "scenario": scenario.name,
        "actions": [action(tx) for tx in day.transactions],
        "alerts": [
            {"time": f"{a.created_at.astimezone(IST):%H:%M:%S}", "level": a.level, "kind": a.kind, "text": a.text}
            for a in day.alerts
        ],
        "entries": [
            {
                "name": e.name,
                "time": f"{e.planned_entry:%H:%M:%S}",
                "baskets": e.baskets,
                "util_pct": number(e.util_after_entry_pct),
            }
            for e in entries
        ],
        "summary": {
            "hedge_cost": number(sum((tx.cost for tx in buys), Decimal(0)), "0.01"),
            "hedge_buys": len(buys),
            "hedge_exits": len(day.transactions) - len(buys),
            "max_util_pct": number(day.peak_util_pct),
            "entries_over_trigger": sum(
                1 for e in entries if e.util_after_entry_pct is not None and e.util_after_entry_pct > settings.entry_trigger_pct
            ),
        },
    }


def action(tx: HedgeTransaction) -> dict[str, Any]:
    return {
        "time": f"{tx.decided_at.astimezone(IST):%H:%M:%S}",
        "action": tx.action,
        "hedge_baskets": tx.hedge_baskets,
        "cost": number(tx.cost, "0.01"),
        "status": tx.status,
        "reason": tx.reason,
        "for_entries": tx.for_entries,
        "util_before_pct": number(tx.util_before_pct),
        "util_projected_pct": number(tx.util_projected_pct),
        "util_after_pct": number(tx.util_after_pct),
        "legs": [
            {
                "symbol": o.symbol,
                "option_type": o.option_type,
                "strike": number(o.strike, "1"),
                "quantity": o.filled_quantity,
                "price": number(o.average_price, "0.01"),
                "mbpr": number(o.mbpr, "0.01"),
            }
            for o in tx.orders.all()
            if o.filled_quantity
        ],
    }
