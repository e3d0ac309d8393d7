"""Rupees as the trader reads them, in Indian grouping (₹13,00,000 · ₹1,830.50 · ₹4.33L),
percentages (84.1%) and counts (1 hedge basket · 2 hedge baskets).

Pure Python, so the decision core can word its reasons with it; the pages and the
Telegram templates use the same functions (`hedging.templatetags.money`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PAISE = Decimal("0.01")
LAKH = Decimal("100000")
CRORE = Decimal("10000000")


def format_inr(amount: Decimal) -> str:
    """Indian grouping, paise only when non-zero: ₹4,33,000 · ₹1,830.50 · -₹250."""
    value = amount.quantize(PAISE, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    rupees, paise = f"{abs(value):.2f}".split(".")
    return f"{sign}₹{group_indian(rupees)}" + (f".{paise}" if paise != "00" else "")


def format_lakh(amount: Decimal) -> str:
    """Compact: ₹4.33L from one lakh, ₹1.25Cr from one crore; under a lakh as format_inr."""
    sign = "-" if amount < 0 else ""
    lakhs = (abs(amount) / LAKH).quantize(PAISE, rounding=ROUND_HALF_UP)
    if lakhs >= 100:
        crores = (abs(amount) / CRORE).quantize(PAISE, rounding=ROUND_HALF_UP)
        return f"{sign}₹{trim(crores)}Cr"
    if lakhs >= 1:
        return f"{sign}₹{trim(lakhs)}L"
    return format_inr(amount)


def group_indian(digits: str) -> str:
    """'1234567' → '12,34,567': the last three digits, then pairs."""
    head, last3 = digits[:-3], digits[-3:]
    pairs: list[str] = []
    while head:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([*pairs, last3])


def trim(value: Decimal) -> str:
    """Trailing zeros dropped: 4.50 → '4.5', 10.00 → '10'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_pct(value: Decimal, places: int = 1) -> str:
    """A utilisation or trigger: 84.1% · 95% (trailing zeros dropped)."""
    return f"{trim(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))}%"


def counted(count: int, noun: str) -> str:
    """'1 hedge basket' · '2 hedge baskets' · '0 hedge baskets' (nouns plural with an s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
