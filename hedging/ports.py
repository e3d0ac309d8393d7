"""What the services are given to run with: the same code runs live, paper, demo and replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from brokers.openalgo import OpenAlgoClient
from hedging.core.clock import Clock

SETTLE = timedelta(seconds=15)  # how long a claimed order its worker left no word of may still arrive
WATCH = timedelta(minutes=2)  # how long an order whose answer was lost is looked for before it is given up

DeliverAlert = Callable[[int], None]  # an alert's id: send it on (the Celery task, or a thread in the demo)
Dispatch = Callable[[int, float | None], None]  # a transaction's id and its tick's start: execute it


@dataclass
class Ports:
    clock: Clock
    broker: OpenAlgoClient
    paper: bool
    deliver_alert: DeliverAlert | None = None  # None: alerts are stored only
    dispatch: Dispatch | None = None  # None: execute inline
    sleep: Callable[[float], None] = time.sleep
    fill_polls: int = 6
    poll_interval: float = 0.5
    settle: timedelta = SETTLE
    watch: timedelta = WATCH
    tick_broker_seconds: float | None = None  # a tick's reading and deciding wait this long on the broker at most
