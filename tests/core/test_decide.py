"""The decision core against the hedging rules, one rule at a time."""

from datetime import datetime
from decimal import Decimal

import pytest

from hedging.core.clock import IST
from hedging.core.decide import BUY, EXIT, Entry, HeldLeg, Market, TickState, decide, sellable_hedges
from hedging.core.margin import ConstantsMargin
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote

NIFTY_0DTE = ConstantsMargin(Decimal("433000"), Decimal("187000"))
SETTINGS = HedgeSettings.for_index("NIFTY")
D = Decimal


def at(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 11, 24, hour, minute, tzinfo=IST)


def chain(spot=Decimal("24000")) -> Market:
    """CE and PE every 50 points, cheaper the further out."""
    quotes = []
    for step in range(1, 25):
        distance = step * 50
        price = max(D("12") - D(step) / 2, D("0.05"))
        for option_type, strike in (("CE", spot + distance), ("PE", spot - distance)):
            quotes.append(OptionQuote(f"NIFTY{strike}{option_type}", option_type, strike, price - D("0.05"), price + D("0.05")))
    return Market(spot, quotes)


def state(now="09:40", used=0, n=0, h=0, entries=(), budget=1300000, spent=0, last=None, legs=()) -> TickState:
    return TickState(
        now=at(now),
        budget=D(budget),
        used_margin=D(used),
        open_baskets=n,
        hedges_held=h,
        pending_entries=tuple(Entry(name, at(time), baskets) for name, time, baskets in entries),
        basket_quantity=65,
        spent_today=D(spent),
        last_action_at=at(last) if last else None,
        held_legs=legs,
    )


def no_market():
    raise AssertionError("the market must not be asked when nothing is bought")


