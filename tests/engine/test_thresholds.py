"""Every threshold the engine compares, tested exactly on its boundary and one step off.

A comparison written ``>`` for ``>=`` (or ``<`` for ``<=``) only changes a result when
a value sits exactly on the line, which random markets almost never produce. These
markets put it there on purpose:

- margin call (SPEC 4 step 7, ``ltv >= margin_call_ltv``): a flat market whose loan is
  exactly the threshold times the collateral, and one a hair below;
- expiry day (step 2 before step 6, ``expiry <= T``): a put expiring on the scenario's
  last day settles at expiry; one expiring the session after is sold at scenario end;
- roll day (step 3, first trading day ``T >= R``): a roll date on a bar day, on a day
  without a bar (the roll waits for the next bar), and on the entry day (refused);
- the snapshot provider's stale limit is pinned in
  ``tests/providers/test_snapshot_marks.py::test_a_mark_is_carried_at_most_max_stale_days_sessions``
  (a quote exactly ``max_stale_days`` sessions old is used, one more is not).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import roll, run
from fixture_markets import fixture_store

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import InvalidScenarioError

START = date(2024, 3, 1)  # a Friday; every fixture market starts here
END = date(2024, 4, 12)
THRESHOLD = 0.7
UNITS, SPOT = 100.0, 100.0  # the flat market closes at 100 every day


@pytest.fixture
def flat(tmp_path: Path) -> MarketDataStore:
    return fixture_store(tmp_path, "flat")


def _worthless_put() -> hf.StrategyTemplate:
    """A put so far out of the money, at so low a volatility, that it costs exactly 0.0."""
    return hf.protective_put("far-otm", spot_pct=0.5, target_expiry_days=30)


def _flat_run(store: MarketDataStore, margin_call_ltv: float) -> hf.BacktestRunResult:
    """The flat market with a loan of exactly ``THRESHOLD`` times the collateral."""
    state = hf.BacktestPortfolioState(
        underlying_units=UNITS,
        entry_spot=SPOT,
        loan_amount=THRESHOLD * UNITS * SPOT,
        margin_call_ltv=margin_call_ltv,
    )
    return run(
        store,
        [_worthless_put()],
        start=START,
        end=END,
        volatility=hf.ConstantVol(1e-4),
        state=state,
    )


def test_an_ltv_exactly_on_the_margin_call_line_is_a_margin_call(flat: MarketDataStore) -> None:
    result = _flat_run(flat, margin_call_ltv=THRESHOLD)
    daily = result.daily_path
    assert (daily["option_market_value"] == 0.0).all()  # nothing moves the LTV off the line
    assert (daily["ltv_unhedged"] == THRESHOLD).all()
    assert (daily["ltv_hedged"] == THRESHOLD).all()
    assert daily["margin_call_unhedged"].all()
    assert daily["margin_call_hedged"].all()
    summary = result.summary.row(0, named=True)
    assert summary["margin_call_days_unhedged"] == daily.height
    assert summary["margin_call_days_hedged"] == daily.height
    assert summary["max_ltv_hedged"] == summary["max_ltv_unhedged"] == THRESHOLD
    assert summary["days_protected_below_threshold"] == 0


def test_an_ltv_a_hair_below_the_line_is_no_margin_call(flat: MarketDataStore) -> None:
    line = float(np.nextafter(THRESHOLD, 1.0))  # the next float above the LTV
    result = _flat_run(flat, margin_call_ltv=line)
    daily = result.daily_path
    assert (daily["ltv_hedged"] == THRESHOLD).all()
    assert (daily["ltv_unhedged"] == THRESHOLD).all()
    assert not daily["margin_call_unhedged"].any()
    assert not daily["margin_call_hedged"].any()
    summary = result.summary.row(0, named=True)
    assert (summary["margin_call_days_unhedged"], summary["margin_call_days_hedged"]) == (0, 0)


# -- expiry day against the last day -------------------------------------------------------

WEEKLY_EXPIRY = date(2024, 3, 8)  # START + 7 days, a session


@pytest.mark.parametrize(
    ("end", "action", "reason"),
    [
        (WEEKLY_EXPIRY, "expire", "expiry"),  # the last day is the expiry: settled, not sold
        (date(2024, 3, 7), "sell_close", "scenario_end"),  # the session before: sold
    ],
)
def test_a_put_expiring_on_the_last_day_settles_at_expiry(
    tmp_path: Path, end: date, action: str, reason: str
) -> None:
    store = fixture_store(tmp_path, "monotonic_selloff")
    result = run(store, [hf.protective_put("atm", target_expiry_days=7)], start=START, end=end)
    (closing,) = result.trades.filter(pl.col("action") != "buy_open").iter_rows(named=True)
    assert (closing["date"], closing["action"], closing["reason"]) == (end, action, reason)
    assert closing["expiry"] == WEEKLY_EXPIRY
    if action == "expire":  # at intrinsic value: strike 100 against the 95 close
        assert closing["price"] == 100.0 - 95.0
    assert result.trades.filter(action="buy_open").height == 1  # nothing opens on the last day


# -- roll day -------------------------------------------------------------------------------

MONTHLY_EXPIRY = date(2024, 3, 22)  # START + 21 days, a session
ROLL_DATE = date(2024, 3, 15)  # five sessions before it; the gap_day market has no bar then


@pytest.mark.parametrize(
    ("market", "rolled_on"),
    [("monotonic_selloff", ROLL_DATE), ("gap_day", date(2024, 3, 18))],
)
def test_a_roll_happens_on_the_roll_date_or_the_first_bar_after_it(
    tmp_path: Path, market: str, rolled_on: date
) -> None:
    store = fixture_store(tmp_path, market)
    template = hf.protective_put("atm", target_expiry_days=21, roll_policy=roll(5))
    result = run(store, [template], start=START, end=END)
    first_roll = result.trades.filter(reason="scheduled_roll", action="sell_close").row(
        0, named=True
    )
    assert first_roll["expiry"] == MONTHLY_EXPIRY
    assert first_roll["date"] == rolled_on


@pytest.mark.parametrize(("sessions_before", "refused"), [(4, False), (5, True)])
def test_a_roll_due_on_the_entry_day_is_refused_and_one_a_session_later_is_not(
    tmp_path: Path, sessions_before: int, refused: bool
) -> None:
    # A 7-day put bought on Friday 03-01 expires Friday 03-08: five sessions later.
    store = fixture_store(tmp_path, "monotonic_selloff")
    template = hf.protective_put("atm", target_expiry_days=7, roll_policy=roll(sessions_before))
    if refused:
        with pytest.raises(InvalidScenarioError, match="due to roll or expire on 2024-03-01"):
            run(store, [template], start=START, end=END)
        return
    # (Ends before 03-22, whose 7-day put would expire 03-28 before Good Friday, 4 sessions on.)
    result = run(store, [template], start=START, end=date(2024, 3, 12))
    first_roll = result.trades.filter(reason="scheduled_roll").row(0, named=True)
    assert first_roll["date"] == date(2024, 3, 4)  # the first session after the entry
