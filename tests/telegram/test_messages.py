from datetime import UTC, date, datetime, time
from decimal import Decimal as D

import pytest

from brokers.telegram_sim import parse_html
from hedging import messages as m
from hedging.core.clock import IST

PAPER = m.SessionRef("Zerodha <main>", "NIFTY", date(2026, 2, 3), D("1000000"), paper=True)
LIVE = m.SessionRef("Zerodha", "SENSEX", date(2026, 2, 5), D("2000000"), paper=False)
AT = datetime(2026, 2, 3, 10, 25, tzinfo=IST)
ENTRY = m.Entry("Straddle <P&1>", time(10, 30), 1)
LEGS = [m.HedgeLeg("CE", D("25400"), 65, D("15")), m.HedgeLeg("PE", D("24200"), 65, D("14.50"))]


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


def test_format_pct():
    assert m.format_pct(D("84.15")) == "84.2%"
    assert m.format_pct(D("95")) == "95%"
    assert m.format_pct(D("97.246"), places=2) == "97.25%"


def visible(text: str) -> str:
    """What the trader reads; also proves Telegram would accept the HTML."""
    return parse_html(text)


def test_hedge_bought_says_what_why_cost_and_utilisation():
    text = m.hedge_bought(
        PAPER,
        baskets=1,
        legs=LEGS,
        reason=m.Lookahead([ENTRY], D("97.24"), D("95"), D("85"), D("84.1")),
        utilisation_pct=D("58.3"),
        spent_today=D("48917.5"),
        daily_cap=D("50000"),
        at=AT,
    )
    shown = visible(text)
    assert shown.startswith("🧪 PAPER")
    assert "Hedge bought · 10:25" in shown
    assert "1 hedge basket for ₹1,917.50" in shown
    assert "CE 25400 × 65 @ ₹15 = ₹975" in shown
    assert "PE 24200 × 65 @ ₹14.50 = ₹942.50" in shown
    assert "Straddle <P&1> at 10:30 (1 basket) would take utilisation to 97.2%, over the 95% trigger" in shown
    assert "Utilisation now 58.3%, ≈ 84.1% after the entry, of the ₹10L budget." in shown
    assert "Spent today ₹48,917.50 of the ₹50,000 cap." in shown
    assert "Zerodha <main>" in shown


def test_manual_buy_names_who_and_live_is_not_marked_paper():
    text = m.hedge_bought(
        LIVE,
        baskets=2,
        legs=LEGS,
        reason=m.Manual("Ravi"),
        utilisation_pct=D("40"),
        spent_today=D("3835"),
        daily_cap=D("50000"),
    )
    shown = visible(text)
    assert "PAPER" not in shown
    assert "Why: manual buy by Ravi." in shown
    assert "after the entry" not in shown
    assert "of the ₹20L budget" in shown


def test_hedge_exited():
    shown = visible(
        m.hedge_exited(
            PAPER,
            baskets=1,
            legs=[m.HedgeLeg("PE", D("24200"), 65, D("2"))],
            reason=m.ExitRule(D("70")),
            utilisation_pct=D("52"),
            paid=D("1917.50"),
            left_to_expire=[m.HedgeLeg("CE", D("25400"), 65, D("0.20"))],
        )
    )
    assert "1 hedge basket sold for ₹130; paid ₹1,917.50, net cost ₹1,787.50" in shown
    assert "Left to expire (under ₹0.50, not worth an order): CE 25400." in shown
    assert "under the 70% exit trigger" in shown
    assert "Utilisation now 52%" in shown


@pytest.mark.parametrize("status", ["failed", "rejected", "unfilled"])
def test_order_failed(status):
    shown = visible(
        m.order_failed(
            PAPER,
            action="buy",
            leg=m.HedgeLeg("PE", D("24200"), 65, D("3.15")),
            status=status,
            reason="RMS: <margin> & more",
            attempts=3,
            utilisation_pct=D("91.2"),
            spent=D("975"),
        )
    )
    assert f"Hedge buy order {status}" in shown
    assert "PE 24200 × 65, limit ₹3.15, after 3 attempts." in shown
    assert "Broker: RMS: <margin> & more" in shown
    assert "Paid ₹975 on the legs that filled" in shown
    assert "Utilisation now 91.2%" in shown


