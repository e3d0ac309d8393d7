"""python -m tests.days [--days N] [--seed S] [--jobs J] [--show]: generated days
through the product's replay and the independent checker (bin/fuzz-days wraps it).

Uses DATABASE_URL (bin/fuzz-days defaults it to a database of its own), creating the
database if it is missing and migrating it on start. Exit status 1 when any day has a
finding, 0 otherwise."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/fuzz-days", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=300, help="how many days (seeds) to run (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--show", action="store_true", help="with one day: print its scenario, result and findings")
    parser.add_argument("--dump", metavar="DIR", help="write each day's scenario, result and findings to DIR/SEED.json")
    parser.add_argument("--failures", type=int, default=20, help="failing days listed in full (default 20)")
    args = parser.parse_args(argv)
    if args.show and args.days != 1:
        parser.error("--show needs --days 1")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tests.days import runner

    seeds = list(range(args.seed, args.seed + args.days))
    started = time.monotonic()
    done = []

    def progress(verdict):
        done.append(verdict)
        if sys.stderr.isatty() and not args.show:
            print(f"\r{len(done)}/{len(seeds)} days", end="", file=sys.stderr, flush=True)

    verdicts = runner.run_days(seeds, jobs=args.jobs, keep=args.show or bool(args.dump), progress=progress)
    elapsed = time.monotonic() - started
    if sys.stderr.isatty() and not args.show:
        print(file=sys.stderr)

    if args.show:
        verdict = verdicts[0]
        print("=== scenario")
        print(json.dumps(verdict.scenario, indent=2))
        print("=== result")
        print(json.dumps(verdict.result, indent=2, ensure_ascii=False))
        print("=== findings")
        for finding in verdict.findings:
            print(f"  {finding}")
        if not verdict.findings:
            print("  none")
        print()

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        for verdict in verdicts:
            with open(os.path.join(args.dump, f"{verdict.seed}.json"), "w") as out:
                json.dump({"scenario": verdict.scenario, "result": verdict.result,
                           "findings": [vars(f) for f in verdict.findings]}, out, indent=1, ensure_ascii=False)

    figures = runner.summary(verdicts)
    print(f"Fuzzed days: seeds {seeds[0]}–{seeds[-1]}, {args.jobs} job(s)")
    print(runner.summary_table(figures))
    per_day = sum(v.seconds for v in verdicts) / len(verdicts)
    print(f"  elapsed {elapsed:.1f} s ({per_day:.2f} s a day in its process)")
    failing = runner.failures_text(verdicts, limit_days=args.failures)
    if failing:
        print("\nFailing days:")
        print(failing)
    return 1 if any(v.findings for v in verdicts) else 0


def ensure_database() -> None:
    """Create DATABASE_URL's database when it does not exist yet (PostgreSQL only)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    try:
        psycopg.connect(url, connect_timeout=5).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    sys.exit(main())
