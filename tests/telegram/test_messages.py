from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal as D

import pytest
from django.template import Context, Template

from hedging.telegram.simulator import parse_html
from hedging import messages as m
from hedging.core.clock import IST

PAPER = m.SessionRef("Zerodha <main>", "NIFTY", date(2026, 2, 3), D("1000000"), paper=True)
LIVE = m.SessionRef("Zerodha", "SENSEX", date(2026, 2, 5), D("2000000"), paper=False)
AT = datetime(2026, 2, 3, 10, 25, tzinfo=IST)
LEGS = [m.HedgeLeg("NIFTY03FEB2625400CE", 65, D("15")), m.HedgeLeg("NIFTY03FEB2624200PE", 65, D("14.50"))]


@pytest.mark.parametrize(
    "amount, text",
    [
        ("433000", "₹4,33,000"),
        ("1830.5", "₹1,830.50"),
        ("1830.00", "₹1,830"),
        ("0", "₹0"),
        ("999", "₹999"),
        ("12345678.9", "₹1,23,45,678.90"),
        ("-250", "-₹250"),
        ("0.005", "₹0.01"),
    ],
)
def test_format_inr(amount, text):
    assert m.format_inr(D(amount)) == text


@pytest.mark.parametrize(
    "amount, text",
    [
        ("433000", "₹4.33L"),
        ("1000000", "₹10L"),
        ("150000", "₹1.5L"),
        ("12500000", "₹1.25Cr"),
        ("9999999", "₹1Cr"),
        ("50000", "₹50,000"),
    ],
)
def test_format_lakh(amount, text):
    assert m.format_lakh(D(amount)) == text


def test_pages_and_templates_format_rupees_alike():
    shown = Template("{% load money %}{{ budget|inr }} · {{ budget|lakh }} · {{ util|pct }}").render(
        Context({"budget": D("1300000"), "util": D("84.15")})
    )
    assert shown == "₹13,00,000 · ₹13L · 84.2%"


def test_format_pct():
    assert m.format_pct(D("84.15")) == "84.2%"
    assert m.format_pct(D("95")) == "95%"
    assert m.format_pct(D("97.246"), places=2) == "97.25%"


def visible(text: str) -> str:
    """What the trader reads; also proves Telegram would accept the HTML."""
    return parse_html(text)


def action(header=None, **changes):
    values = dict(
        header=header or m.Header("ℹ️", "Hedge bought", PAPER, at=AT),
        action="buy",
        baskets=1,
        legs=LEGS,
        amount=D("1917.50"),
        reason="Straddle <P&1> at 10:30: projected 97.2% > 95.0%",
        for_entries=["Straddle <P&1>"],
        utilisation_after_pct=D("84.1"),
        spent_today=D("48917.5"),
        daily_cap=D("50000"),
    )
    return m.HedgeAction(**(values | changes))


def test_hedge_bought_says_what_why_cost_and_utilisation():
    shown = visible(m.render("hedge_bought", a=action()))
    assert shown.startswith("🧪 PAPER · ℹ️ Hedge bought · 10:25\nNIFTY 03 Feb expiry · Zerodha <main>\n")
    assert "1 hedge basket for ₹1,917.50:" in shown
    assert "• NIFTY03FEB2625400CE × 65 @ ₹15 = ₹975\n• NIFTY03FEB2624200PE × 65 @ ₹14.50 = ₹942.50" in shown
    assert "Why: Straddle <P&1> at 10:30: projected 97.2% > 95.0%" in shown
    assert "Utilisation after Straddle <P&1> ≈ 84.1%, of the ₹10L budget." in shown
    assert "Spent today ₹48,917.50 of the ₹50,000 cap." in shown


def test_a_live_session_is_not_marked_and_a_sandbox_one_is():
    live = visible(m.render("hedge_bought", a=action(m.Header("ℹ️", "Hedge bought", LIVE))))
    assert live.startswith("ℹ️ Hedge bought\nSENSEX 05 Feb expiry · Zerodha")
    sandbox = replace(LIVE, sandbox=True)
    assert visible(m.render("hedge_bought", a=action(m.Header("ℹ️", "Hedge bought", sandbox)))).startswith("🧪 SANDBOX · ")


