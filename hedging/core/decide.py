"""One tick's decision: given the state, the settings and a margin model, buy hedge
baskets, exit some, or do nothing — with the alerts that go with it.

Pure: no Django, no HTTP, no clock of its own. The market (spot and option quotes) is
asked for only when a buy is due, through the `market` callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import TypedDict

from hedging.core.margin import ConstantsMargin, one_decimal, utilisation_pct
from hedging.core.money import counted, format_inr
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import (
    TICK, Benefit, Candidate, HedgePick, LegChoice, NoEligibleStrike, OptionQuote, choose_hedge, choose_leg, exclusion,
    limit_price, nearest, otm_distance,
)

BUY, EXIT = "BUY", "EXIT"
SIDES = ("CE", "PE")
NEAREST = 3  # candidates a side a refused manual buy offers


@dataclass(frozen=True)
class Entry:
    name: str
    at: datetime
    baskets: int


@dataclass(frozen=True)
class HeldLeg:
    symbol: str
    option_type: str
    strike: Decimal
    quantity: int
    bid: Decimal | None  # None: no live bid


@dataclass(frozen=True)
class TickState:
    now: datetime
    budget: Decimal
    used_margin: Decimal  # U: intraday, baseline and exclusions already taken off
    open_baskets: int  # N
    hedges_held: int  # H, whole hedge baskets
    pending_entries: tuple[Entry, ...]  # today's enabled entries not entered yet
    basket_quantity: int  # lots_per_basket × lot_size: one leg of one basket
    spent_today: Decimal = Decimal(0)
    last_action_at: datetime | None = None
    held_legs: tuple[HeldLeg, ...] = ()


@dataclass(frozen=True)
class Market:
    spot: Decimal
    quotes: Sequence[OptionQuote]
    refused: tuple[str, ...] = ()  # candidates the broker gave no quote for
    # More strikes priced now, when `quotes` are only the likeliest few candidates: the
    # whole window (the automatic path), or beyond it too (a manual buy's candidates).
    rest: Callable[[], Market] | None = field(default=None, compare=False)

    def no_strike(self, pick: NoEligibleStrike) -> str:
        refused = f"; the broker refused to quote {', '.join(self.refused)}" if self.refused else ""
        return pick.reason() + refused


@dataclass(frozen=True)
class Alert:
    kind: str
    level: str  # info, warning, critical
    text: str
    dedupe_key: str = ""  # non-empty: at most once per session


@dataclass(frozen=True)
class OrderLeg:
    symbol: str
    option_type: str
    strike: Decimal
    side: str  # BUY or SELL
    quantity: int
    expected_price: Decimal  # the ask (buy) or bid (sell) the decision was priced at
    limit_price: Decimal
    mbpr: Decimal | None = None
    runner_up_mbpr: Decimal | None = None


@dataclass(frozen=True)
class Decision:
    action: str | None  # BUY, EXIT or None
    reason: str
    hedge_baskets: int = 0
    for_entries: tuple[str, ...] = ()
    util_before_pct: Decimal | None = None
    util_projected_pct: Decimal | None = None
    util_after_pct: Decimal | None = None
    expected_cost: Decimal = Decimal(0)
    legs: tuple[OrderLeg, ...] = ()
    alerts: tuple[Alert, ...] = field(default_factory=tuple)


class BuyContext(TypedDict):
    """What every decision of one buy check carries, whatever it comes to."""

    for_entries: tuple[str, ...]
    util_before_pct: Decimal
    util_projected_pct: Decimal


@dataclass(frozen=True)
class BuyNeed:
    entries: tuple[Entry, ...]
    baskets: int  # K
    projected: Decimal  # U_proj
    hedge_baskets: int  # the smallest h reaching the target, or all that help
    reaches_target: bool


def upcoming(state: TickState, lookahead_minutes: int) -> tuple[Entry, ...]:
    """Entries in (now, now + lookahead]."""
    horizon = state.now + timedelta(minutes=lookahead_minutes)
    return tuple(e for e in state.pending_entries if state.now < e.at <= horizon)


def projected(state: TickState, model: ConstantsMargin, extra_baskets: int, extra_hedges: int = 0) -> Decimal:
    n, h = state.open_baskets, state.hedges_held
    return state.used_margin + model.basket_margin(n + extra_baskets, h + extra_hedges) - model.basket_margin(n, h)


def pct(state: TickState, used: Decimal) -> Decimal:
    return utilisation_pct(used, state.budget)


def buy_need(state: TickState, settings: HedgeSettings, model: ConstantsMargin) -> BuyNeed | None:
    entries = upcoming(state, settings.lookahead_minutes)
    k = sum(e.baskets for e in entries)
    if not k:
        return None
    projection = projected(state, model, k)
    if pct(state, projection) <= settings.entry_trigger_pct:
        return None
    target = settings.entry_target_pct * state.budget / 100
    useful = max(state.open_baskets + k - state.hedges_held, 0)  # hedges beyond N + K save nothing
    for h in range(1, useful + 1):
        if projected(state, model, k, h) <= target:
            return BuyNeed(entries, k, projection, h, True)
    return BuyNeed(entries, k, projection, useful, False)


def cooldown_left(state: TickState, settings: HedgeSettings) -> float:
    if state.last_action_at is None:
        return 0.0
    elapsed = (state.now - state.last_action_at).total_seconds()
    return max(settings.cooldown_seconds - elapsed, 0.0)


def affordable(wanted: int, cost_per_basket: Decimal, spent: Decimal, cap: Decimal) -> int:
    """How many of `wanted` hedge baskets keep today's spend within the cap."""
    room = cap - spent
    if room <= 0:
        return 0
    if cost_per_basket <= 0:
        return wanted
    return min(wanted, int((room / cost_per_basket).to_integral_value(rounding=ROUND_FLOOR)))


