"""`python manage.py replay SCENARIO.json|FOLDER [--out RESULT.json] [--save]`"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from brokers.simbroker.scenario import ScenarioError, load_scenario
from hedging.services.replay import replay


class Command(BaseCommand):
    help = "Replay a scripted trading day (or a folder of them) through the real hedging code."

    def add_arguments(self, parser):
        parser.add_argument("scenario", help="a scenario JSON file, or a folder of them")
        parser.add_argument("--out", help="write the result JSON here (a folder: one file per day)")
        parser.add_argument("--save", action="store_true", help="keep the day's rows, marked as a replay")

    def handle(self, *args, scenario: str, out: str | None, save: bool, **options):
        path = Path(scenario)
        if path.is_dir():
            return self.replay_folder(path, out, save)
        result = self.replay_one(path, save)
        text = json.dumps(result, indent=2, ensure_ascii=False)
        if out:
            Path(out).write_text(text + "\n")
        else:
            self.stdout.write(text)

    def replay_one(self, path: Path, save: bool) -> dict:
        try:
            run = replay(load_scenario(path), save=save)
        except ScenarioError as error:
            raise CommandError(f"{path.name}: {error}") from None
        if save:
            self.stderr.write(f"saved as session {run.session_id}")
        return run.result

    def replay_folder(self, folder: Path, out: str | None, save: bool) -> None:
        files = sorted(folder.glob("*.json"))
        if not files:
            raise CommandError(f"{folder}: no scenario files (*.json)")
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
        rows = []
        for number, path in enumerate(files, 1):
            self.progress(number, len(files), path.stem)
            result = self.replay_one(path, save)
            if out:
                (Path(out) / path.name).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            rows.append((result["scenario"], result["summary"]))
        sys.stderr.write("\n")
        self.stdout.write(summary_table(rows))

    def progress(self, number: int, total: int, name: str) -> None:
        filled = int(30 * number / total)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {number}/{total} {name[:40]:<40}")
        sys.stderr.flush()


def summary_table(rows: list[tuple[str, dict]]) -> str:
    header = f"{'scenario':<28} {'buys':>4} {'exits':>5} {'cost ₹':>10} {'peak %':>7} {'over':>4}"
    lines = [header, "-" * len(header)]
    for name, s in rows:
        lines.append(
            f"{name[:28]:<28} {s['hedge_buys']:>4} {s['hedge_exits']:>5} {s['hedge_cost']:>10,.2f} "
            f"{s['max_util_pct']:>7.1f} {s['entries_over_trigger']:>4}"
        )
    total = sum(s["hedge_cost"] for _, s in rows)
    lines.append(
        f"{'total':<28} {sum(s['hedge_buys'] for _, s in rows):>4} {sum(s['hedge_exits'] for _, s in rows):>5} {total:>10,.2f}"
    )
    return "\n".join(lines)
