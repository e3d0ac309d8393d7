"""Request validation in the manner of OpenAlgo's marshmallow schemas: the same field
rules and the same messages ("Missing data for required field.", "Unknown field.", …),
so the simulated broker refuses exactly what the real one refuses."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

MISSING = object()
OFFSET = re.compile(r"^(ATM|(ITM|OTM)([1-9]|[1-4][0-9]|50))$")
Errors = dict[Any, Any]
Check = Callable[[Any], str | None]

VALID_EXCHANGES = ["NSE", "NFO", "CDS", "BSE", "BFO", "BCD", "MCX", "NCDEX", "NSE_INDEX", "BSE_INDEX"]
FNO_EXCHANGES = ["NFO", "BFO", "MCX", "CDS", "NCO", "BCD", "NCDEX", "CRYPTO"]
ACTIONS = ["BUY", "SELL", "buy", "sell"]
PRICE_TYPES = ["MARKET", "LIMIT", "SL", "SL-M"]
PRODUCTS = ["MIS", "NRML", "CNC"]


@dataclass(frozen=True)
class Field:
    kind: str  # "str", "float", "int", "bool" or "list"
    required: bool = False
    default: Any = MISSING
    check: Check | None = None
    allow_none: bool = False
    item: Schema | None = None

    def load(self, value: Any) -> tuple[Any, Any]:
        """(value, None) or (None, error messages)."""
        if value is None:
            return (None, None) if self.allow_none else (None, ["Field may not be null."])
        loaded, error = _LOADERS[self.kind](value, self)
        if error is not None:
            return None, error
        problem = self.check(loaded) if self.check else None
        return (None, [problem]) if problem else (loaded, None)


class Schema:
    def __init__(self, **fields: Field):
        self.fields = fields

    def load(self, data: Any) -> tuple[dict, Errors]:
        if not isinstance(data, dict):
            return {}, {"_schema": ["Invalid input type."]}
        loaded: dict = {}
        errors: Errors = {}
        for name, spec in self.fields.items():
            if name not in data:
                if spec.required:
                    errors[name] = ["Missing data for required field."]
                elif spec.default is not MISSING:
                    loaded[name] = spec.default
                continue
            value, error = spec.load(data[name])
            if error is not None:
                errors[name] = error
            else:
                loaded[name] = value
        for name in data:
            if name not in self.fields:
                errors[name] = ["Unknown field."]
        return loaded, errors


def _load_str(value: Any, spec: Field) -> tuple[Any, Any]:
    return (value, None) if isinstance(value, str) else (None, ["Not a valid string."])


def _load_float(value: Any, spec: Field) -> tuple[Any, Any]:
    if isinstance(value, bool):
        return None, ["Not a valid number."]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, ["Not a valid number."]
    if math.isnan(number) or math.isinf(number):
        return None, ["Special numeric values (nan or infinity) are not permitted."]
    return number, None


def _load_int(value: Any, spec: Field) -> tuple[Any, Any]:
    number, error = _load_float(value, spec)
    if error is not None or number != int(number):
        return None, ["Not a valid integer."]
    return int(number), None


# True also stands for 1, False for 0 (equal, so one set member)
TRUTHY = {True, "true", "True", "TRUE", "1", "t", "T", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"}
FALSY = {False, "false", "False", "FALSE", "0", "f", "F", "no", "No", "NO", "n", "N", "off", "Off", "OFF"}


def _load_bool(value: Any, spec: Field) -> tuple[Any, Any]:
    """marshmallow's Boolean: its truthy and falsy spellings, nothing else."""
    try:
        if value in TRUTHY:
            return True, None
        if value in FALSY:
            return False, None
    except TypeError:  # unhashable: a list or an object
        pass
    return None, ["Not a valid boolean."]


def _load_list(value: Any, spec: Field) -> tuple[Any, Any]:
    if not isinstance(value, list):
        return None, ["Not a valid list."]
    assert spec.item is not None
    items, errors = [], {}
    for index, entry in enumerate(value):
        loaded, error = spec.item.load(entry)
        if error:
            errors[index] = error
        items.append(loaded)
    return (None, errors) if errors else (items, None)


_LOADERS = {"str": _load_str, "float": _load_float, "int": _load_int, "bool": _load_bool, "list": _load_list}


def one_of(choices: list[str]) -> Check:
    return lambda value: None if value in choices else f"Must be one of: {', '.join(choices)}."


def at_least(minimum: float, message: str | None = None, inclusive: bool = True) -> Check:
    def check(value: float) -> str | None:
        if value > minimum or (inclusive and value == minimum):
            return None
        return message or f"Must be greater than or equal to {minimum}."
    return check


def between(minimum: int, maximum: int) -> Check:
    def check(value: int) -> str | None:
        if minimum <= value <= maximum:
            return None
        return f"Must be greater than or equal to {minimum} and less than or equal to {maximum}."
    return check


def length(minimum: int, maximum: int | None = None, message: str | None = None) -> Check:
    def check(value: Any) -> str | None:
        if len(value) >= minimum and (maximum is None or len(value) <= maximum):
            return None
        if message:
            return message
        if maximum is None:
            return f"Shorter than minimum length {minimum}."
        return f"Length must be between {minimum} and {maximum}."
    return check


def offset(value: str) -> str | None:
    if OFFSET.match(value.upper()):
        return None
    return "Offset must be ATM, ITM1-ITM50, or OTM1-OTM50"


