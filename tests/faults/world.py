"""The fault suite's world: real Celery workers forked from a warm process (zygote.py),
the simulated broker over loopback on the clock the workers share, and what a trader
would check afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from brokers.models import BrokerAccount, Mode
from brokers.simbroker.broker import SimBroker
from hedging.core.clock import AcceleratedClock
from hedging.models import Alert, DailySession, HedgeTransaction
from schedules.models import StrategySchedule
from tests.fixtures.processes import CELERY_REDIS_URL, wait_for

KEY, KEY_ENV = "faults-key", "OPENALGO_FAULTS_KEY"
# An order sent with no answer and not at the broker is sent again after this many
# simulated seconds (0.2 s of wall time on the half-speed clock): twenty crashes stay quick.
SETTLE_SECONDS = 0.1


@dataclass
class Workers:
    """Celery workers forked by the zygote: `.worker()` starts one, `.kill()` SIGKILLs
    its whole process group and waits until it is gone."""

    zygote: subprocess.Popen
    logs: Path
    running: dict[str, int] = field(default_factory=dict)

    def worker(self, name: str = "worker", concurrency: int = 2, **settings) -> int:
        argv = ["worker", "--pool", "threads", "--concurrency", str(concurrency), "--loglevel", "INFO",
                "--hostname", f"{name}@%h", "--without-gossip", "--without-mingle"]
        request = {"argv": argv, "log": str(self.logs / f"{name}.log"), "settings": settings}
        self.zygote.stdin.write(json.dumps(request) + "\n")
        self.zygote.stdin.flush()
        answer = self.zygote.stdout.readline()
        if not answer:
            raise RuntimeError("the worker zygote has died (its error is on stderr)")
        self.running[name] = pid = int(answer)
        return pid

    def kill(self, name: str = "worker", sig: int = signal.SIGKILL) -> None:
        pid = self.running.pop(name)
        os.killpg(pid, sig)
        wait_for(lambda: not alive(pid), timeout=30, interval=0.01, what=f"{name} (pid {pid}) to exit")

    def stop_all(self) -> None:
        """Killed, not shut down warmly: the next test starts from a flushed Redis."""
        for name in list(self.running):
            self.kill(name)

    def log(self, name: str = "worker") -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def until(self, predicate, what: str, timeout: float = 30, name: str = "worker"):
        """`wait_for`, failing with the end of the worker's log as it was when time ran out."""
        try:
            return wait_for(predicate, timeout, interval=0.02, what=what)
        except pytest.fail.Exception:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; {name}'s log ends:\n{self.log(name)[-3000:]}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def enqueue(task, *args, times: int = 1) -> list[str]:
    """Publish `task(*args)` `times` times on the workers' Redis; the task ids."""
    with task.app.connection_for_write(CELERY_REDIS_URL) as connection:
        return [task.apply_async(args, connection=connection).id for _ in range(times)]


@dataclass
class Day:
    """The one-entry-breach day on a simulated broker: at 09:40 P1 is open and P2 (09:45)
    needs one hedge basket. Each `fresh_session()` needs it again."""

    sim: SimBroker
    url: str
    clock: AcceleratedClock
    sessions: int = 0

    def get(self, path: str) -> dict:
        return requests.get(f"{self.url}/sim/{path}", timeout=5).json()

    def post(self, path: str, body: dict) -> dict:
        return requests.post(f"{self.url}/sim/{path}", json=body, timeout=5).json()

    def our_orders(self) -> list[dict]:
        """The broker's own log of the hedge orders it accepted."""
        return [o for o in self.get("orders")["orders"] if o["strategy"].startswith("autohedge-")]

    def fresh_session(self) -> DailySession:
        """A new account and session on a reset broker (P1's straddle sold again)."""
        self.post("reset", {})
        self.sessions += 1
        account = BrokerAccount.objects.create(name=f"faults-{self.sessions}", host=self.url, mode=Mode.LIVE,
                                               api_key_env=KEY_ENV)
        StrategySchedule.objects.bulk_create(
            StrategySchedule(account=account, index_name="NIFTY", name=name, entry_time=entry, exit_time="15:15",
                             baskets=baskets)
            for name, entry, baskets in (("P1", "09:20", 1), ("P2", "09:45", 2))
        )
        return DailySession.objects.create(account=account, date=self.clock.sim_start.date(), index_name="NIFTY",
                                           expiry=self.clock.sim_start.date(), num_baskets=1, lots_per_basket=1,
                                           lot_size=65, budget=Decimal("1300000"), baseline_margin=Decimal(0))

    def wait_settle_time(self, tx: HedgeTransaction) -> None:
        """Until a lost order of `tx` may be sent again (no answer for SETTLE_SECONDS)."""
        sent = [o.sent_at for o in tx.orders.filter(status="sent")]
        if sent:
            due = max(sent) + timedelta(seconds=SETTLE_SECONDS)
            wait_for(lambda: self.clock.now() >= due, timeout=10, interval=0.02, what="the settle time")


def settled(session: DailySession) -> HedgeTransaction | None:
    return HedgeTransaction.objects.filter(session=session).exclude(status__in=["pending", "placed"]).first()


def assert_bought_once(day: Day, session: DailySession) -> None:
    """What the trader sees: one order per leg at the broker, and rows that say so —
    one filled transaction paid from the fills, each order row carrying its broker
    order id, one open hedge per leg, one alert."""
    [tx] = HedgeTransaction.objects.filter(session=session)
    at_broker = day.our_orders()
    assert sorted(o["symbol"][-2:] for o in at_broker) == ["CE", "PE"], at_broker
    assert all(o["strategy"].startswith(f"autohedge-{tx.pk}-") and o["quantity"] == 65 for o in at_broker)
    orders = list(tx.orders.all())
    assert {o.tag: o.broker_order_id for o in orders} == {o["strategy"]: o["orderid"] for o in at_broker}
    assert [o.status for o in orders] == ["complete", "complete"]
    longs = [p for p in day.get("state")["positions"] if p["quantity"] > 0]
    assert tx.status == "filled" and tx.completed_at is not None
    assert tx.cost == sum(Decimal(p["average_price"]) * p["quantity"] for p in longs) > 0
    hedges = list(session.hedges.all())
    assert sorted((h.buy_order_id, h.status, h.quantity) for h in hedges) == sorted((o.pk, "open", 65) for o in orders)
    alerts = [(a.kind, a.text) for a in Alert.objects.filter(session=session)]
    assert [kind for kind, _ in alerts] == ["hedge_bought"], alerts
