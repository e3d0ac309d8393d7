"""MarginCalculatorService: the session's settings and margin model, and the
per-strike benefit (what one hedge strike saves, by the broker's basket margin)."""

from __future__ import annotations

import time
from decimal import Decimal
from functools import lru_cache

from brokers.models import INDEX_EXCHANGE, OPTION_EXCHANGE
from brokers.openalgo_types import MarginLeg
from hedging.core.calendar import days_to_expiry
from hedging.core.margin import ConstantsMargin
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import Benefit, OptionQuote
from hedging.models import DailySession, ExchangeHoliday, MarginConstant, MarginModel

SETTING_FIELDS = tuple(HedgeSettings.__dataclass_fields__)


class UnknownMarginConstants(ValueError):
    pass


REFERENCE_TTL = 60.0  # seconds: an edit to holidays or margin constants reaches every worker within a minute
_reference: dict[tuple, tuple[float, object]] = {}


def reference(key: tuple, load):
    """Reference data every tick asks for, read at most once a minute per process."""
    read_at, value = _reference.get(key, (0.0, None))
    if time.monotonic() - read_at > REFERENCE_TTL:
        value = load()
        _reference[key] = (time.monotonic(), value)
    return value


def forget_reference(**kwargs) -> None:
    _reference.clear()


def holidays(index_name: str) -> frozenset:
    exchange = INDEX_EXCHANGE[index_name]
    return reference(
        ("holidays", exchange),
        lambda: frozenset(ExchangeHoliday.objects.filter(exchange=exchange).values_list("date", flat=True)),
    )


def session_settings(session: DailySession) -> HedgeSettings:
    return HedgeSettings.for_index(session.index_name, {name: getattr(session, name) for name in SETTING_FIELDS})


def margin_model(session: DailySession) -> ConstantsMargin:
    if session.margin_unhedged is not None and session.margin_hedged is not None:
        return ConstantsMargin(session.margin_unhedged, session.margin_hedged)
    dte = days_to_expiry(session.date, session.expiry, holidays(session.index_name))
    row = reference(
        ("constants", session.index_name, dte),
        lambda: MarginConstant.objects.filter(index_name=session.index_name, dte=dte).first(),
    )
    if row is None:
        raise UnknownMarginConstants(
            f"No margin constants for {session.index_name} at {dte} DTE: "
            "give the session its own margin_unhedged and margin_hedged."
        )
    return ConstantsMargin(row.unhedged, row.hedged)


def per_strike_benefit(session: DailySession, broker, straddle: tuple[str, str], basket_quantity: int) -> Benefit | None:
    """For the per-strike model: the margin a long leg saves on one short ATM straddle
    basket, as the broker's `margin` call says. None under the constants model."""
    if session.margin_model != MarginModel.PER_STRIKE:
        return None
    exchange, product = OPTION_EXCHANGE[session.index_name], session.account.product

    def leg(symbol: str, action: str) -> MarginLeg:
        return MarginLeg(symbol, exchange, action, basket_quantity, product)

    shorts = [leg(symbol, "SELL") for symbol in straddle]

    @lru_cache(maxsize=None)
    def total(extra: str | None) -> Decimal:
        legs = shorts + ([leg(extra, "BUY")] if extra else [])
        return broker.margin(legs).total_margin_required

    def benefit(quote: OptionQuote) -> Decimal:
        return max(total(None) - total(quote.symbol), Decimal(0))

    return benefit
