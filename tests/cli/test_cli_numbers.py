"""The numbers a person reads, checked against the result tables they come from.

``hedgeframe run`` / ``runs show`` and ``hedgeframe events compare`` print rich tables,
and the event report shows HTML tables; each cell is checked, by its header, against
the Parquet or result table behind it (``shown_tables``: its header -> column -> format
mapping is independent of ``hedgeframe.report._format``, so a swapped column, header or
format there fails; the market is chosen so hedged and unhedged figures differ).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fixture_markets import fixture_store
from shown_tables import SHOWN, assert_shows, html_tables, rich_tables

import hedgeframe as hf
from hedgeframe.cli import main
from hedgeframe.report._format import fmt_int, fmt_ltv, fmt_money, fmt_num, fmt_pct, fmt_text


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    def run(*argv: str) -> str:
        code = main(list(argv))
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return captured.out

    return run


def _provider(tmp_path: Path) -> str:
    store = fixture_store(tmp_path, "monotonic_selloff")  # 100 falling to 70 by 04-12
    return json.dumps({"kind": "synthetic", "store": str(store.root), "volatility": 0.2})


def test_run_and_runs_show_print_the_comparison_table(
    tmp_path: Path, cli: Callable[..., str]
) -> None:
    data = str(tmp_path / "data")
    cli("templates", "create", "--seed", "--data", data)
    scenario = hf.BacktestScenario.model_validate(
        {
            "slug": "selloff",
            "symbol": "FIX",
            "start_date": "2024-03-01",
            "end_date": "2024-04-12",
            "initial_portfolio": {
                "underlying_units": 100,
                "entry_spot": 100,
                "loan_amount": 6000,
                "margin_call_ltv": 0.7,
            },
            "template_refs": [
                {"template_id": t.template_id, "version": t.version} for t in hf.seed_templates()
            ],
            "provider_ref": {"provider_id": "synthetic_v1", "pricing_mode": "synthetic_bs_mid"},
        }
    )
    out = cli("run", scenario.model_dump_json(), "--provider", _provider(tmp_path), "--data", data)
    run_id = out.split()[1]
    comparison = hf.BacktestService(data).load_result(run_id).comparison
    # The market makes the two margin-call counts differ, so a swap of them shows.
    assert (comparison["margin_call_days_hedged"] != comparison["margin_call_days_unhedged"]).all()
    (printed,) = rich_tables(out)
    assert_shows(printed, comparison, key="template")
    (shown,) = rich_tables(cli("runs", "show", run_id, "--data", data))
    assert shown == printed
    assert set(shown[0]) >= {"margin-call days hedged", "margin-call days unhedged"}


def test_events_compare_prints_and_reports_the_tables_it_writes(
    tmp_path: Path, cli: Callable[..., str]
) -> None:
    data, out_dir = str(tmp_path / "data"), tmp_path / "out"
    for slug, start, end in (
        ("early-fall", date(2024, 3, 1), date(2024, 3, 22)),
        ("late-fall", date(2024, 3, 18), date(2024, 4, 12)),
    ):
        preset = hf.EventPreset(slug=slug, symbol="FIX", window_start=start, window_end=end)
        cli("events", "add", preset.model_dump_json(), "--data", data)
    printed = cli(
        "events", "compare", "early-fall", "late-fall",
        "--template", "protective-put-atm-12m", "--template", "protective-put-95pct-12m",
        "--provider", _provider(tmp_path), "--out", str(out_dir), "--data", data,
        "--units", "100", "--loan-to-value", "0.6", "--margin-call-ltv", "0.7",
    )  # fmt: skip

    def written(table: str) -> pl.DataFrame:
        return pl.read_parquet(out_dir / table / "*" / "*.parquet").with_columns(
            pl.selectors.date().cast(pl.String)
        )

    events, across, summary = written("events"), written("across_events"), written("event_summary")
    assert (across["margin_call_days_hedged"] != across["margin_call_days_unhedged"]).all()
    overview, ranking = rich_tables(printed)
    assert_shows(overview, events, key="event")
    assert_shows(ranking, across, key="template")

    report = html_tables((out_dir / "report.html").read_text(encoding="utf-8"))
    # The tables of figures (the rank heat map's headers are event names: not checked).
    figures = [table for table in report if table and set(table[0]) <= set(SHOWN)]
    (events_html,) = [table for table in figures if "event" in table[0]]
    assert_shows(events_html, events, key="event")
    across_html, *per_event = [table for table in figures if "template" in table[0]]
    assert_shows(across_html, across, key="template")
    assert len(per_event) == events.height
    for slug, table in zip(events["event_slug"], per_event, strict=True):
        assert_shows(table, summary.filter(pl.col("event_slug") == slug), key="template")


@pytest.mark.parametrize("fmt", [fmt_int, fmt_money, fmt_ltv, fmt_pct, fmt_num, fmt_text])
def test_a_null_metric_shows_as_a_blank_cell(fmt: Callable[[object], str]) -> None:
    # SPEC 9.3: a template that ran no day has null metrics; a table shows them blank.
    assert fmt(None) == ""
