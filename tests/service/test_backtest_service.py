"""BacktestService: run lifecycle, stored records and tables, BI-readable Parquet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from engine_helpers import portfolio
from fixture_markets import fixture_store

import hedgeframe as hf
from hedgeframe.errors import RunNotFoundError
from hedgeframe.models import RunStatus
from hedgeframe.providers import ContractArrays, MarkBatch, MarketTimeline
from hedgeframe.repositories import InvalidRunTransitionError

START, END = date(2024, 3, 1), date(2024, 4, 15)


def _setup(tmp_path: Path) -> tuple[hf.BacktestService, hf.SyntheticHistoricalProvider]:
    store = fixture_store(tmp_path, "monotonic_selloff")
    service = hf.BacktestService(tmp_path / "data")
    for template in hf.seed_templates():
        service.templates.save(template)
    return service, hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.25))


def _scenario(provider: hf.SyntheticHistoricalProvider, **kwargs: date) -> hf.BacktestScenario:
    return hf.make_scenario(
        hf.seed_templates(),
        provider,
        symbol="FIX",
        start_date=kwargs.get("start", START),
        end_date=kwargs.get("end", END),
        portfolio=portfolio(),
    )


def test_submit_completes_and_stores_a_reproducible_record(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    scenario = _scenario(provider)
    run = service.submit(scenario, provider=provider)
    assert run.status is RunStatus.COMPLETED
    assert run.started_at is not None
    assert run.completed_at is not None
    assert run.scenario_snapshot == scenario
    assert run.template_snapshots == hf.seed_templates()
    assert run.provider_snapshot.source_version is not None
    assert run.engine_version.startswith(hf.__version__)
    assert run.rules_version.startswith("rules:")
    assert (tmp_path / "data" / "backtests" / "runs" / f"{run.run_id}.json").is_file()
    assert service.list_runs() == [run]

    loaded = service.load_result(run.run_id)
    direct = hf.run_backtest(scenario, hf.seed_templates(), provider, run_id=run.run_id)
    for name, frame in direct.tables().items():
        assert loaded.tables()[name].equals(frame), name


def test_a_summary_only_run_stores_its_summary_and_empty_tables(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    scenario = _scenario(provider)
    run = service.submit(scenario, provider=provider, keep_daily_path=False, keep_trades=False)
    assert run.status is RunStatus.COMPLETED
    loaded = service.load_result(run.run_id)
    full = hf.run_backtest(scenario, hf.seed_templates(), provider, run_id=run.run_id)
    for name in ("summary", "comparison"):
        assert loaded.tables()[name].equals(full.tables()[name]), name
    for name in ("daily_path", "trades", "positions"):
        assert loaded.tables()[name].is_empty(), name
        assert loaded.tables()[name].schema == full.tables()[name].schema, name


def test_completed_runs_are_append_only(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    run = service.submit(_scenario(provider), provider=provider)
    with pytest.raises(InvalidRunTransitionError, match="append-only"):
        service.runs.transition(run.run_id, RunStatus.FAILED, error="late")
    assert service.runs.get(run.run_id) == run


def test_one_duckdb_glob_queries_every_run(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    first = service.submit(_scenario(provider), provider=provider)
    second = service.submit(_scenario(provider, end=date(2024, 3, 28)), provider=provider)
    glob = str(tmp_path / "data" / "backtests" / "summary" / "*" / "*.parquet")
    rows = duckdb.execute(
        f"SELECT run_id, count(*) AS n FROM read_parquet('{glob}', "
        "hive_partitioning = true) GROUP BY run_id ORDER BY run_id"
    ).fetchall()
    assert rows == sorted([(first.run_id, 4), (second.run_id, 4)])
    glob = str(tmp_path / "data" / "backtests" / "comparison" / "*" / "*.parquet")
    ranks = duckdb.execute(
        f"SELECT run_id, list(rank ORDER BY rank) FROM read_parquet('{glob}', "
        "hive_partitioning = true) GROUP BY run_id"
    ).fetchall()
    assert {tuple(r[1]) for r in ranks} == {(1, 2, 3, 4)}
    daily = pl.scan_parquet(
        tmp_path / "data" / "backtests" / "daily_path" / "*" / "*.parquet", hive_partitioning=True
    ).collect()
    assert set(daily["run_id"]) == {first.run_id, second.run_id}


def test_a_failed_run_keeps_its_error(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    run = service.submit(_scenario(provider, end=START), provider=provider)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert "a backtest needs at least two" in run.error
    with pytest.raises(RunNotFoundError, match="only completed runs have results"):
        service.load_result(run.run_id)


def test_ctrl_c_cancels_the_run(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)

    class Interrupted(hf.SyntheticHistoricalProvider):
        def mark_contracts(
            self, timeline: MarketTimeline, contracts: ContractArrays, day_index: np.ndarray
        ) -> MarkBatch:
            raise KeyboardInterrupt

    interrupted = Interrupted(provider.store, volatility=hf.ConstantVol(0.25))
    with pytest.raises(KeyboardInterrupt):
        service.submit(_scenario(interrupted), provider=interrupted)
    (run,) = service.list_runs()
    assert run.status is RunStatus.CANCELLED
    assert run.completed_at is not None


def test_unknown_template_version_fails_the_run_clearly(tmp_path: Path) -> None:
    service, provider = _setup(tmp_path)
    stray = hf.protective_put("not-saved")
    scenario = hf.make_scenario(
        [stray], provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    run = service.submit(scenario, provider=provider)
    assert run.status is RunStatus.FAILED
    assert run.error is not None
    assert stray.template_id in run.error
