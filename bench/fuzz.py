"""Fuzzes the REST API with schemathesis: exits non-zero on any 5xx or schema violation.

    .venv/bin/python bench/fuzz.py [--requests 10000]

Serves the app with gunicorn on a free loopback port (its own PostgreSQL database,
`autohedge_bench_fuzz`, dropped and made anew, and seeded as tests/fuzz/world.py says:
a paper account on an in-process simulated broker), loads the schema as served from
/api/schema/ with a staff user's token, and sends at least --requests generated requests
over every operation, valid and invalid ones (tests/fuzz/fuzzer.py). Nothing external
is contacted: Celery tasks run inline (no Redis), alerts go to the log.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

from common import PG, ROOT, fresh_database, print_table

DATABASE = "autohedge_bench_fuzz"

os.environ.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"{PG}/{DATABASE}", CELERY_TASK_ALWAYS_EAGER="1",
                  TELEGRAM_BOT_TOKEN="", AUTOHEDGE_LIVE_TRADING="0", DEBUG="0", LOG_LEVEL="ERROR",
                  AUTOHEDGE_API_RATE="")  # thousands of calls a minute from one user: not throttled here


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_world():
    """The simulated broker served here, the world in the database; returns (sim, its
    server, the token). The sim's clock then runs at real speed from 09:56."""
    from brokers.simbroker import build_demo_simbroker, start_server
    from hedging.core.clock import MARKET_OPEN, AcceleratedClock, SteppedClock, at
    from tests.fixtures.simbroker import SIM_DAY
    from tests.fuzz import world

    sim = build_demo_simbroker(SteppedClock(at(SIM_DAY, MARKET_OPEN)), strategies=(), rate_limits=False)
    server, url = start_server(sim)
    os.environ[world.SIM_KEY_ENV] = sim.api_key
    world.seed(world.paper_account(url), sim)
    token = world.staff_token()
    sim.clock = AcceleratedClock(world.NOW, speed=1.0)
    os.environ["AUTOHEDGE_CLOCK"] = sim.clock.spec()  # the app's clock is the sim's
    return sim, server, token


def serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, stderr=open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start (set BENCH_SERVER_LOG=file to see why)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10000, help="generated requests at least (default 10000)")
    args = parser.parse_args()

    fresh_database(DATABASE)
    import django

    django.setup()
    import schemathesis

    from brokers.simbroker import stop_server
    from tests.fuzz.fuzzer import fuzz

    sim, sim_server, token = seed_world()
    port = free_port()
    app = serve(port)
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Token {token}"}
        schema = schemathesis.openapi.from_url(f"{base}/api/schema/", headers=headers)
        report = fuzz(schema, base, headers, args.requests)
    finally:
        app.terminate()
        app.wait(timeout=30)
        stop_server(sim_server)

    if report.samples:
        print(report.failures(), end="\n\n")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(report.statuses.items()))
    rows = [
        ("requests made", f"{report.requests} ({statuses})"),
        ("operations covered", str(len(report.operations))),
        ("5xx", str(report.counts["5xx"])),
        ("schema violations", str(report.counts["schema"])),
        ("other failures", str(report.counts["other"])),
        ("wall time", f"{report.seconds:.1f} s ({report.requests / report.seconds:.0f} requests/s)"),
    ]
    print_table(rows)
    return 1 if sum(report.counts.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
