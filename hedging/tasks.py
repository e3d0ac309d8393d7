"""Celery faces of the hedging services: ids in, work claimed through the database."""

from celery import shared_task


@shared_task(name="hedging.lookahead_all")
def lookahead_all() -> int:
    """Per-minute tick over every active session of every enabled account."""
    return 0


@shared_task(name="hedging.snapshot_all")
def snapshot_all() -> int:
    """Per-minute margin snapshot of every active session."""
    return 0
