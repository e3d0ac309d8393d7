"""Serve the simulated OpenAlgo broker on loopback: the demo's market, or a scenario's."""

import os
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from brokers.simbroker import ScenarioError, SpanLikeMargin, build_demo_simbroker, build_simbroker, load_scenario
from brokers.simbroker.latency import PROFILES, latency_profile
from brokers.simbroker.server import SimServer
from hedging.core.clock import MARKET_OPEN, AcceleratedClock, Clock, RealClock, at


class Command(BaseCommand):
    help = "Serve the simulated OpenAlgo broker on 127.0.0.1 (API key from OPENALGO_API_KEY, default 'demo')."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=5000)
        parser.add_argument("--scenario", help="a replay scenario JSON file to serve instead of the demo market")
        pace = parser.add_mutually_exclusive_group()
        pace.add_argument("--speed", type=float, help="simulated seconds per real second, from 09:15")
        pace.add_argument("--clock", help="an AcceleratedClock spec, to share another process's clock")
        parser.add_argument("--seed", type=int, default=1, help="seed of the demo's random-walk spot")
        parser.add_argument("--latency", choices=sorted(PROFILES), default=os.environ.get("SIMBROKER_LATENCY", "off"),
                            help="answer times: off, or a real OpenAlgo server's (env SIMBROKER_LATENCY)")
        parser.add_argument("--latency-scale", type=float, default=float(os.environ.get("SIMBROKER_LATENCY_SCALE", 1)),
                            help="multiply the profile's times (env SIMBROKER_LATENCY_SCALE)")
        parser.add_argument("--analyze", action="store_true", default=os.environ.get("SIMBROKER_ANALYZE") == "1",
                            help="start in OpenAlgo's analyzer (sandbox) mode (env SIMBROKER_ANALYZE=1)")
        parser.add_argument("--no-margin-api", dest="margin_api", action="store_false",
                            help="answer `margin` 501, as brokers without a margin calculator do")

    def handle(self, *args, **options):
        api_key = os.environ.get("OPENALGO_API_KEY", "demo")
        try:
            scenario = load_scenario(options["scenario"]) if options["scenario"] else None
            day = scenario.date if scenario else _next_trading_day(date.today())
            clock = _clock(options, day, accelerated=scenario is not None)
            broker = {"api_key": api_key, "latency": latency_profile(options["latency"], options["latency_scale"]),
                      "margin_api": options["margin_api"], "analyze": options["analyze"]}
            if scenario:
                margin = None if scenario.margin_per_basket else SpanLikeMargin()
                sim = build_simbroker(scenario, clock, margin=margin, rate_limits=True, **broker)
            else:
                sim = build_demo_simbroker(clock, seed=options["seed"], **broker)
            server = SimServer(sim, "127.0.0.1", options["port"])
        except (ScenarioError, ValueError, OSError) as problem:
            raise CommandError(str(problem)) from None
        spec = f" (clock {clock.spec()})" if isinstance(clock, AcceleratedClock) else ""
        self.stdout.write(f"Simulated OpenAlgo broker at {server.url}{spec}", ending="\n")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def _clock(options: dict, day: date, accelerated: bool) -> Clock:
    if options["clock"]:
        return AcceleratedClock.from_spec(options["clock"])
    if options["speed"] is not None or accelerated:
        return AcceleratedClock(at(day, MARKET_OPEN), options["speed"] or 1.0)
    return RealClock()


def _next_trading_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day
