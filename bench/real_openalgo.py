"""Auto-Hedge against a real OpenAlgo server: every call the product makes, then the
whole hedge path. Prints what happened and how long it took; asserts nothing.

Not a test: CI has no OpenAlgo. Give it a real OpenAlgo server on loopback (e.g. one
in analyzer mode with a stand-in broker plugin, see docs/openalgo.md):

    OPENALGO_HOST=http://127.0.0.1:5111 OPENALGO_API_KEY=... \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/autohedge_oa REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python bench/real_openalgo.py [--calls-only] [--dump DIR]

1. Calls: each call of brokers/openalgo.py the product makes, through the project's own
   client, with its time and whether it worked (and a few refusals, to see their shape).
   `--dump DIR` writes each raw answer there as JSON (the tests' answer shapes).
2. The hedge path: a live account (AUTOHEDGE_LIVE_TRADING=1, its key in an OPENALGO_
   variable) on the server, a session whose next entry (a few minutes ahead) takes
   utilisation over the entry trigger, ticked as the minute's lookahead ticks it
   (`orchestrator.tick` with `runtime.ports_for(account)`, the order placed inline).
   Once cold (no strike list kept: the chain is read on the order path) and once warm
   (the minute's snapshot, `orchestrator.observe`, has read the strike list first).
   Prints the decision, the orders, the fills, the hedges, the alerts, each broker
   call of the tick and the tick → order time (the moment `placeorder` left).

The database named by DATABASE_URL is migrated, and this script's own rows (accounts
named `real-openalgo-…`) are removed first. With the market closed (IST), the product's
clock (AUTOHEDGE_CLOCK) is set to 11:00 IST of the last trading day, running at real
speed; the server keeps its own clock (its sandbox refuses MIS after 15:15).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IST = ZoneInfo("Asia/Kolkata")
KEY_VARIABLE = "OPENALGO_REAL_BENCH_KEY"  # an account row may name only OPENALGO_ variables
ACCOUNT_PREFIX = "real-openalgo-"
# The sandbox's synthetic far-OTM premiums never fall under ~0.0003 × spot (~8 for NIFTY),
# and a few days from expiry its time value keeps them near 100 at 1,000 points: the
# defaults' ₹2–6 window finds nothing there (--premium-window).
PREMIUM_WINDOW = (Decimal(5), Decimal(200))
# Mu, Mh of one NIFTY basket, and a budget on which one basket goes over the entry trigger
# (433,000 / 300,000 = 144 %) while one hedge basket brings it under the target (187,000 = 62 %).
MARGIN_UNHEDGED, MARGIN_HEDGED, BUDGET = Decimal(433000), Decimal(187000), Decimal(300000)


# --- timing the wire ------------------------------------------------------------------


class Recorder:
    """Wraps a client's transport: each call's endpoint, start, end and status; the raw
    answers if asked."""

    def __init__(self, transport, dump: Path | None = None):
        self._transport = transport
        self._dump = dump
        self.calls: list[tuple[str, float, float, str]] = []
        self.first_sent: dict[str, float] = {}
        self._lock = threading.Lock()

    def post(self, endpoint, body, timeout):
        started = time.time()
        with self._lock:
            self.first_sent.setdefault(endpoint, started)
        outcome = "no answer"
        try:
            status, raw = self._transport.post(endpoint, body, timeout)
            outcome = f"HTTP {status}"
            if self._dump is not None:
                self._write(self._dump, endpoint, body, status, raw)
            return status, raw
        finally:
            with self._lock:
                self.calls.append((endpoint, started, time.time(), outcome))

    def _write(self, dump: Path, endpoint, body, status, raw):
        dump.mkdir(parents=True, exist_ok=True)
        request = {k: v for k, v in body.items() if k != "apikey"}
        try:
            answer = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            answer = raw
        n = len(list(dump.glob(f"{endpoint}-*.json"))) + 1
        (dump / f"{endpoint}-{n}.json").write_text(
            json.dumps({"request": request, "status": status, "answer": answer}, indent=1, default=str)
        )

    def reset(self):
        with self._lock:
            self.calls.clear()
            self.first_sent.clear()


def attach(client, dump: Path | None = None) -> Recorder:
    recorder = Recorder(client._transport, dump)
    client._transport = recorder
    return recorder


# --- 1. the calls ---------------------------------------------------------------------


def measured(call):
    """(result, failure, milliseconds) of one call."""
    started = time.perf_counter()
    try:
        result, failure = call(), None
    except Exception as error:  # noqa: BLE001 (a benchmark: report and go on)
        result, failure = None, error
    return result, failure, (time.perf_counter() - started) * 1000


def show(name: str, call, describe=lambda result: ""):
    result, failure, ms = measured(call)
    if failure is not None:
        print(f"  {name:<44} {ms:8.0f} ms  FAILED  {type(failure).__name__}: {failure}")
        return None
    print(f"  {name:<44} {ms:8.0f} ms  ok      {describe(result)}")
    return result


def refused(name: str, call, describe=lambda result: result):
    """A call expected to be refused: shows which error the client made of the answer."""
    result, failure, ms = measured(call)
    if failure is not None:
        print(f"  {name:<44} {ms:8.0f} ms  refused {type(failure).__name__}: {failure}")
        return failure
    print(f"  {name:<44} {ms:8.0f} ms  NOT REFUSED: {describe(result)}")
    return result


def run_calls(host: str, key: str, dump: Path | None) -> dict:
    from brokers.openalgo import OpenAlgoClient
    from brokers.openalgo_types import MarginLeg
    from hedging.core.settings import HedgeSettings
    from hedging.services.selector import strikes_each_side

    client = OpenAlgoClient(host, key)
    attach(client, dump)
    found: dict = {}
    print(f"1. Calls of brokers/openalgo.py against {host}")
    show("ping", client.ping, lambda p: f"{p.message}, broker {p.broker}")
    show("funds", client.funds, lambda f: f"used {f.utilised_debits}, cash {f.available_cash}, sandbox {f.sandbox}")
    show("positionbook", client.positionbook, lambda p: f"{len(p)} positions")
    show("orderbook", client.orderbook, lambda b: f"{len(b.orders)} orders")
    show("tradebook", client.tradebook, lambda t: f"{len(t)} trades")
    expiries = show("expiry NIFTY NFO options", lambda: client.expiry("NIFTY", "NFO"), lambda e: ", ".join(map(str, e)))
    if not expiries:
        print("  no expiry: the rest cannot run")
        return found
    expiry = found["expiry"] = expiries[0]
    spot = show("quotes NIFTY NSE_INDEX", lambda: client.quotes("NIFTY", "NSE_INDEX"),
                lambda q: f"ltp {q.ltp}, bid {q.bid}, ask {q.ask}")
    atm = show("optionsymbol ATM CE", lambda: client.option_symbol("NIFTY", "NSE_INDEX", expiry, "ATM", "CE"),
               lambda s: f"{s.symbol} lot {s.lotsize} tick {s.tick_size} freeze {s.freeze_qty}")
    show("optionsymbol OTM20 PE", lambda: client.option_symbol("NIFTY", "NSE_INDEX", expiry, "OTM20", "PE"),
         lambda s: s.symbol)

    def describe_chain(c) -> str:
        return f"{len(c.strikes)} strikes, atm {c.atm_strike}, spot {c.underlying_ltp}"

    show("optionchain strike_count 10 (21 strikes)",
         lambda: client.option_chain("NIFTY", "NSE_INDEX", expiry, strike_count=10), describe_chain)
    count = strikes_each_side("NIFTY", HedgeSettings.for_index("NIFTY"))
    chain = show(f"optionchain strike_count {count} (the product's)",
                 lambda: client.option_chain("NIFTY", "NSE_INDEX", expiry, strike_count=count), describe_chain)
    if chain is None or atm is None or spot is None:
        print("  no chain, ATM symbol or spot: the rest cannot run")
        return found
    lot = found["lot"] = atm.lotsize
    ltp = spot.ltp or chain.atm_strike
    ces = [row.ce.symbol for row in chain.strikes if row.ce and row.strike > ltp + 200][:4]
    pes = [row.pe.symbol for row in chain.strikes if row.pe and row.strike < ltp - 200][-4:]
    wanted = [(s, "NFO") for s in ces + pes]
    quotes = show("multiquotes 8 (the product's)", lambda: client.multiquotes(wanted),
                  lambda qs: ", ".join(f"{q.symbol[-7:]} {q.quote.ask if q.quote else q.error}" for q in qs))
    show("multiquotes 8 + an unknown symbol", lambda: client.multiquotes([("NIFTY01JAN2099999CE", "NFO"), *wanted]),
         lambda qs: "; ".join(f"{q.symbol}: {q.error}" for q in qs if q.error) or "no entry refused")
    show("multiquotes 20", lambda: client.multiquotes(
        [(r.ce.symbol, "NFO") for r in chain.strikes if r.ce][:10] + [(r.pe.symbol, "NFO") for r in chain.strikes if r.pe][:10]),
        lambda qs: f"{len(qs)} answers")
    atm_pe = next((r.pe.symbol for r in chain.strikes if r.strike == chain.atm_strike and r.pe), None)
    if atm_pe is None:
        print("  no ATM put in the chain: no margin calls")
    else:
        straddle = [MarginLeg(atm.symbol, "NFO", "SELL", lot, "NRML"), MarginLeg(atm_pe, "NFO", "SELL", lot, "NRML")]
        show("margin ATM straddle (sell 2 legs)", lambda: client.margin(straddle),
             lambda m: f"total {m.total_margin_required}, span {m.span_margin}, exposure {m.exposure_margin}")
        if ces:
            show("margin straddle + a far-OTM buy",
                 lambda: client.margin([*straddle, MarginLeg(ces[-1], "NFO", "BUY", lot, "NRML")]),
                 lambda m: f"total {m.total_margin_required}")
    # Orders: far OTM, NRML LIMIT, as the product places them.
    by_symbol = {q.symbol: q.quote for q in quotes or () if q.quote}
    far = ces[-1] if ces else atm.symbol
    ask = (by_symbol.get(far) and (by_symbol[far].ask or by_symbol[far].ltp)) or Decimal(10)
    tick = atm.tick_size or Decimal("0.05")
    low = max((ask / 4 / tick).to_integral_value() * tick, tick)
    ack = show(f"placeorder LIMIT NRML {far} @ {low} (under the ask)", lambda: client.place_order(
        strategy="real-bench-open", symbol=far, exchange="NFO", action="BUY", quantity=lot, pricetype="LIMIT",
        product="NRML", price=low), lambda a: f"orderid {a.order_id}")
    if ack:
        show("orderstatus of it", lambda: client.order_status(ack.order_id, "real-bench-open"),
             lambda o: f"{o.status}, filled {o.filled_quantity}, price {o.price}, pricetype {o.pricetype}")
        show("cancelorder of it", lambda: client.cancel_order(ack.order_id, "real-bench-open"), lambda a: a.message or "")
        show("orderstatus after the cancel", lambda: client.order_status(ack.order_id, "real-bench-open"),
             lambda o: o.status)
        refused("cancelorder again (cancelled already)", lambda: client.cancel_order(ack.order_id, "real-bench-open"))
    tag = f"real-bench-{int(time.time())}"
    high = (ask * Decimal("1.05") / tick).to_integral_value() * tick
    outcome = show(f"place_order_or_find LIMIT NRML {far} @ {high}", lambda: client.place_order_or_find(
        tag, symbol=far, exchange="NFO", action="BUY", quantity=lot, pricetype="LIMIT", product="NRML", price=high),
        lambda o: f"{o.status}, orderid {o.order_id}")
    if outcome and outcome.order_id:
        time.sleep(1.0)
        show("orderstatus of it, a second later", lambda: client.order_status(outcome.order_id, tag),
             lambda o: f"{o.status}, filled {o.filled_quantity}, average {o.average_price}")
        show("orderbook by its tag", lambda: client.orderbook().by_strategy(tag),
             lambda found: f"{len(found)} found, {found[0].status if found else ''}")
        show("tradebook", client.tradebook, lambda t: f"{len(t)} trades")
        show("positionbook", client.positionbook, lambda p: ", ".join(f"{x.symbol} {x.quantity} {x.product}" for x in p))
        show("funds", client.funds, lambda f: f"used {f.utilised_debits}, cash {f.available_cash}")
    refused("placeorder quantity 1 (not a lot multiple)", lambda: client.place_order(
        strategy="real-bench-bad", symbol=far, exchange="NFO", action="BUY", quantity=1, pricetype="LIMIT",
        product="NRML", price=high))
    refused("placeorder LIMIT without a price", lambda: client.place_order(
        strategy="real-bench-bad", symbol=far, exchange="NFO", action="BUY", quantity=lot, pricetype="LIMIT", product="NRML"))
    mis = refused if datetime.now(IST).time() >= datetime.strptime("15:15", "%H:%M").time() else show
    mis_ack = mis(f"placeorder MIS (server time {datetime.now(IST):%H:%M} IST)", lambda: client.place_order(
        strategy="real-bench-mis", symbol=far, exchange="NFO", action="BUY", quantity=lot, pricetype="LIMIT",
        product="MIS", price=low), lambda a: f"orderid {a.order_id}")
    if mis_ack is not None and not isinstance(mis_ack, Exception):
        show("cancelorder of it", lambda: client.cancel_order(mis_ack.order_id, "real-bench-mis"), lambda a: a.message or "")
    refused("orderstatus of an unknown order", lambda: client.order_status("999999999", "real-bench-none"))
    refused("optionchain of a day with no expiry", lambda: client.option_chain("NIFTY", "NSE_INDEX", date(2099, 1, 1), 5))
    refused("ping with a wrong key", OpenAlgoClient(host, "0" * 64).ping)
    return found


# --- 2. the whole hedge path ----------------------------------------------------------


def product_clock_spec(at: str | None = None) -> str:
    """'' when the market is open by the wall clock (IST) and no time is asked for; else
    an accelerated clock at real speed from `at` (11:00 by default) IST of today or the
    last weekday, for AUTOHEDGE_CLOCK."""
    now = datetime.now(IST)
    if at is None and now.weekday() < 5 and "09:15" <= f"{now:%H:%M}" < "15:25":
        return ""
    day = now.date() if now.weekday() < 5 and (at or f"{now:%H:%M}" >= "15:25") else now.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    hour, minute = map(int, (at or "11:00").split(":"))
    return f"{datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST).isoformat()}|1.0|{time.time()}"


def migrate() -> None:
    """Create the database DATABASE_URL names if it is missing, and migrate it."""
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    with psycopg.connect(dbname="postgres", autocommit=True, host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"],
                         password=db["PASSWORD"] or None) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')

    call_command("migrate", verbosity=0)


def clean_up() -> None:
    from brokers.models import BrokerAccount
    from hedging.models import DailySession

    DailySession.objects.filter(account__name__startswith=ACCOUNT_PREFIX).delete()
    BrokerAccount.objects.filter(name__startswith=ACCOUNT_PREFIX).delete()


def make_session(host: str, label: str, expiry: date, now: datetime, window: tuple[Decimal, Decimal]):
    """A live account whose one entry, three minutes ahead, needs a hedge basket."""
    from brokers.models import BrokerAccount, Mode, Product
    from hedging.models import DailySession
    from schedules.models import StrategySchedule

    local = now.astimezone(IST)
    account = BrokerAccount.objects.create(name=f"{ACCOUNT_PREFIX}{label}", host=host, mode=Mode.LIVE,
                                           api_key_env=KEY_VARIABLE, product=Product.NRML)
    entry = (local + timedelta(minutes=3)).time().replace(second=0, microsecond=0)
    StrategySchedule.objects.create(account=account, index_name="NIFTY", name="P1", entry_time=entry,
                                    exit_time="15:29", baskets=1)
    return DailySession.objects.create(
        account=account, date=local.date(), index_name="NIFTY", expiry=expiry, budget=BUDGET,
        margin_unhedged=MARGIN_UNHEDGED, margin_hedged=MARGIN_HEDGED,
        min_premium=window[0], max_premium=window[1],
    )


@contextmanager
def timed(label: str):
    started = time.perf_counter()
    yield
    print(f"  {label}: {(time.perf_counter() - started) * 1000:.0f} ms")


def run_path(host: str, expiry: date, window: tuple[Decimal, Decimal], warm: bool) -> None:
    from django.core.cache import caches

    from hedging.models import ActiveHedge, Alert, HedgeOrder, HedgeTransaction
    from hedging.services import orchestrator, runtime, selector

    clock = runtime.clock()
    label = "warm" if warm else "cold"
    session = make_session(host, label, expiry, clock.now(), window)
    account = session.account
    ports = replace(runtime.ports_for(account), dispatch=None)  # the order leaves inline, as execute_here sends it
    recorder = attach(ports.broker)
    selector.forget()
    caches["market"].clear()  # this run's Redis db: no strike list kept anywhere
    print(f"\n2{'b' if warm else 'a'}. The hedge path, {label}: session {session.pk}, {session.date} at "
          f"{clock.now():%H:%M:%S} IST (product clock), entry P1 at {session.account.schedules.get().entry_time}, "
          f"expiry {expiry}, budget {BUDGET}, premium window {window[0]}–{window[1]}")
    if warm:
        with timed("observe (the minute's snapshot: first reading, then the strike list)"):
            note = orchestrator.observe(session.pk, ports)
        print(f"  observe: {note}")
        for endpoint, started, ended, status in recorder.calls:
            print(f"    {endpoint:<14} {(ended - started) * 1000:7.0f} ms  {status}")
        recorder.reset()
    tick_started = time.time()
    outcome = orchestrator.tick(session.pk, ports, tick_started, snapshot=False)
    tick_ms = (time.time() - tick_started) * 1000
    sent = recorder.first_sent.get("placeorder")
    print(f"  tick: {outcome.note}")
    if outcome.decision:
        d = outcome.decision
        pcts = " → ".join(f"{name} {value:.1f}" for name, value in (
            ("now", d.util_before_pct), ("projected", d.util_projected_pct), ("after", d.util_after_pct)) if value is not None)
        print(f"  decided: {d.action or 'nothing'}, {d.hedge_baskets} hedge basket(s), utilisation % {pcts}, "
              f"expected cost {d.expected_cost}")
    print("  broker calls of the tick (start after tick, duration):")
    for endpoint, started, ended, answer in recorder.calls:
        print(f"    {endpoint:<14} +{(started - tick_started) * 1000:6.0f} ms {(ended - started) * 1000:7.0f} ms  {answer}")
    for tx in HedgeTransaction.objects.filter(session=session):
        print(f"  transaction {tx.pk}: {tx.action} {tx.status}, cost {tx.cost} (expected {tx.expected_cost}) {tx.error}, "
              f"latency_ms {tx.latency_ms}")
        for order in HedgeOrder.objects.filter(transaction=tx).order_by("leg", "attempt"):
            print(f"    order {order.leg}#{order.attempt} {order.side} {order.symbol} ×{order.quantity} "
                  f"{account.product} LIMIT {order.limit_price} (ask {order.expected_price}) → {order.status}, "
                  f"filled {order.filled_quantity} @ {order.average_price}, id {order.broker_order_id} {order.error}")
    for hedge in ActiveHedge.objects.filter(session=session):
        print(f"  hedge recorded: {hedge.symbol} ×{hedge.quantity} @ {hedge.entry_price} ({hedge.status})")
    for alert in Alert.objects.filter(session=session).order_by("created_at"):
        print(f"  alert [{alert.level}] {alert.kind}: {alert.text[:200]}")
    if sent:
        print(f"  TICK → ORDER ON THE WIRE ({label}): {(sent - tick_started) * 1000:.0f} ms; "
              f"whole tick incl. fills {tick_ms:.0f} ms")
    else:
        print(f"  no order left ({label}); the tick took {tick_ms:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls-only", action="store_true", help="only part 1, no database")
    parser.add_argument("--path-only", action="store_true", help="only part 2")
    parser.add_argument("--dump", type=Path, help="write each raw answer of part 1 here")
    parser.add_argument("--at", metavar="HH:MM", help="the product's clock (IST, today or the last weekday) for part 2; "
                        "default: the wall clock in market hours, else 11:00")
    parser.add_argument("--premium-window", nargs=2, type=Decimal, metavar=("MIN", "MAX"), default=PREMIUM_WINDOW,
                        help="the sessions' min_premium and max_premium (default %(default)s)")
    args = parser.parse_args()
    host, key = os.environ.get("OPENALGO_HOST", ""), os.environ.get("OPENALGO_API_KEY", "")
    if not host or not key:
        print("set OPENALGO_HOST and OPENALGO_API_KEY (a real OpenAlgo server on loopback)", file=sys.stderr)
        return 2
    spec = product_clock_spec(args.at)
    if spec:
        os.environ["AUTOHEDGE_CLOCK"] = spec
    os.environ[KEY_VARIABLE] = key
    os.environ["AUTOHEDGE_LIVE_TRADING"] = "1"  # with the account's mode live: orders go to the server
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # the client reads settings (OPENALGO_TIMEOUT_*) and registers its key
    found: dict = {}
    if not args.path_only:
        found = run_calls(host, key, args.dump)
    if args.calls_only:
        return 0
    if "expiry" not in found:
        from brokers.openalgo import OpenAlgoClient

        found["expiry"] = OpenAlgoClient(host, key).expiry("NIFTY", "NFO")[0]
    migrate()
    clean_up()
    if spec:
        print(f"\nThe wall clock says {datetime.now(IST):%a %H:%M} IST: the product's clock is "
              f"AUTOHEDGE_CLOCK={spec.split('|')[0]} at real speed; the server keeps its own.")
    run_path(host, found["expiry"], tuple(args.premium_window), warm=False)
    run_path(host, found["expiry"], tuple(args.premium_window), warm=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