def decide(
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin,
    market: Callable[[], Market],
    benefit: Benefit | None = None,
) -> Decision:
    """The automatic decision of one tick. Market hours, holidays and the kill switches
    are the caller's gate; cooldown, cap and the rules are here."""
    seen = outlook(state, settings, model)
    if seen.need:
        return buy_decision(state, settings, model, seen.need, market, benefit)
    if seen.action == EXIT:
        return exit_decision(state, settings, model) or Decision(None, LEFT_TO_EXPIRE)
    return Decision(None, seen.reason)


LEFT_TO_EXPIRE = "no hedge leg worth selling: left to expire"


@dataclass(frozen=True)
class Outlook:
    """What the rules say of a tick before the market is priced: the action due and why."""

    action: str | None
    reason: str
    need: BuyNeed | None = None


def outlook(state: TickState, settings: HedgeSettings, model: ConstantsMargin) -> Outlook:
    """The tick's rules in its order, before any price: the cooldown, a buy an entry in
    the lookahead needs, hedges the exit rule lets go. The tick decides on it and the
    status panel shows it."""
    wait = cooldown_left(state, settings)
    if wait:
        return Outlook(None, f"cooldown: {wait:.0f}s left")
    need = buy_need(state, settings, model)
    if need:
        reason = (
            f"{entry_label(need.entries)}: projected {one_decimal(pct(state, need.projected))}% "
            f"> {one_decimal(settings.entry_trigger_pct)}%: buy {counted(need.hedge_baskets, 'hedge basket')}"
        )
        return Outlook(BUY, reason if need.reaches_target else f"{reason}; the target is out of reach", need)
    sellable = sellable_hedges(state, settings, model)
    if sellable:
        return Outlook(EXIT, f"utilisation under {one_decimal(settings.exit_trigger_pct)}%: {counted(sellable, 'hedge basket')} can be sold")
    return Outlook(None, f"no entry in the next {settings.lookahead_minutes} min needs a hedge")


def quiet(state: TickState, settings: HedgeSettings, model: ConstantsMargin) -> str | None:
    """Why this tick has nothing to decide, or None when a buy or an exit is due (the
    market is read for it only then)."""
    seen = outlook(state, settings, model)
    if seen.action == EXIT and not exit_decision(state, settings, model):
        return LEFT_TO_EXPIRE
    return None if seen.action else seen.reason


