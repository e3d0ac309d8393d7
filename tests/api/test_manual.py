"""POST /api/hedge/manual/buy and /exit: the executor's path (its Celery task), its
limits and its audit, on the simulated broker."""

from datetime import timedelta
from decimal import Decimal

import pytest

from hedging.core.money import format_inr
from hedging.core.strikes import limit_price
from hedging.models import ActiveHedge, Alert, AuditEvent, HedgeTransaction
from tests.api.fixtures import api_client

pytestmark = pytest.mark.django_db
BUY, EXIT = "/api/hedge/manual/buy", "/api/hedge/manual/exit"


@pytest.fixture
def post(staff_api, celery_eager, django_capture_on_commit_callbacks):
    """Post, then run what was queued for after the commit (the executor's task)."""

    def send(url, body):
        with django_capture_on_commit_callbacks(execute=True):
            return staff_api.post(url, body, format="json")

    return send


def our_orders(simbroker):
    return [order for order in simbroker.order_log if order.strategy.startswith("autohedge-")]


def test_a_manual_buy_places_one_order_per_leg_and_records_who(post, trading_day, simbroker, staff):
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "client_key": "k1"})
    assert response.status_code == 201
    tx = HedgeTransaction.objects.get()
    assert response.json()["id"] == tx.pk
    assert response.json()["status"] == "pending"  # recorded first; the worker's task sends the orders
    assert (tx.action, tx.origin, tx.requested_by, tx.hedge_baskets, tx.status) == ("BUY", "manual", staff, 1, "filled")
    assert tx.reason == f"manual buy by {staff.username}"
    orders = our_orders(simbroker)
    assert sorted((o.action, o.symbol[-2:], o.quantity, o.strategy) for o in orders) == [
        ("BUY", "CE", 65, f"autohedge-{tx.pk}-CE-1"),
        ("BUY", "PE", 65, f"autohedge-{tx.pk}-PE-1"),
    ]
    assert ActiveHedge.objects.filter(session=trading_day, status="open").count() == 2


def test_repeating_the_client_key_never_orders_twice(post, trading_day, simbroker):
    first = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "client_key": "same"}).json()
    again = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "client_key": "same"})
    assert again.json()["id"] == first["id"]
    assert len(our_orders(simbroker)) == 2 and HedgeTransaction.objects.count() == 1


def test_a_manual_exit_sells_what_was_bought(post, trading_day, simbroker, staff):
    post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    simbroker.clock.advance(timedelta(minutes=3).total_seconds())  # past the cooldown
    response = post(EXIT, {"session": trading_day.pk, "hedge_baskets": 1})
    assert response.status_code == 201
    body = response.json()
    assert (body["action"], body["origin"], body["requested_by"]) == ("EXIT", "manual", staff.username)
    assert HedgeTransaction.objects.get(pk=body["id"]).status == "filled"
    assert sorted(o.action for o in our_orders(simbroker)) == ["BUY", "BUY", "SELL", "SELL"]
    assert not ActiveHedge.objects.filter(session=trading_day, status="open").exists()


def test_the_cooldown_applies_to_manual_actions(post, trading_day, simbroker):
    post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    assert response.status_code == 400
    assert response.json()["non_field_errors"][0].startswith("cooldown:")
    assert len(our_orders(simbroker)) == 2


@pytest.mark.parametrize(
    "url, body, field",
    [
        (BUY, {"hedge_baskets": 1}, "session"),
        (BUY, {"session": "{session}", "hedge_baskets": 0}, "hedge_baskets"),
        (BUY, {"session": "{session}", "hedge_baskets": "two"}, "hedge_baskets"),
        (BUY, {"session": 999999, "hedge_baskets": 1}, "session"),
        (EXIT, {"session": "{session}", "hedge_baskets": 1}, "hedge_baskets"),  # none held
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(post, trading_day, simbroker, url, body, field):
    body = {name: trading_day.pk if value == "{session}" else value for name, value in body.items()}
    response = post(url, body)
    assert response.status_code == 400 and field in response.json()
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)


def test_the_daily_cap_refuses_a_buy(post, trading_day, simbroker):
    trading_day.max_hedge_cost_per_day = 1
    trading_day.save()
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    assert response.status_code == 400 and "daily cap" in response.json()["hedge_baskets"][0]
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)


def test_outside_market_hours_nothing_is_ordered(post, trading_day, simbroker):
    simbroker.clock.set(simbroker.clock.now().replace(hour=16))
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    assert response.status_code == 400 and response.json() == {"non_field_errors": ["market closed"]}
    assert not our_orders(simbroker)


# --- strikes chosen by hand, when the rules find none ----------------------------------------


def no_strike_in_the_window(session):
    """At 09:56 the sim's asks ₹2–₹6 are all inside the window; ₹50–₹60 only near the money."""
    session.min_premium, session.max_premium = Decimal("50"), Decimal("60")
    session.save()


def short_strike(simbroker, option_type):
    shorts = [p for p in simbroker.account.positions.values() if p.quantity < 0]
    return next(p.option.strike for p in shorts if p.symbol.endswith(option_type))


