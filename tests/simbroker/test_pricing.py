from datetime import date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.simbroker.pricing import implied_vol, option_price, quote, trading_minutes
from hedging.core.clock import at

EXPIRY = date(2026, 11, 24)


def at_expiry(hh: int, mm: int) -> datetime:
    return at(EXPIRY, time(hh, mm))


def test_nifty_0dte_strike_500_out_costs_about_five_rupees_at_0940():
    price = option_price(Decimal(24000), 24500, "CE", at_expiry(9, 40), EXPIRY, 0.12, 0.04)
    assert price == Decimal("5.95")


def test_the_wing_raises_volatility_with_distance():
    assert implied_vol(24000, 24000, 0.12, 0.04) == 0.12
    assert abs(implied_vol(24000, 24500, 0.12, 0.04) - (0.12 + 0.04 * 500 / 24000 * 100)) < 1e-12


def test_far_strikes_floor_at_one_tick_with_no_bid():
    far = quote(24000, 26000, "CE", at_expiry(15, 0), EXPIRY, 0.12, 0.04)
    assert (far.ltp, far.bid, far.ask) == (Decimal("0.05"), Decimal("0.00"), Decimal("0.10"))


def test_ask_and_bid_are_one_tick_either_side():
    atm = quote(24000, 24000, "PE", at_expiry(10, 0), EXPIRY, 0.12, 0.04)
    assert atm.ask - atm.ltp == atm.ltp - atm.bid == Decimal("0.05")
    assert atm.ltp > Decimal(50)


def test_at_expiry_an_option_is_worth_its_intrinsic_value():
    close = at_expiry(15, 30)
    assert option_price(24000, 23900, "CE", close, EXPIRY, 0.12, 0.04) == Decimal("100.00")
    assert option_price(24000, 24100, "CE", close, EXPIRY, 0.12, 0.04) == Decimal("0.05")
    assert option_price(24000, 24100, "PE", close + timedelta(hours=2), EXPIRY, 0.12, 0.04) == Decimal("100.00")


def test_time_to_expiry_counts_only_market_minutes_on_weekdays():
    friday = datetime(2026, 11, 20, 9, 15, tzinfo=at_expiry(9, 15).tzinfo)
    monday_close = at(date(2026, 11, 23), time(15, 30))
    assert trading_minutes(friday, monday_close) == 2 * 375
    assert trading_minutes(friday.replace(hour=15, minute=30), monday_close.replace(hour=9, minute=15)) == 0
    assert trading_minutes(friday.replace(hour=8, minute=0), friday.replace(hour=10, minute=0)) == 45


def test_a_day_before_expiry_costs_more_than_on_expiry_day():
    monday = at(date(2026, 11, 23), time(9, 40))
    assert option_price(24000, 24500, "CE", monday, EXPIRY, 0.12, 0.04) > option_price(
        24000, 24500, "CE", at_expiry(9, 40), EXPIRY, 0.12, 0.04
    )


@settings(max_examples=200, deadline=None)
@given(
    spot=st.integers(min_value=20000, max_value=28000),
    steps=st.integers(min_value=-40, max_value=40),
    minute=st.integers(min_value=0, max_value=375),
    option_type=st.sampled_from(["CE", "PE"]),
)
def test_every_price_is_a_whole_number_of_ticks_and_at_least_one(spot, steps, minute, option_type):
    now = at_expiry(9, 15) + timedelta(minutes=minute)
    price = option_price(spot, 24000 + 50 * steps, option_type, now, EXPIRY, 0.12, 0.04)
    assert price >= Decimal("0.05")
    assert price % Decimal("0.05") == 0
