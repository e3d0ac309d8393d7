"""The status panel: live figures in Indian format, the switches, manual actions."""

import re
from datetime import time
from decimal import Decimal

import pytest

from hedging.core.clock import IST, at
from hedging.messages import format_inr, format_lakh
from hedging.models import Alert, Control, HedgeTransaction
from tests.api.fixtures import make_entry, make_tx
from tests.fixtures.simbroker import SIM_DAY
from tests.dashboard.pages import text

pytestmark = pytest.mark.django_db


def test_the_panel_shows_live_figures_when_asked_to_read_the_broker(staff_client, trading_day, simbroker):
    used = Decimal(simbroker.state()["used_margin"]) - trading_day.baseline_margin
    page = text(staff_client.get("/?read=now"))
    assert f'data-testid="used-margin">{format_lakh(used)}<' in page
    assert f"{format_inr(used)} of ₹9,00,000" in page
    assert 'data-testid="budget">₹9L<' in page
    assert f'data-testid="utilisation">{used * 100 / 900000:.1f}%<' in page
    assert 'data-testid="open-baskets">1<' in page and 'data-testid="hedges-held">0<' in page
    assert 'data-testid="spent">₹0<' in page and "of ₹50,000 cap · ₹50,000 left" in page
    assert "<strong>BUY</strong> · P2 at 10:00: projected" in page
    assert "needs hedge" in page and "in lookahead" in page
    assert "Broker reachable (" in page and "read now)" in page and "LIVE" in page
    assert '<svg class="chart"' in page  # the gauge


def test_the_panel_says_when_the_next_buy_comes_and_roughly_what_it_costs(staff_client, trading_day, simbroker):
    simbroker.clock.set(at(SIM_DAY, time(9, 40)))  # P2 (10:00) is outside the 5 minutes' lookahead
    page = text(staff_client.get("/"))
    assert "no entry in the next 5 min needs a hedge" in page
    assert "needs hedge" not in page and "hedge ahead" in page  # the row agrees with the decision
    # No buy yet today: priced at the premium window's ends (2 legs × ₹2–₹6 × 65).
    assert 'data-testid="next-buy">Next hedge buy: ~1 basket at 09:55 for P2 at 10:00, ~₹260–₹780 ' in page
    assert '<span class="muted">(approximate: the premium window)' in page

    make_tx(trading_day, time(9, 30), cost="292.50", for_entries=["P1"])  # a buy today: its price per basket
    page = text(staff_client.get("/"))
    assert "at 09:55 for P2 at 10:00, ~₹293 <span class=\"muted\">(approximate: the price paid today)" in page


def test_the_panel_shows_what_the_last_tick_did_and_why(staff_client, trading_day, simbroker, celery_eager):
    from hedging.tasks import lookahead_batch

    lookahead_batch([trading_day.pk])  # the minute's tick, as the worker runs it: it buys before P2
    trading_day.refresh_from_db()
    assert trading_day.transactions.get().status == "filled"
    page = text(staff_client.get("/"))
    assert (
        f'data-testid="last-tick">Last tick {trading_day.last_tick_at.astimezone(IST):%H:%M:%S}: P2 at 10:00: projected' in page
    )


def test_the_panel_counts_money_net_of_exits_and_against_hedging_every_basket(staff_client, trading_day):
    make_entry(trading_day, "P1b", time(9, 21), baskets=2)
    make_tx(trading_day, time(9, 30), cost="650", for_entries=["P1b"])
    make_tx(trading_day, time(9, 50), action="EXIT", cost="120")
    page = text(staff_client.get("/"))
    assert 'data-testid="spent">₹650<' in page  # the cap counts what buys paid
    assert 'data-testid="net-spend">net ₹530 after +₹120 received from exits<' in page
    # Hedging every basket: 3 entered baskets at the ₹650 paid per hedge basket today, less the ₹530 net.
    assert 'data-testid="saved-today">₹1,420<' in page and "(~₹1,950, estimate)" in page
    assert "EXIT 1</strong> (automatic) · Filled · <span class=\"received\">+₹120 received</span>" in page


def test_the_refresh_endpoint_serves_the_panel_alone(staff_client, trading_day):
    page = text(staff_client.get("/status/panel"))
    assert 'data-testid="used-margin"' in page and "<html" not in page


def test_without_a_session_the_page_offers_to_create_one(staff_client, sim_clock):
    assert "No session today." in text(staff_client.get("/"))


def test_toggling_auto_hedge_for_a_session(staff_client, staff, trading_day, celery_eager):
    response = staff_client.post("/toggle", {"session": trading_day.pk, "enabled": "off"}, follow=True)
    trading_day.refresh_from_db()
    assert trading_day.auto_enabled is False
    page = text(response)
    assert "Auto-hedge off for" in page and "auto OFF" in page and "Turn auto on" in page
    assert f"by {staff.username}" in Alert.objects.get(kind="auto_hedge_toggled", session=trading_day).text


