"""The status page's "Today's plan": the stored morning forecast beside the day so far,
and the what-if form, which forecasts again and saves nothing."""

import re
from html.parser import HTMLParser

import pytest

from hedging.models import DailySession, Forecast, HedgeTransaction
from hedging.services import forecast
from tests.factories import DailySessionFactory
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db


@pytest.fixture
def trader_client(client, trader):
    client.force_login(trader)
    return client


@pytest.fixture
def stored(trading_day, sim_clock):
    return forecast.store(trading_day, forecast.forecast_for_session(trading_day), sim_clock.now())


def plan_of(page: str, session) -> str:
    return page[page.index(f'id="plan-{session.pk}"'):page.index("</section>", page.index(f'id="plan-{session.pk}"'))]


def test_without_a_stored_forecast_the_panel_says_so(trader_client, trading_day):
    plan = plan_of(text(trader_client.get("/")), trading_day)
    assert "Today's plan" in plan and "No forecast stored for today" in plan and "<svg" not in plan
    assert 'name="baskets.P1"' in plan and 'name="baskets.P2"' in plan and 'name="max_hedge_cost_per_day"' in plan


class FormValues(HTMLParser):
    """The what-if form's inputs as the browser would send them: name → value."""

    def __init__(self, page: str):
        super().__init__()
        self.values: dict[str, str] = {}
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        fields = dict(attrs)
        if tag == "input" and fields.get("name"):
            self.values[fields["name"]] = fields.get("value") or ""


def test_the_what_if_shows_todays_values_and_sent_unchanged_forecasts_today(trader_client, trading_day):
    trading_day.max_hedge_cost_per_day = 42000
    trading_day.save()
    plan = plan_of(text(trader_client.get("/")), trading_day)
    sent = FormValues(plan[plan.index('class="what-if'):]).values
    assert sent == {"budget": "900000", "entry_trigger_pct": "95", "entry_target_pct": "85",
                    "max_hedge_cost_per_day": "42000", "baskets.P1": "1", "baskets.P2": "1"}
    assert "placeholder" not in plan

    answer = text(trader_client.get(f"/status/plan/{trading_day.pk}", sent))
    assert "what-if · not saved" in answer and "1 hedge buy planned" in answer and "cap ₹42,000 covers it" in answer
    assert 'value="42000"' in answer  # the sent values stay in the form
    assert not Forecast.objects.exists()


def test_the_stored_plan_is_drawn_with_the_day_so_far(trader_client, trading_day, stored):
    plan = plan_of(text(trader_client.get("/")), trading_day)
    assert "1 hedge buy planned" in plan and "cap ₹50,000 covers it" in plan
    assert 'class="plan-line"' in plan and 'class="cap-line"' in plan and "+1 hedge" in plan
    assert 'class="actual-dot"' in plan  # P1 entered at 09:20
    assert "95% trigger" in plan and "85% target" in plan and "data-what-if" not in plan
    assert 'id="plan-' in text(trader_client.get("/status/panel"))  # the auto-refresh keeps it


def test_a_what_if_recomputes_the_plan_and_saves_nothing(trader_client, trading_day, stored):
    plan = text(trader_client.get(f"/status/plan/{trading_day.pk}", {"max_hedge_cost_per_day": "1", "budget": ""}))
    assert "<html" not in plan and "data-what-if" in plan and "what-if · not saved" in plan
    assert "No hedge buy fits the cap" in plan and "cap ₹1 falls short from P2" in plan
    assert 'class="needed-cost"' in plan
    assert Forecast.objects.get() == stored and stored.result["cap"] == 50000
    assert not HedgeTransaction.objects.exists() and not DailySession.objects.filter(is_replay=True).exists()


def test_a_what_if_with_more_baskets(trader_client, trading_day):
    plan = text(trader_client.get(f"/status/plan/{trading_day.pk}", {"baskets.P2": "3"}))
    assert "P2 ×3" in plan and 'value="3"' in plan


@pytest.mark.parametrize(
    "params, field, message",
    [
        # over the trigger: the settings' rule, under the field's label, not after its name
        ({"entry_target_pct": "99"}, "entry_target_pct", '<span class="error">thresholds must be ordered'),
        ({"budget": "0"}, "budget", "Ensure this value is greater than or equal to 1"),
        ({"baskets.P2": "x"}, "baskets.P2", "Enter a whole number"),
    ],
)
def test_a_bad_what_if_shows_the_error_under_its_field(trader_client, trading_day, params, field, message):
    plan = text(trader_client.get(f"/status/plan/{trading_day.pk}", params))
    label = re.search(rf'<label class="has-error">[^<]*<input[^>]*name="{re.escape(field)}"[^>]*>(.*?)</label>', plan)
    assert label and message in label.group(1)
    assert 'class="plan-line"' not in plan


def test_a_replay_session_has_no_plan_page(trader_client, trading_day):
    replay = DailySessionFactory(account=trading_day.account, is_replay=True, replay_name="x")
    assert trader_client.get(f"/status/plan/{replay.pk}").status_code == 404


def test_the_plan_page_needs_a_login(client, trading_day):
    assert client.get(f"/status/plan/{trading_day.pk}").status_code == 302
