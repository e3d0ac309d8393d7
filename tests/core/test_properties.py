"""Properties of the decision core over random states (hypothesis)."""

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from hedging.core.clock import IST
from hedging.core.decide import BUY, EXIT, Entry, HeldLeg, Market, TickState, decide, projected
from hedging.core.margin import ConstantsMargin, utilisation_pct
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=IST)
SPOT = Decimal("24000")


def market() -> Market:
    quotes = [
        OptionQuote(f"{t}{k}", t, SPOT + k if t == "CE" else SPOT - k, Decimal("2.95"), Decimal("3.05"))
        for t in ("CE", "PE")
        for k in range(300, 901, 100)
    ]
    return Market(SPOT, quotes)


COST_PER_BASKET = Decimal("3.05") * 2 * 65

money = st.integers(min_value=0, max_value=3_000_000).map(Decimal)


@st.composite
def states(draw):
    unhedged = Decimal(draw(st.integers(200_000, 500_000)))
    model = ConstantsMargin(unhedged, unhedged * Decimal(draw(st.integers(20, 80))) / 100)
    n = draw(st.integers(0, 6))
    h = draw(st.integers(0, 8))
    entries = tuple(
        Entry(f"P{i}", NOW + timedelta(minutes=draw(st.integers(1, 120))), draw(st.integers(1, 4)))
        for i in range(draw(st.integers(0, 4)))
    )
    state = TickState(
        now=NOW,
        budget=Decimal(draw(st.integers(300_000, 6_000_000))),
        used_margin=draw(money) + model.basket_margin(n, h),
        open_baskets=n,
        hedges_held=h,
        pending_entries=entries,
        basket_quantity=65,
        spent_today=Decimal(draw(st.integers(0, 60_000))),
        held_legs=tuple(HeldLeg(f"{t}held", t, SPOT, h * 65, Decimal("1.00")) for t in ("CE", "PE")) if h else (),
    )
    return state, model


SETTINGS = HedgeSettings.for_index("NIFTY")


def window_baskets(state: TickState) -> int:
    return sum(e.baskets for e in state.pending_entries if NOW < e.at <= NOW + timedelta(minutes=SETTINGS.lookahead_minutes))


@settings(max_examples=400, deadline=None)
@given(states())
def test_a_buy_is_needed_and_no_larger_than_needed(case):
    state, model = case
    decision = decide(state, SETTINGS, model, market)
    if decision.action != BUY:
        return
    k = window_baskets(state)
    assert k > 0, "a buy with no entry coming"
    def pct(used):
        return utilisation_pct(used, state.budget)

    assert pct(projected(state, model, k)) > SETTINGS.entry_trigger_pct, "an unneeded buy"
    h = decision.hedge_baskets
    assert h <= state.open_baskets + k - state.hedges_held, "hedges beyond N + K save nothing"
    target = SETTINGS.entry_target_pct
    if h > 1:
        assert pct(projected(state, model, k, h - 1)) > target, "one fewer would have reached the target"
    assert state.spent_today + decision.expected_cost <= SETTINGS.max_hedge_cost_per_day


@settings(max_examples=400, deadline=None)
@given(states())
def test_when_capacity_and_cap_allow_the_projection_ends_at_or_under_the_trigger(case):
    state, model = case
    k = window_baskets(state)
    if not k:
        return
    useful = state.open_baskets + k - state.hedges_held
    def pct(used):
        return utilisation_pct(used, state.budget)

    reachable = useful > 0 and pct(projected(state, model, k, useful)) <= SETTINGS.entry_target_pct
    affordable = state.spent_today + COST_PER_BASKET * max(useful, 0) <= SETTINGS.max_hedge_cost_per_day
    if not (reachable and affordable):
        return
    decision = decide(state, SETTINGS, model, market)
    bought = decision.hedge_baskets if decision.action == BUY else 0
    assert pct(projected(state, model, k, bought)) <= SETTINGS.entry_trigger_pct


@settings(max_examples=400, deadline=None)
@given(states())
def test_an_exit_never_leaves_a_later_entry_needing_a_hedge(case):
    state, model = case
    decision = decide(state, SETTINGS, model, market)
    if decision.action != EXIT:
        return
    n, h, x = state.open_baskets, state.hedges_held, decision.hedge_baskets
    after = state.used_margin - model.basket_margin(n, h) + model.basket_margin(n, h - x)
    def pct(used):
        return utilisation_pct(used, state.budget)

    assert pct(after) < SETTINGS.exit_trigger_pct
    later = sum(e.baskets for e in state.pending_entries)
    assert pct(after + model.basket_margin(n + later, h - x) - model.basket_margin(n, h - x)) <= SETTINGS.entry_trigger_pct
    assert not any(NOW < e.at <= NOW + timedelta(minutes=SETTINGS.exit_buffer_minutes) for e in state.pending_entries)