def test_the_global_switch(staff_client, trading_day, celery_eager):
    page = text(staff_client.post("/toggle", {"enabled": "off"}, follow=True))
    assert Control.get().auto_enabled is False
    assert 'id="global-state">OFF<' in page and "auto OFF (global off; this session on)" in page and "auto-hedge off" in page
    # The session's button says what it switches: the session's own switch, the global one still off.
    assert "Turn this session off (global still off)" in page and "Turn auto off" not in page
    staff_client.post("/toggle", {"session": trading_day.pk, "enabled": "off"})
    page = text(staff_client.get("/"))
    assert "auto OFF (global off)<" in page and "Turn this session on (global still off)" in page


def test_the_mode_is_the_one_every_surface_shows(staff_client, trading_day, settings):
    assert '<span class="pill mode-live">LIVE</span>' in text(staff_client.get("/"))
    settings.AUTOHEDGE_LIVE_TRADING = False  # a live account's orders go nowhere: paper, as the bot and Telegram say
    page = text(staff_client.get("/"))
    assert '<span class="pill mode-paper">PAPER</span>' in page and "LIVE" not in page


def test_the_header_counts_the_baskets_the_panel_counts(staff_client, trading_day):
    trading_day.num_baskets = 3  # the session's size, which set nothing here: the budget is its own
    trading_day.save()
    page = text(staff_client.get("/"))
    assert "· 1 basket open</span>" in page and 'data-testid="open-baskets">1<' in page and "3 basket" not in page
    assert 'data-testid="budget-basis">₹9,00,000: set for this session<' in page


def test_a_manual_buy_from_the_panel(
    staff_client, staff, trading_day, simbroker, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/manual", {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1})
    assert response.status_code == 302
    tx = HedgeTransaction.objects.get()
    assert (tx.origin, tx.requested_by, tx.status) == ("manual", staff, "filled")
    assert len([o for o in simbroker.order_log if o.strategy.startswith("autohedge-")]) == 2
    page = text(staff_client.get("/"))
    assert 'data-testid="hedges-held">1<' in page and "CE " in page and "PE " in page
    assert "BUY 1</strong> (manual by" in page


def test_a_refused_manual_action_says_why(staff_client, trading_day, celery_eager):
    page = text(staff_client.post("/manual", {"session": trading_day.pk, "action": "EXIT", "hedge_baskets": 1}, follow=True))
    assert "Refused (hedge baskets): only 0 hedge baskets held" in page
    assert not HedgeTransaction.objects.exists()


def test_a_buy_with_no_eligible_strike_offers_the_nearest_candidates_to_choose_from(staff_client, trading_day, celery_eager):
    trading_day.min_premium, trading_day.max_premium = Decimal("50"), Decimal("60")
    trading_day.save()
    response = staff_client.post("/manual", {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 2})
    assert response.status_code == 200
    page = text(response)
    assert "No eligible strike: choose them by hand?" in page
    assert re.search(r"Refused: no eligible CE strike: .*Nearest: CE \d+ at ₹[\d.]+ \(", page)
    for side in ("CE", "PE"):
        offered = re.findall(rf'<input type="radio" name="{side.lower()}_strike" value="(\d+)"', page)
        assert len(offered) == 3
        assert re.search(rf"<strong>{offered[0]}</strong> · ask ₹[\d.]+ · (distance|premium) outside", page)
    assert '<input type="hidden" name="hedge_baskets" value="2">' in page
    assert not HedgeTransaction.objects.exists()


def test_a_staff_user_buys_the_strikes_chosen_on_the_page(
    staff_client, staff, trading_day, simbroker, celery_eager, django_capture_on_commit_callbacks
):
    chosen = {"ce_strike": "24300", "pe_strike": "23700"}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/manual", {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1, **chosen})
    assert response.status_code == 302
    tx = HedgeTransaction.objects.get()
    assert (tx.origin, tx.requested_by, tx.status) == ("manual", staff, "filled")
    assert sorted(tx.orders.values_list("symbol", flat=True)) == ["NIFTY24NOV2623700PE", "NIFTY24NOV2624300CE"]
    override = "strikes chosen by hand (an override of the strike rules)"
    assert tx.reason.startswith(f"manual buy by {staff.username}, {override}: CE 24300 at ₹")
    page = text(staff_client.get("/"))
    assert "BUY 1</strong> (manual by" in page and f'<span class="muted">{tx.reason}</span>' in page


@pytest.mark.parametrize(
    "chosen, words",
    [
        ({"ce_strike": "abc", "pe_strike": "23700"}, "Refused: CE strike: Enter a number."),
        ({"ce_strike": "24300", "pe_strike": "-50"}, "Refused: PE strike: Ensure this value is greater than or equal to 0.05."),
        ({"ce_strike": "24300"}, "Refused (pe strike): choose a CE and a PE strike: a hedge basket is one of each"),
        ({"ce_strike": "99999", "pe_strike": "23700"}, "Refused (ce strike): no CE strike 99999 on the option chain"),
    ],
)
def test_bad_chosen_strikes_on_the_page_are_refused_naming_the_field(staff_client, trading_day, celery_eager, chosen, words):
    buy = {"session": trading_day.pk, "action": "BUY", "hedge_baskets": 1, **chosen}
    page = text(staff_client.post("/manual", buy, follow=True))
    assert words in page
    assert not HedgeTransaction.objects.exists()
