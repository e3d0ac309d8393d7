from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.simbroker import ConstantsMargin, Option, SpanLikeMargin, StepFunction, basket_margin

from .helpers import DAY, call, flat_sim, moment, order, used_margin

MU, MH = Decimal(433000), Decimal(187000)
NIFTY_SPOT = {"NIFTY": Decimal(24000)}


def nifty_option(strike: int, side: str) -> Option:
    return Option("NIFTY", DAY, Decimal(strike), side)


def straddle(quantity: int, strike: int = 24000) -> dict[Option, int]:
    return {nifty_option(strike, "CE"): -quantity, nifty_option(strike, "PE"): -quantity}


def hedge(quantity: int, distance: int) -> dict[Option, int]:
    return {nifty_option(24000 + distance, "CE"): quantity, nifty_option(24000 - distance, "PE"): quantity}


# --- the constants model -------------------------------------------------------------


@pytest.mark.parametrize(
    ("open_baskets", "hedges", "expected"),
    [(0, 0, 0), (1, 0, MU), (1, 1, MH), (3, 1, MH + 2 * MU), (2, 2, 2 * MH), (1, 3, MH), (0, 2, 0)],
)
def test_basket_margin_charges_covered_baskets_mh_uncovered_mu_and_spares_nothing(open_baskets, hedges, expected):
    assert basket_margin(open_baskets, hedges, MU, MH) == expected


@given(open_baskets=st.integers(0, 8), hedges=st.integers(0, 8), basket_lots=st.integers(1, 3))
def test_constants_model_is_exactly_the_basket_formula(open_baskets, hedges, basket_lots):
    basket_qty = 65 * basket_lots
    model = ConstantsMargin.for_index("NIFTY", MU, MH, basket_qty)
    positions = {**straddle(open_baskets * basket_qty), **hedge(hedges * basket_qty, 500)}
    margin = model.margin(positions, NIFTY_SPOT)
    assert margin.total == min(open_baskets, hedges) * MH + max(open_baskets - hedges, 0) * MU


def test_constants_model_counts_whole_hedge_baskets_of_both_legs():
    model = ConstantsMargin.for_index("NIFTY", MU, MH, 65)
    lopsided = {**straddle(130), nifty_option(24500, "CE"): 130, nifty_option(23500, "PE"): 65}
    assert model.baskets("NIFTY", lopsided) == (2, 1)
    assert model.margin(lopsided, NIFTY_SPOT).total == MH + MU


def test_constants_model_keeps_expiries_apart():
    model = ConstantsMargin.for_index("NIFTY", MU, MH, 65)
    next_week = {Option("NIFTY", date(2026, 12, 1), Decimal(24500), "CE"): 65,
                 Option("NIFTY", date(2026, 12, 1), Decimal(23500), "PE"): 65}
    assert model.margin({**straddle(65), **next_week}, NIFTY_SPOT).total == MU


# --- the SPAN-like estimate ----------------------------------------------------------------


def span_total(positions: dict[Option, int], spot: int = 24000) -> Decimal:
    return SpanLikeMargin().margin(positions, {"NIFTY": Decimal(spot), "SENSEX": Decimal(80000)}).total


def test_span_like_is_calibrated_to_the_plans_nifty_0dte_constants():
    assert abs(span_total(straddle(65)) - MU) < Decimal(1000)
    assert abs(span_total({**straddle(65), **hedge(65, 500)}) - MH) < Decimal(1000)


def test_span_like_is_calibrated_to_the_plans_sensex_0dte_constants():
    def sensex(strike: int, side: str) -> Option:
        return Option("SENSEX", DAY, Decimal(strike), side)

    short = {sensex(80000, "CE"): -200, sensex(80000, "PE"): -200}
    hedged = {**short, sensex(81700, "CE"): 200, sensex(78300, "PE"): 200}
    assert abs(span_total(short) - Decimal(367000)) < Decimal(1000)
    assert abs(span_total(hedged) - Decimal(160000)) < Decimal(1000)


def test_the_nearer_the_hedge_the_larger_the_saving_and_none_beyond_its_range():
    unhedged = span_total(straddle(65))
    savings = [unhedged - span_total({**straddle(65), **hedge(65, distance)}) for distance in (200, 500, 1000, 1500)]
    assert savings[0] > savings[1] > savings[2] > 0
    assert savings[3] == 0  # 1500 points is beyond 6% of 24000


def test_a_hedge_saves_only_on_its_own_side_and_longs_alone_need_nothing():
    ce_only = {**straddle(65), nifty_option(24500, "CE"): 65}
    both = {**straddle(65), **hedge(65, 500)}
    assert span_total(straddle(65)) > span_total(ce_only) > span_total(both)
    assert span_total(hedge(65, 500)) == 0


