"""The event comparison as one self-contained HTML file.

Everything is inline (CSS in a ``<style>`` block, charts as base64 PNG), so the file opens
offline, survives e-mail and prints as it shows. The page reads top-down the way a risk
committee reads: what was assumed and how far to trust it, the answer across events,
then each event in detail, then every warning.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.models import PricingMode, RollPolicyType
from hedgeframe.report._charts import Chart, render_charts
from hedgeframe.report._format import (
    ACROSS_COLUMNS,
    EVENT_SUMMARY_COLUMNS,
    EVENTS_COLUMNS,
    NUMERIC_FORMATS,
    Column,
    fmt_ltv,
    fmt_text,
)

if TYPE_CHECKING:
    from hedgeframe.events import EventComparison
    from hedgeframe.models import EventPreset, StrategyTemplate

__all__ = ["build_html", "describe_provider", "write_report"]

_CSS: Final = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1d1d1f;
       margin: 0 auto; max-width: 1240px; padding: 24px 32px 48px; line-height: 1.45; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid #d0d7de; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.subtitle { color: #57606a; margin: 0 0 16px; }
.meta { font-size: 13px; color: #57606a; }
.meta td { padding: 1px 14px 1px 0; border: none; }
.caveat { background: #fff8e1; border: 1px solid #e0c36a; border-left: 6px solid #d4a017;
          padding: 10px 16px; margin: 16px 0; font-size: 14px; }
.caveat ul { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; }
th { background: #f3f5f8; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.rank { text-align: center; font-weight: 600; }
tr.best td { background: #eef8ee; }
.chart { margin: 8px 0 20px; }
.chart img { max-width: 100%; border: 1px solid #e5e5e5; }
.notes { font-size: 13px; color: #333; }
.warnings li { font-size: 13px; }
.toc { font-size: 14px; columns: 2; }
footer { margin-top: 40px; font-size: 12px; color: #57606a; border-top: 1px solid #d0d7de;
         padding-top: 8px; }
"""