def entry_label(entries: Sequence[Entry]) -> str:
    return ", ".join(f"{e.name} at {e.at:%H:%M}" for e in entries)


def buy_decision(
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin,
    need: BuyNeed,
    market: Callable[[], Market],
    benefit: Benefit | None,
) -> Decision:
    names = tuple(e.name for e in need.entries)
    key = ",".join(names)
    before, proj = pct(state, state.used_margin), pct(state, need.projected)
    reason = f"{entry_label(need.entries)}: projected {one_decimal(proj)}% > {one_decimal(settings.entry_trigger_pct)}%"
    common = BuyContext(for_entries=names, util_before_pct=before, util_projected_pct=proj)
    if not need.hedge_baskets:
        text = f"{reason}; every basket is hedged already, the entry will breach the budget"
        return Decision(None, text, alerts=(Alert("breach_unavoidable", "critical", text, f"breach:{key}"),), **common)

    view = market()
    pick = choose_hedge(view.quotes, view.spot, settings, state.basket_quantity, benefit or flat_benefit(model))
    if view.rest and isinstance(pick, HedgePick) and capped(state, settings, need, pick):
        # The few strikes quoted were ranked by the strike list's minutes-old prices: when the
        # cap binds, a cheaper eligible strike elsewhere in the window buys more.
        view = view.rest()
        pick = choose_hedge(view.quotes, view.spot, settings, state.basket_quantity, benefit or flat_benefit(model))
    if isinstance(pick, NoEligibleStrike):
        text = f"{reason}; {view.no_strike(pick)}"
        return Decision(None, text, alerts=(Alert("no_eligible_strike", "critical", text, f"no_strike:{key}"),), **common)
    if benefit:  # per-strike model: the chosen strikes set what a hedge basket saves
        model = model.with_saving(pick.saving_per_basket())
        need = buy_need(state, settings, model) or need

    alerts: list[Alert] = []
    wanted = need.hedge_baskets
    cost = pick.cost_per_basket(state.basket_quantity)
    h = affordable(wanted, cost, state.spent_today, settings.max_hedge_cost_per_day)
    if not need.reaches_target:
        after_all = pct(state, projected(state, model, need.baskets, wanted))
        text = (
            f"{reason}; even {counted(wanted, 'hedge basket')} leave {one_decimal(after_all)}% "
            f"> target {one_decimal(settings.entry_target_pct)}%: the entry will breach the budget"
        )
        alerts.append(Alert("breach_unavoidable", "critical", text, f"breach:{key}"))
    if h < wanted:
        text = (
            f"{reason}; the daily cap {format_inr(settings.max_hedge_cost_per_day)} (spent {format_inr(state.spent_today)}) "
            f"allows {h} of {counted(wanted, 'hedge basket')} at {format_inr(cost)} each: shortfall {wanted - h}"
        )
        alerts.append(Alert("cap_reached", "critical", text, f"cap:{key}"))
    if not h:
        return Decision(None, reason, alerts=tuple(alerts), **common)

    legs = buy_legs(pick, h * state.basket_quantity, settings)
    return Decision(
        BUY,
        reason,
        hedge_baskets=h,
        util_after_pct=pct(state, projected(state, model, need.baskets, h)),
        expected_cost=cost * h,
        legs=legs,
        alerts=tuple(alerts),
        **common,
    )


def capped(state: TickState, settings: HedgeSettings, need: BuyNeed, pick: HedgePick) -> bool:
    cost = pick.cost_per_basket(state.basket_quantity)
    return affordable(need.hedge_baskets, cost, state.spent_today, settings.max_hedge_cost_per_day) < need.hedge_baskets


def buy_legs(pick: HedgePick, quantity: int, settings: HedgeSettings) -> tuple[OrderLeg, ...]:
    return tuple(
        OrderLeg(
            symbol=leg.quote.symbol,
            option_type=leg.quote.option_type,
            strike=leg.quote.strike,
            side="BUY",
            quantity=quantity,
            expected_price=leg.ask,
            limit_price=limit_price(leg.ask, settings.price_protection_pct),
            mbpr=leg.mbpr,
            runner_up_mbpr=leg.runner_up_mbpr,
        )
        for leg in (pick.ce, pick.pe)
    )


