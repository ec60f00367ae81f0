"""The model-risk comparison: one scenario, two providers, per-template differences."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from engine_helpers import roll
from fixture_markets import fixture_store
from snapshot_markets import FIX_START, GSPC, GSPC_END, GSPC_START, gspc_store, portfolio

import hedgeframe as hf
from hedgeframe.analysis import MODEL_RISK_METRICS, MODEL_RISK_SCHEMA, compare_providers
from hedgeframe.models import ProviderRef
from hedgeframe.providers import DailyOptionsSnapshotProvider, HistoricalMarketDataProvider


def _scenario(
    templates: list[hf.StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    symbol: str,
    start: date,
    end: date,
) -> hf.BacktestScenario:
    spot = provider.get_underlying_bars(symbol, start, start)[0].close
    return hf.make_scenario(
        templates,
        provider,
        symbol=symbol,
        start_date=start,
        end_date=end,
        portfolio=portfolio(spot),
    )


def test_compare_providers_differences_two_full_runs(tmp_path: Path) -> None:
    store = gspc_store(tmp_path)
    synthetic = hf.SyntheticHistoricalProvider(store, volatility=hf.IndexVol("^VIX", scale=0.01))
    snapshot = DailyOptionsSnapshotProvider(store, fill="bid_ask")
    templates = [
        hf.protective_put("atm-45d", target_expiry_days=45),
        hf.put_ladder(
            "ladder-30d",
            spot_pcts=[1.0, 0.9],
            weights=[0.5, 0.5],
            target_expiry_days=30,
            roll_policy=roll(5),
        ),
    ]
    scenario = _scenario(templates, synthetic, GSPC, GSPC_START, GSPC_END)
    table = compare_providers(scenario, templates, synthetic=synthetic, snapshot=snapshot)
    assert table.schema == MODEL_RISK_SCHEMA
    assert table["template_slug"].to_list() == ["atm-45d", "ladder-30d"]
    for provider, side in ((synthetic, "synthetic"), (snapshot, "snapshot")):
        ref = ProviderRef(provider_id=provider.provider_id, pricing_mode=provider.pricing_mode)
        alone = hf.run_backtest(
            scenario.model_copy(update={"provider_ref": ref}), templates, provider
        )
        assert table[f"status_{side}"].to_list() == alone.summary["status"].to_list()
        for metric in MODEL_RISK_METRICS:
            assert table[f"{metric}_{side}"].to_list() == alone.summary[metric].to_list(), metric
    for metric in MODEL_RISK_METRICS:
        expected = table[f"{metric}_snapshot"] - table[f"{metric}_synthetic"]
        assert table[f"{metric}_diff"].equals(expected.alias(f"{metric}_diff"))
    # Listed quotes and Black-Scholes at VIX disagree, but by a premium's order of magnitude.
    assert (table["total_hedge_cost_diff"] != 0.0).all()
    assert (table["total_hedge_cost_diff"].abs() < table["total_hedge_cost_synthetic"]).all()
    # The scenario may name either provider: only the providers passed in matter.
    named_snapshot = _scenario(templates, snapshot, GSPC, GSPC_START, GSPC_END)
    again = compare_providers(
        named_snapshot.model_copy(
            update={"scenario_id": scenario.scenario_id, "created_at": scenario.created_at}
        ),
        templates,
        synthetic=synthetic,
        snapshot=snapshot,
    )
    assert again.equals(table)


def test_an_incomplete_snapshot_run_is_flagged(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, chain=True)
    synthetic = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.2))
    snapshot = DailyOptionsSnapshotProvider(store)
    templates = [hf.protective_put("atm", target_expiry_days=45)]
    scenario = _scenario(templates, synthetic, "FIX", FIX_START, date(2024, 3, 20))
    table = compare_providers(scenario, templates, synthetic=synthetic, snapshot=snapshot)
    row = table.row(0, named=True)
    assert (row["status_synthetic"], row["status_snapshot"]) == ("complete", "incomplete")
    assert row["total_hedge_cost_snapshot"] == pytest.approx(100 * 4.00)
    assert table.select(pl.col("margin_call_days_hedged_diff")).dtypes == [pl.Int64]
