"""`python manage.py forecast SESSION_ID|SCENARIO.json [--date D] [--json]`"""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from brokers.openalgo import OpenAlgoError
from brokers.simbroker.scenario import ScenarioError, load_scenario
from hedging.messages import format_inr
from hedging.models import DailySession
from hedging.services import runtime
from hedging.services.forecast import SUMMED_UP, ForecastError, ForecastResult, forecast_for_session, forecast_scenario


class Command(BaseCommand):
    help = "Forecast a day's hedge buys and their cost, for a session (from the broker now) or a scenario file."

    def add_arguments(self, parser):
        parser.add_argument("target", help="a session id, or a scenario JSON file (the replay format)")
        parser.add_argument(
            "--date", dest="day", help="the day to forecast, YYYY-MM-DD (default: the session's or the scenario's)"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="print the forecast as JSON")

    def handle(self, *args, target: str, day: str | None, as_json: bool, **options):
        result = (
            session_forecast(int(target), parse_day(day)) if target.isdigit() else scenario_forecast(Path(target), parse_day(day))
        )
        self.stdout.write(dumps(result) if as_json else table(result))


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--date: expected YYYY-MM-DD, not {text!r}") from None


def scenario_forecast(path: Path, day: date | None) -> ForecastResult:
    try:
        return forecast_scenario(load_scenario(path), day=day)
    except (ScenarioError, ForecastError) as error:
        raise CommandError(f"{path.name}: {error}") from None


def session_forecast(session_id: int, day: date | None) -> ForecastResult:
    session = DailySession.objects.select_related("account").filter(pk=session_id, is_replay=False).first()
    if session is None:
        raise CommandError(f"session: no session {session_id}")
    try:
        return forecast_for_session(session, day=day, broker=runtime.broker_for(session.account))
    except ForecastError as error:
        raise CommandError(str(error)) from None
    except (OpenAlgoError, ValueError) as error:  # ValueError: the account's API key variable is unset
        raise CommandError(f"broker: {error}") from None


def dumps(result: ForecastResult) -> str:
    return json.dumps(result.to_json(), indent=2, ensure_ascii=False)


def table(result: ForecastResult) -> str:
    lines = [
        f"Forecast {result.index} {result.day:%a %d %b %Y} · budget {format_inr(result.budget)} · cap {format_inr(result.cap)}",
    ]
    if result.planned:
        lines.append(f"{'time':<8}  {'baskets':>7}  {'projected':>9}  {'after':>6}  {'cost':>10}  for")
        lines += [
            f"{buy.time:%H:%M:%S}  {buy.hedge_baskets:>7}  {buy.util_projected_pct:>8.1f}%  {buy.util_after_pct:>5.1f}%  "
            f"{format_inr(buy.cost):>10}  {', '.join(buy.for_entries)}"
            for buy in result.planned
        ]
        lines.append(f"Cost ~{format_inr(result.cost)} ({format_inr(result.cost_low)}–{format_inr(result.cost_high)})")
    elif not result.warnings:
        lines.append("No hedge buys expected.")
    else:
        lines.append("No hedge buys." if result.cap_covers else "No hedge buys within the cap.")
    lines.append("The cap covers the plan." if result.cap_covers else shortfall(result))
    if result.breaches:
        lines.append(f"Over the target even fully hedged: {', '.join(result.breaches)}.")
    lines += [f"{x.level.capitalize()} at {x.time:%H:%M}: {x.text}" for x in result.warnings if x.kind not in SUMMED_UP]
    lines.append(f"Peak utilisation {result.peak_util_pct:.1f}%.")
    return "\n".join(lines)


def shortfall(result: ForecastResult) -> str:
    needed = ", ".join(f"{buy.time:%H:%M} ×{buy.hedge_baskets}" for buy in result.needed)
    cost = sum((buy.cost for buy in result.needed), Decimal(0))
    return f"The cap runs short from {result.shortfall_from}: the day needs {needed}, ~{format_inr(cost)}."