def flat_benefit(model: ConstantsMargin) -> Benefit:
    half = model.saving_per_hedge_basket() / 2
    return lambda quote: half


def sellable_hedges(state: TickState, settings: HedgeSettings, model: ConstantsMargin) -> int:
    """How many hedge baskets the exit rule allows selling now (spare ones go first:
    they change no margin, so they pass every test below before a covering one does)."""
    if not state.hedges_held or pct(state, state.used_margin) >= settings.exit_trigger_pct:
        return 0
    buffer_end = state.now + timedelta(minutes=settings.exit_buffer_minutes)
    if any(state.now < e.at <= buffer_end for e in state.pending_entries):
        return 0
    later = sum(e.baskets for e in state.pending_entries if e.at > state.now)
    n, h = state.open_baskets, state.hedges_held
    allowed = 0
    for x in range(1, h + 1):
        used = state.used_margin - model.basket_margin(n, h) + model.basket_margin(n, h - x)
        if pct(state, used) >= settings.exit_trigger_pct:
            break
        # The rest of today's entries, with today's open baskets kept open, must not need a hedge again.
        if later and pct(state, used + model.basket_margin(n + later, h - x) - model.basket_margin(n, h - x)) > settings.entry_trigger_pct:
            break
        allowed = x
    return allowed


def exit_legs(state: TickState, settings: HedgeSettings, hedge_baskets: int) -> tuple[OrderLeg, ...]:
    """Legs to sell for `hedge_baskets`, best bid first; a leg under the minimum exit
    premium is left to expire."""
    legs: list[OrderLeg] = []
    for option_type in ("CE", "PE"):
        wanted = hedge_baskets * state.basket_quantity
        held = sorted(
            # (bid, leg): the filter leaves each a bid
            ((leg.bid, leg) for leg in state.held_legs
             if leg.option_type == option_type and leg.bid and leg.bid >= settings.min_exit_premium),
            key=lambda bid_leg: bid_leg[0],
            reverse=True,
        )
        for bid, leg in held:
            if not wanted:
                break
            quantity = min(wanted, leg.quantity)
            wanted -= quantity
            legs.append(
                OrderLeg(
                    symbol=leg.symbol,
                    option_type=option_type,
                    strike=leg.strike,
                    side="SELL",
                    quantity=quantity,
                    expected_price=bid,
                    limit_price=sell_limit(bid, settings.price_protection_pct),
                )
            )
    return tuple(legs)


def held_after(state: TickState, legs: Sequence[OrderLeg]) -> int:
    """Whole hedge baskets held once `legs` are sold: a leg left to expire still hedges."""
    def left(option_type: str) -> int:
        held = sum(leg.quantity for leg in state.held_legs if leg.option_type == option_type)
        return held - sum(leg.quantity for leg in legs if leg.option_type == option_type)

    return min(left("CE"), left("PE")) // state.basket_quantity


def left_to_expire(state: TickState, settings: HedgeSettings, hedge_baskets: int, legs: Sequence[OrderLeg]) -> str:
    """What of the baskets sold is not sold: legs whose bid is under the minimum exit
    premium stay held, to expire (the basket is broken all the same)."""
    left = []
    for option_type in ("CE", "PE"):
        unsold = hedge_baskets * state.basket_quantity - sum(leg.quantity for leg in legs if leg.option_type == option_type)
        if unsold:
            left.append(f"{option_type} ×{unsold}")
    if not left:
        return ""
    return f"; {' and '.join(left)} left to expire (bid under {format_inr(settings.min_exit_premium)})"


def sell_limit(bid: Decimal, protection_pct: Decimal) -> Decimal:
    raw = bid * (1 - protection_pct / 100)
    return max((raw / TICK).to_integral_value(rounding=ROUND_FLOOR) * TICK, TICK)


