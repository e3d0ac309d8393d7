"""The dashboard in headless Chromium (Debian's, no downloaded browser) against the app
served by live_server and the simulated broker on loopback: log in, read the live
status panel, watch it refresh in place, toggle auto-hedge, edit a schedule row,
open analytics with a drawn chart, and read the day's plan and a what-if; a manual buy
asks first, and the Content-Security-Policy blocks nothing on the way. Every page fits a
desk screen and a phone (390 px) without sideways scrolling, the status figures first on
the phone. Screenshots go to $AUTOHEDGE_ARTIFACTS (default artifacts/screenshots/)."""

import os
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import expect

from hedging.core.clock import at
from hedging.messages import format_lakh
from hedging.models import Alert, HedgeTransaction
from hedging.services import forecast, orchestrator
from schedules.models import StrategySchedule
from tests.api.fixtures import NIFTY_LOT
from tests.factories import StrategyScheduleFactory
from tests.fixtures.simbroker import SIM_DAY

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("AUTOHEDGE_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots")
DESK, PHONE = {"width": 1400, "height": 900}, {"width": 390, "height": 844}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(monkeypatch):
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium chromium-driver`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(viewport=DESK)
        yield context.new_page()
        context.close()
        browser.close()
        connections.close_all()  # the test's queries ran beside Playwright's event loop, on a connection of their own


@pytest.fixture
def morning(trading_day, simbroker, sim_ports):
    """The worker's ticks from 09:30 to 10:30: the lookahead buys a hedge for P2 before
    10:00, P2 enters; P3 (11:00) is still to come."""
    simbroker.add_strategy("P2", "NIFTY", time(10, 0), time(15, 15), NIFTY_LOT)
    StrategyScheduleFactory(account=trading_day.account, name="P3", entry_time=time(11, 0), exit_time=time(15, 15), baskets=1)
    tick_until(trading_day, simbroker, sim_ports, at(SIM_DAY, time(9, 30)), at(SIM_DAY, time(10, 30)))
    return trading_day


def tick_until(session, simbroker, ports, start, end):
    moment = start
    while moment <= end:
        simbroker.clock.set(moment)
        orchestrator.tick(session.pk, ports)
        moment += timedelta(minutes=1)


def live_used_margin(simbroker, session) -> str:
    return format_lakh(Decimal(simbroker.state()["used_margin"]) - session.baseline_margin)


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_trader_day_in_the_browser(page, live_server, staff, morning, simbroker, sim_ports, celery_eager):
    session = morning
    assert HedgeTransaction.objects.filter(session=session, action="BUY", status="filled").count() == 1
    forecast.store(session, forecast.forecast_for_session(session), simbroker.clock.now())

    refused = []  # what the Content-Security-Policy blocked, as Chromium reports it
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", "pw-for-tests")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    panel = page.locator(f"#session-{session.pk}")
    assert panel.locator("[data-testid=used-margin]").inner_text() == live_used_margin(simbroker, session)
    assert panel.locator("[data-testid=open-baskets]").inner_text() == "2"
    assert panel.locator("[data-testid=hedges-held]").inner_text() == "1"
    assert panel.locator("[data-testid=broker-health]").inner_text().startswith("Broker reachable")
    assert "P3" in panel.locator("table").inner_text()
    assert panel.locator(".figure svg.chart").is_visible()  # the gauge
    shot(page, "01-status.png")

    # The panel refreshes itself: a minute later (one more tick), without reloading the page.
    page.evaluate("window.notReloaded = true")
    tick_until(session, simbroker, sim_ports, at(SIM_DAY, time(10, 31)), at(SIM_DAY, time(10, 31)))
    # A locator wait, not wait_for_function: that evaluates a string, which the policy forbids.
    expect(page.locator("#status time")).to_contain_text("10:31", timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    assert panel.locator("[data-testid=used-margin]").inner_text() == live_used_margin(simbroker, session)

    page.click(f"#session-{session.pk} [data-testid=session-toggle]")
    page.wait_for_selector(f"#session-{session.pk} [data-auto=off]")
    assert "Auto-hedge off" in page.locator(".messages").inner_text()
    session.refresh_from_db()
    assert session.auto_enabled is False
    assert staff.username in Alert.objects.get(kind="auto_hedge_toggled", session=session).text
    shot(page, "02-auto-off.png")

    # A manual buy or exit asks first, naming the count (static/js/refresh.js; the policy runs
    # no onclick): declined, nothing is bought or sold.
    asked, orders = [], HedgeTransaction.objects.count()
    manual = f"#session-{session.pk} form.manual"
    for count, button in (("1", "BUY"), ("2", "BUY"), ("2", "EXIT")):
        page.fill(f"{manual} input[name=hedge_baskets]", count)
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.click(f"{manual} button[value={button}]")
    assert asked == ["Buy 1 hedge basket now?", "Buy 2 hedge baskets now?", "Sell 2 hedge baskets now?"]
    assert HedgeTransaction.objects.count() == orders

    page.click("nav >> text=Schedule")
    page.click('tr[data-row="P3"] >> text=Edit')
    page.fill("#id_entry_time", "11:05")
    page.click("button.primary")
    page.wait_for_url(f"{live_server.url}/schedule/")
    assert "11:05" in page.locator('tr[data-row="P3"]').inner_text()
    assert StrategySchedule.objects.get(name="P3").entry_time == time(11, 5)
    shot(page, "03-schedule.png")

    page.click("nav >> text=Analytics")
    line = page.locator("#utilisation-chart svg polyline.util-line")
    line.wait_for()
    assert len(line.get_attribute("points").split()) >= 60  # a reading a minute, 09:15 to 10:31
    box = page.locator("#utilisation-chart svg").bounding_box()
    assert box["width"] > 600 and box["height"] > 150
    assert page.locator("#utilisation-chart svg .marker.buy").count() == 1
    assert page.locator("#spend-chart svg rect.bar.actual").count() >= 1
    shot(page, "04-analytics.png")

    page.click("nav >> text=Status")
    plan = page.locator(f"#plan-{session.pk}")
    assert plan.locator("svg polyline.plan-line").is_visible() and plan.locator("svg .actual-dot").count() >= 2
    assert "planned" in plan.locator("[data-testid=plan-summary]").inner_text()
    page.fill(f"#plan-{session.pk} input[name=max_hedge_cost_per_day]", "1")
    page.click(f"#plan-{session.pk} form.what-if button")
    page.wait_for_selector(f"#plan-{session.pk}[data-what-if] svg", timeout=60_000)
    assert "falls short from" in plan.locator("[data-testid=plan-summary]").inner_text()
    plan.screenshot(path=str(ARTIFACTS / "05-plan.png"))
    assert refused == []


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "pw-for-tests")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def sideways_scroll(page) -> int:
    """How far the page scrolls sideways (0: it fits the window)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


GAUGE_CLASHES = """([svg]) => {
  const labels = [...svg.querySelectorAll("text")].map((t) => ({ cls: t.getAttribute("class"), box: t.getBBox() }));
  const marks = [...svg.querySelectorAll("line")].map((l) => {
    const ends = [+l.getAttribute("y1"), +l.getAttribute("y2")];
    return { cls: l.getAttribute("class"), x: +l.getAttribute("x1"), top: Math.min(...ends), bottom: Math.max(...ends) };
  });
  const meet = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  const clashes = [];
  labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => {
    if (meet(a.box, b.box)) clashes.push(`${a.cls} meets ${b.cls}`);
  }));
  labels.forEach((a) => marks.forEach((m) => {
    if (m.cls.split(" ").pop() !== a.cls.split(" ").pop() && a.box.x < m.x && m.x < a.box.x + a.box.width
        && m.top < a.box.y + a.box.height && a.box.y < m.bottom) clashes.push(`${m.cls} crosses ${a.cls}`);
  }));
  return clashes;
}"""


def test_every_page_fits_a_desk_and_a_phone(page, live_server, staff, morning, simbroker, sim_ports, celery_eager):
    session = morning
    forecast.store(session, forecast.forecast_for_session(session), simbroker.clock.now())
    row = StrategySchedule.objects.get(name="P3")
    pages = {
        "status": "/", "schedule": "/schedule/", "schedule-row": f"/schedule/{row.pk}/edit",
        "schedule-delete": f"/schedule/{row.pk}/delete", "sessions": "/sessions/", "session": f"/sessions/{session.pk}/",
        "transactions": "/transactions/", "analytics": "/analytics/", "api": "/api/schema/ui/",
    }
    log_in(page, live_server, staff)
    wide = []
    for width, viewport in (("1400", DESK), ("390", PHONE)):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            if name == "status":
                wide += page.locator(".figure svg.chart").evaluate_all(GAUGE_CLASHES)
            if sideways_scroll(page) > 0:
                wide.append(f"{name} at {width} px: {sideways_scroll(page)} px too wide")
            shot(page, f"{width}-{name}.png")
    assert wide == []

    # On the phone the panel opens on its figures: utilisation and used margin on the first screen,
    # before the switches and the decision.
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    panel = page.locator(f"#session-{session.pk}")
    figures = panel.locator(".figures").bounding_box()
    used = panel.locator("[data-testid=used-margin]").bounding_box()
    assert used["y"] + used["height"] <= PHONE["height"]
    assert figures["y"] < panel.locator("[data-testid=session-toggle]").bounding_box()["y"]
    assert figures["y"] < panel.locator("[data-testid=decision]").bounding_box()["y"]