# -- formatting -----------------------------------------------------------------------


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    *,
    highlight_first: bool = False,
) -> str:
    """Render chosen columns of a frame as an HTML table, formatted per column."""
    head = "".join(f"<th>{_esc(label)}</th>" for _, label, _ in columns)
    rows = []
    for index, row in enumerate(frame.iter_rows(named=True)):
        cells = []
        for name, _, fmt in columns:
            css = "rank" if name == "rank" else ("num" if fmt in NUMERIC_FORMATS else "")
            cells.append(f'<td class="{css}">{_esc(fmt(row[name]))}</td>')
        best = ' class="best"' if highlight_first and index == 0 else ""
        rows.append(f"<tr{best}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


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
    head = "<th>template</th>" + "".join(f"<th>{_esc(e)}</th>" for e in events)
    head += "<th>mean rank</th><th>overall rank</th>"
    body = []
    for row in comparison.across_events.iter_rows(named=True):
        slug = row["template_slug"]
        cells = [f"<td>{_esc(slug)}</td>"]
        for event in events:
            rank = ranks.get((slug, event))
            if rank is None:
                cells.append('<td class="rank">-</td>')
            else:
                colour = _rank_colour(rank, worst)
                cells.append(f'<td class="rank" style="background:{colour}">{rank}</td>')
        cells.append(f'<td class="num">{row["mean_rank"]:.2f}</td>')
        cells.append(f'<td class="rank">{row["rank"]}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chart_html(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure class="chart"><img alt="{_esc(chart.alt)}" '
        f'src="data:image/png;base64,{data}"></figure>'
    )


# -- descriptions ----------------------------------------------------------------------


def _describe_volatility(config: Any) -> str:
    if not isinstance(config, dict):
        return fmt_text(config)
    kind = config.get("kind")
    if kind == "constant":
        return f"constant {config['value']:.1%}"
    if kind == "index":
        return f"{config['symbol']} close x {config['scale']:g} on the same day"
    if kind == "trailing_realized":
        return (
            f"{config['window']}-day trailing realized volatility of the underlying "
            "(sample stdev of daily log returns up to the day, x sqrt("
            f"{config.get('annualization', 252)}))"
        )
    if kind == "step":
        steps = ", ".join(f"{d}: {s:.1%}" for d, s in config["steps"])
        return f"step schedule ({steps})"
    if kind == "first_available":
        parts = [_describe_volatility(regime) for regime in config["regimes"]]
        return "; where not yet available: ".join(parts)
    return json.dumps(config, sort_keys=True)


def describe_provider(provider_id: str, pricing_mode: str, config: dict[str, Any]) -> list[str]:
    """Describe a provider's frozen configuration as readable lines (report, CLI)."""
    lines = [f"provider {provider_id} ({pricing_mode})"]
    for key, value in config.items():
        if key == "volatility":
            lines.append(f"volatility: {_describe_volatility(value)}")
        elif key in ("rate", "dividend_yield"):
            lines.append(f"{key.replace('_', ' ')}: {value:.2%} (continuously compounded)")
        elif key == "spread_pct":
            lines.append(
                f"bid/ask spread: {value:.2%} of the mid (buys pay half of it, sales receive "
                "half less; settlement at expiry pays none)"
            )
        else:
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return lines


def _describe_template(template: StrategyTemplate) -> str:
    legs = ", ".join(
        f"{leg.side} {leg.option_type} at {leg.strike_rule.value:.0%} of spot, "
        f"weight {leg.allocation_weight:.0%}, {leg.target_expiry_days} days"
        for leg in template.legs
    )
    policy = template.roll_policy
    roll = (
        f"rolled {policy.days_before_expiry} sessions before expiry"
        if policy.policy_type is RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY
        else "held to expiry, then replaced"
    )
    coverage = {leg.target_coverage_pct for leg in template.legs}
    covered = ", ".join(f"{c:.0%}" for c in sorted(coverage))
    return f"{legs}; {roll}; covers {covered} of the units"


def _caveats(comparison: EventComparison) -> str:
    items = []
    if comparison.pricing_mode is PricingMode.SYNTHETIC_BS_MID:
        items.append(
            "<b>Synthetic pricing.</b> Option prices are Black-Scholes-Merton model values on "
            "real closes with the volatility rule below, not traded quotes. Real puts in a "
            "selloff trade with skew and wider spreads; treat costs and payoffs as estimates."
        )
    else:
        items.append(
            "<b>Snapshot pricing.</b> Option prices are the stored daily chain mids "
            "(fallbacks for missing quotes are listed under warnings)."
        )
    sources = sorted(set(comparison.events.get_column("data_source").to_list()))
    items.append(
        "<b>Data.</b> Underlying closes from: "
        + "; ".join(_esc(s) for s in sources)
        + ". Sample data are for research, not for trading."
    )
    items.append(
        "<b>Hindsight windows.</b> Event windows are manual dates chosen after the fact "
        "(closing high to closing low); the hedge is bought on the first day of each "
        "scenario. The engine never uses the window's end to decide a roll or an exit."
    )
    items.append(
        "<b>Daily closes only.</b> Decisions, fills and marks use the same day's close; "
        "intraday margin calls are not seen."
    )
    return '<div class="caveat"><ul>' + "".join(f"<li>{i}</li>" for i in items) + "</ul></div>"


# -- sections ---------------------------------------------------------------------------


def _assumptions(comparison: EventComparison) -> str:
    snapshot = comparison.provider_snapshot
    provider_lines = describe_provider(
        snapshot.provider_id, comparison.pricing_mode.value, snapshot.config
    )
    templates = [
        t
        for t in comparison.templates
        if t.slug in set(comparison.across_events.get_column("template_slug").to_list())
    ]
    template_rows = "".join(
        f"<tr><td>{_esc(t.slug)}</td><td>{t.version}</td><td>{_esc(t.display_name)}</td>"
        f"<td>{_esc(_describe_template(t))}</td></tr>"
        for t in templates
    )
    return (
        "<h2 id='assumptions'>Assumptions</h2>"
        f"<p><b>Portfolio.</b> {_esc(comparison.portfolio.describe())}. Unhedged LTV = loan / "
        "(collateral + initial cash); hedged LTV = loan / (collateral + option marks + cash, "
        "where cash has paid every premium and received every sale or payoff).</p>"
        "<p><b>Pricing and data.</b></p><ul class='notes'>"
        + "".join(f"<li>{_esc(line)}</li>" for line in provider_lines)
        + "</ul><p><b>Execution.</b> Daily close to close: each decision is filled at the "
        "close it was made on. Every template buys its puts on each event's first day; "
        "expiries settle at intrinsic value; whatever is open on the last day is sold. "
        "Quantities are fixed by the template and the units, never by the path.</p>"
        "<p><b>Ranking.</b> Within an event: fewer hedged margin-call days, then lower "
        "maximum hedged LTV, then lower hedge cost, then higher hedged end value. Across "
        "events the same rule is applied to the totals (sum of margin-call days, worst "
        "LTV, sum of costs, sum of end values); the mean of the per-event ranks is shown "
        "beside it.</p>"
        "<h3>Templates</h3><table><thead><tr><th>slug</th><th>version</th><th>name</th>"
        f"<th>rule</th></tr></thead><tbody>{template_rows}</tbody></table>"
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
        f"; first close {row['entry_spot']:,.2f}; {row['underlying_units']:,.2f} units; "
        f"loan {row['loan_amount']:,.0f} {comparison.portfolio.currency}; unhedged drawdown "
        f"{row['worst_drawdown_unhedged']:.1%}, max unhedged LTV "
        f"{fmt_ltv(row['max_ltv_unhedged'])}, "
        f"{row['margin_call_days_unhedged']} margin-call day(s) unhedged"
    )
    tags = ", ".join(preset.tags)
    notes = "".join(f"<li>{_esc(note)}</li>" for note in run.scenario_snapshot.notes)
    warning_html = (
        "<p><b>Warnings</b></p><ul class='warnings'>"
        + "".join(f"<li>{_esc(w)}</li>" for w in warnings)
        + "</ul>"
        if warnings
        else ""
    )
    return (
        f"<h2 id='event-{_esc(preset.slug)}'>{_esc(preset.display_name or preset.slug)}</h2>"
        f"<p>{_esc(preset.description)}</p><p class='notes'>{_esc(facts)}. "
        f"Tags: {_esc(tags)}. Run id <code>{_esc(run.run_id)}</code>.</p>"
        + _table(summary, EVENT_SUMMARY_COLUMNS, highlight_first=True)
        + _chart_html(charts[f"{preset.slug}-value"])
        + _chart_html(charts[f"{preset.slug}-ltv"])
        + f"<details><summary class='notes'>How the scenario was built</summary><ul class='notes'>"
        f"{notes}</ul></details>" + warning_html
    )


def build_html(comparison: EventComparison, charts: Sequence[Chart]) -> str:
    """Return the report as one HTML document with the charts embedded as base64 PNG."""
    by_name = {chart.name: chart for chart in charts}
    generated = comparison.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rules = comparison.runs[0].rules_version if comparison.runs else ""
    symbols = ", ".join(sorted(set(comparison.events.get_column("symbol").to_list())))
    n_events, n_templates = comparison.events.height, comparison.across_events.height
    toc = "".join(
        f"<li><a href='#event-{_esc(p.slug)}'>{_esc(p.display_name or p.slug)}</a></li>"
        for p in comparison.presets
    )
    warnings = "".join(f"<li>{_esc(w)}</li>" for w in comparison.warnings) or "<li>none</li>"
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
        f"{_esc(symbols)}, each sized to the same starting position</p>"
        "<table class='meta'>"
        + "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in meta)
        + "</table>"
        + _caveats(comparison)
        + f"<ul class='toc'><li><a href='#assumptions'>Assumptions</a></li>"
        "<li><a href='#across'>Across events</a></li>"
        f"{toc}<li><a href='#warnings'>Warnings</a></li></ul>"
        + _assumptions(comparison)
        + "<h2 id='across'>Across events</h2>"
        "<p>Ranked by the totals over every event (see Ranking above).</p>"
        + _table(comparison.across_events, ACROSS_COLUMNS, highlight_first=True)
        + "<h3>Rank in each event</h3>"
        + _rank_heat_table(comparison)
        + _chart_html(by_name["ranks-heatmap"])
        + _chart_html(by_name["margin-call-days"])
        + "<h3>Events</h3>"
        + _table(comparison.events, EVENTS_COLUMNS)
        + "".join(_event_section(comparison, p, by_name) for p in comparison.presets)
        + f"<h2 id='warnings'>Warnings</h2><ul class='warnings'>{warnings}</ul>"
        + "<footer>hedgeframe event comparison report. Tables: Parquet beside this file "
        "(<code>&lt;table&gt;/comparison_id=&lt;id&gt;/part-0.parquet</code> and "
        "<code>&lt;table&gt;/run_id=&lt;id&gt;/part-0.parquet</code>). Research output on "
        "model prices, not investment advice.</footer>"
    )
    title = f"hedgeframe: selloff event comparison ({generated})"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


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
    target = Path(path)
    folder = Path(charts_dir) if charts_dir is not None else target.parent / "charts"
    charts = render_charts(comparison)
    for chart in charts:
        atomic_write_bytes(folder / f"{chart.name}.png", chart.png)
    atomic_write_bytes(target, build_html(comparison, charts).encode("utf-8"))
    return target