def exit_decision(state: TickState, settings: HedgeSettings, model: ConstantsMargin) -> Decision | None:
    x = sellable_hedges(state, settings, model)
    if not x:
        return None
    legs = exit_legs(state, settings, x)
    n, h = state.open_baskets, state.hedges_held
    kept = held_after(state, legs)
    if kept >= h:
        return None  # every leg is under the minimum exit premium (or none breaks a basket): left to expire
    after = state.used_margin - model.basket_margin(n, h) + model.basket_margin(n, kept)
    before = pct(state, state.used_margin)
    spare = max(h - n, 0)
    return Decision(
        EXIT,
        f"utilisation {one_decimal(before)}% < {one_decimal(settings.exit_trigger_pct)}%: "
        f"{counted(h - kept, 'hedge basket')} not needed for the rest of the day ({min(spare, h - kept)} spare)"
        f"{left_to_expire(state, settings, x, legs)}",
        hedge_baskets=h - kept,
        util_before_pct=before,
        util_projected_pct=before,
        util_after_pct=pct(state, after),
        expected_cost=sum((leg.expected_price * leg.quantity for leg in legs), Decimal(0)),
        legs=legs,
    )


class ActionRefused(ValueError):
    """A manual action the limits refuse; `field` names what to change."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class NoStrikeRefused(ActionRefused):
    """A manual buy with no eligible strike, and each side's nearest candidates, for
    the trader to choose from."""

    def __init__(self, message: str, candidates: dict[str, tuple[Candidate, ...]]):
        super().__init__("non_field_errors", message)
        self.candidates = candidates


def chosen_strikes(ce: Decimal | None, pe: Decimal | None) -> dict[str, Decimal]:
    """The strikes a trader chose by hand, by side; empty: the rules choose."""
    return {option_type: strike for option_type, strike in zip(SIDES, (ce, pe)) if strike is not None}


def strike_text(strike: Decimal) -> str:
    return f"{strike.normalize():f}"


def candidate_text(candidate: Candidate) -> str:
    quote = candidate.quote
    ask = format_inr(quote.ask) if quote.ask else "no ask"
    return f"{strike_text(quote.strike)} at {ask} ({candidate.excluded_by or 'within the rules'})"


def no_strike_refusal(view: Market, settings: HedgeSettings, quantity: int, benefit: Benefit) -> NoStrikeRefused:
    """The rules' reasons, side by side, and the strikes nearest to passing them."""
    missing = [leg for t in SIDES if isinstance(leg := choose_leg(view.quotes, t, view.spot, settings, quantity, benefit), NoEligibleStrike)]
    candidates = {t: nearest(view.quotes, t, view.spot, settings, NEAREST) for t in SIDES}
    offered = "; ".join(f"{t} {', '.join(map(candidate_text, found))}" for t, found in candidates.items() if found)
    reasons = "; ".join(view.no_strike(leg) for leg in missing)
    choose = f". Nearest: {offered}. Choose a CE and a PE strike to buy them by hand" if offered else ""
    return NoStrikeRefused(f"{reasons}{choose}", candidates)


def chosen_leg(view: Market, option_type: str, strike: Decimal, quantity: int, benefit: Benefit) -> LegChoice:
    """A strike the trader chose by hand: no premium or distance window, but OTM, not one
    the account is short, and with a live bid and ask."""
    field_name = f"{option_type.lower()}_strike"
    quote = next((q for q in view.quotes if q.option_type == option_type and q.strike == strike), None)
    if quote is None:
        refused = f" (the broker refused to quote {', '.join(view.refused)})" if view.refused else ""
        raise ActionRefused(field_name, f"no {option_type} strike {strike_text(strike)} on the option chain{refused}")
    if otm_distance(quote, view.spot) <= 0:
        raise ActionRefused(field_name, f"{quote.symbol} is not out of the money (spot {strike_text(view.spot)})")
    if quote.held_short:
        raise ActionRefused(field_name, f"the account is short {quote.symbol}: buying it would close a strategy's leg, not hedge it")
    if not quote.bid or not quote.ask:
        raise ActionRefused(field_name, f"{quote.symbol} has no live bid/ask")
    saving = benefit(quote)
    return LegChoice(quote=quote, mbpr=saving / (quote.ask * quantity), runner_up=None, runner_up_mbpr=None, saving=saving)


