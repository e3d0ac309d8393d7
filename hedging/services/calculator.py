"""MarginCalculatorService: the session's settings and margin model, and the
per-strike benefit (what one hedge strike saves, by the broker's basket margin)."""

from __future__ import annotations

import time
from decimal import Decimal
from functools import lru_cache

from brokers.models import INDEX_EXCHANGE, OPTION_EXCHANGE
from brokers.openalgo import NotSupported
from brokers.openalgo_types import MarginLeg
from hedging.core.calendar import days_to_expiry
from hedging.core.margin import ConstantsMargin
from hedging.core.settings import HedgeSettings
from hedging.core.strikes import OptionQuote
from hedging.models import DailySession, ExchangeHoliday, MarginConstant, MarginModel
from hedging.services.monitor import broker_reads

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
    return _settings(session.index_name, tuple(getattr(session, name) for name in SETTING_FIELDS))


@lru_cache(maxsize=1024)
def _settings(index: str, values: tuple) -> HedgeSettings:
    """Parsed and checked once a worker for each set of values: a glance asks for them
    twice a session a minute, a thousand sessions a minute."""
    return HedgeSettings.for_index(index, dict(zip(SETTING_FIELDS, values)))


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


def per_strike_benefit(
    session: DailySession, broker, straddle: tuple[str, str], basket_quantity: int, model: ConstantsMargin
) -> StrikeSavings | None:
    """For the per-strike model: what each candidate saves. None under the constants model."""
    if session.margin_model != MarginModel.PER_STRIKE:
        return None
    return StrikeSavings(broker, straddle, OPTION_EXCHANGE[session.index_name], session.account.product, basket_quantity,
                         flat=model.saving_per_hedge_basket() / 2)


class StrikeSavings:
    """The margin a long leg saves on one short ATM straddle basket, as the broker's
    `margin` call says. The candidates' calls go out together once they are quoted
    (`ask`): one round trip (~50 ms from a real OpenAlgo), not one a candidate on the
    order path. A broker without the call (501) leaves each leg the constants' half of a
    hedge basket's saving, and `unsupported` says why."""

    def __init__(self, broker, straddle: tuple[str, str], exchange: str, product: str, quantity: int, flat: Decimal):
        self.broker, self.exchange, self.product, self.quantity, self.flat = broker, exchange, product, quantity, flat
        self.shorts = [self._leg(symbol, "SELL") for symbol in straddle]
        self.savings: dict[str, Decimal] = {}
        self.unsupported = ""

    def _leg(self, symbol: str, action: str) -> MarginLeg:
        return MarginLeg(symbol, self.exchange, action, self.quantity, self.product)

    def _total(self, extra: str | None) -> Decimal:
        legs = self.shorts + ([self._leg(extra, "BUY")] if extra else [])
        return self.broker.margin(legs).total_margin_required

    def ask(self, symbols: list[str]) -> None:
        without = broker_reads.submit(self._total, None)  # the shorts alone, sent first
        calls = {symbol: broker_reads.submit(self._total, symbol) for symbol in symbols}
        try:
            alone = without.result()
            self.savings = {symbol: max(alone - call.result(), Decimal(0)) for symbol, call in calls.items()}
        except NotSupported as refused:
            self.unsupported = str(refused)

    def __call__(self, quote: OptionQuote) -> Decimal:
        if self.unsupported:
            return self.flat
        if quote.symbol not in self.savings:
            self.ask([quote.symbol])
        return self.savings.get(quote.symbol, self.flat)
