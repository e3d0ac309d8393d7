"""Runs generated days through the real product (the in-process replay) and the
independent checker; per-day verdicts and a summary.

Django must be set up before `run_days` (the CLI, tests/days/__main__.py, and pytest
do it). With `jobs > 1`, days run in spawned worker processes, each with its own
database connection to the same database (`db_name`, so pytest's test database works
too); the replay's broker account row must then exist, committed, beforehand
(`ensure_replay_account`), or every replay's transaction would create it again and the
parallel replays would wait on one another's uniqueness check.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from tests.days.checker import KINDS, Finding, check_day
from tests.days.generator import generate_day

SUMMARY_ROWS = (
    ("days", "days"), ("crashes", "crash"), ("misses", "miss"), ("false positives", "false_positive"),
    ("over-buys", "over_buy"), ("under-buys", "under_buy"), ("cap breaks", "cap"), ("cooldown breaks", "cooldown"),
    ("exit-rule breaks", "exit_rule"), ("util mismatches", "util_mismatch"), ("missing alerts", "missing_alert"),
    ("false excuses", "false_excuse"), ("hedges on a short strike", "hedge_on_short"),
    ("forecasts wrong or failed", "forecast"), ("surprise-free days", "surprise_free"),
    ("days with findings", "failing_days"),
    ("buys seen", "buys"), ("hedge baskets bought", "baskets_bought"), ("exits seen", "exits"),
    ("critical alerts seen", "critical_alerts"), ("entries seen", "entries"), ("entries over trigger", "entries_over"),
    ("days with a buy", "days_with_buy"),
)


@dataclass
class DayVerdict:
    seed: int
    findings: list[Finding]
    buys: int = 0
    baskets_bought: int = 0
    exits: int = 0
    alerts: Counter = field(default_factory=Counter)
    entries: int = 0
    entries_over: int = 0
    seconds: float = 0.0
    surprise_free: bool = False
    scenario: dict | None = None
    result: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.findings


def ensure_replay_account() -> None:
    """The rows every replay reads or makes, committed (a test's flush may have emptied
    the tables): made inside each replay's transaction, they would serialise the days."""
    from brokers.models import BrokerAccount, Mode
    from hedging.models import Control

    BrokerAccount.objects.get_or_create(
        name="replay", defaults={"host": "http://127.0.0.1/replay", "mode": Mode.LIVE, "enabled": False}
    )
    Control.get()


def replay_day(scenario: dict) -> dict:
    from brokers.simbroker.scenario import parse_scenario
    from hedging.services.replay import replay

    return replay(parse_scenario(scenario)).result


# A tick that fails is caught by the product and alerted, and the day goes on: in a replay
# (an in-process broker that never fails) either alert is a crash all the same.
FAILED_TICK_ALERTS = ("tick_failed", "broker_unreachable")


def run_day(seed: int, keep: bool = False) -> DayVerdict:
    started = time.monotonic()
    scenario = generate_day(seed)
    result = None
    try:
        result = replay_day(scenario)
        findings = failed_ticks(result) + check_day(scenario, result) + forecast_findings(scenario, result)
    except Exception as error:  # a crash of the product (or of the checker): a finding, not the end of the run
        findings = [Finding("crash", crash_moment(error), crash_text(error))]
    verdict = DayVerdict(seed, findings, seconds=time.monotonic() - started, surprise_free=surprise_free(scenario))
    if result:
        actions = result.get("actions") or []
        verdict.buys = sum(1 for a in actions if a["action"] == "BUY")
        verdict.baskets_bought = sum(a["hedge_baskets"] for a in actions if a["action"] == "BUY")
        verdict.exits = sum(1 for a in actions if a["action"] == "EXIT")
        verdict.alerts = Counter(a["kind"] for a in result.get("alerts") or [] if a["level"] == "critical")
        verdict.entries = len(result.get("entries") or [])
        verdict.entries_over = (result.get("summary") or {}).get("entries_over_trigger", 0)
    if keep:
        verdict.scenario, verdict.result = scenario, result
    return verdict


def failed_ticks(result: dict) -> list[Finding]:
    return [Finding("crash", a["time"], a["text"]) for a in result["alerts"] if a["kind"] in FAILED_TICK_ALERTS]


def forecast_findings(scenario: dict, result: dict) -> list[Finding]:
    """The morning forecast runs on every day. On a day with no surprise after 09:15 (no
    stop-out, spot and other margin flat: what the forecast assumes) it must tell of
    every alert above info that the day raised, at its time."""
    from brokers.simbroker.scenario import parse_scenario
    from hedging.services.forecast import forecast_scenario

    try:
        told = forecast_scenario(parse_scenario(scenario)).to_json()["alerts"]
    except Exception as error:
        return [Finding("forecast", "", f"the forecast failed: {crash_text(error)}")]
    if not surprise_free(scenario):
        return []
    raised = {(a["time"], a["kind"]) for a in result["alerts"] if a["level"] != "info"}
    missing = raised - {(a["time"], a["kind"]) for a in told}
    return [
        Finding("forecast", moment, f"the forecast does not tell of the day's {kind} alert") for moment, kind in sorted(missing)
    ]