def test_exposure_margin_is_not_reduced_by_hedges():
    model = SpanLikeMargin()
    plain = model.margin(straddle(65), NIFTY_SPOT)
    hedged = model.margin({**straddle(65), **hedge(65, 500)}, NIFTY_SPOT)
    assert hedged.exposure == plain.exposure > 0
    assert hedged.span < plain.span


# --- through the account: funds and the margin endpoint --------------------------------------


def sell_straddle(sim) -> None:
    for symbol in ("NIFTY24NOV2624000CE", "NIFTY24NOV2624000PE"):
        assert order(sim, symbol, "SELL", 65)[0] == 200


def trade_hedge(sim, action: str) -> None:
    for symbol in ("NIFTY24NOV2624500CE", "NIFTY24NOV2623500PE"):
        assert order(sim, symbol, action, 65)[0] == 200


def test_constants_model_used_margin_is_other_margin_plus_basket_margin_and_moves_with_hedges():
    other = StepFunction([(moment(9, 15), Decimal(50000)), (moment(10, 0), Decimal(120000))])
    sim = flat_sim(margin=ConstantsMargin.for_index("NIFTY", MU, MH, 65), other_margin=other)
    assert used_margin(sim) == Decimal(50000)
    sell_straddle(sim)
    assert used_margin(sim) == Decimal(50000) + MU
    trade_hedge(sim, "BUY")
    assert used_margin(sim) == Decimal(50000) + MH
    sim.clock.set(moment(10, 0))
    assert used_margin(sim) == Decimal(120000) + MH
    trade_hedge(sim, "SELL")
    assert used_margin(sim) == Decimal(120000) + MU


def test_span_like_used_margin_drops_when_a_hedge_is_bought_and_rises_when_it_is_sold():
    sim = flat_sim()
    sell_straddle(sim)
    unhedged = used_margin(sim)
    trade_hedge(sim, "BUY")
    hedged = used_margin(sim)
    trade_hedge(sim, "SELL")
    assert abs(unhedged - MU) < Decimal(1000)
    assert abs(hedged - MH) < Decimal(1000)
    assert used_margin(sim) == unhedged


def margin_call(sim, *legs: tuple[str, str]) -> dict:
    positions = [{"symbol": symbol, "exchange": "NFO", "action": action, "quantity": "65", "product": "MIS",
                  "pricetype": "MARKET"} for symbol, action in legs]
    status, answer = call(sim, "margin", positions=positions)
    assert status == 200, answer
    return answer["data"]


def test_margin_endpoint_counts_open_positions_and_answers_three_strings():
    sim = flat_sim()
    sell_straddle(sim)
    unhedged = used_margin(sim)
    near = margin_call(sim, ("NIFTY24NOV2624300CE", "BUY"), ("NIFTY24NOV2623700PE", "BUY"))
    far = margin_call(sim, ("NIFTY24NOV2624500CE", "BUY"), ("NIFTY24NOV2623500PE", "BUY"))
    assert set(far) == {"total_margin_required", "span_margin", "exposure_margin"}
    assert all(isinstance(value, str) for value in far.values())
    assert Decimal(near["total_margin_required"]) < Decimal(far["total_margin_required"]) < unhedged
    assert Decimal(far["total_margin_required"]) == Decimal(far["span_margin"]) + Decimal(far["exposure_margin"])
    trade_hedge(sim, "BUY")
    assert used_margin(sim) == Decimal(far["total_margin_required"])


def test_margin_endpoint_prices_an_entry_with_no_open_positions():
    sim = flat_sim(margin=ConstantsMargin.for_index("NIFTY", MU, MH, 65))
    entry = margin_call(sim, ("NIFTY24NOV2624000CE", "SELL"), ("NIFTY24NOV2624000PE", "SELL"))
    assert entry == {"total_margin_required": f"{MU:.2f}", "span_margin": f"{MU:.2f}", "exposure_margin": "0.00"}


def test_a_broker_without_a_margin_calculator_answers_501():
    sim = flat_sim(margin_api=False)
    positions = [{"symbol": "NIFTY24NOV2624000CE", "exchange": "NFO", "action": "SELL", "quantity": "65",
                  "product": "MIS", "pricetype": "MARKET"}]
    assert call(sim, "margin", positions=positions) == (
        501, {"status": "error", "message": "Simbroker does not support margin calculator API"})
    assert call(sim, "margin", positions=[{**positions[0], "quantity": 65}])[0] == 400  # validation comes first
