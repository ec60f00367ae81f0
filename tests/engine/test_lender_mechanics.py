"""Lender mechanics (SPEC 9.2): loan interest, margin-call cures and liquidations, de-risking.

Day by day: the loan accrues its rate; under ``cure`` a call sells collateral down to
``cure_ltv`` at the close (the row's LTV and flag are before the sale, its money after);
under ``liquidate`` the first call sells everything and closes every option; entries are
sized on the units held; the unhedged shadow takes the same policy. Properties over
generated markets: the sale lands exactly on ``cure_ltv``, never sells more than is held,
the loan never goes below zero, equity changes only by market moves, option P&L and
interest (a sale at the close leaves it unchanged), the lender pass agrees with the fast
path when it has nothing to do, and nothing after a day changes rows up to it.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, roll
from hypothesis import given
from hypothesis import strategies as st

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.models import MarginCallPolicy
from hedgeframe.providers import ContractArrays, MarkBatch, MarketTimeline
from hedgeframe.providers._timeline import as_date

SESSIONS = get_calendar("XNYS").sessions


def _market(root: Path, closes: list[float]) -> tuple[MarketDataStore, list[date]]:
    first = int(np.searchsorted(SESSIONS, np.datetime64("2016-01-04")))
    days = [as_date(d) for d in SESSIONS[first : first + len(closes)]]
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("SYN", days, closes))
    return store, days


def _state(
    spot: float,
    *,
    loan_ratio: float = 0.6,
    policy: str = "none",
    loan_rate: float = 0.0,
    cure_ltv: float = 0.6,
    margin_call_ltv: float = 0.75,
) -> hf.BacktestPortfolioState:
    return hf.BacktestPortfolioState(
        underlying_units=100.0,
        entry_spot=spot,
        loan_amount=loan_ratio * 100.0 * spot,
        margin_call_ltv=margin_call_ltv,
        loan_rate=loan_rate,
        margin_call_policy=MarginCallPolicy(policy),
        cure_ltv=cure_ltv,
    )


def _run(
    store: MarketDataStore,
    days: list[date],
    templates: list[hf.StrategyTemplate],
    state: hf.BacktestPortfolioState,
    *,
    spread_pct: float = 0.0,
) -> hf.BacktestRunResult:
    provider = hf.SyntheticHistoricalProvider(
        store, volatility=hf.ConstantVol(0.3), rate=0.02, spread_pct=spread_pct
    )
    scenario = hf.make_scenario(
        templates, provider, symbol="SYN", start_date=days[0], end_date=days[-1], portfolio=state
    )
    return hf.run_backtest(scenario, templates, provider)


def _rows(result: hf.BacktestRunResult, slug: str) -> pl.DataFrame:
    rows: pl.DataFrame = result.daily_path.filter(pl.col("template_slug") == slug)
    return rows


def _summary(result: hf.BacktestRunResult, slug: str) -> dict[str, object]:
    row: dict[str, object] = result.summary.filter(pl.col("template_slug") == slug).row(
        0, named=True
    )
    return row


SELLOFF = [100.0, 98.0, 95.0, 90.0, 84.0, 80.0, 78.0, 81.0, 83.0, 79.0, 76.0, 80.0]


def test_the_loan_accrues_its_rate_and_every_ltv_uses_the_days_loan(tmp_path: Path) -> None:
    store, days = _market(tmp_path, [100.0 + i for i in range(10)])
    result = _run(store, days, [hf.protective_put("pp", target_expiry_days=30)], _state(
        100.0, loan_rate=0.05))  # fmt: skip
    rows = _rows(result, "pp")
    loan = 6000.0
    for i, row in enumerate(rows.iter_rows(named=True)):
        if i:
            loan *= 1 + 0.05 * (days[i] - days[i - 1]).days / 365
        assert row["loan_amount"] == pytest.approx(loan, rel=1e-13)
        assert row["ltv_hedged"] == pytest.approx(loan / row["net_portfolio_value"], rel=1e-13)
        assert row["ltv_unhedged"] == pytest.approx(loan / row["underlying_value"], rel=1e-13)
        assert row["ltv_hedged_after"] == row["ltv_hedged"]  # no lender action: no change
        assert row["underlying_units"] == 100.0
    summary = _summary(result, "pp")
    assert summary["end_loan_amount"] == pytest.approx(loan, rel=1e-13)
    assert summary["end_equity_hedged"] == pytest.approx(
        rows["net_portfolio_value"][-1] - loan, rel=1e-13
    )


def test_a_cure_sells_collateral_down_to_the_cure_ltv_at_the_close(tmp_path: Path) -> None:
    store, days = _market(tmp_path, SELLOFF)
    result = _run(store, days, [hf.unhedged()], _state(100.0, policy="cure"))
    rows = _rows(result, "unhedged")
    called = rows.filter(pl.col("margin_call_hedged"))
    assert called.height >= 1
    first = called.row(0, named=True)
    day = days.index(first["date"])
    before = rows.row(day - 1, named=True)
    spot = SELLOFF[day]
    # Before the sale (the row's LTV and flag): the units of the day before, at today's close.
    value = before["underlying_units"] * spot
    assert first["ltv_hedged"] == pytest.approx(before["loan_amount"] / value, rel=1e-13)
    assert first["ltv_hedged"] >= 0.75
    # After it (the row's money): exactly the cure LTV.
    assert first["ltv_hedged_after"] == pytest.approx(0.6, abs=1e-12)
    sold = (before["loan_amount"] - 0.6 * value) / (1 - 0.6)
    assert first["loan_amount"] == pytest.approx(before["loan_amount"] - sold, rel=1e-12)
    assert first["underlying_units"] == pytest.approx(before["underlying_units"] - sold / spot)
    sale = result.trades.filter(pl.col("date") == first["date"]).row(0, named=True)
    assert (sale["action"], sale["reason"]) == ("sell_collateral", "margin_call_cure")
    assert sale["price"] == spot
    assert sale["cashflow"] == pytest.approx(sold, rel=1e-12)
    assert sale["quantity"] == pytest.approx(sold / spot, rel=1e-12)
    summary = _summary(result, "unhedged")
    sales = result.trades.filter(pl.col("action") == "sell_collateral")
    assert summary["forced_sale_value"] == pytest.approx(sales["cashflow"].sum(), rel=1e-12)
    assert summary["forced_sale_days"] == sales["date"].n_unique()
    # The shadow follows the same policy: the unhedged template is the shadow.
    assert summary["forced_sale_value_unhedged"] == pytest.approx(
        summary["forced_sale_value"], rel=1e-12
    )
    assert summary["end_equity_unhedged"] == pytest.approx(summary["end_equity_hedged"])


def test_entries_after_a_cure_are_sized_on_the_units_held(tmp_path: Path) -> None:
    closes = SELLOFF + [81.0 + i for i in range(20)]
    store, days = _market(tmp_path, closes)
    put = hf.protective_put("pp", spot_pct=0.7, target_expiry_days=10, roll_policy=roll(1))
    result = _run(store, days, [put], _state(100.0, policy="cure", loan_ratio=0.7))
    rows = _rows(result, "pp")
    trades = result.trades.filter(pl.col("action") == "buy_open").sort("date")
    assert result.trades.filter(pl.col("action") == "sell_collateral").height >= 1
    for trade in trades.iter_rows(named=True):
        day = days.index(trade["date"])
        held = 100.0 if day == 0 else rows["underlying_units"][day - 1]
        assert trade["quantity"] == pytest.approx(held, rel=1e-12), trade["date"]
    assert trades["quantity"].min() < 100.0  # a later entry bought fewer puts


def test_a_liquidation_sells_everything_and_closes_every_option_on_the_first_call(
    tmp_path: Path,
) -> None:
    store, days = _market(tmp_path, SELLOFF)
    collar = hf.collar("c", put_pct=0.8, call_pct=1.2, target_expiry_days=60)
    result = _run(store, days, [collar], _state(100.0, policy="liquidate", loan_ratio=0.7),
                  spread_pct=0.02)  # fmt: skip
    rows = _rows(result, "c")
    first = rows.filter(pl.col("margin_call_hedged")).row(0, named=True)
    trades = result.trades.filter(pl.col("date") == first["date"])
    assert trades["reason"].to_list() == ["margin_call_liquidation"] * 3
    assert trades["action"].to_list() == ["sell_close", "buy_close", "sell_collateral"]
    after = rows.filter(pl.col("date") > first["date"])
    assert (after["underlying_units"] == 0.0).all()
    assert (after["option_market_value"] == 0.0).all()
    assert after["active_position_ids"].list.len().max() == 0
    assert result.trades.filter(pl.col("date") > first["date"]).is_empty()
    assert first["underlying_units"] == 0.0
    assert first["realized_option_cashflow"] == pytest.approx(
        trades.filter(pl.col("action") != "sell_collateral")["cashflow"].sum(), rel=1e-12
    )
    positions = result.positions.filter(pl.col("close_reason") == "margin_call_liquidation")
    assert positions["closed_at"].to_list() == [first["date"]] * 2
    # The loan is repaid from the proceeds and the cash, as far as they go.
    assert first["loan_amount"] == 0.0
    assert first["cash"] == pytest.approx(first["net_portfolio_value"])


def test_a_de_risking_template_sells_on_its_first_day_and_at_its_trigger(tmp_path: Path) -> None:
    store, days = _market(tmp_path, SELLOFF)
    templates = [hf.de_risk(sell_fraction=0.25), hf.de_risk(trigger_ltv=0.7, target_ltv=0.62)]
    result = _run(store, days, templates, _state(100.0))
    first = _rows(result, "de-risk-25pct").row(0, named=True)
    assert first["underlying_units"] == 75.0
    assert first["loan_amount"] == pytest.approx(6000.0 - 2500.0)
    sale = result.trades.filter(pl.col("reason") == "de_risk_initial").row(0, named=True)
    assert (sale["date"], sale["quantity"], sale["cashflow"]) == (days[0], 25.0, 2500.0)
    triggered = _rows(result, "de-risk-0pct-at-70pct-to-62pct").filter(pl.col("ltv_hedged") >= 0.7)
    assert triggered.height >= 1
    assert triggered["ltv_hedged_after"].to_list() == pytest.approx([0.62] * triggered.height)
    summary = _summary(result, "de-risk-25pct")
    assert summary["forced_sale_value"] == 0.0  # de-risking is not a margin call
    assert summary["collateral_sold_units"] == 25.0


def test_under_a_cure_policy_fewer_forced_sales_rank_first(tmp_path: Path) -> None:
    store, days = _market(tmp_path, SELLOFF)
    templates = [hf.unhedged(), hf.protective_put("atm", target_expiry_days=60)]
    cured = _run(store, days, templates, _state(100.0, policy="cure", loan_ratio=0.7))
    assert cured.comparison["template_slug"].to_list() == ["atm", "unhedged"]
    forced = cured.comparison["forced_sale_value"].to_list()
    assert forced[0] < forced[1]


def test_the_hindsight_match_refuses_to_run_inside_a_backtest(tmp_path: Path) -> None:
    store, days = _market(tmp_path, [100.0 + i for i in range(20)])
    state = _state(100.0)

    class Peeking(hf.SyntheticHistoricalProvider):
        def mark_contracts(
            self, timeline: MarketTimeline, contracts: ContractArrays, day_index: np.ndarray
        ) -> MarkBatch:
            scenario = hf.make_scenario(
                [hf.unhedged()], self, symbol="SYN", start_date=days[0], end_date=days[-1],
                portfolio=state,
            )  # fmt: skip
            hf.match_de_risk(scenario, self, target_cost=100.0)
            return super().mark_contracts(timeline, contracts, day_index)

    provider = Peeking(store, volatility=hf.ConstantVol(0.3))
    put = hf.protective_put("pp", target_expiry_days=30)
    scenario = hf.make_scenario(
        [put], provider, symbol="SYN", start_date=days[0], end_date=days[-1], portfolio=state
    )
    with pytest.raises(hf.LookaheadError, match="match_de_risk reads the whole path"):
        hf.run_backtest(scenario, [put], provider)


def test_the_hindsight_match_finds_the_fraction_that_costs_what_the_hedge_cost(
    tmp_path: Path,
) -> None:
    store, days = _market(tmp_path, [100.0 + 0.5 * i for i in range(40)])  # a rising market
    put = hf.protective_put("pp", spot_pct=0.95, target_expiry_days=90)
    result = _run(store, days, [put], _state(100.0, loan_rate=0.03))
    cost = float(result.summary["total_hedge_cost"][0])
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.3), rate=0.02)
    match = hf.match_de_risk(result.scenario_snapshot, provider, target_cost=cost)
    assert 0.0 < match.sell_fraction < 0.99
    assert match.cost == pytest.approx(cost, rel=1e-9)
    falling, falling_days = _market(tmp_path / "down", [100.0 - 0.5 * i for i in range(40)])
    down = _run(falling, falling_days, [put], _state(100.0))
    with pytest.raises(hf.InvalidScenarioError, match="borrowing less gains"):
        hf.match_de_risk(
            down.scenario_snapshot,
            hf.SyntheticHistoricalProvider(falling, volatility=hf.ConstantVol(0.3), rate=0.02),
            target_cost=1000.0,
        )


# -- properties -----------------------------------------------------------------------------


@st.composite
def _paths(draw: st.DrawFn) -> list[float]:
    n = draw(st.integers(6, 45))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    drift = draw(st.sampled_from([-0.02, 0.0, 0.01]))
    path: list[float] = (100.0 * np.exp(np.cumsum(rng.normal(drift, 0.04, n)))).round(4).tolist()
    return path


def _structures() -> list[hf.StrategyTemplate]:
    return [
        hf.protective_put("pp", spot_pct=0.9, target_expiry_days=20, roll_policy=roll(2)),
        hf.collar("collar", put_pct=0.95, call_pct=1.1, target_expiry_days=25),
        hf.put_spread("spread", target_expiry_days=30),
        hf.unhedged(),
        hf.de_risk(sell_fraction=0.1, trigger_ltv=0.72, target_ltv=0.65),
    ]


STRUCTURES = _structures()


@given(
    closes=_paths(),
    policy=st.sampled_from(["none", "cure", "liquidate"]),
    loan_rate=st.sampled_from([0.0, 0.04, 0.3]),
    loan_ratio=st.sampled_from([0.5, 0.65, 0.72]),
)
def test_lender_laws_hold_on_every_day(
    closes: list[float], policy: str, loan_rate: float, loan_ratio: float
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        state = _state(closes[0], policy=policy, loan_rate=loan_rate, loan_ratio=loan_ratio)
        result = _run(store, days, STRUCTURES, state, spread_pct=0.01)
    sales = result.trades.filter(pl.col("action") == "sell_collateral")
    for template in STRUCTURES:
        rows = _rows(result, template.slug)
        assert (rows["loan_amount"] >= 0.0).all()
        assert (rows["underlying_units"] >= 0.0).all()
        mine = sales.filter(pl.col("template_id") == template.template_id)
        assert mine["quantity"].sum() <= 100.0 * (1 + 1e-12)
        previous = None
        for row in rows.iter_rows(named=True):
            day = days.index(row["date"])
            if row["margin_call_hedged"] and policy == "cure":
                sold_all = row["underlying_units"] == 0.0
                assert sold_all or row["ltv_hedged_after"] <= 0.6 + 1e-12
            if previous is not None:
                # Equity moves with the market, the options' P&L and interest only; a sale of
                # collateral at the close leaves it unchanged.
                growth = 1 + loan_rate * (days[day] - days[day - 1]).days / 365
                expected = (
                    previous["underlying_units"] * (closes[day] - closes[day - 1])
                    + row["option_market_value"]
                    + row["premium_cashflow"]
                    + row["realized_option_cashflow"]
                    - previous["option_market_value"]
                    - previous["loan_amount"] * (growth - 1)
                )
                change = (row["net_portfolio_value"] - row["loan_amount"]) - (
                    previous["net_portfolio_value"] - previous["loan_amount"]
                )
                scale = previous["net_portfolio_value"] + previous["loan_amount"]
                assert change == pytest.approx(expected, abs=1e-9 * scale), (template.slug, day)
            previous = row


@given(closes=_paths(), loan_rate=st.sampled_from([0.0, 0.05]))
def test_the_lender_pass_agrees_with_the_fast_path_when_nothing_is_sold(
    closes: list[float], loan_rate: float
) -> None:
    # A de-risking template that never sells forces the day-by-day pass on the whole batch.
    idle = hf.de_risk("idle")
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        state = _state(closes[0], loan_rate=loan_rate)
        fast = _run(store, days, STRUCTURES[:4], state, spread_pct=0.01)
        replayed = _run(store, days, [*STRUCTURES[:4], idle], state, spread_pct=0.01)
    for name in ("daily_path", "trades", "positions", "summary"):
        mine = replayed.tables()[name].filter(pl.col("template_id") != idle.template_id)
        theirs = fast.tables()[name]
        assert mine.columns == theirs.columns
        for column in theirs.columns:
            if theirs[column].dtype == pl.Float64:
                np.testing.assert_allclose(
                    mine[column].to_numpy(), theirs[column].to_numpy(), rtol=1e-12, atol=1e-9,
                    err_msg=f"{name}.{column}",
                )  # fmt: skip
            else:
                assert mine[column].equals(theirs[column]), f"{name}.{column}"


@given(
    closes=_paths(),
    cut=st.integers(2, 20),
    policy=st.sampled_from(["cure", "liquidate"]),
    seed=st.integers(0, 2**16),
)
def test_poisoning_the_future_leaves_every_row_up_to_t_unchanged(
    closes: list[float], cut: int, policy: str, seed: int
) -> None:
    cut = min(cut, len(closes) - 2)
    factor = np.random.default_rng(seed).uniform(0.2, 5.0)
    poisoned = closes[: cut + 1] + [c * factor for c in closes[cut + 1 :]]
    runs = []
    for path in (closes, poisoned):
        with tempfile.TemporaryDirectory() as tmp:
            store, days = _market(Path(tmp), path)
            state = _state(closes[0], policy=policy, loan_rate=0.04, loan_ratio=0.7)
            runs.append(_run(store, days, STRUCTURES, state, spread_pct=0.01))
    t = days[cut]
    for name in ("daily_path", "trades"):
        before, after = (r.tables()[name].filter(pl.col("date") <= t) for r in runs)
        assert before.equals(after), name


def test_a_cure_ltv_must_be_below_the_margin_call() -> None:
    with pytest.raises(hf.InvalidModelError, match=r"cure_ltv 0\.8 must be below margin_call_ltv"):
        _state(100.0, policy="cure", cure_ltv=0.8)
    with pytest.raises(hf.InvalidModelError, match="give trigger_ltv and target_ltv together"):
        hf.de_risk(trigger_ltv=0.7)
    with pytest.raises(hf.InvalidModelError, match=r"target_ltv 0\.8 must be below trigger_ltv"):
        hf.de_risk(trigger_ltv=0.7, target_ltv=0.8)
    assert math.isclose(_state(100.0, policy="cure").cure_ltv, 0.6)