def surprise_free(scenario: dict) -> bool:
    market = scenario["market"]
    return (not scenario.get("stop_outs") and len(market["spot"]) == 1
            and len(scenario.get("base_used_margin", [])) <= 1)


def crash_text(error: BaseException) -> str:
    """The exception's last line (one line), and the deepest frame in the project's own code."""
    last = " ".join(traceback.format_exception_only(type(error), error)[-1].split())
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(f.filename).startswith(root) and "site-packages" not in f.filename]
    where = f" (at {os.path.relpath(frames[-1].filename, root)}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{last[:400]}{where}"


def crash_moment(error: BaseException) -> str:
    """The replayed tick the crash happened at (HH:MM:SS), from the innermost frame with
    a datetime `now` (the orchestrator's tick has one), or ""."""
    from datetime import datetime

    moment = ""
    for frame, _ in traceback.walk_tb(error.__traceback__):
        now = frame.f_locals.get("now")
        if isinstance(now, datetime):
            try:
                from zoneinfo import ZoneInfo

                moment = f"{now.astimezone(ZoneInfo('Asia/Kolkata')):%H:%M:%S}"
            except Exception:
                moment = f"{now:%H:%M:%S}"
    return moment


def _init_worker(db_name: str) -> None:
    """On SQLite each worker replays in a copy of the migrated file: a replayed day is
    one long transaction, and SQLite has one writer at a time."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connections

    if connections["default"].vendor == "sqlite":
        copy = f"{db_name}.worker-{os.getpid()}"
        shutil.copyfile(db_name, copy)
        db_name = copy
    settings.DATABASES["default"]["NAME"] = db_name
    connections["default"].settings_dict["NAME"] = db_name


def run_days(seeds: list[int], jobs: int = 1, db_name: str | None = None, keep: bool = False,
             progress=None) -> list[DayVerdict]:
    """Every seed's verdict, in seed order. `progress(verdict)` is called as each ends."""
    if jobs <= 1 or len(seeds) <= 1:
        verdicts = []
        for seed in seeds:
            verdicts.append(run_day(seed, keep))
            if progress:
                progress(verdicts[-1])
        return verdicts
    import multiprocessing

    from django.db import connection, connections

    ensure_replay_account()
    name = db_name or connection.settings_dict["NAME"]
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    verdicts = {}
    with context.Pool(jobs, initializer=_init_worker, initargs=(name,)) as pool:
        for verdict in pool.imap_unordered(_run_day_keep if keep else run_day, seeds):
            verdicts[verdict.seed] = verdict
            if progress:
                progress(verdict)
    for copy in glob.glob(f"{name}.worker-*"):  # the SQLite workers' copies
        os.remove(copy)
    return [verdicts[seed] for seed in seeds]


def _run_day_keep(seed: int) -> DayVerdict:
    return run_day(seed, keep=True)


def summary(verdicts: list[DayVerdict]) -> dict[str, int]:
    counts: Counter = Counter()
    for verdict in verdicts:
        counts.update(f.kind for f in verdict.findings)
    figures = {"days": len(verdicts)}
    figures.update({kind: counts.get(kind, 0) for kind in (*KINDS, "forecast")})
    figures.update(
        failing_days=sum(1 for v in verdicts if v.findings),
        buys=sum(v.buys for v in verdicts),
        baskets_bought=sum(v.baskets_bought for v in verdicts),
        exits=sum(v.exits for v in verdicts),
        critical_alerts=sum(sum(v.alerts.values()) for v in verdicts),
        entries=sum(v.entries for v in verdicts),
        entries_over=sum(v.entries_over for v in verdicts),
        days_with_buy=sum(1 for v in verdicts if v.buys),
        surprise_free=sum(1 for v in verdicts if v.surprise_free),
    )
    for kind, number in sorted(sum((v.alerts for v in verdicts), Counter()).items()):
        figures[f"alerts:{kind}"] = number
    return figures


def summary_table(figures: dict[str, int]) -> str:
    lines = [f"  {label:<24}{figures.get(key, 0):>8}" for label, key in SUMMARY_ROWS]
    lines += [f"  {'  ' + key[7:]:<24}{value:>8}" for key, value in figures.items() if key.startswith("alerts:")]
    return "\n".join(lines)


def failures_text(verdicts: list[DayVerdict], limit_days: int = 20, per_day: int = 4) -> str:
    lines = []
    failing = [v for v in verdicts if v.findings]
    for verdict in failing[:limit_days]:
        kinds = Counter(f.kind for f in verdict.findings)
        lines.append(f"seed {verdict.seed}: {', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}")
        for finding in verdict.findings[:per_day]:
            lines.append(f"    {finding}")
        if len(verdict.findings) > per_day:
            lines.append(f"    … {len(verdict.findings) - per_day} more")
        lines.append(f"    replay: bin/fuzz-days --seed {verdict.seed} --days 1 --show")
    if len(failing) > limit_days:
        lines.append(f"… and {len(failing) - limit_days} more failing days: "
                     + " ".join(str(v.seed) for v in failing[limit_days:]))
    return "\n".join(lines)
