"""POST /api/hedge/manual/buy and /exit: the executor's path (its Celery task), its
limits and its audit, on the simulated broker."""

from datetime import timedelta

import pytest

from hedging.models import ActiveHedge, HedgeTransaction

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
