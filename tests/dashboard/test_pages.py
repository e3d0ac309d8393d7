"""Schedule, sessions, transactions (and their CSV) and analytics pages."""

import csv
import io
from datetime import time, timedelta

import pytest

from hedging.core.clock import at
from hedging.models import DailySession, MarginSnapshot
from schedules.models import StrategySchedule
from tests.api.fixtures import make_entry, make_tx
from tests.factories import BrokerAccountFactory, DailySessionFactory, StrategyScheduleFactory
from tests.fixtures.simbroker import SIM_DAY
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db


# --- schedule ------------------------------------------------------------------------------


def test_the_day_and_the_week(staff_client, sim_clock):
    StrategyScheduleFactory(name="TUE", weekdays=0b00010, entry_time=time(10, 25))  # the sim's day is a Tuesday
    StrategyScheduleFactory(name="MON", weekdays=0b00001)
    page = text(staff_client.get("/schedule/"))
    today = page[page.index("Today, Tuesday 24 Nov"):page.index("The week")]
    assert "TUE" in today and "10:25" in today and "MON" not in today
    week = page[page.index("The week"):]
    assert 'data-row="MON"' in week and 'data-row="TUE"' in week


def test_adding_a_row_with_the_admins_validation(staff_client):
    account = BrokerAccountFactory()
    form = {"account": account.pk, "index_name": "NIFTY", "name": "P9", "entry_time": "10:30", "exit_time": "10:00",
            "baskets": "", "weekdays": ["0", "2"], "enabled": "on", "notes": ""}
    refused = text(staff_client.post("/schedule/new", form))
    assert "The exit time must be after the entry time." in refused
    assert not StrategySchedule.objects.exists()
    staff_client.post("/schedule/new", {**form, "exit_time": "15:00"})
    row = StrategySchedule.objects.get()
    assert (row.name, row.baskets, row.weekday_names) == ("P9", None, "Mon, Wed")


def test_editing_and_disabling_a_row(staff_client):
    row = StrategyScheduleFactory(name="P2", entry_time=time(10, 0))
    form = text(staff_client.get(f"/schedule/{row.pk}/edit"))
    assert 'value="10:00"' in form and 'type="time"' in form
    data = {"account": row.account.pk, "index_name": "NIFTY", "name": "P2", "entry_time": "10:05", "exit_time": "15:15",
            "baskets": "1", "weekdays": ["0", "1", "2", "3", "4"], "enabled": "on"}
    assert staff_client.post(f"/schedule/{row.pk}/edit", data)["Location"] == "/schedule/"
    staff_client.post(f"/schedule/{row.pk}/enabled", {"enabled": "off"})
    row.refresh_from_db()
    assert (row.entry_time, row.enabled) == (time(10, 5), False)


# --- sessions ------------------------------------------------------------------------------


def test_todays_session_in_one_click(staff_client, live_account, sim_clock):
    response = staff_client.post(
        "/sessions/", {"account": live_account.pk, "index_name": "SENSEX", "num_baskets": 2}, follow=True
    )
    session = DailySession.objects.get()
    assert (session.date, session.expiry, session.lots_per_basket, session.budget) == (SIM_DAY, SIM_DAY, 10, 2000000)
    assert "session created from the defaults." in text(response)


def test_a_second_session_for_the_account_is_refused_on_the_page(staff_client, live_account, sim_clock):
    DailySessionFactory(account=live_account, date=SIM_DAY)
    page = text(staff_client.post("/sessions/", {"account": live_account.pk, "index_name": "NIFTY", "num_baskets": 1}))
    assert "This account has a session for this date already." in page
    assert DailySession.objects.count() == 1


def test_past_sessions_and_replays_are_listed(staff_client, sim_clock):
    DailySessionFactory(date=SIM_DAY - timedelta(days=7), expiry=SIM_DAY)
    DailySessionFactory(date=SIM_DAY, is_replay=True, replay_name="one-entry-breach")
    page = text(staff_client.get("/sessions/"))
    assert "Tue 17 Nov 2026" in page
    assert '<span class="pill replay">replay</span> one-entry-breach' in page


def test_a_replayed_day_is_listed_as_replayed_not_active(staff_client, sim_clock):
    replay = DailySessionFactory(date=SIM_DAY, is_replay=True, replay_name="one-entry-breach")
    listed = text(staff_client.get("/sessions/"))
    row = listed[listed.index("Past sessions"):]
    assert "one-entry-breach" in row and "Active" not in row
    day = text(staff_client.get(f"/sessions/{replay.pk}/"))
    assert "a replayed day" in day and "auto on" not in day and "Active" not in day


def test_the_budget_says_where_it_came_from(staff_client, sim_clock):
    DailySessionFactory(date=SIM_DAY, num_baskets=1, budget=1300000)
    DailySessionFactory(date=SIM_DAY - timedelta(days=1), num_baskets=2, budget=2000000)
    page = text(staff_client.get("/sessions/"))
    assert "budget ₹13,00,000 (set for this session)" in page
    assert 'title="2 baskets × ₹10,00,000">₹20,00,000<' in page
    assert "A new session's budget is its baskets × ₹10,00,000" in page


# --- transactions --------------------------------------------------------------------------


@pytest.fixture
def actions(staff):
    session = DailySessionFactory(date=SIM_DAY)
    return {
        "buy": make_tx(session, time(9, 40), for_entries=["P2"], cost="1830.50"),
        "manual": make_tx(session, time(11, 0), action="EXIT", cost="120", origin="manual", requested_by=staff),
    }


def test_the_transactions_page_filters(staff_client, staff, actions):
    page = text(staff_client.get("/transactions/"))
    assert "P2: test" in page and "₹1,830.50" in page and "CE 24500" in page and "120 ms" in page
    assert f"Manual · {staff.username}" in page
    assert "₹1,830.50 paid" in page and "+₹120 received" in page
    exits = text(staff_client.get("/transactions/", {"action": "EXIT"}))
    assert "EXIT 1" in exits and "BUY 1" not in exits
    assert 'href="/transactions.csv?action=EXIT"' in exits


def test_the_csv_export_follows_the_filters(staff_client, staff, actions):
    response = staff_client.get("/transactions.csv", {"action": "BUY"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert (row["action"], row["reason"], row["cost"], row["strikes"], row["for_entries"]) == (
        "BUY",
        "P2: test",
        "1830.50",
        "CE 24500.00 PE 23500.00",
        "P2",
    )
    assert row["decided_at"] == "2026-11-24T09:40:00+05:30"


# --- analytics -----------------------------------------------------------------------------


def test_analytics_draws_charts(staff_client, sim_clock, actions):
    session = actions["buy"].session
    make_entry(session, "P1", time(9, 20))
    make_entry(session, "P2", time(9, 45))
    for minute, pct in ((16, 40), (30, 60)):
        MarginSnapshot.objects.create(
            session=session, taken_at=at(SIM_DAY, time(9, minute)), broker_used_margin=0, used_margin=0, utilisation_pct=pct
        )
    page = text(staff_client.get("/analytics/"))
    assert page.count('<svg class="chart"') == 3
    assert '<polyline class="util-line"' in page
    assert "BUY 1 09:40" in page and "P2 09:45" in page
    assert 'data-testid="saved">' in page


def test_analytics_refuses_a_backwards_range(staff_client, sim_clock):
    page = text(staff_client.get("/analytics/", {"date_from": "2026-11-24", "date_to": "2026-11-01"}))
    assert "Must not be after the end date." in page and "<svg" not in page
