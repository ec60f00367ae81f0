"""The event comparison report: assumptions, the answer across events, each event.

The page reads top-down the way a risk committee reads: what was assumed and how far to
trust it, the answer across events, then each event in detail, then every warning.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hedgeframe.models import MarginCallPolicy
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
from hedgeframe.report._event_charts import render_charts
from hedgeframe.report._format import (
    ACROSS_COLUMNS,
    EVENT_SUMMARY_COLUMNS,
    EVENTS_COLUMNS,
    FORCED_SALES_COLUMNS,
    fmt_int,
    fmt_ltv,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_utc,
)
from hedgeframe.report._html import (
    caveat_box,
    chart_html,
    check_report_path,
    esc,
    meta_table,
    page,
    table,
    warning_list,
    write_report_files,
)
from hedgeframe.report._plot import Chart

if TYPE_CHECKING:
    from hedgeframe.events import EventComparison
    from hedgeframe.models import EventPreset

__all__ = ["build_html", "write_report"]


# -- tables -------------------------------------------------------------------------


def _rank_colour(rank: int, worst: int) -> str:
    """Green for rank 1 through yellow to red for the last rank."""
    t = 0.0 if worst <= 1 else (rank - 1) / (worst - 1)
    stops = ((0.0, (102, 189, 99)), (0.5, (254, 224, 139)), (1.0, (244, 109, 67)))
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            r, g, b = (round(a + f * (z - a)) for a, z in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#f46d43"


def _rank_heat_table(comparison: EventComparison) -> str:
    events = [p.slug for p in comparison.presets]
    worst = max(comparison.summary.get_column("rank").to_list(), default=1)
    ranks = {
        (row["template_slug"], row["event_slug"]): row["rank"]
        for row in comparison.summary.iter_rows(named=True)
    }
    head = "<th>template</th>" + "".join(f"<th>{esc(e)}</th>" for e in events)
    head += "<th>mean rank</th><th>overall rank</th>"
    body = []
    for row in comparison.across_events.iter_rows(named=True):
        slug = row["template_slug"]
        cells = [f"<td>{esc(slug)}</td>"]
        for event in events:
            rank = ranks.get((slug, event))
            if rank is None:
                cells.append('<td class="rank">-</td>')
            else:
                colour = _rank_colour(rank, worst)
                cells.append(f'<td class="rank" style="background:{colour}">{rank}</td>')
        cells.append(f'<td class="num">{fmt_num(row["mean_rank"])}</td>')
        cells.append(f'<td class="rank">{row["rank"]}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _caveats(comparison: EventComparison) -> str:
    sources = sorted(set(comparison.events.get_column("data_source").to_list()))
    return caveat_box(
        [
            *pricing_caveats(comparison.pricing_mode, comparison.provider_snapshot),
            "<b>Data.</b> Underlying closes from: "
            + "; ".join(esc(s) for s in sources)
            + ". Sample data are for research, not for trading.",
            "<b>Hindsight windows.</b> Event windows are manual dates chosen after the fact "
            "(closing high to closing low); the hedge is bought on the first day of each "
            "scenario. The engine never uses the window's end to decide a roll or an exit.",
            DAILY_CLOSES_CAVEAT,
        ]
    )


# -- sections ---------------------------------------------------------------------------


def _assumptions(comparison: EventComparison) -> str:
    ran = set(comparison.across_events.get_column("template_slug").to_list())
    return (
        "<h2 id='assumptions'>Assumptions</h2>"
        f"<p><b>Portfolio.</b> {esc(comparison.portfolio.describe())}. {LTV_DEFINITIONS}</p>"
        + provider_notes(comparison.provider_snapshot)
        + execution_note("each event's first day")
        + f"<p><b>Ranking.</b> Within an event, {RANKING_RULE}. Across events the same rule "
        "is applied to the totals (sum of margin-call days, worst LTV, sum of costs, sum of "
        "end values); the mean of the per-event ranks is shown beside it.</p>"
        "<h3>Templates</h3>" + templates_table([t for t in comparison.templates if t.slug in ran])
    )


def _event_section(
    comparison: EventComparison, preset: EventPreset, charts: dict[str, Chart]
) -> str:
    row = comparison.events.filter(pl.col("event_slug") == preset.slug).row(0, named=True)
    run = next(r for r in comparison.runs if r.run_id == row["run_id"])
    summary = comparison.summary.filter(pl.col("event_slug") == preset.slug)
    warnings = [w for w in comparison.warnings if w.startswith(f"{preset.slug}:")]
    facts = (
        f"{row['symbol']}, window {row['window_start']} to {row['window_end']}"
        + (f", anchor {preset.anchor_date}" if preset.anchor_date else "")
        + f"; run {row['first_day']} to {row['last_day']} ({row['trading_days']} trading days)"
        f"; first close {fmt_num(row['entry_spot'])}; {fmt_num(row['underlying_units'])} "
        f"units; loan {fmt_money(row['loan_amount'])} {comparison.portfolio.currency}; "
        f"unhedged drawdown {fmt_pct(row['worst_drawdown_unhedged'])}, max unhedged LTV "
        f"{fmt_ltv(row['max_ltv_unhedged'])}, "
        f"{fmt_int(row['margin_call_days_unhedged'])} margin-call day(s) unhedged"
    )
    tags = ", ".join(preset.tags)
    notes = "".join(f"<li>{esc(note)}</li>" for note in run.scenario_snapshot.notes)
    warning_html = "<p><b>Warnings</b></p>" + warning_list(warnings) if warnings else ""
    return (
        f"<h2 id='event-{esc(preset.slug)}'>{esc(preset.display_name or preset.slug)}</h2>"
        f"<p>{esc(preset.description)}</p><p class='notes'>{esc(facts)}. "
        f"Tags: {esc(tags)}. Run id <code>{esc(run.run_id)}</code>.</p>"
        + table(summary, EVENT_SUMMARY_COLUMNS, highlight_first=True)
        + incomplete_note(summary)
        + chart_html(charts[f"{preset.slug}-value"])
        + chart_html(charts[f"{preset.slug}-ltv"])
        + f"<details><summary class='notes'>How the scenario was built</summary><ul class='notes'>"
        f"{notes}</ul></details>" + warning_html
    )


def _forced_sales(comparison: EventComparison) -> str:
    """Show the collateral sold on margin calls, with and without each hedge (SPEC 9.2).

    Shown when the lender acts on a call (``cure`` or ``liquidate``); otherwise a call is
    only flagged and nothing is sold.
    """
    policy = comparison.portfolio.margin_call_policy
    if policy is MarginCallPolicy.NONE:
        return ""
    sales = comparison.across_events.with_columns(
        (pl.col("forced_sale_value_unhedged") - pl.col("forced_sale_value")).alias(
            "forced_sales_avoided"
        )
    )
    return (
        "<h3 id='forced-sales'>Forced sales</h3>"
        f"<p>Collateral the lender sold on margin calls (policy <code>{policy.value}</code>), "
        f"in {esc(comparison.portfolio.currency)} over every event, without a hedge and with "
        "each; the rank puts fewer forced sales first.</p>"
        + table(sales, FORCED_SALES_COLUMNS, highlight_first=True)
    )


def build_html(comparison: EventComparison, charts: Sequence[Chart]) -> str:
    """Return the report as one HTML document with the charts embedded as base64 PNG."""
    by_name = {chart.name: chart for chart in charts}
    generated = fmt_utc(comparison.generated_at)
    rules = comparison.runs[0].rules_version if comparison.runs else ""
    symbols = ", ".join(sorted(set(comparison.events.get_column("symbol").to_list())))
    n_events, n_templates = comparison.events.height, comparison.across_events.height
    toc = "".join(
        f"<li><a href='#event-{esc(p.slug)}'>{esc(p.display_name or p.slug)}</a></li>"
        for p in comparison.presets
    )
    meta = (
        ("generated at", generated),
        ("engine version", comparison.engine_version),
        ("rules version", rules),
        ("comparison id", comparison.comparison_id),
        ("provider", f"{comparison.provider_snapshot.provider_id} ({comparison.pricing_mode})"),
    )
    body = (
        "<h1>Selloff event comparison</h1>"
        f"<p class='subtitle'>{n_templates} hedge template(s) over {n_events} event(s) on "
        f"{esc(symbols)}, each sized to the same starting position</p>"
        + meta_table(meta)
        + _caveats(comparison)
        + "<ul class='toc'><li><a href='#assumptions'>Assumptions</a></li>"
        "<li><a href='#across'>Across events</a></li>"
        f"{toc}<li><a href='#warnings'>Warnings</a></li></ul>"
        + _assumptions(comparison)
        + "<h2 id='across'>Across events</h2>"
        "<p>Ranked by the totals over every event (see Ranking above).</p>"
        + table(comparison.across_events, ACROSS_COLUMNS, highlight_first=True)
        + _forced_sales(comparison)
        + "<h3>Rank in each event</h3>"
        + _rank_heat_table(comparison)
        + chart_html(by_name["ranks-heatmap"])
        + chart_html(by_name["margin-call-days"])
        + "<h3>Events</h3>"
        + table(comparison.events, EVENTS_COLUMNS)
        + "".join(_event_section(comparison, p, by_name) for p in comparison.presets)
        + "<h2 id='warnings'>Warnings</h2>"
        + warning_list(comparison.warnings)
        + "<footer>hedgeframe event comparison report. Tables: Parquet beside this file "
        "(<code>&lt;table&gt;/comparison_id=&lt;id&gt;/part-0.parquet</code> and "
        "<code>&lt;table&gt;/run_id=&lt;id&gt;/part-0.parquet</code>). Research output on "
        "model prices, not investment advice.</footer>"
    )
    return page(f"hedgeframe: selloff event comparison ({generated})", body)


def write_report(
    comparison: EventComparison, path: str | Path, *, charts_dir: str | Path | None = None
) -> Path:
    """Draw the charts, write them as PNG files and write the self-contained HTML report.

    Parameters
    ----------
    comparison
        The event comparison to report.
    path
        The HTML file to write (atomically).
    charts_dir
        Where the PNG copies of the charts go; default ``<path's folder>/charts``.

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    check_report_path(path, charts_dir=charts_dir)
    charts = render_charts(comparison)
    return write_report_files(path, charts, build_html(comparison, charts), charts_dir=charts_dir)
