"""Scripted short straddles entering and exiting on the stepped clock."""

from decimal import Decimal

import pytest

from .helpers import call, flat_sim, moment, used_margin


def tagged(sim, name: str) -> list[tuple[str, str, str]]:
    rows = call(sim, "orderbook")[1]["data"]["orders"]
    return [(row["action"], row["symbol"], row["timestamp"][-8:]) for row in rows if row["strategy"] == name]


def test_a_strategy_sells_the_atm_straddle_at_entry_and_buys_it_back_at_exit():
    sim = flat_sim()
    sim.add_strategy("P1", "NIFTY", moment(9, 20), moment(15, 15), 65)
    sim.clock.set(moment(9, 19))
    assert tagged(sim, "P1") == [] and used_margin(sim) == 0
    sim.clock.set(moment(9, 20))
    assert tagged(sim, "P1") == [("SELL", "NIFTY24NOV2624000CE", "09:20:00"), ("SELL", "NIFTY24NOV2624000PE", "09:20:00")]
    assert used_margin(sim) > Decimal(400000)
    sim.clock.set(moment(15, 15))
    assert tagged(sim, "P1")[2:] == [("BUY", "NIFTY24NOV2624000CE", "15:15:00"), ("BUY", "NIFTY24NOV2624000PE", "15:15:00")]
    assert used_margin(sim) == 0
    assert [p["quantity"] for p in call(sim, "positionbook")[1]["data"]] == ["0", "0"]


def test_events_happen_at_their_own_time_even_when_the_clock_jumps_past_them():
    sim = flat_sim()
    sim.add_strategy("P1", "NIFTY", moment(9, 20), moment(11, 0), 130)
    sim.add_strategy("P2", "NIFTY", moment(9, 45), moment(15, 15), 65)
    sim.clock.set(moment(12, 0))
    log = [(entry.time.strftime("%H:%M"), entry.strategy, entry.action, entry.quantity) for entry in sim.order_log]
    assert log == [("09:20", "P1", "SELL", 130)] * 2 + [("09:45", "P2", "SELL", 65)] * 2 + [("11:00", "P1", "BUY", 130)] * 2
    trades = call(sim, "tradebook")[1]["data"]
    assert trades[0]["timestamp"] == "09:20:00"


def test_a_stop_out_closes_a_strategy_early_and_one_before_entry_cancels_it():
    sim = flat_sim()
    sim.add_strategy("P1", "NIFTY", moment(9, 20), moment(15, 15), 65)
    sim.add_strategy("P2", "NIFTY", moment(10, 0), moment(15, 15), 65)
    sim.stop_out("P1", moment(11, 42))
    sim.stop_out("P2", moment(9, 50))
    sim.clock.set(moment(12, 0))
    assert [row[2] for row in tagged(sim, "P1")] == ["09:20:00", "09:20:00", "11:42:00", "11:42:00"]
    assert tagged(sim, "P2") == []
    assert sim.state()["strategies"] == {"P1": "closed", "P2": "closed"}


def test_strategy_orders_count_in_funds_like_any_other():
    sim = flat_sim()
    sim.add_strategy("S1", "SENSEX", moment(10, 0), moment(15, 15), 200)
    sim.clock.set(moment(10, 0))
    assert abs(used_margin(sim) - Decimal(367000)) < Decimal(1000)


def test_a_strategy_quantity_must_be_whole_lots():
    sim = flat_sim()
    with pytest.raises(ValueError, match="lot size 65"):
        sim.add_strategy("P1", "NIFTY", moment(9, 20), moment(15, 15), 100)