def test_hedge_exited_and_a_manual_reason():
    shown = visible(m.render("hedge_exited", a=action(action="exit", amount=D("130"), reason="manual exit by Ravi",
                                                        legs=[m.HedgeLeg("NIFTY03FEB2624200PE", 65, D("2"))])))
    assert "1 hedge basket sold for ₹130:\n• NIFTY03FEB2624200PE × 65 @ ₹2 = ₹130" in shown
    assert "Why: manual exit by Ravi" in shown
    assert "Utilisation now ≈ 84.1%" in shown and "Spent today" not in shown


def test_order_failed_says_what_filled_and_why_it_was_wanted():
    shown = visible(m.render("order_failed", a=action(status="partly filled", error="PE #1: RMS: <margin> & more",
                                                        legs=LEGS[:1], amount=D("975"))))
    assert "Hedge buy of 1 hedge basket partly filled: PE #1: RMS: <margin> & more" in shown
    assert "• filled NIFTY03FEB2625400CE × 65 @ ₹15 = ₹975\nPaid ₹975 on the legs that filled." in shown
    assert "Why it was wanted: Straddle <P&1> at 10:30: projected 97.2% > 95.0%" in shown
    nothing = visible(m.render("order_failed", a=action(status="failed", legs=[], amount=D("0"))))
    assert "failed: no fill\nNothing filled.\nWhy it was wanted" in nothing


def test_any_other_alert_is_its_text_under_the_header():
    shown = visible(m.render("alert", header=m.Header("🚨", "Tick failed", PAPER), text="P2 <09:45> & cap ₹5"))
    assert shown == "🧪 PAPER · 🚨 Tick failed\nNIFTY 03 Feb expiry · Zerodha <main>\nP2 <09:45> & cap ₹5"


def test_auto_hedge_toggled_session_and_global():
    off = visible(m.auto_hedge_toggled(enabled=False, by="Ravi <tg>", session=PAPER, at=AT))
    assert off.startswith("🧪 PAPER") and "Auto-hedge OFF · 10:25" in off
    assert "Turned off by Ravi <tg>." in off and "Manual buy and exit still work" in off
    on = visible(m.auto_hedge_toggled(enabled=True, by="admin", reason="market calm"))
    assert "PAPER" not in on
    assert "All sessions (global switch)" in on and "Reason: market calm" in on


def summary(**changes):
    values = dict(
        header=m.Header("📊", "Day summary · Tue 03 Feb", PAPER),
        buys=2, baskets_bought=3, exits=1, spent=D("3900"), received=D("450.5"), daily_cap=D("50000"),
        static_cost=D("11700"), price_source="paid", peak_utilisation_pct=D("93.8"),
        peak_at=datetime(2026, 2, 3, 10, 55, tzinfo=IST), entries=6, entries_hedged=2, breaches=0, failed_orders=1,
    )
    return m.DaySummary(**(values | changes))


def test_daily_summary():
    shown = visible(m.render("daily_summary", day=summary()))
    assert "Day summary · Tue 03 Feb" in shown
    assert "Hedge buys: 2 (3 baskets); exits: 1." in shown
    assert "Spent ₹3,900 of the ₹50,000 cap; received ₹450.50 from exits; net ₹3,449.50." in shown
    assert "Saved ₹8,250.50 against hedging every basket (~₹11,700)." in shown
    assert "Peak utilisation 93.8% at 10:55, of the ₹10L budget." in shown
    assert "Entries: 6 made, 2 needed a hedge, 4 needed none." in shown
    assert "Breaches: 0; failed orders: 1." in shown


def test_daily_summary_of_a_day_that_cost_more_than_hedging_everything():
    shown = visible(m.render("daily_summary", day=summary(static_cost=D("1000"), price_source="floor",
                                                          peak_utilisation_pct=None, failed_orders=0)))
    assert "Cost ₹2,449.50 more than hedging every basket (~₹1,000)." in shown
    assert "Peak utilisation: no reading today." in shown
    assert "⚠️" not in shown


def test_forecast():
    buys = [m.ExpectedBuy(time(10, 25), 1, D("1950")), m.ExpectedBuy(time(10, 55), 1, D("1950"))]
    shown = visible(m.forecast(PAPER, buys=buys, daily_cap=D("50000")))
    assert "Today: 2 hedge buys expected, ~₹3,900, at 10:25 and 10:55; cap ₹50,000 covers it." in shown
    short = visible(m.forecast(PAPER, buys=buys, daily_cap=D("50000"), spent_today=D("47000")))
    assert "cap ₹50,000 leaves it ₹900 short" in short
    none = visible(m.forecast(LIVE, buys=[], daily_cap=D("50000")))
    assert "Today: no hedge buys expected" in none
