"""The report of one backtest run: assumptions, the ranked comparison, paths and trades.

It reads like the event report, on one scenario: what was assumed (scenario, portfolio,
provider, templates, warnings), which template did best, how value and LTV moved, and
every trade each template made.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from hedgeframe.engine._result import notes_key
from hedgeframe.errors import BadInputError
from hedgeframe.report._describe import (
    DAILY_CLOSES_CAVEAT,
    LTV_DEFINITIONS,
    RANKING_RULE,
    execution_note,
    incomplete_note,
    pricing_caveats,
    provider_notes,
    templates_table,
)
from hedgeframe.report._format import (
    RUN_COMPARISON_COLUMNS,
    TRADE_COLUMNS,
    fmt_int,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_text,
    fmt_utc,
)
from hedgeframe.report._html import (
    caveat_box,
    chart_html,
    check_report_path,
    esc,
    facts_table,
    meta_table,
    page,
    table,
    warning_list,
    write_report_files,
)
from hedgeframe.report._plot import Chart
from hedgeframe.report._run_charts import render_run_charts

if TYPE_CHECKING:
    from hedgeframe.engine import BacktestRunResult
    from hedgeframe.models import StrategyTemplate

__all__ = ["MAX_TRADES", "build_run_html", "run_comparison", "write_run_report"]

MAX_TRADES: Final = 100
"""Trades shown per template by default; the rest are counted ("first 100 of 812")."""


def run_comparison(result: BacktestRunResult) -> pl.DataFrame:
    """Return the ranked comparison with ``hedge_cost_pct`` (hedge cost / start value)."""
    comparison: pl.DataFrame = result.comparison
    return comparison.with_columns(
        (pl.col("total_hedge_cost") / pl.col("start_value")).alias("hedge_cost_pct")
    )


def _scenario_facts(result: BacktestRunResult) -> list[tuple[str, str]]:
    scenario = result.scenario_snapshot
    days = result.daily_path.get_column("date")
    name = scenario.slug + (f" ({scenario.display_name})" if scenario.display_name else "")
    run = (
        f"{days.min()} to {days.max()}"
        if days.len()
        else "not kept (the run was made with keep_daily_path=False)"
    )
    facts = [
        ("scenario", name),
        ("symbol", scenario.symbol),
        ("window", f"{scenario.start_date} to {scenario.end_date}"),
        ("days run", run),
        ("trading days", fmt_int(days.n_unique()) if days.len() else ""),
    ]
    if scenario.description:
        facts.append(("description", scenario.description))
    return facts


def _portfolio_facts(result: BacktestRunResult) -> list[tuple[str, str]]:
    state = result.scenario_snapshot.initial_portfolio
    collateral = state.underlying_units * state.entry_spot
    return [
        ("currency", state.currency),
        ("underlying units", fmt_num(state.underlying_units)),
        ("entry spot", fmt_num(state.entry_spot)),
        ("collateral at entry (units x entry spot)", fmt_money(collateral)),
        ("loan", fmt_money(state.loan_amount)),
        (
            "LTV at entry (loan / (collateral + cash))",
            fmt_pct(state.loan_amount / (collateral + state.cash_balance)),
        ),
        ("margin-call LTV", fmt_pct(state.margin_call_ltv)),
        ("cash", fmt_money(state.cash_balance)),
        ("financing rate on cash", fmt_pct(state.financing_rate)),
    ]


def _warnings_note(result: BacktestRunResult) -> str:
    notes = [
        f"{t.slug} v{t.version}: {note}"
        for t in result.template_snapshots
        for note in result.validation_notes.get(notes_key(t.template_id, t.version), [])
    ]
    html = (
        "<p id='warnings'><b>Warnings:</b> none</p>"
        if not result.warnings
        else "<p id='warnings'><b>Warnings</b></p>" + warning_list(result.warnings)
    )
    if notes:
        html += "<p><b>Template validation notes</b></p>" + warning_list(notes)
    return html


def _assumptions(result: BacktestRunResult) -> str:
    scenario = result.scenario_snapshot
    notes = "".join(f"<li>{esc(note)}</li>" for note in scenario.notes)
    return (
        "<h2 id='assumptions'>Assumptions</h2>"
        "<h3>Scenario</h3>"
        + facts_table(_scenario_facts(result))
        + "<h3>Portfolio</h3>"
        + facts_table(_portfolio_facts(result))
        + f"<p class='notes'>{LTV_DEFINITIONS}</p>"
        + provider_notes(result.provider_snapshot)
        + execution_note("the scenario's first day")
        + f"<p><b>Ranking.</b> {RANKING_RULE}; a template that could not run every day "
        "ranks after those that did.</p>"
        + "<h3>Templates</h3>"
        + templates_table(result.template_snapshots)
        + (f"<p><b>Scenario notes</b></p><ul class='notes'>{notes}</ul>" if notes else "")
        + _warnings_note(result)
    )


def _trades_section(result: BacktestRunResult, template: StrategyTemplate, limit: int) -> str:
    trades = result.trades.filter(
        (pl.col("template_id") == template.template_id)
        & (pl.col("template_version") == template.version)
    )
    heading = f"<h3>{esc(template.slug)} v{template.version}</h3>"
    if trades.is_empty():
        return heading + "<p class='notes'>No trades.</p>"
    columns = [
        c for c in TRADE_COLUMNS if c[0] != "contracts" or trades["contracts"].is_not_null().any()
    ]
    count = (
        f"First {fmt_int(limit)} of {fmt_int(trades.height)} trades shown; all of them are in "
        "the trades table."
        if trades.height > limit
        else f"{fmt_int(trades.height)} trade(s)."
    )
    return heading + f"<p class='notes'>{count}</p>" + table(trades.head(limit), columns)


def build_run_html(
    result: BacktestRunResult, charts: Sequence[Chart], *, max_trades: int = MAX_TRADES
) -> str:
    """Return the run report as one HTML document with the charts embedded as base64 PNG."""
    scenario = result.scenario_snapshot
    generated = fmt_utc(result.generated_at)
    days = result.daily_path.get_column("date").n_unique()
    provider = f"{result.provider_snapshot.provider_id} ({scenario.provider_ref.pricing_mode})"
    meta = (
        ("generated at", generated),
        ("engine version", result.engine_version),
        ("rules version", result.rules_version),
        ("run id", result.run_id),
        ("provider", provider),
    )
    chart_part = (
        "<p class='notes'>This run kept no daily path, so there are no paths to draw.</p>"
        if result.daily_path.is_empty()
        else "".join(chart_html(chart) for chart in charts)
    )
    body = (
        f"<h1>Backtest run: {esc(scenario.display_name or scenario.slug)}</h1>"
        f"<p class='subtitle'>{len(result.template_snapshots)} hedge template(s) on "
        f"{esc(scenario.symbol)}, {scenario.start_date} to {scenario.end_date}"
        + (f" ({fmt_int(days)} trading days)" if days else "")
        + "</p>"
        + meta_table(meta)
        + caveat_box(
            [
                *pricing_caveats(scenario.provider_ref.pricing_mode, result.provider_snapshot),
                DAILY_CLOSES_CAVEAT,
            ]
        )
        + "<ul class='toc'><li><a href='#assumptions'>Assumptions</a></li>"
        "<li><a href='#comparison'>Ranked comparison</a></li>"
        "<li><a href='#paths'>Value and LTV paths</a></li>"
        "<li><a href='#trades'>Trades</a></li></ul>"
        + _assumptions(result)
        + "<h2 id='comparison'>Ranked comparison</h2>"
        + table(run_comparison(result), RUN_COMPARISON_COLUMNS, highlight_first=True)
        + incomplete_note(result.summary)
        + "<h2 id='paths'>Value and LTV paths</h2>"
        + chart_part
        + "<h2 id='trades'>Trades</h2>"
        + "".join(_trades_section(result, t, max_trades) for t in result.template_snapshots)
        + "<footer>hedgeframe run report. Tables: <code>result.write_parquet(root)</code> "
        f"writes <code>&lt;root&gt;/&lt;table&gt;/run_id={esc(result.run_id)}/part-0.parquet"
        "</code> (a run stored by <code>hedgeframe run</code> has them under "
        "<code>&lt;data&gt;/backtests/</code>). Research output, not investment advice."
        "</footer>"
    )
    title = f"hedgeframe: run {fmt_text(scenario.slug)} ({generated})"
    return page(title, body)


def write_run_report(
    result: BacktestRunResult,
    path: str | Path,
    *,
    charts_dir: str | Path | None = None,
    max_trades: int = MAX_TRADES,
) -> Path:
    """Draw the charts, write them as PNG files and write the self-contained run report.

    Parameters
    ----------
    result
        The run to report.
    path
        The HTML file to write (atomically).
    charts_dir
        Where the PNG copies of the charts go; default ``<path's folder>/charts``.
    max_trades
        Trades shown per template; a longer log shows its first ``max_trades`` and says
        how many there are.

    Returns
    -------
    pathlib.Path
        The HTML file.

    Raises
    ------
    BadInputError
        When ``max_trades`` is below 1, or ``path`` or ``charts_dir`` cannot be written
        (nothing is written then).
    """
    if max_trades < 1:
        msg = f"max_trades must be at least 1 (got {max_trades}): the trades shown per template"
        raise BadInputError(msg)
    check_report_path(path, charts_dir=charts_dir)
    charts = render_run_charts(result)
    document = build_run_html(result, charts, max_trades=max_trades)
    return write_report_files(path, charts, document, charts_dir=charts_dir)
