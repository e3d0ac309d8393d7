"""`{% load money %}`: rupees in Indian grouping and percentages, as the trader reads them
on the pages and on Telegram (`hedging.core.money`)."""

from decimal import Decimal

from django import template

from hedging.core.money import format_inr, format_lakh, format_pct

register = template.Library()


@register.filter
def inr(amount: Decimal | None) -> str:
    """₹13,00,000 · ₹1,830.50"""
    return "—" if amount is None else format_inr(Decimal(amount))


@register.filter
def lakh(amount: Decimal | None) -> str:
    """₹13L · ₹4.33L · ₹1.25Cr"""
    return "—" if amount is None else format_lakh(Decimal(amount))


@register.filter
def pct(value: Decimal | None) -> str:
    """84.1% · 95%"""
    return "—" if value is None else format_pct(Decimal(value))