def test_breach_unavoidable_gives_the_excess_in_rupees():
    shown = visible(
        m.breach_unavoidable(
            PAPER,
            entries=[ENTRY],
            hedges_bought=3,
            cost=D("5850"),
            after_entry_pct=D("112.5"),
            target_pct=D("85"),
            utilisation_pct=D("80"),
        )
    )
    assert "even with 3 hedge baskets (₹5,850) utilisation reaches 112.5%, above the 85% target" in shown
    assert "₹1.25L over the budget" in shown


def test_cap_reached():
    shown = visible(
        m.cap_reached(
            PAPER,
            entries=[ENTRY],
            needed=2,
            bought=1,
            spent_today=D("48100"),
            daily_cap=D("50000"),
            basket_cost=D("1950"),
            after_entry_pct=D("96.4"),
        )
    )
    assert "needed 2 hedge baskets; the cap allowed 1" in shown
    assert "Spent ₹48,100 of the ₹50,000 cap; one more basket would cost ~₹1,950." in shown
    assert "Utilisation ≈ 96.4% after the entry" in shown


def test_no_eligible_strike_names_the_rules_that_excluded():
    shown = visible(
        m.no_eligible_strike(
            PAPER,
            option_type="PE",
            spot=D("24612.35"),
            candidates=31,
            excluded=m.StrikeExclusions(premium_below_min=22, no_live_quote=3, too_near=6),
            min_premium=D("2"),
            max_premium=D("6"),
            min_otm_distance=D("200"),
            max_otm_distance=D("1000"),
            entries=[ENTRY],
            utilisation_pct=D("78"),
            after_entry_pct=D("97.2"),
        )
    )
    assert "No eligible PE strike" in shown
    assert "Of 31 PE strikes (spot 24,612.35):" in shown
    assert "• 22 premium under ₹2\n• 3 no live bid/ask\n• 6 nearer than 200 points to spot" in shown
    assert "premium over" not in shown and "farther" not in shown


def test_broker_unreachable():
    shown = visible(
        m.broker_unreachable(
            account="Zerodha",
            paper=False,
            error="ConnectTimeout <host>",
            since=datetime(2026, 2, 3, 4, 50, tzinfo=UTC),
            failures=3,
            last_utilisation_pct=D("78.2"),
            last_seen=AT,
        )
    )
    assert "Broker unreachable" in shown
    assert "No answer since 10:20 (3 failed checks): ConnectTimeout <host>" in shown
    assert "Last known utilisation 78.2% at 10:25." in shown


def test_auto_hedge_toggled_session_and_global():
    off = visible(m.auto_hedge_toggled(enabled=False, by="Ravi <tg>", session=PAPER, at=AT))
    assert off.startswith("🧪 PAPER") and "Auto-hedge OFF · 10:25" in off
    assert "Turned off by Ravi <tg>." in off and "Manual buy and exit still work" in off
    on = visible(m.auto_hedge_toggled(enabled=True, by="admin", reason="market calm"))
    assert "PAPER" not in on
    assert "All sessions (global switch)" in on and "Reason: market calm" in on


def test_daily_summary():
    shown = visible(
        m.daily_summary(
            PAPER,
            day=date(2026, 2, 3),
            buys=2,
            baskets_bought=3,
            exits=1,
            spent=D("3900"),
            received=D("450.5"),
            daily_cap=D("50000"),
            peak_utilisation_pct=D("93.8"),
            peak_at=time(10, 55),
            entries=6,
            entries_hedged=2,
            failed_orders=1,
        )
    )
    assert "Day summary · Tue 03 Feb" in shown
    assert "Hedge buys: 2 (3 baskets); exits: 1." in shown
    assert "Spent ₹3,900 of the ₹50,000 cap; received ₹450.50; net ₹3,449.50." in shown
    assert "Peak utilisation 93.8% at 10:55." in shown
    assert "Entries: 6 (2 hedged, 4 needed none)." in shown
    assert "1 order failed" in shown and "above the target" not in shown


def test_forecast():
    buys = [m.ExpectedBuy(time(10, 25), 1, D("1950")), m.ExpectedBuy(time(10, 55), 1, D("1950"))]
    shown = visible(m.forecast(PAPER, buys=buys, daily_cap=D("50000")))
    assert "Today: 2 hedge buys expected, ~₹3,900, at 10:25 and 10:55; cap ₹50,000 covers it." in shown
    short = visible(m.forecast(PAPER, buys=buys, daily_cap=D("50000"), spent_today=D("47000")))
    assert "cap ₹50,000 leaves it ₹900 short" in short
    none = visible(m.forecast(LIVE, buys=[], daily_cap=D("50000")))
    assert "Today: no hedge buys expected" in none
