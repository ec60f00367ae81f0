"""The single-run HTML report: every number shown is the result table's, formatted.

Each table is read back from the HTML with the standard library's parser and compared
cell by cell with the result table it shows, through a header-to-column map written
here (not the report's own column list), so a column shown under another's header fails.
"""

from __future__ import annotations

import inspect
import itertools
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from report_helpers import Cell, HtmlTable, assert_shown, column, gfc_run, read_tables

import hedgeframe as hf
from hedgeframe.errors import BadInputError, HedgeframeError
from hedgeframe.models import RollPolicyType
from hedgeframe.report import MAX_TRADES, build_run_html, render_run_charts
from hedgeframe.report._format import fmt_int, fmt_ltv, fmt_money, fmt_num, fmt_pct, fmt_text

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
START, END = date(2008, 5, 1), date(2009, 3, 31)
PORTFOLIO = hf.BacktestPortfolioState(
    underlying_units=100,
    entry_spot=1409.34,
    loan_amount=84_000,
    margin_call_ltv=0.75,
    cash_balance=1_000,
    financing_rate=0.01,
)

COMPARISON_CELLS: dict[str, Cell] = {
    "rank": column("rank", fmt_int),
    "template": column("template_slug", fmt_text),
    "status": column("status", fmt_text),
    "margin-call days hedged": column("margin_call_days_hedged", fmt_int),
    "margin-call days unhedged": column("margin_call_days_unhedged", fmt_int),
    "max hedged LTV": column("max_ltv_hedged", fmt_ltv),
    "worst hedged drawdown": column("worst_drawdown_hedged", fmt_pct),
    "hedge cost": column("total_hedge_cost", fmt_money),
    "cost / collateral": lambda row: fmt_pct(row["total_hedge_cost"] / row["start_value"]),
    "hedged end value": column("end_value_hedged_net", fmt_money),
    "unhedged end value": column("end_value_unhedged", fmt_money),
    "rolls": column("roll_count", fmt_int),
}
"""What each header of the ranked comparison must show, from a ``comparison`` row."""

TRADE_CELLS: dict[str, Cell] = {
    "date": column("date", fmt_text),
    "action": column("action", fmt_text),
    "leg": column("leg_id", fmt_text),
    "type": column("option_type", fmt_text),
    "strike": column("strike", fmt_num),
    "expiry": column("expiry", fmt_text),
    "quantity": column("quantity", fmt_num),
    "price": column("price", fmt_num),
    "cashflow": column("cashflow", fmt_num),
    "reason": column("reason", fmt_text),
}
"""What each header of a template's trade table must show, from a ``trades`` row."""


@pytest.fixture(scope="module")
def result() -> hf.BacktestRunResult:
    """A GFC run whose columns all differ: rolls, hedged margin calls, costs, drawdowns."""
    roll = hf.RollPolicy(policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY, days_before_expiry=5)
    seeds = {t.slug: t for t in hf.seed_templates()}
    templates = [
        hf.protective_put("put-atm-3m-rolled", 1.0, 91, roll),
        hf.protective_put("put-80pct-1m-rolled", 0.8, 30, roll),
        seeds["protective-put-95pct-12m"],
        seeds["ladder-33-33-33-atm-95pct-90pct-12m"],
    ]
    return gfc_run(templates, PORTFOLIO)


