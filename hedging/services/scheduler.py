"""StrategySchedulerService: today's entries of a session, and their life through the day.

Each enabled schedule row of the session's account and index that runs on the session's
weekday becomes one `strategy_executions` row. The clock enters and exits them at their
planned times; the broker's order book (orders tagged with the row's name) tells when a
portfolio was stopped out early. A tick loads the day's rows once and works on the list.
"""

from __future__ import annotations

from datetime import datetime, time

from hedging.core.clock import IST, at
from hedging.core.decide import Entry
from hedging.models import DailySession, StrategyExecution
from schedules.models import StrategySchedule

Status = StrategyExecution.Status


def local_time(now: datetime) -> time:
    return now.astimezone(IST).time()


def todays_rows(session: DailySession) -> list[StrategySchedule]:
    rows = StrategySchedule.objects.filter(account=session.account, index_name=session.index_name, enabled=True)
    return [row for row in rows if row.runs_on(session.date.weekday())]


def ensure_executions(session: DailySession) -> None:
    """Create the day's executions; rows added to the schedule later join in. A replay
    writes its executions from the scenario instead."""
    if session.is_replay:
        return
    StrategyExecution.objects.bulk_create([execution_of(session, row) for row in todays_rows(session)], ignore_conflicts=True)


def execution_of(session: DailySession, row: StrategySchedule) -> StrategyExecution:
    """A schedule row's day on `session` (a row with no basket count enters the session's)."""
    return StrategyExecution(
        session=session,
        schedule=row,
        name=row.name,
        baskets=row.baskets or session.num_baskets,
        planned_entry=row.entry_time,
        planned_exit=row.exit_time,
    )


def of_session(executions: list[StrategyExecution], session: DailySession) -> list[StrategyExecution]:
    """The day's executions (read in time order) with their session in hand: spares a query per row."""
    for execution in executions:
        execution.session = session
    return executions


def due_entries(executions: list[StrategyExecution], now: datetime) -> list[StrategyExecution]:
    moment = local_time(now)
    return [e for e in executions if e.status == Status.SCHEDULED and e.planned_entry <= moment]


def mark_entered(execution: StrategyExecution, used_after, util_pct, confirmed: bool) -> None:
    execution.status = Status.ENTERED
    execution.entered_at = at(execution.session.date, execution.planned_entry)
    execution.margin_after, execution.util_after_entry_pct, execution.confirmed = used_after, util_pct, confirmed
    execution.save(update_fields=["status", "entered_at", "margin_after", "util_after_entry_pct", "confirmed"])


def close(executions: list[StrategyExecution], status: str, now: datetime) -> None:
    for execution in executions:
        execution.status, execution.exited_at = status, now
    if executions:
        StrategyExecution.objects.filter(pk__in=[e.pk for e in executions]).update(status=status, exited_at=now)


def exits_due(executions: list[StrategyExecution], now: datetime) -> list[StrategyExecution]:
    moment = local_time(now)
    return [e for e in executions if e.status == Status.ENTERED and e.planned_exit <= moment]


def mark_stopped_out(executions: list[StrategyExecution], names: set[str], now: datetime) -> None:
    close([e for e in executions if e.status == Status.ENTERED and e.name in names], Status.STOPPED_OUT, now)


def open_baskets(executions: list[StrategyExecution]) -> int:
    return sum(e.baskets for e in executions if e.status == Status.ENTERED)


def pending_entries(session: DailySession, executions: list[StrategyExecution]) -> tuple[Entry, ...]:
    """Entries not made yet today, in time order."""
    return tuple(Entry(e.name, at(session.date, e.planned_entry), e.baskets) for e in executions if e.status == Status.SCHEDULED)
