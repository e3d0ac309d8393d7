import pytest
from django.urls import reverse

from hedging.models import DailySession
from schedules.models import StrategySchedule
from tests.factories import BrokerAccountFactory, DailySessionFactory, StaffFactory, StrategyScheduleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def session_form(account, **overrides):
    form = {
        "account": account.pk, "date": "2026-11-24", "index_name": "NIFTY", "expiry": "2026-11-24",
        "status": "active", "auto_enabled": "on", "num_baskets": 2, "lots_per_basket": 1, "lot_size": 65,
        "budget": "2000000", "excluded_margin": "0", "entry_trigger_pct": "95", "entry_target_pct": "85",
        "exit_trigger_pct": "70", "lookahead_minutes": 5, "max_hedge_cost_per_day": "50000",
        "cooldown_seconds": 120, "exit_buffer_minutes": 15, "min_premium": "2", "max_premium": "6",
        "min_exit_premium": "0.50", "price_protection_pct": "5", "order_retries": 2, "margin_model": "constants",
        "executions-TOTAL_FORMS": 0, "executions-INITIAL_FORMS": 0,
    }
    form.update(overrides)
    return form


def test_admin_refuses_a_session_with_no_margin_constants_for_its_days_to_expiry(staff_client):
    response = staff_client.post(
        reverse("admin:hedging_dailysession_add"), session_form(BrokerAccountFactory(), expiry="2026-12-01")
    )
    assert response.status_code == 200
    assert "No margin constants for NIFTY at 5 DTE" in response.content.decode()
    assert DailySession.objects.count() == 0


def test_admin_shows_threshold_order_as_form_error(staff_client):
    account = BrokerAccountFactory()
    response = staff_client.post(
        reverse("admin:hedging_dailysession_add"), session_form(account, entry_target_pct="97")
    )
    assert response.status_code == 200
    assert "exit trigger &lt; entry target &lt; entry trigger" in response.content.decode()
    assert DailySession.objects.count() == 0


def test_admin_saves_a_good_session(staff_client):
    account = BrokerAccountFactory()
    response = staff_client.post(reverse("admin:hedging_dailysession_add"), session_form(account))
    assert response.status_code == 302
    assert DailySession.objects.get().budget == 2000000


def test_admin_schedule_weekdays_and_time_order(staff_client):
    account = BrokerAccountFactory()
    form = {"account": account.pk, "index_name": "NIFTY", "name": "P1", "entry_time": "10:00",
            "exit_time": "09:30", "baskets": 2, "weekdays": ["0", "2"], "enabled": "on"}
    response = staff_client.post(reverse("admin:schedules_strategyschedule_add"), form)
    assert "The exit time must be after the entry time." in response.content.decode()
    form["exit_time"] = "15:15"
    assert staff_client.post(reverse("admin:schedules_strategyschedule_add"), form).status_code == 302
    row = StrategySchedule.objects.get()
    assert row.weekday_names == "Mon, Wed"


def test_admin_changes_a_schedule_rows_weekdays(staff_client):
    row = StrategyScheduleFactory(name="P1", weekdays=0b00101)
    form = {"account": row.account.pk, "index_name": "NIFTY", "name": "P1", "entry_time": "09:20", "exit_time": "15:15",
            "baskets": 1, "weekdays": ["0", "2", "4"], "enabled": "on"}
    response = staff_client.post(reverse("admin:schedules_strategyschedule_change", args=[row.pk]), form)
    assert response.status_code == 302  # the change message compared the stored bit mask with the ticked days: a 500
    row.refresh_from_db()
    assert row.weekday_names == "Mon, Wed, Fri"


def test_admin_lists_filter_and_search(staff_client):
    StrategyScheduleFactory(name="Morning straddle")
    StrategyScheduleFactory(name="Evening strangle")
    page = staff_client.get(reverse("admin:schedules_strategyschedule_changelist"), {"q": "Morning"}).content.decode()
    assert "Morning straddle" in page and "Evening strangle" not in page
    DailySessionFactory()
    page = staff_client.get(reverse("admin:hedging_dailysession_changelist"), {"index_name": "NIFTY"})
    assert page.status_code == 200 and "NIFTY" in page.content.decode()


def test_broker_account_refuses_a_key_in_place_of_a_variable_name(staff_client):
    form = {"name": "main", "host": "http://127.0.0.1:5000", "api_key_env": "sk-123abc secret",
            "product": "MIS", "mode": "paper", "enabled": "on"}
    response = staff_client.post(reverse("admin:brokers_brokeraccount_add"), form)
    assert "not the key itself" in response.content.decode()


def test_pages_need_a_login(client):
    assert client.get(reverse("dashboard")).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302


def test_the_admin_leaves_celery_beats_tables_out(client):
    """The tick's schedule is made by migrations: nobody edits it in a browser, a superuser neither."""
    client.force_login(StaffFactory(is_superuser=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Periodic tasks" not in page and "Crontabs" not in page and "Strategy schedules" in page
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 404