def test_one_entry_breach_buys_the_smallest_number_that_reaches_target():
    decision = decide(state(used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE, chain)
    assert decision.action == BUY and decision.hedge_baskets == 1
    assert round(decision.util_projected_pct, 1) == D("99.9")
    assert round(decision.util_after_pct, 1) == D("81.0")
    assert decision.for_entries == ("P2",)
    assert {leg.option_type for leg in decision.legs} == {"CE", "PE"}
    assert all(leg.quantity == 65 for leg in decision.legs)


def test_entry_outside_the_window_is_not_counted():
    early = decide(state(now="09:39", used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE, no_market)
    assert early.action is None
    at_entry = decide(state(now="09:45", used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE, no_market)
    assert at_entry.action is None  # the window is (t, t + lookahead]: an entry at t is not upcoming


def test_projection_exactly_at_trigger_buys_nothing():
    # 95% of 1,000,000 is 950,000: U 517,000 + one unhedged basket 433,000 = 950,000.
    decision = decide(state(used=517000, budget=1000000, entries=[("P", "09:44", 1)]), SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action is None


def test_high_utilisation_with_no_entry_coming_buys_nothing():
    decision = decide(state(used=1290000, n=3, entries=[("P9", "11:00", 1)]), SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action is None


def test_unavoidable_breach_buys_all_that_help_and_alerts():
    s = state(now="09:25", used=150000 , budget=600000, entries=[("P1", "09:30", 3)])
    decision = decide(s, SETTINGS, NIFTY_0DTE, chain)
    assert decision.action == BUY and decision.hedge_baskets == 3
    assert round(decision.util_after_pct, 1) == D("118.5")
    assert [a.kind for a in decision.alerts] == ["breach_unavoidable"]
    assert decision.alerts[0].level == "critical"
    assert "even 3 hedge baskets leave 118.5% > target 85.0%" in decision.alerts[0].text


def test_every_basket_hedged_already_alerts_without_buying():
    s = state(now="09:26", used=150000 + 3 * 187000, n=0, h=3, budget=600000, entries=[("P1", "09:30", 3)])
    decision = decide(s, SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action is None
    assert [a.kind for a in decision.alerts] == ["breach_unavoidable"]


def test_spare_hedges_count_before_buying_more():
    # Two spare hedges held, two baskets coming: they cover them, no buy.
    s = state(now="13:00", used=187000, n=1, h=2, budget=1200000, entries=[("P3", "13:05", 2)])
    assert decide(s, SETTINGS, NIFTY_0DTE, no_market).action is None


def test_cap_too_small_buys_nothing_and_alerts():
    settings = SETTINGS.with_values({"max_hedge_cost_per_day": 5})
    decision = decide(state(used=433000, n=1, entries=[("P2", "09:45", 2)]), settings, NIFTY_0DTE, chain)
    assert decision.action is None
    assert [a.kind for a in decision.alerts] == ["cap_reached"]


def test_cap_partly_left_buys_what_it_allows():
    # Needs 2 (sensex-like numbers); the cap leaves room for exactly one basket.
    s = state(used=433000, n=1, budget=1200000, entries=[("P2", "09:45", 2)], spent=49000)
    cheapest = min(q.ask for q in chain().quotes if q.option_type == "CE" and D(2) <= q.ask <= D(6))
    one_basket = cheapest * 2 * 65
    settings = SETTINGS.with_values({"max_hedge_cost_per_day": D(49000) + one_basket})
    decision = decide(s, settings, NIFTY_0DTE, chain)
    assert decision.action == BUY and decision.hedge_baskets == 1
    assert [a.kind for a in decision.alerts] == ["cap_reached"]
    assert "allows 1 of 2 hedge baskets at" in decision.alerts[0].text
    assert decision.expected_cost == one_basket


def likeliest_four(whole: Market) -> Market:
    """What the selector quotes first: four candidates a side, here the dearest eligible
    ones (the strike list's minutes-old prices ranked them wrong), the rest on demand."""
    dear = [q for q in whole.quotes if D(4) <= q.ask <= D(6)]
    return Market(whole.spot, dear, rest=lambda: whole)


def test_a_cap_too_small_for_the_quoted_strikes_buys_at_the_cheapest_eligible_in_the_window():
    s = state(used=433000, n=1, entries=[("P2", "09:45", 2)])
    settings = SETTINGS.with_values({"max_hedge_cost_per_day": D("2.05") * 2 * 65})
    decision = decide(s, settings, NIFTY_0DTE, lambda: likeliest_four(chain()))
    assert decision.action == BUY and decision.hedge_baskets == 1
    assert {(leg.option_type, leg.strike) for leg in decision.legs} == {("CE", D(25000)), ("PE", D(23000))}


def test_the_rest_of_the_window_is_not_priced_when_the_cap_leaves_room():
    def refuse():
        raise AssertionError("the rest of the window must not be priced")

    view = likeliest_four(chain())
    decision = decide(state(used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE,
                      lambda: Market(view.spot, view.quotes, rest=refuse))
    assert decision.action == BUY and decision.expected_cost == D("4.05") * 2 * 65


def test_cooldown_blocks_any_action():
    s = state(now="09:41", used=433000, n=1, entries=[("P2", "09:45", 2)], last="09:40")
    decision = decide(s, SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action is None and "cooldown" in decision.reason


def test_cheapest_eligible_strike_wins_under_the_constants_model():
    decision = decide(state(used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE, chain)
    for leg in decision.legs:
        assert D(2) <= leg.expected_price <= D(6)
        eligible = [q.ask for q in chain().quotes if q.option_type == leg.option_type and D(2) <= q.ask <= D(6)]
        assert leg.expected_price == min(eligible)
        assert leg.limit_price >= leg.expected_price
        assert leg.mbpr > leg.runner_up_mbpr


def test_no_eligible_strike_alerts_and_says_why():
    def market() -> Market:
        return Market(D("24000"), [OptionQuote("X", "CE", D("24500"), D("0.05"), D("0.10"))])

    decision = decide(state(used=433000, n=1, entries=[("P2", "09:45", 2)]), SETTINGS, NIFTY_0DTE, market)
    assert decision.action is None
    assert decision.alerts[0].kind == "no_eligible_strike"
    assert "premium outside" in decision.alerts[0].text


def held(bid="1.00", quantity=130):
    return tuple(
        HeldLeg(f"NIFTY{t}", t, D("24500") if t == "CE" else D("23500"), quantity, D(bid)) for t in ("CE", "PE")
    )


def test_spare_hedge_sold_only_as_far_as_later_entries_allow():
    # spare-hedges-reused at 12:30: P2 stopped out, 1 basket open, 2 hedges, P3 (2 baskets) at 13:05.
    s = state(now="12:30", used=187000, n=1, h=2, budget=1200000, entries=[("P3", "13:05", 2)], legs=held())
    assert sellable_hedges(s, SETTINGS, NIFTY_0DTE) == 1
    decision = decide(s, SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action == EXIT and decision.hedge_baskets == 1
    assert all(leg.side == "SELL" and leg.quantity == 65 for leg in decision.legs)


def test_no_exit_with_an_entry_inside_the_buffer():
    s = state(now="12:55", used=187000, n=1, h=2, budget=1200000, entries=[("P3", "13:05", 2)], legs=held())
    assert sellable_hedges(s, SETTINGS, NIFTY_0DTE) == 0


def test_no_exit_above_the_exit_trigger():
    s = state(now="12:00", used=900000, n=2, h=2, budget=1200000, legs=held())
    assert sellable_hedges(s, SETTINGS, NIFTY_0DTE) == 0


def test_exit_stops_where_utilisation_would_cross_the_exit_trigger():
    # 3 covered baskets at 1,000,000 budget: 561,000 = 56.1%. Selling one → 807,000 = 80.7% ≥ 70%.
    s = state(now="14:00", used=561000, n=3, h=3, budget=1000000, legs=held(quantity=195))
    assert sellable_hedges(s, SETTINGS, NIFTY_0DTE) == 0
    roomy = state(now="14:00", used=561000, n=3, h=3, budget=2000000, legs=held(quantity=195))
    assert sellable_hedges(roomy, SETTINGS, NIFTY_0DTE) == 3


def test_worthless_legs_are_left_to_expire():
    s = state(now="15:16", used=0, n=0, h=2, legs=held(bid="0.10"))
    assert decide(s, SETTINGS, NIFTY_0DTE, no_market).action is None


def test_exit_proceeds_are_decimal_from_the_bids():
    s = state(now="15:16", used=0, n=0, h=2, legs=held(bid="0.75"))
    decision = decide(s, SETTINGS, NIFTY_0DTE, no_market)
    assert decision.action == EXIT and decision.hedge_baskets == 2
    assert decision.expected_cost == D("0.75") * 130 * 2


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"entry_trigger_pct": 101}, "entry_trigger_pct"),
        ({"entry_target_pct": 96}, "entry_target_pct"),
        ({"lookahead_minutes": 1.5}, "lookahead_minutes"),
        ({"min_premium": "abc"}, "min_premium"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_settings_name_the_field(overrides, field):
    with pytest.raises(ValueError) as refused:
        HedgeSettings.for_index("NIFTY", overrides)
    assert str(refused.value).startswith(f"{field}:")
