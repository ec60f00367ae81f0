"""Hedge structures on listed chains (SPEC 9.1, BT-002): deltas, zero cost, shorts, fees.

On the synthetic ^GSPC chain (which carries ``implied_volatility`` and ``delta``):
``delta_target`` takes the listed contract whose delta is nearest (the chain's delta, else
one computed from its implied volatility), ``zero_cost`` the listed call whose mid is
nearest the long legs' cost, short legs sell at the bid and buy back at the ask under
``fill="bid_ask"``, and ``fee_per_contract`` is paid on opening and closing trades.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from snapshot_markets import GSPC, GSPC_END, GSPC_START, gspc_frames, gspc_store, run

import hedgeframe as hf
from hedgeframe.models import (
    ContractMode,
    LegSide,
    OptionType,
    StrikeRule,
    StrikeRuleType,
    TemplateKind,
    TemplateLeg,
)
from hedgeframe.pricing import black_scholes_delta_is_call
from hedgeframe.providers import ContractRequest, StrikeTarget

ENTRY = date(2014, 3, 5)


def _delta_put(delta: float, tenor: int = 45) -> hf.StrategyTemplate:
    leg = TemplateLeg(
        leg_id="put-delta",
        strike_rule=StrikeRule(rule_type=StrikeRuleType.DELTA_TARGET, value=delta),
        allocation_weight=1.0,
        target_expiry_days=tenor,
    )
    return hf.StrategyTemplate(
        slug=f"put-delta-{abs(delta):g}", template_kind=TemplateKind.PROTECTIVE_PUT, legs=[leg]
    )


def _chain_on(day: date) -> pl.DataFrame:
    _, _, chain = gspc_frames()
    return chain.filter(pl.col("as_of_date") == day)


def _series(chain: pl.DataFrame, option_type: str, tenor: int, day: date) -> pl.DataFrame:
    """The quotes of the earliest expiry on or after ``day + tenor`` of that type."""
    quotes = chain.filter(
        pl.col("option_type") == option_type,
        pl.col("expiry") >= day + timedelta(days=tenor),
    )
    return quotes.filter(pl.col("expiry") == quotes["expiry"].min())


@pytest.mark.parametrize("delta", [-0.1, -0.25, -0.5])
def test_a_delta_target_takes_the_listed_put_whose_delta_is_nearest(
    tmp_path: Path, delta: float
) -> None:
    provider = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path))
    result = run(provider, [_delta_put(delta)], symbol=GSPC, start=ENTRY, end=GSPC_END)
    bought = result.trades.filter(pl.col("reason") == "initial_entry").row(0, named=True)
    series = _series(_chain_on(ENTRY), "put", 45, ENTRY)
    nearest = series.with_columns(gap=(pl.col("delta") - delta).abs()).sort("gap", "strike")
    assert bought["expiry"] == series["expiry"][0]
    assert bought["strike"] == nearest.filter(pl.col("gap") == nearest["gap"][0])["strike"].max()


def test_without_a_chain_delta_the_delta_comes_from_the_implied_volatility(
    tmp_path: Path,
) -> None:
    bars, _vix, chain = gspc_frames()
    no_deltas = chain.with_columns(delta=pl.lit(None, dtype=pl.Float64))
    with_deltas = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path / "a"))
    computed = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path / "b", no_deltas))
    picks = []
    for provider in (with_deltas, computed):
        view = provider.load_timeline(GSPC, GSPC_START, GSPC_END).view_at(ENTRY)
        request = ContractRequest(
            np.array([False, False, True]),
            np.array([45, 90, 45]),
            np.full(3, StrikeTarget.DELTA, dtype=np.int8),
            np.array([-0.3, -0.15, 0.2]),
        )
        chosen = provider.select_contracts(view, request)
        picks.append(list(zip(chosen.strike.tolist(), chosen.expiry.tolist(), strict=True)))
    # The synthetic chain's delta is the BSM delta at its implied vol (rate and yield 0).
    assert picks[0] == picks[1]
    spot = float(bars.filter(pl.col("date") == ENTRY)["close"][0])
    row = (
        _chain_on(ENTRY)
        .filter(pl.col("strike") == picks[0][0][0])
        .filter(pl.col("option_type") == "put", pl.col("expiry") == picks[0][0][1])
    )
    tau = (row["expiry"][0] - ENTRY).days / 365
    recomputed = black_scholes_delta_is_call(
        np.array([False]), spot, row["strike"].to_numpy(), tau, row["implied_volatility"].to_numpy()
    )
    assert recomputed[0] == pytest.approx(row["delta"][0], abs=1e-12)


def test_a_zero_cost_call_is_the_listed_call_whose_mid_is_nearest_the_puts_cost(
    tmp_path: Path,
) -> None:
    provider = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path))
    template = hf.zero_cost_collar("zc", put_pct=0.97, target_expiry_days=45)
    result = run(provider, [template], symbol=GSPC, start=ENTRY, end=GSPC_END)
    entries = result.trades.filter(pl.col("reason") == "initial_entry").sort("leg_id")
    put, call = entries.row(0, named=True), entries.row(1, named=True)
    assert (put["action"], call["action"]) == ("buy_open", "sell_open")
    calls = _series(_chain_on(ENTRY), "call", 45, ENTRY)
    gap = (calls["mid"] - put["price"]).abs()
    assert call["strike"] == calls.filter(gap == gap.min())["strike"].min()
    assert call["expiry"] == calls["expiry"][0]
    assert abs(call["price"] - put["price"]) == pytest.approx(gap.min(), abs=1e-12)


def test_short_legs_sell_at_the_bid_and_buy_back_at_the_ask_and_pay_fees(
    tmp_path: Path,
) -> None:
    provider = hf.DailyOptionsSnapshotProvider(
        gspc_store(tmp_path), fill="bid_ask", fee_per_contract=0.65
    )
    collar = hf.collar(
        "listed-collar",
        put_pct=0.95,
        call_pct=1.05,
        target_expiry_days=60,
        contract_mode=ContractMode.LISTED_CONTRACTS,
    )
    result = run(provider, [collar], symbol=GSPC, start=ENTRY, end=GSPC_END, units=1000.0)
    trades = result.trades.sort("date", "leg_id")
    call_open = trades.filter(pl.col("action") == "sell_open").row(0, named=True)
    call_close = trades.filter(pl.col("action") == "buy_close").row(0, named=True)
    assert (call_open["quantity"], call_open["contracts"]) == (-1000.0, -10.0)
    quotes = gspc_frames()[2].filter(
        pl.col("option_type") == "call",
        pl.col("strike") == call_open["strike"],
        pl.col("expiry") == call_open["expiry"],
    )
    bid = quotes.filter(pl.col("as_of_date") == call_open["date"])["bid"][0]
    ask = quotes.filter(pl.col("as_of_date") == call_close["date"])["ask"][0]
    assert call_open["price"] == bid
    assert call_close["price"] == ask
    assert call_open["fee"] == call_close["fee"] == pytest.approx(10 * 0.65)
    assert call_open["cashflow"] == pytest.approx(1000 * bid - 6.5, rel=1e-15)
    assert call_close["cashflow"] == pytest.approx(-1000 * ask - 6.5, rel=1e-15)


def test_a_put_spread_on_a_chain_is_complete_and_its_short_put_is_below(tmp_path: Path) -> None:
    provider = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path))
    spread = hf.put_spread("ps", long_pct=0.97, short_pct=0.9, target_expiry_days=30)
    result = run(provider, [spread], symbol=GSPC, start=GSPC_START, end=GSPC_END)
    assert result.summary["complete"].to_list() == [True]
    opened = result.positions.pivot(on="leg_id", index="opened_at", values="strike")
    assert (opened["short-put-90"] < opened["put-97"]).all()


def test_model_risk_covers_collars_and_spreads(tmp_path: Path) -> None:
    store = gspc_store(tmp_path)
    templates = [hf.collar(target_expiry_days=60), hf.put_spread(target_expiry_days=60)]
    synthetic = hf.SyntheticHistoricalProvider(store, volatility=hf.IndexVol("^VIX"))
    snapshot = hf.DailyOptionsSnapshotProvider(store)
    spot = synthetic.get_underlying_bars(GSPC, ENTRY, ENTRY)[0].close
    scenario = hf.make_scenario(
        templates, synthetic, symbol=GSPC, start_date=ENTRY, end_date=GSPC_END,
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100, entry_spot=spot, loan_amount=60 * spot, margin_call_ltv=0.75
        ),
    )  # fmt: skip
    table = hf.compare_providers(scenario, templates, synthetic=synthetic, snapshot=snapshot)
    assert table["template_slug"].to_list() == [t.slug for t in templates]
    assert table["status_snapshot"].to_list() == ["complete", "complete"]
    diff = table["total_hedge_cost_snapshot"] - table["total_hedge_cost_synthetic"]
    assert (table["total_hedge_cost_diff"] - diff).abs().max() == 0.0
    assert (table["total_hedge_cost_diff"].abs() > 0).all()  # a skewed chain vs a flat VIX


def test_a_short_leg_uses_the_same_listed_contract_rules(tmp_path: Path) -> None:
    # Selection does not care about the side: a short call at a spot_pct strike is the
    # nearest listed strike, ties to the lower strike as for any call.
    provider = hf.DailyOptionsSnapshotProvider(gspc_store(tmp_path))
    short_call = TemplateLeg(
        leg_id="call",
        side=LegSide.SHORT,
        option_type=OptionType.CALL,
        strike_rule=StrikeRule(value=1.04),
        allocation_weight=1.0,
        target_expiry_days=45,
    )
    put = TemplateLeg(
        leg_id="put", strike_rule=StrikeRule(value=0.96), allocation_weight=1.0,
        target_expiry_days=45,
    )  # fmt: skip
    template = hf.StrategyTemplate(
        slug="c", template_kind=TemplateKind.COLLAR, legs=[put, short_call]
    )
    result = run(provider, [template], symbol=GSPC, start=ENTRY, end=GSPC_END)
    sold = result.trades.filter(pl.col("action") == "sell_open").row(0, named=True)
    spot = float(gspc_frames()[0].filter(pl.col("date") == ENTRY)["close"][0])
    strikes = _series(_chain_on(ENTRY), "call", 45, ENTRY)["strike"].to_numpy()
    gap = np.abs(strikes - 1.04 * spot)
    assert sold["strike"] == strikes[gap == gap.min()].min()
