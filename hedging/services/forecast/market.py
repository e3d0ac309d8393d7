"""The market: the simulated broker's pricing model fitted to the broker's option chain
(implied volatilities, a line through them), and the index move of a day under it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from brokers.openalgo_types import OptionChain
from brokers.simbroker import pricing
from brokers.simbroker.scenario import MarketSpec, Scenario
from hedging.core.clock import MARKET_OPEN
from hedging.core.money import format_inr
from hedging.services.forecast.result import ForecastError

MIN_CALIBRATION_PRICE = Decimal("1")  # under ₹1 a ₹0.05 tick is 5% of the price: too coarse to read a volatility
TRADING_DAYS_A_YEAR = 252


def calibrate(chain: OptionChain, spot: Decimal, now: datetime, expiry: date, max_distance: Decimal) -> MarketSpec:
    """The simulated broker's pricing fitted to the chain's last prices: the implied
    volatility of each OTM strike within `max_distance` points priced at ₹1 or more, and
    the line iv = iv_atm + iv_wing_slope × |K/S − 1| × 100 through them (least squares)."""
    years = pricing.years_to_expiry(now, expiry)
    if years <= 0:
        raise ForecastError("expiry", f"the {expiry} series has expired")
    points = [
        (float(abs(strike / spot - 1) * 100), implied_vol(float(price), float(spot), float(strike), years, option_type))
        for strike, option_type, price in otm_prices(chain, spot, max_distance)
    ]
    if not points:
        raise ForecastError(
            "option_chain",
            f"no OTM strike within {max_distance} points priced at {format_inr(MIN_CALIBRATION_PRICE)} or more",
        )
    iv_atm, slope = fit_line(points)
    return MarketSpec(
        spot=[(MARKET_OPEN, spot)],
        strike_step=strike_step(chain),
        iv_atm=Decimal(f"{iv_atm:.4f}"),
        iv_wing_slope=Decimal(f"{slope:.4f}"),
    )


def otm_prices(chain: OptionChain, spot: Decimal, max_distance: Decimal) -> list[tuple[Decimal, str, Decimal]]:
    found = []
    for row in chain.strikes:
        option_type, leg = ("CE", row.ce) if row.strike >= spot else ("PE", row.pe)
        if leg is not None and leg.ltp and leg.ltp >= MIN_CALIBRATION_PRICE and abs(row.strike - spot) <= max_distance:
            found.append((row.strike, option_type, leg.ltp))
    return found


def implied_vol(price: float, spot: float, strike: float, years: float, option_type: str) -> float:
    """Bisection: the model's price rises with volatility."""
    low, high = 1e-4, 5.0
    for _ in range(60):
        middle = (low + high) / 2
        if pricing.black_scholes(spot, strike, years, middle, option_type) < price:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b·x; a flat line at the mean when the points give no rising wing."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    if slope <= 0:
        return mean_y, 0.0
    return mean_y - slope * mean_x, slope


def strike_step(chain: OptionChain) -> Decimal:
    strikes = sorted({row.strike for row in chain.strikes})
    steps = [b - a for a, b in zip(strikes, strikes[1:])]
    if not steps:
        raise ForecastError("option_chain", "fewer than two strikes listed")
    return min(steps)


def flat_spot(scenario: Scenario) -> Decimal:
    return scenario.market.spot[0][1]


def one_day_move(scenario: Scenario) -> Decimal:
    """One standard deviation of a day's index move under the model."""
    daily = (Decimal(1) / TRADING_DAYS_A_YEAR).sqrt()
    return (flat_spot(scenario) * scenario.market.iv_atm * daily).quantize(Decimal("0.01"))