def test_a_buy_with_no_eligible_strike_names_the_nearest_candidates_the_windows_excluded(post, trading_day, simbroker):
    no_strike_in_the_window(trading_day)
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1})
    assert response.status_code == 400
    body = response.json()
    refusal = body["non_field_errors"][0]
    assert refusal.startswith("no eligible CE strike: ") and "; no eligible PE strike: " in refusal
    assert "by distance outside 200–1000 points" in refusal and "by premium outside ₹50.00–₹60.00" in refusal
    assert refusal.endswith("Choose a CE and a PE strike to buy them by hand")
    for side in ("CE", "PE"):
        candidates = body["candidates"][side]
        assert len(candidates) == 3
        for c in candidates:
            assert c["symbol"].endswith(side) and Decimal(c["ask"]) > Decimal(c["bid"]) > 0
            assert c["excluded_by"] in ("distance outside 200–1000 points", "premium outside ₹50.00–₹60.00")
            ask = format_inr(Decimal(c["ask"]))
            assert f"{Decimal(c['strike']):.0f} at {ask} ({c['excluded_by']})" in refusal
    # The nearest first: the ask inside ₹50–₹60, then the nearer misses.
    assert Decimal("50") <= Decimal(body["candidates"]["CE"][0]["ask"]) <= Decimal("60")
    shorts = {f"{short_strike(simbroker, side):.2f}" for side in ("CE", "PE")}
    assert not shorts & {c["strike"] for side in ("CE", "PE") for c in body["candidates"][side]}
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)


def test_a_staff_user_buys_the_strikes_they_chose_and_it_is_audited(post, trading_day, simbroker, staff):
    no_strike_in_the_window(trading_day)
    offered = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1}).json()["candidates"]
    ce, pe = offered["CE"][0], offered["PE"][1]
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "ce_strike": ce["strike"], "pe_strike": pe["strike"]})
    assert response.status_code == 201
    tx = HedgeTransaction.objects.get()
    assert (tx.origin, tx.requested_by, tx.status) == ("manual", staff, "filled")
    chosen = " and ".join(
        f"{side} {Decimal(c['strike']):.0f} at {format_inr(Decimal(c['ask']))} ({c['excluded_by']})"
        for side, c in (("CE", ce), ("PE", pe))
    )
    assert tx.reason == f"manual buy by {staff.username}, strikes chosen by hand (an override of the strike rules): {chosen}"
    placed = {o.symbol: o for o in our_orders(simbroker)}
    assert set(placed) == {ce["symbol"], pe["symbol"]}
    assert {(o.action, o.pricetype, o.price) for o in placed.values()} == {
        ("BUY", "LIMIT", limit_price(Decimal(c["ask"]), Decimal("5"))) for c in (ce, pe)  # at the ask + the protection
    }
    event = AuditEvent.objects.get(action="manual.buy")
    strikes = {"CE": f"{Decimal(ce['strike']):.0f}", "PE": f"{Decimal(pe['strike']):.0f}"}
    assert (event.actor, event.after) == (staff.username, {"transaction": tx.pk, "hedge_baskets": 1, "strikes": strikes})
    bought = Alert.objects.get(kind="hedge_bought").text  # what Telegram says
    assert bought.endswith(f"Why: {tx.reason}") and ce["symbol"] in bought and pe["symbol"] in bought


def test_a_trader_who_is_not_staff_or_anyone_anonymous_cannot_buy_chosen_strikes(trader_api, trading_day, simbroker):
    body = {"session": trading_day.pk, "hedge_baskets": 1, "ce_strike": "24300", "pe_strike": "23700"}
    assert trader_api.post(BUY, body, format="json").status_code == 403
    assert api_client().post(BUY, body, format="json").status_code == 403
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)
    assert not AuditEvent.objects.filter(action="manual.buy").exists()


def test_a_chosen_strike_the_account_is_short_is_refused(post, trading_day, simbroker):
    strike = short_strike(simbroker, "PE")
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "ce_strike": "24500", "pe_strike": f"{strike}"})
    assert response.status_code == 400
    assert response.json() == {
        "pe_strike": [f"the account is short NIFTY24NOV26{strike:.0f}PE: buying it would close a strategy's leg, not hedge it"]
    }
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)


def test_chosen_strikes_over_the_daily_cap_are_refused(post, trading_day, simbroker):
    trading_day.max_hedge_cost_per_day = 100
    trading_day.save()
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, "ce_strike": "24100", "pe_strike": "23900"})
    assert response.status_code == 400 and "would pass the daily cap ₹100 (spent ₹0)" in response.json()["hedge_baskets"][0]
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)


@pytest.mark.parametrize(
    "strikes, field, words",
    [
        ({"ce_strike": "abc", "pe_strike": "23700"}, "ce_strike", "A valid number is required."),
        ({"ce_strike": "24300", "pe_strike": [23700]}, "pe_strike", "A valid number is required."),
        ({"ce_strike": "24300", "pe_strike": -50}, "pe_strike", "Ensure this value is greater than or equal to 0.05."),
        ({"ce_strike": "NaN", "pe_strike": "23700"}, "ce_strike", "A valid number is required."),
        ({"ce_strike": "1e400", "pe_strike": "23700"}, "ce_strike", "Ensure that there are no more than 9 digits in total."),
        ({"ce_strike": "24300"}, "pe_strike", "choose a CE and a PE strike: a hedge basket is one of each"),
        ({"ce_strike": "99999", "pe_strike": "23700"}, "ce_strike", "no CE strike 99999 on the option chain"),
        ({"ce_strike": "24320", "pe_strike": "23700"}, "ce_strike", "no CE strike 24320 on the option chain"),
        ({"ce_strike": "23700", "pe_strike": "23700"}, "ce_strike", "NIFTY24NOV2623700CE is not out of the money"),
    ],
)
def test_bad_chosen_strikes_are_a_400_naming_the_field(post, trading_day, simbroker, strikes, field, words):
    response = post(BUY, {"session": trading_day.pk, "hedge_baskets": 1, **strikes})
    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0].startswith(words)
    assert not HedgeTransaction.objects.exists() and not our_orders(simbroker)