def text(required: bool = False, **options: Any) -> Field:
    return Field("str", required=required, **options)


def number(required: bool = False, **options: Any) -> Field:
    return Field("float", required=required, **options)


def integer(required: bool = False, **options: Any) -> Field:
    return Field("int", required=required, **options)


APIKEY = text(True, check=length(1, 256))
KEY_ONLY = Schema(apikey=text(True))
EXCHANGE = text(True, check=one_of(VALID_EXCHANGES))
ACTION = text(True, check=one_of(ACTIONS))

SCHEMAS: dict[str, Schema] = {
    "funds": KEY_ONLY,
    "orderbook": KEY_ONLY,
    "tradebook": KEY_ONLY,
    "positionbook": KEY_ONLY,
    "ping": KEY_ONLY,
    "placeorder": Schema(
        apikey=APIKEY,
        strategy=text(True),
        exchange=EXCHANGE,
        symbol=text(True),
        action=ACTION,
        quantity=number(True, check=at_least(0, "Quantity must be a positive number.", inclusive=False)),
        pricetype=text(default="MARKET", check=one_of(PRICE_TYPES)),
        product=text(default="MIS", check=one_of(PRODUCTS)),
        price=number(default=0.0, check=at_least(0, "Price must be a non-negative number.")),
        trigger_price=number(default=0.0, check=at_least(0, "Trigger price must be a non-negative number.")),
        disclosed_quantity=integer(default=0, check=at_least(0, "Disclosed quantity must be a non-negative integer.")),
        underlying_ltp=number(default=None, allow_none=True),
    ),
    "modifyorder": Schema(
        apikey=APIKEY,
        strategy=text(True),
        exchange=EXCHANGE,
        symbol=text(True),
        orderid=text(True),
        action=ACTION,
        product=text(True, check=one_of(PRODUCTS)),
        pricetype=text(True, check=one_of(PRICE_TYPES)),
        price=number(True, check=at_least(0, "Price must be a non-negative number.")),
        quantity=number(True, check=at_least(0, "Quantity must be a positive number.", inclusive=False)),
        disclosed_quantity=integer(True, check=at_least(0, "Disclosed quantity must be a non-negative integer.")),
        trigger_price=number(True, check=at_least(0, "Trigger price must be a non-negative number.")),
    ),
    "cancelorder": Schema(apikey=APIKEY, strategy=text(True), orderid=text(True)),
    "orderstatus": Schema(apikey=text(True), strategy=text(True), orderid=text(True)),
    "margin": Schema(
        apikey=text(True, check=length(1, 256, "API key must be between 1 and 256 characters.")),
        positions=Field(
            "list",
            required=True,
            check=length(1, 50, "Positions must contain 1 to 50 items."),
            item=Schema(
                symbol=text(True, check=length(1, 50, "Symbol must be between 1 and 50 characters.")),
                exchange=EXCHANGE,
                action=ACTION,
                quantity=text(True),
                product=text(True, check=one_of(PRODUCTS)),
                pricetype=text(True, check=one_of(PRICE_TYPES)),
                price=text(default="0"),
                trigger_price=text(default="0"),
            ),
        ),
    ),
    "quotes": Schema(apikey=APIKEY, symbol=text(True), exchange=EXCHANGE),
    "multiquotes": Schema(
        apikey=APIKEY,
        symbols=Field("list", required=True, check=length(1), item=Schema(symbol=text(True), exchange=EXCHANGE)),
    ),
    "optionchain": Schema(
        apikey=APIKEY,
        underlying=text(True),
        exchange=EXCHANGE,
        expiry_date=text(True),
        strike_count=integer(allow_none=True, check=between(1, 100)),
    ),
    "optionsymbol": Schema(
        apikey=APIKEY,
        strategy=text(allow_none=True),
        underlying=text(True),
        exchange=EXCHANGE,
        expiry_date=text(),
        strike_int=integer(allow_none=True, check=at_least(1)),
        offset=text(True, check=offset),
        option_type=text(True, check=one_of(["CE", "PE", "ce", "pe"])),
    ),
    "analyzer": Schema(apikey=APIKEY),
    "analyzer/toggle": Schema(apikey=APIKEY, mode=Field("bool", required=True)),
    "expiry": Schema(
        apikey=APIKEY,
        symbol=text(True),
        exchange=text(True, check=one_of(FNO_EXCHANGES)),
        instrumenttype=text(True, check=one_of(["futures", "options"])),
    ),
}

# How each endpoint words a 400 for a request its schema refuses (docs/openalgo.md).
STRING_ERRORS = {"placeorder", "modifyorder", "cancelorder", "orderstatus", "margin", "analyzer", "analyzer/toggle"}
VALIDATION_ERRORS = {"optionchain", "optionsymbol"}


def validation_answer(endpoint: str, errors: Errors) -> dict:
    if endpoint in STRING_ERRORS:
        return {"status": "error", "message": str(errors)}
    if endpoint in VALIDATION_ERRORS:
        return {"status": "error", "message": "Validation error", "errors": _json_keys(errors)}
    return {"status": "error", "message": _json_keys(errors)}


def _json_keys(errors: Any) -> Any:
    """List indices become string keys, as JSON would make them."""
    if isinstance(errors, dict):
        return {str(key): _json_keys(value) for key, value in errors.items()}
    return errors
