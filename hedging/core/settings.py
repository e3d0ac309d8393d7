"""The hedging settings, with the plan's defaults. One name per setting everywhere:
model field, API field, replay `config` key."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

INDEX_DEFAULTS: dict[str, dict[str, Any]] = {
    "NIFTY": {"min_otm_distance": Decimal("200"), "max_otm_distance": Decimal("1000"), "lots_per_basket": 1},
    "SENSEX": {"min_otm_distance": Decimal("500"), "max_otm_distance": Decimal("2500"), "lots_per_basket": 10},
}
BUDGET_PER_BASKET = Decimal("1000000")


class SettingsError(ValueError):
    """A setting with a bad value; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class HedgeSettings:
    entry_trigger_pct: Decimal = Decimal("95")
    entry_target_pct: Decimal = Decimal("85")
    exit_trigger_pct: Decimal = Decimal("70")
    lookahead_minutes: int = 5
    max_hedge_cost_per_day: Decimal = Decimal("50000")
    cooldown_seconds: int = 120
    exit_buffer_minutes: int = 15
    min_exit_premium: Decimal = Decimal("0.50")
    min_premium: Decimal = Decimal("2")
    max_premium: Decimal = Decimal("6")
    min_otm_distance: Decimal = Decimal("200")
    max_otm_distance: Decimal = Decimal("1000")
    price_protection_pct: Decimal = Decimal("5")
    order_retries: int = 2

    @classmethod
    def for_index(cls, index: str, overrides: Mapping[str, Any] | None = None) -> "HedgeSettings":
        """Defaults for `index`, then `overrides` (e.g. a replay's `config`), validated."""
        if index not in INDEX_DEFAULTS:
            raise SettingsError("index", f"unknown index {index!r} (NIFTY or SENSEX)")
        base = cls(
            min_otm_distance=INDEX_DEFAULTS[index]["min_otm_distance"],
            max_otm_distance=INDEX_DEFAULTS[index]["max_otm_distance"],
        )
        return base.with_values(overrides or {})

    def with_values(self, values: Mapping[str, Any]) -> "HedgeSettings":
        known = {f.name: f.type for f in fields(self)}
        parsed: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is None:
                continue  # blank in a form or a row: keep the default
            if name not in known:
                raise SettingsError(name, "unknown setting")
            parsed[name] = _parse(name, raw, integer=known[name] == "int")
        settings = replace(self, **parsed)
        settings.validate()
        return settings

    def validate(self) -> None:
        for name in ("entry_trigger_pct", "entry_target_pct", "exit_trigger_pct", "price_protection_pct"):
            if not Decimal(0) <= getattr(self, name) <= Decimal(100):
                raise SettingsError(name, "must be between 0 and 100")
        if not self.exit_trigger_pct < self.entry_target_pct < self.entry_trigger_pct:
            raise SettingsError("entry_target_pct", "thresholds must be ordered: exit trigger < target < entry trigger")
        if self.lookahead_minutes < 1:
            raise SettingsError("lookahead_minutes", "must be at least 1")
        if self.min_premium <= 0 or self.max_premium < self.min_premium:
            raise SettingsError("min_premium", "premium window must be positive with min ≤ max")
        if self.min_otm_distance < 0 or self.max_otm_distance < self.min_otm_distance:
            raise SettingsError("min_otm_distance", "distance window must be non-negative with min ≤ max")
        for name in ("max_hedge_cost_per_day", "cooldown_seconds", "exit_buffer_minutes", "min_exit_premium", "order_retries"):
            if getattr(self, name) < 0:
                raise SettingsError(name, "cannot be negative")


def _parse(name: str, raw: Any, *, integer: bool) -> Any:
    if isinstance(raw, bool):
        raise SettingsError(name, "must be a number")
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise SettingsError(name, "must be a number") from None
    if not value.is_finite():
        raise SettingsError(name, "must be a finite number")
    if integer:
        if value != value.to_integral_value():
            raise SettingsError(name, "must be a whole number")
        return int(value)
    return value