def manual_pick(
    state: TickState, settings: HedgeSettings, model: ConstantsMargin, market: Callable[[], Market],
    chosen: Mapping[str, Decimal],
) -> tuple[HedgePick, str]:
    """The rules' strikes or, `chosen` (CE and PE), the trader's: with the words the
    transaction's reason adds. Raises NoStrikeRefused with the nearest candidates."""
    for option_type in SIDES:
        if chosen and option_type not in chosen:
            raise ActionRefused(f"{option_type.lower()}_strike", "choose a CE and a PE strike: a hedge basket is one of each")
    view, benefit, quantity = market(), flat_benefit(model), state.basket_quantity
    if chosen:
        ce, pe = (chosen_leg(view, t, chosen[t], quantity, benefit) for t in SIDES)
        words = " and ".join(
            f"{leg.quote.option_type} {candidate_text(Candidate(leg.quote, exclusion(leg.quote, view.spot, settings)))}"
            for leg in (ce, pe)
        )
        return HedgePick(ce, pe), f", strikes chosen by hand (an override of the strike rules): {words}"
    pick = choose_hedge(view.quotes, view.spot, settings, quantity, benefit)
    if isinstance(pick, NoEligibleStrike) and view.rest:
        view = view.rest()
        pick = choose_hedge(view.quotes, view.spot, settings, quantity, benefit)
    if isinstance(pick, NoEligibleStrike):
        raise no_strike_refusal(view, settings, quantity, benefit)
    return pick, ""


def manual_decision(
    state: TickState,
    settings: HedgeSettings,
    model: ConstantsMargin,
    action: str,
    hedge_baskets: int,
    market: Callable[[], Market],
    requested_by: str,
    strikes: Mapping[str, Decimal] | None = None,
) -> Decision:
    """A trader's own buy or exit: the same legs, cooldown and daily cap as automatic
    ones, but no trigger; a buy at the strikes the trader chose (`strikes`, CE and PE,
    see chosen_strikes) leaves the premium and distance windows aside. Raises
    ActionRefused."""
    if hedge_baskets < 1:
        raise ActionRefused("hedge_baskets", "must be at least 1")
    wait = cooldown_left(state, settings)
    if wait:
        raise ActionRefused("non_field_errors", f"cooldown: {wait:.0f}s left before the next hedge action")
    before = pct(state, state.used_margin)
    n, h = state.open_baskets, state.hedges_held
    override = ""
    if action != BUY and strikes:
        raise ActionRefused("non_field_errors", "strikes are chosen for a buy only")
    if action == BUY:
        pick, override = manual_pick(state, settings, model, market, strikes or {})
        cost = pick.cost_per_basket(state.basket_quantity)
        if affordable(hedge_baskets, cost, state.spent_today, settings.max_hedge_cost_per_day) < hedge_baskets:
            raise ActionRefused(
                "hedge_baskets",
                f"{counted(hedge_baskets, 'hedge basket')} at {format_inr(cost)} each would pass the daily cap "
                f"{format_inr(settings.max_hedge_cost_per_day)} (spent {format_inr(state.spent_today)})",
            )
        legs, expected, after = buy_legs(pick, hedge_baskets * state.basket_quantity, settings), cost * hedge_baskets, h + hedge_baskets
    elif action == EXIT:
        if hedge_baskets > h:
            raise ActionRefused("hedge_baskets", f"only {counted(h, 'hedge basket')} held")
        legs = exit_legs(state, settings, hedge_baskets)
        if not legs:
            raise ActionRefused("non_field_errors", f"every leg is under the minimum exit premium {format_inr(settings.min_exit_premium)}")
        expected, after = sum((leg.expected_price * leg.quantity for leg in legs), Decimal(0)), h - hedge_baskets
    else:
        raise ActionRefused("action", f"unknown action {action!r}")
    used_after = state.used_margin - model.basket_margin(n, h) + model.basket_margin(n, after)
    return Decision(
        action,
        f"manual {action.lower()} by {requested_by}{override}",
        hedge_baskets=hedge_baskets,
        util_before_pct=before,
        util_projected_pct=before,
        util_after_pct=pct(state, used_after),
        expected_cost=expected,
        legs=legs,
    )
