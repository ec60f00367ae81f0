"""Reruns from the record alone, the ``runs`` table for BI tools, and replaced output folders.

``service.rerun(run_id)`` rebuilds the provider from the stored configuration and returns
tables equal to the stored ones, or refuses naming what changed; every written run carries a
one-row ``runs`` table that DuckDB joins on ``run_id``; a rerun of a command into the same
``--out`` folder replaces its earlier Parquet unless told ``--append``.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.cli import main
from hedgeframe.engine._schemas import RUNS_SCHEMA


def _sample_copy(root: Path) -> hf.MarketDataStore:
    store = hf.MarketDataStore(root)
    sample = hf.sample_store()
    for symbol in ("^GSPC", "^VIX"):
        store.write_underlying_bars(sample.underlying_bars(symbol, date(2017, 1, 1)))
    return store


def _submit(service: hf.BacktestService, store: hf.MarketDataStore) -> hf.BacktestRun:
    provider = hf.SyntheticHistoricalProvider(
        store, volatility=hf.AssetIndexVol(), rate=0.02, spread_pct=0.01
    )
    templates = [service.templates.save(t) for t in hf.seed_templates()]
    first = float(store.underlying_bars("^GSPC", date(2018, 1, 2), date(2018, 1, 2))["close"][0])
    scenario = hf.make_scenario(
        templates, provider, symbol="^GSPC", start_date=date(2018, 1, 2),
        end_date=date(2018, 6, 29),
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100, entry_spot=first, loan_amount=0.6 * 100 * first,
            margin_call_ltv=0.75,
        ),
    )  # fmt: skip
    record = service.submit(scenario, provider=provider)
    assert record.status is hf.models.RunStatus.COMPLETED, record.error
    return record


def test_a_rerun_from_the_record_alone_gives_equal_tables(tmp_path: Path) -> None:
    service = hf.BacktestService(tmp_path / "data")
    record = _submit(service, _sample_copy(tmp_path / "market"))
    stored = service.load_result(record.run_id)
    again = hf.BacktestService(tmp_path / "data").rerun(record.run_id)
    for name, frame in stored.tables().items():
        assert again.tables()[name].equals(frame), name
    assert again.provider_snapshot == stored.provider_snapshot


def test_the_command_line_reruns_a_stored_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = hf.BacktestService(tmp_path / "data")
    record = _submit(service, _sample_copy(tmp_path / "market"))
    assert main(["runs", "rerun", record.run_id, "--data", str(tmp_path / "data")]) == 0
    assert f"run {record.run_id} reproduced: equal tables" in capsys.readouterr().out
    shutil.move(tmp_path / "market", tmp_path / "moved")
    assert main(["runs", "rerun", record.run_id, "--data", str(tmp_path / "data")]) == 2
    assert "fails on the data now" in capsys.readouterr().err
    argv = ["runs", "rerun", record.run_id, "--data", str(tmp_path / "data")]
    assert main([*argv, "--store", str(tmp_path / "moved")]) == 0


def test_a_rerun_on_changed_data_names_the_change(tmp_path: Path) -> None:
    service = hf.BacktestService(tmp_path / "data")
    store = _sample_copy(tmp_path / "market")
    record = _submit(service, store)
    bar = store.underlying_bars("^GSPC", date(2018, 3, 1), date(2018, 3, 1))
    store.write_underlying_bars(bar.with_columns(close=pl.col("close") + 1.0))
    with pytest.raises(hf.errors.RunNotReproducibleError) as caught:
        service.rerun(record.run_id)
    message = str(caught.value)
    assert message.startswith(f"run {record.run_id} does not reproduce: the market data it read")
    assert f"store {tmp_path / 'market'}" in message


def test_a_rerun_on_a_moved_store_and_an_unbuildable_configuration(tmp_path: Path) -> None:
    service = hf.BacktestService(tmp_path / "data")
    record = _submit(service, _sample_copy(tmp_path / "market"))
    shutil.move(tmp_path / "market", tmp_path / "moved")
    with pytest.raises(hf.errors.RunNotReproducibleError, match="fails on the data now"):
        service.rerun(record.run_id)
    moved = service.rerun(record.run_id, store=hf.MarketDataStore(tmp_path / "moved"))
    assert moved.summary.equals(service.load_result(record.run_id).summary)

    run_file = tmp_path / "data" / "backtests" / "runs" / f"{record.run_id}.json"
    text = run_file.read_text(encoding="utf-8")
    run_file.write_text(text.replace('"kind": "asset_index"', '"kind": "garch"'), encoding="utf-8")
    with pytest.raises(hf.errors.RunNotReproducibleError, match="cannot be rebuilt: invalid"):
        service.rerun(record.run_id)


def test_the_runs_table_lets_duckdb_join_and_filter_every_run(tmp_path: Path) -> None:
    service = hf.BacktestService(tmp_path / "data")
    record = _submit(service, _sample_copy(tmp_path / "market"))
    result = service.load_result(record.run_id)
    info = result.run_info()
    assert info.schema == RUNS_SCHEMA
    row = info.row(0, named=True)
    assert row["run_id"] == record.run_id
    assert (row["symbol"], row["start_date"], row["end_date"]) == (
        "^GSPC",
        date(2018, 1, 2),
        date(2018, 6, 29),
    )
    assert (row["provider_kind"], row["rate"], row["spread_pct"]) == ("synthetic", 0.02, 0.01)
    assert row["volatility"].startswith("the underlying's own volatility index x 0.01")
    assert row["fill"] is None  # a snapshot setting: null for the synthetic provider
    assert row["store"] == str(tmp_path / "market")
    assert row["data_fingerprint"] == result.provider_snapshot.source_version
    assert (row["templates"], row["complete_templates"]) == (4, 4)
    assert row["margin_call_ltv"] == 0.75

    root = tmp_path / "data" / "backtests"
    query = f"""
        SELECT r.symbol, r.provider_kind, count(*) AS templates, min(s.max_ltv_hedged) AS best
        FROM read_parquet('{root}/runs/*/*.parquet', hive_partitioning = true) r
        JOIN read_parquet('{root}/summary/*/*.parquet', hive_partitioning = true) s
        USING (run_id)
        WHERE r.symbol = '^GSPC' AND r.provider_kind = 'synthetic'
        GROUP BY ALL
    """
    [(symbol, kind, templates, best)] = duckdb.execute(query).fetchall()
    assert (symbol, kind, templates) == ("^GSPC", "synthetic", 4)
    assert best == pytest.approx(result.summary["max_ltv_hedged"].min(), rel=1e-15)


def _partitions(out: Path, table: str) -> list[str]:
    return sorted(p.name for p in (out / table).iterdir())


def test_a_command_rerun_replaces_its_earlier_results_unless_appending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["events", "compare", "volmageddon-2018", "--out", str(out)]
    assert main(argv) == 0
    first = {t: _partitions(out, t) for t in ("across_events", "summary", "runs")}
    assert all(len(names) == 1 for names in first.values()), first
    written = len(list(out.glob("*/*=*")))  # 5 comparison tables, 6 run tables
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    capsys.readouterr()

    assert main(argv) == 0
    assert f"replaced {written} earlier partition(s)" in capsys.readouterr().out
    second = {t: _partitions(out, t) for t in first}
    assert all(len(names) == 1 for names in second.values()), second
    assert second != first  # new ids, old ones gone
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    total = duckdb.execute(
        f"SELECT count(*) FROM read_parquet('{out}/runs/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert total == [(1,)]

    assert main([*argv, "--append"]) == 0
    assert {t: len(_partitions(out, t)) for t in first} == dict.fromkeys(first, 2)
