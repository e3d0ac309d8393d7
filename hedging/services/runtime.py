"""Builds the ports a live, paper or demo run gives the services, from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings

from brokers.models import BrokerAccount, Mode
from brokers.openalgo import OpenAlgoClient
from hedging.core.clock import AcceleratedClock, Clock, RealClock
from hedging.ports import DeliverAlert, Dispatch, Ports


@lru_cache(maxsize=4)
def clock_from_spec(spec: str) -> Clock:
    return AcceleratedClock.from_spec(spec) if spec else RealClock()


def clock() -> Clock:
    return clock_from_spec(settings.AUTOHEDGE_CLOCK)


@lru_cache(maxsize=2048)  # a worker serves up to this many accounts with warm connections
def _client(account: BrokerAccount, host: str, api_key: str) -> OpenAlgoClient:
    return OpenAlgoClient.for_account(account)


def broker_for(account: BrokerAccount) -> OpenAlgoClient:
    """One client per account, host and key, kept for the worker's life (connection
    reuse); a changed host or rotated key gets a new one."""
    return _client(account, account.host, account.api_key())


def is_paper(account: BrokerAccount) -> bool:
    return not (account.mode == Mode.LIVE and settings.AUTOHEDGE_LIVE_TRADING)


def trading_mode(session) -> str:
    """The one word every surface uses: paper (orders go nowhere), sandbox (a live account
    on an OpenAlgo in analyzer mode: simulated margins and fills) or live."""
    if is_paper(session.account):
        return "paper"
    return "sandbox" if session.sandbox else "live"


@dataclass(frozen=True)
class Queue:
    """Where the live ports hand work on: the Celery tasks, given at start (hedging.apps).
    Without them alerts are stored only and hedges execute inline."""

    deliver_alert: DeliverAlert | None = None
    dispatch: Dispatch | None = None


_queue = Queue()


def use_queue(queue: Queue) -> None:
    global _queue
    _queue = queue


def queue() -> Queue:
    return _queue


def ports_for(account: BrokerAccount, dispatch: Dispatch | None = None) -> Ports:
    """The live ports of `account`; a `dispatch` of the caller's own replaces the queue's."""
    return Ports(
        clock=clock(),
        broker=broker_for(account),
        paper=is_paper(account),
        deliver_alert=_queue.deliver_alert,
        dispatch=dispatch or _queue.dispatch,
        settle=timedelta(seconds=settings.AUTOHEDGE_ORDER_SETTLE_SECONDS),
        watch=timedelta(seconds=settings.AUTOHEDGE_LOST_ORDER_WATCH_SECONDS),
        tick_broker_seconds=settings.AUTOHEDGE_TICK_BROKER_SECONDS,
    )
