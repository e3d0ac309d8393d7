"""A manual buy when the rules find no eligible strike: the nearest candidates the windows
excluded, and a buy at a CE and a PE strike the trader chose by hand, with every other
limit intact."""

from decimal import Decimal

import pytest

from hedging.core.decide import BUY, EXIT, ActionRefused, Market, NoStrikeRefused, manual_decision
from hedging.core.strikes import OptionQuote, nearest
from tests.core.test_decide import NIFTY_0DTE, SETTINGS, chain, state

D = Decimal
SPOT = D("24000")


def quote(option_type, strike, ask, bid=None, held_short=False):
    bid = ask - D("0.05") if bid is None and ask else bid
    return OptionQuote(f"NIFTY{strike}{option_type}", option_type, D(strike), bid, ask and D(ask), held_short=held_short)


def buy(market, strikes=None, **tick):
    return manual_decision(state(**tick), SETTINGS, NIFTY_0DTE, BUY, 1, lambda: market, "asha", strikes)


def test_the_nearest_candidates_come_eligible_first_then_the_nearest_misses_and_never_a_short_or_itm_strike():
    quotes = [
        quote("CE", 24100, D("40")),  # 100 points: distance and premium both miss
        quote("CE", 24150, D("6.50")),  # 150 points, ₹0.50 over the premium window
        quote("CE", 24300, D("7")),  # in the distance window, ₹1 over
        quote("CE", 25100, D("1.50")),  # 1100 points, ₹0.50 under
        quote("CE", 24250, None),  # no live ask
        quote("CE", 24200, D("3"), held_short=True),
        quote("CE", 23950, D("80")),  # in the money
        quote("PE", 23700, D("4")),
    ]
    found = nearest(quotes, "CE", SPOT, SETTINGS, 10)
    assert [(c.quote.strike, c.excluded_by) for c in found] == [
        (D("24150"), "distance outside 200–1000 points"),
        (D("25100"), "distance outside 200–1000 points"),
        (D("24300"), "premium outside ₹2–₹6"),
        (D("24100"), "distance outside 200–1000 points"),
        (D("24250"), "no live bid/ask"),
    ]
    assert [c.excluded_by for c in nearest(quotes, "PE", SPOT, SETTINGS, 3)] == [None]  # within the rules


def test_no_eligible_strike_refuses_with_each_sides_nearest_candidates_from_the_wider_view():
    narrow = Market(SPOT, [quote("CE", 24300, D("7")), quote("PE", 23700, D("4"))])
    wide = Market(SPOT, [*narrow.quotes, quote("CE", 24150, D("6.50")), quote("CE", 24350, D("6.20"))])
    with pytest.raises(NoStrikeRefused) as refused:
        buy(Market(SPOT, narrow.quotes, rest=lambda: wide))
    assert str(refused.value) == (
        "no eligible CE strike: 2 by premium outside ₹2–₹6, 1 by distance outside 200–1000 points. "
        "Nearest: CE 24350 at ₹6.20 (premium outside ₹2–₹6), 24150 at ₹6.50 (distance outside 200–1000 points), "
        "24300 at ₹7 (premium outside ₹2–₹6); PE 23700 at ₹4 (within the rules). "
        "Choose a CE and a PE strike to buy them by hand"
    )
    assert [c.quote.strike for c in refused.value.candidates["PE"]] == [D("23700")]


def test_the_chosen_strikes_are_bought_at_the_ask_plus_protection_and_the_reason_says_so():
    market = Market(SPOT, [quote("CE", 24150, D("6.50")), quote("PE", 23700, D("4"))])
    decision = buy(market, {"CE": D("24150"), "PE": D("23700")})
    assert decision.action == BUY and decision.hedge_baskets == 1
    assert decision.reason == (
        "manual buy by asha, strikes chosen by hand (an override of the strike rules): "
        "CE 24150 at ₹6.50 (distance outside 200–1000 points) and PE 23700 at ₹4 (within the rules)"
    )
    assert [(leg.symbol, leg.expected_price, leg.limit_price) for leg in decision.legs] == [
        ("NIFTY24150CE", D("6.50"), D("6.85")),
        ("NIFTY23700PE", D("4"), D("4.20")),
    ]
    assert decision.expected_cost == D("10.50") * 65


@pytest.mark.parametrize(
    "quotes, strikes, field, words",
    [
        ([quote("PE", 23700, D("4"))], {"CE": D("24150")}, "pe_strike", "choose a CE and a PE strike"),
        ([quote("PE", 23700, D("4"))], {"CE": D("24150"), "PE": D("23700")},
         "ce_strike", "no CE strike 24150 on the option chain"),
        ([quote("CE", 24150, D("6.5"), held_short=True), quote("PE", 23700, D("4"))], {"CE": D("24150"), "PE": D("23700")},
         "ce_strike", "the account is short NIFTY24150CE: buying it would close a strategy's leg, not hedge it"),
        ([quote("CE", 24150, D("6.5")), quote("PE", 23700, None)], {"CE": D("24150"), "PE": D("23700")},
         "pe_strike", "NIFTY23700PE has no live bid/ask"),
        ([quote("CE", 23900, D("90")), quote("PE", 23700, D("4"))], {"CE": D("23900"), "PE": D("23700")},
         "ce_strike", "NIFTY23900CE is not out of the money (spot 24000)"),
    ],
)
def test_a_chosen_strike_outside_the_hard_limits_is_refused_naming_its_field(quotes, strikes, field, words):
    with pytest.raises(ActionRefused) as refused:
        buy(Market(SPOT, quotes), strikes)
    assert refused.value.field == field and str(refused.value).startswith(words)


def test_chosen_strikes_keep_the_cooldown_and_the_daily_cap():
    market = Market(SPOT, [quote("CE", 24150, D("6.50")), quote("PE", 23700, D("4"))])
    strikes = {"CE": D("24150"), "PE": D("23700")}
    with pytest.raises(ActionRefused, match="cooldown: 60s left"):
        buy(market, strikes, now="09:40", last="09:39")
    capped_words = r"^1 hedge basket at ₹[0-9,.]+ each would pass the daily cap ₹50,000 \(spent ₹49,500\)"
    with pytest.raises(ActionRefused, match=capped_words) as capped:
        buy(market, strikes, spent=49500)
    assert capped.value.field == "hedge_baskets"


def test_strikes_are_chosen_for_a_buy_only():
    with pytest.raises(ActionRefused, match="strikes are chosen for a buy only"):
        manual_decision(state(h=1), SETTINGS, NIFTY_0DTE, EXIT, 1, chain, "asha", {"CE": D("24150"), "PE": D("23700")})


def test_an_exit_of_more_than_held_says_how_many_are():
    for held, words in ((1, "only 1 hedge basket held"), (2, "only 2 hedge baskets held")):
        with pytest.raises(ActionRefused, match=f"^{words}$"):
            manual_decision(state(h=held), SETTINGS, NIFTY_0DTE, EXIT, 3, chain, "asha")
