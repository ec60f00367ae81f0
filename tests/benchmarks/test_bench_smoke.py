"""The benchmark suite runs at a tiny size and writes results in the documented shape.

No timing is asserted here (speed belongs in ``benchmarks/``): these tests check that
every case runs and checks its result, that a run whose numbers disagree with the scalar
reference fails loudly and writes nothing, and that the files carry the machine and
version information runs are compared by.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

import benchmarks.cases
import benchmarks.ingest
from benchmarks.__main__ import main
from benchmarks.crosscheck import CrossCheckError, compare_with_reference
from benchmarks.memory import measure
from benchmarks.reference import bsm_price
from benchmarks.report import ROW_SCHEMA
from benchmarks.roofline import bs_put
from benchmarks.scaling import ScalingPoint, markdown_table, plot
from benchmarks.workloads import (
    SampleMarket,
    book_size,
    grid_specs,
    prepare_synthetic,
    template_grid,
)
from hedgeframe.data import CsvImport, read_chain_csv
from hedgeframe.engine import BacktestRunResult

TINY = [
    "--years",
    "1",
    "--b2-templates",
    "6",
    "--reference-templates",
    "2",
    "--b3-templates",
    "4",
    "--repeat",
    "1",
    "--chain-start",
    "2018-06-01",
    "--chain-end",
    "2018-06-29",
    "--ingest-rows",
    "9000",
    "--no-memory",
    "--import-runs",
    "2",
]
MACHINE_KEYS = {
    "cpu",
    "cores",
    "ram_gb",
    "python",
    "numpy",
    "polars",
    "hedgeframe",
    "engine_version",
    "git_sha",
}
OK_VARIANTS = {
    ("B1", "daily-path"),
    ("B2", "daily-path"),
    ("B2", "summary-only"),
    ("B2", "reference-slice (2)"),
    ("B5", "symbol-day"),
    ("B5", "bars-20y"),
    ("B8", "cboe"),
    ("B8", "generic"),
    ("B9", "import"),
    ("B9", "floor"),
}


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    out: Path


def _run(argv: list[str], out: Path) -> Outcome:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([*argv, "--out", str(out)])
    return Outcome(code, stdout.getvalue() + stderr.getvalue(), out)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return _run(TINY, tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="module")
def document(tiny_run: Outcome) -> dict[str, Any]:
    (path,) = tiny_run.out.glob("*.json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_the_tiny_run_succeeds_and_prints_every_case(tiny_run: Outcome) -> None:
    assert tiny_run.code == 0, tiny_run.stdout
    for case in ("B1", "B2", "B3", "B4", "B5", "B8", "B9"):
        assert f"\n{case}  " in tiny_run.stdout
    assert "numbers equal the reference to 1e-9 relative" in tiny_run.stdout
    assert "results:" in tiny_run.stdout


def test_json_and_parquet_share_one_stem(tiny_run: Outcome) -> None:
    (json_path,) = tiny_run.out.glob("*.json")
    (parquet_path,) = tiny_run.out.glob("*.parquet")
    assert json_path.stem == parquet_path.stem
    timestamp, sha = json_path.stem.split("-")[:2]
    assert len(timestamp) == len("20240101T000000Z")
    assert sha == "nogit" or len(sha) == 12


def test_json_holds_machine_config_rows_and_targets(document: dict[str, Any]) -> None:
    assert document["format"] == "hedgeframe-benchmarks"
    assert document["format_version"] == 1
    assert set(document["run"]) >= MACHINE_KEYS
    assert document["run"]["cores"] >= 1
    assert document["config"]["b2_templates"] == 6
    assert document["config"]["chain_start"] == "2018-06-01"
    rows = document["rows"]
    assert [set(row) for row in rows] == [set(ROW_SCHEMA.names())] * len(rows)
    assert {(row["case"], row["variant"]) for row in rows} >= OK_VARIANTS
    assert {row["case"] for row in rows} == {"B1", "B2", "B3", "B4", "B5", "B8", "B9"}
    for row in rows:
        assert row["status"] in {"ok", "not available"}
        if row["status"] == "not available":
            assert row["note"].startswith("not available")
            continue
        assert row["time_min_s"] > 0
        assert row["time_min_s"] <= row["time_median_s"]
        assert row["checked"]
    for check in document["targets"]:
        assert set(check) == {
            "case",
            "variant",
            "target",
            "measured",
            "threshold",
            "unit",
            "higher_is_better",
            "met",
        }
        assert check["met"] in {True, False, None}


def test_synthetic_rows_carry_both_baselines(document: dict[str, Any]) -> None:
    rows = {(row["case"], row["variant"]): row for row in document["rows"]}
    for key in [("B1", "daily-path"), ("B2", "daily-path"), ("B2", "summary-only")]:
        row = rows[key]
        assert row["position_days"] > 0
        assert row["marks"] >= row["position_days"]
        assert row["reference_s"] > 0
        assert row["roofline_s"] > 0
        assert math.isclose(row["speedup_vs_reference"], row["reference_s"] / row["time_min_s"])
        assert math.isclose(row["vs_roofline"], row["time_min_s"] / row["roofline_s"])
    assert rows["B1", "daily-path"]["reference_basis"].startswith("measured")
    assert rows["B2", "daily-path"]["reference_basis"].startswith("extrapolated")


def test_parquet_has_the_row_schema_and_run_columns(tiny_run: Outcome) -> None:
    (path,) = tiny_run.out.glob("*.parquet")
    frame = pl.read_parquet(path)
    assert frame.schema.names()[: len(ROW_SCHEMA)] == ROW_SCHEMA.names()
    for name, dtype in ROW_SCHEMA.items():
        assert frame.schema[name] == dtype, name
    assert {"run_run_id", "run_git_sha", "run_cpu", "run_polars"} <= set(frame.columns)
    assert frame["run_run_id"].n_unique() == 1


def test_a_disagreement_fails_loudly_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disagree(**_: Any) -> int:
        msg = "B1, template x: daily net_portfolio_value values differ from the reference"
        raise CrossCheckError(msg)

    monkeypatch.setattr(benchmarks.cases, "compare_with_reference", disagree)
    outcome = _run([*TINY, "--cases", "B1"], tmp_path)
    assert outcome.code == 1
    assert "BENCHMARK FAILED" in outcome.stdout
    assert "net_portfolio_value" in outcome.stdout
    assert not list(tmp_path.iterdir())


def test_an_ingest_reader_that_loses_a_row_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def short_read(path: Path) -> CsvImport:
        imported = read_chain_csv(path)
        return dataclasses.replace(imported, rows=imported.rows.slice(1))

    monkeypatch.setattr(benchmarks.ingest, "read_chain_csv", short_read)
    outcome = _run([*TINY, "--cases", "B8"], tmp_path)
    assert outcome.code == 1
    assert "B8 generic: 8999 rows" in outcome.stdout
    assert not list(tmp_path.iterdir())


def test_a_missing_api_gives_a_not_available_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        msg = "hedgeframe does not export compare_events yet"
        raise LookupError(msg)

    monkeypatch.setattr(benchmarks.cases, "snapshot_provider_class", lambda: None)
    monkeypatch.setattr(benchmarks.cases, "prepare_events", missing)
    outcome = _run([*TINY, "--cases", "B3", "B4"], tmp_path)
    assert outcome.code == 0, outcome.stdout
    (path,) = tmp_path.glob("*.json")
    rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
    assert [(row["case"], row["status"]) for row in rows] == [
        ("B3", "not available"),
        ("B4", "not available"),
    ]
    assert "DailyOptionsSnapshotProvider" in rows[0]["note"]
    assert "compare_events" in rows[1]["note"]


@pytest.fixture(scope="module")
def one_year_b1() -> tuple[Any, BacktestRunResult, Any]:
    import hedgeframe as hf
    from benchmarks.crosscheck import run_reference, trailing_realized_vol

    market = SampleMarket.load()
    prepared = prepare_synthetic(market, hf.seed_templates(), 1, "smoke")
    result = prepared.run()
    start, end = prepared.scenario.start_date, prepared.scenario.end_date
    reference = run_reference(
        market.bars(start, end),
        prepared.templates,
        portfolio=prepared.scenario.initial_portfolio,
        sigma=trailing_realized_vol(market.dates, market.closes, 21),
        rate=0.02,
        dividend_yield=0.0,
        spread_pct=0.01,
        sessions=market.sessions,
    )
    return prepared, result, reference


@pytest.mark.parametrize(
    ("table", "column", "message"),
    [
        ("daily_path", "net_portfolio_value", "daily net_portfolio_value"),
        ("trades", "price", "trade prices"),
        ("summary", "max_ltv_hedged", "summary metrics"),
    ],
)
def test_the_crosscheck_catches_a_1e_8_error(
    one_year_b1: tuple[Any, BacktestRunResult, Any], table: str, column: str, message: str
) -> None:
    prepared, result, reference = one_year_b1
    frames = {
        "daily_path": result.daily_path,
        "trades": result.trades,
        "summary": result.summary,
    }
    assert compare_with_reference(
        **frames, templates=prepared.templates, reference=reference, context="smoke"
    )
    frames[table] = frames[table].with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col(column) * (1 + 1e-8))
        .otherwise(pl.col(column))
        .alias(column)
    )
    with pytest.raises(CrossCheckError, match=message):
        compare_with_reference(
            **frames, templates=prepared.templates, reference=reference, context="smoke"
        )


def test_memory_is_measured_in_a_fresh_process() -> None:
    reading = measure({"case": "B1", "years": 1, "repeat": 1})
    assert reading.setup_rss_mb is not None
    assert 0 < reading.setup_rss_mb <= reading.peak_rss_mb
    assert len(reading.times) == 1
    assert reading.position_days > 0


def test_the_template_grid_spans_the_issue_ranges() -> None:
    specs = grid_specs()
    assert len(specs) >= 10_000
    assert len({spec.slug for spec in specs}) == len(specs)
    assert {len(spec.strikes) for spec in specs} == {1, 2, 3}
    assert min(min(spec.strikes) for spec in specs) == pytest.approx(0.80)
    assert max(max(spec.strikes) for spec in specs) == pytest.approx(1.05)
    assert {spec.tenor for spec in specs} >= {30, 365}
    assert min(spec.tenor for spec in specs) == 30
    assert max(spec.tenor for spec in specs) == 365
    assert None in {spec.roll for spec in specs}
    small, large = template_grid(5, seed=1), template_grid(50, seed=1)
    assert [t.slug for t in small] == [t.slug for t in large[:5]]
    assert [t.slug for t in template_grid(5, seed=2)] != [t.slug for t in small]


def test_book_size_counts_held_days_and_marks() -> None:
    days = np.array(["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"], "datetime64[D]")
    positions = pl.DataFrame(
        {
            "opened_at": [date(2024, 3, 4), date(2024, 3, 6)],
            "closed_at": [date(2024, 3, 6), date(2024, 3, 7)],
            "close_reason": ["expiry", "scenario_end"],
        }
    )
    size = book_size(positions, days)
    # Held at the close of 03-04, 03-05 (first) and 03-06 (second); marked on every day
    # from opening to closing, except the first one's expiry day (intrinsic value).
    assert (size.positions, size.position_days, size.marks) == (2, 3, 4)


def test_the_roofline_prices_like_the_reference() -> None:
    spot = np.array([100.0, 1500.0, 2500.0])
    strike = np.array([100.0, 1200.0, 2600.0])
    tau = np.array([1.0, 0.1, 2.0])
    sigma = np.array([0.2, 0.6, 0.15])
    got = bs_put(spot, strike, tau, sigma, 0.02, 0.01)
    want = [
        bsm_price("put", spot=s, strike=k, tau=t, sigma=v, rate=0.02, dividend_yield=0.01)
        for s, k, t, v in zip(spot, strike, tau, sigma, strict=True)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_scaling_table_and_chart(tmp_path: Path) -> None:
    points = [
        ScalingPoint(
            dim,
            n,
            y,
            mode,
            250 * y,
            n,
            500 * n * y,
            510 * n * y,
            1,
            t,
            t,
            500 * n * y / t,
            t / 3,
            3.0,
            250.0 + n,
            200.0,
        )
        for dim, n, y in (("templates", 1, 20), ("templates", 10, 20), ("years", 10, 1))
        for mode, t in (("summary-only", 0.5), ("daily-path", 0.8))
    ]
    table = markdown_table(points)
    assert table.count("\n") == len(points) + 1
    assert "| templates | 10 | 20 |" in table
    chart = tmp_path / "scaling.png"
    plot(points, chart, "smoke")
    assert chart.read_bytes().startswith(b"\x89PNG")