@pytest.fixture(scope="module")
def report(result: hf.BacktestRunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return result.write_html(tmp_path_factory.mktemp("run-report") / "report.html")


@pytest.fixture(scope="module")
def tables(report: Path) -> list[HtmlTable]:
    return read_tables(report.read_text(encoding="utf-8"))


def _table(tables: list[HtmlTable], heading: str) -> HtmlTable:
    found = [t for t in tables if t.heading == heading]
    assert len(found) == 1, f"expected one table under {heading!r}, found {len(found)}"
    return found[0]


def test_the_fixture_tells_every_column_apart(result: hf.BacktestRunResult) -> None:
    """Two columns with the same format differ somewhere, so showing one as the other fails."""
    rows = list(result.comparison.iter_rows(named=True))
    for (a, cell_a), (b, cell_b) in itertools.combinations(COMPARISON_CELLS.items(), 2):
        assert [cell_a(r) for r in rows] != [cell_b(r) for r in rows], (a, b)
    trades = list(result.trades.iter_rows(named=True))
    for (a, cell_a), (b, cell_b) in itertools.combinations(TRADE_CELLS.items(), 2):
        assert [cell_a(r) for r in trades] != [cell_b(r) for r in trades], (a, b)


def test_ranked_comparison_shows_the_comparison_table(
    result: hf.BacktestRunResult, tables: list[HtmlTable]
) -> None:
    table = _table(tables, "Ranked comparison")
    assert_shown(table, result.comparison, COMPARISON_CELLS)
    assert [row["rank"] for row in table.as_dicts()] == ["1", "2", "3", "4"]


def test_each_template_has_its_trades(
    result: hf.BacktestRunResult, tables: list[HtmlTable]
) -> None:
    for template in result.template_snapshots:
        table = _table(tables, f"{template.slug} v{template.version}")
        trades = result.trades.filter(pl.col("template_id") == template.template_id)
        assert_shown(table, trades, TRADE_CELLS)  # continuous units: no contracts column


def test_a_long_trade_log_shows_its_first_trades_and_says_so(
    result: hf.BacktestRunResult,
) -> None:
    page = build_run_html(result, [], max_trades=3)
    rolled = next(t for t in result.template_snapshots if t.slug == "put-80pct-1m-rolled")
    trades = result.trades.filter(pl.col("template_id") == rolled.template_id)
    assert trades.height == 30
    table = _table(read_tables(page), "put-80pct-1m-rolled v1")
    assert_shown(table, trades.head(3), TRADE_CELLS)
    assert "First 3 of 30 trades shown; all of them are in the trades table." in page
    two = next(t for t in result.template_snapshots if t.slug == "protective-put-95pct-12m")
    assert len(_table(read_tables(page), f"{two.slug} v1").rows) == 2
    assert "2 trade(s)." in page


def test_assumptions_show_the_scenario_and_the_portfolio(
    result: hf.BacktestRunResult, tables: list[HtmlTable]
) -> None:
    days = result.daily_path.get_column("date")
    assert _table(tables, "Scenario").as_facts() == {
        "scenario": result.scenario_snapshot.slug,
        "symbol": "^GSPC",
        "window": f"{START} to {END}",
        "days run": f"{days.min()} to {days.max()}",
        "trading days": str(days.n_unique()),
    }
    collateral = 100 * 1409.34
    assert _table(tables, "Portfolio").as_facts() == {
        "currency": "USD",
        "underlying units": "100.00",
        "entry spot": "1,409.34",
        "collateral at entry (units x entry spot)": "140,934",
        "loan": "84,000",
        "LTV at entry (loan / (collateral + cash))": fmt_pct(84_000 / (collateral + 1_000)),
        "margin-call LTV": "75.0%",
        "cash": "1,000",
        "financing rate on cash": "1.0%",
    }
    assert fmt_pct(84_000 / (collateral + 1_000)) == "59.2%"


def test_assumptions_name_provider_engine_run_and_templates(
    result: hf.BacktestRunResult, report: Path, tables: list[HtmlTable]
) -> None:
    text = report.read_text(encoding="utf-8")
    meta = next(t for t in tables if t.heading.startswith("Backtest run")).as_facts()
    assert meta["engine version"] == result.engine_version
    assert meta["rules version"] == result.rules_version
    assert meta["run id"] == result.run_id
    assert meta["provider"] == "synthetic_v1 (synthetic_bs_mid)"
    assert "<li>volatility: constant 20.0%</li>" in text
    assert "<li>bid/ask spread: 1.00% of the mid" in text
    assert "Synthetic pricing" in text
    assert "Priced with one volatility a day for every strike and tenor (constant 20.0%)" in text
    assert "<b>Warnings:</b> none" in text
    templates = _table(tables, "Templates")
    assert [row["slug"] for row in templates.as_dicts()] == [
        t.slug for t in result.template_snapshots
    ]
    rolled = templates.as_dicts()[1]["rule"]
    assert rolled == (
        "long put at 80 % of spot, 30 days, covers 100 % of the units; "
        "rolled 5 sessions before expiry"
    )


def test_warnings_are_listed(result: hf.BacktestRunResult) -> None:
    warned = result.model_copy(update={"warnings": ["2008-10-10 put-atm-3m-rolled v1: <stale>"]})
    page = build_run_html(warned, [])
    assert "<b>Warnings</b></p><ul class='warnings'><li>2008-10-10 put-atm-3m-rolled" in page
    assert "&lt;stale&gt;" in page
    assert "Warnings:</b> none" not in page


def test_null_metrics_are_empty_cells(result: hf.BacktestRunResult) -> None:
    """A template that ran no day has null metrics (SPEC 9.3): shown empty, never "None"."""
    nulls = result.comparison.with_columns(
        pl.when(pl.col("rank") == 4).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("max_ltv_hedged", "worst_drawdown_hedged", "total_hedge_cost", "roll_count")
    )
    page = build_run_html(result.model_copy(update={"comparison": nulls}), [])
    last = _table(read_tables(page), "Ranked comparison").as_dicts()[3]
    for header in ("max hedged LTV", "worst hedged drawdown", "hedge cost", "cost / collateral"):
        assert last[header] == "", header
    assert last["rolls"] == ""
    for word in ("None", "nan", "-inf"):
        assert word not in " ".join(last.values())


def test_charts_are_embedded_and_written_beside_the_report(
    result: hf.BacktestRunResult, report: Path
) -> None:
    text = report.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 2
    slug = result.scenario_snapshot.slug
    charts = sorted(p.name for p in (report.parent / "charts").iterdir())
    assert charts == [f"{slug}-ltv.png", f"{slug}-value.png"]
    for name in charts:
        assert (report.parent / "charts" / name).read_bytes().startswith(PNG_MAGIC)
    assert "http://" not in text
    assert "https://" not in text
    assert "<script" not in text


def test_a_run_without_a_daily_path_has_no_charts(result: hf.BacktestRunResult) -> None:
    assert "kept no daily path" not in build_run_html(result, [])
    empty = result.model_copy(update={"daily_path": result.daily_path.clear()})
    assert render_run_charts(empty) == []
    page = build_run_html(empty, [])
    assert "This run kept no daily path" in page
    assert "not kept (the run was made with keep_daily_path=False)" in page


def test_the_default_trade_cap_is_the_report_module_s() -> None:
    default = inspect.signature(hf.BacktestRunResult.write_html).parameters["max_trades"]
    assert default.default == MAX_TRADES == 100


@pytest.mark.parametrize("max_trades", [0, -5])
def test_max_trades_below_one_is_refused_before_writing(
    result: hf.BacktestRunResult, tmp_path: Path, max_trades: int
) -> None:
    with pytest.raises(BadInputError, match=rf"max_trades must be at least 1 \(got {max_trades}\)"):
        result.write_html(tmp_path / "r.html", max_trades=max_trades)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_report_path_is_refused_before_writing(
    result: hf.BacktestRunResult, tmp_path: Path
) -> None:
    with pytest.raises(BadInputError, match="is a folder; name the HTML file") as caught:
        result.write_html(tmp_path)
    assert isinstance(caught.value, HedgeframeError)
    assert isinstance(caught.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_the_charts_folder_goes_is_refused(
    result: hf.BacktestRunResult, tmp_path: Path
) -> None:
    (tmp_path / "charts").write_text("not a folder")
    with pytest.raises(BadInputError, match="charts' is a file, not a folder"):
        result.write_html(tmp_path / "r.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["charts"]
