"""The report's charts, drawn with matplotlib on its Agg canvas and returned as PNG bytes.

Figures are built as ``matplotlib.figure.Figure`` objects and rendered by the Agg canvas
directly: no ``pyplot``, no global backend switch, nothing done at ``import hedgeframe``
(matplotlib is imported only when a report is drawn). One colour per template, kept
across every chart; the unhedged collateral is always the black line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from hedgeframe.events import EventComparison
    from hedgeframe.models import EventPreset

__all__ = ["Chart", "render_charts", "template_colors"]

DPI: Final = 100
_PALETTE: Final = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#d62728",
)
UNHEDGED_COLOR: Final = "#111111"
MARGIN_CALL_COLOR: Final = "#c0392b"
WINDOW_COLOR: Final = "#dfe8f3"
_MARGINS: Final = {"left": 0.08, "right": 0.69, "top": 0.9, "bottom": 0.14}


@dataclass(frozen=True)
class Chart:
    """One rendered chart: its file stem, title, alt text and PNG bytes."""

    name: str
    title: str
    alt: str
    png: bytes
    event_slug: str | None = None


def template_colors(template_slugs: list[str]) -> dict[str, str]:
    """Give each template a fixed colour, in the order the templates were given."""
    return {slug: _PALETTE[i % len(_PALETTE)] for i, slug in enumerate(template_slugs)}


def _figure(width: float, height: float, **margins: float) -> Any:
    """Make a figure on its own Agg canvas, with fixed margins (no layout engine: fast)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(**{**_MARGINS, **margins})
    return figure


def _legend_outside(axes: Any) -> None:
    """Legend to the right of the plot: never hides a line, and costs no placement search."""
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _date_axis(axes: Any) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.grid(visible=True, color="#e5e5e5", linewidth=0.6)
    axes.set_xlabel("date (trading days with a close)")


def _mark_window(axes: Any, preset: EventPreset) -> None:
    """Shade the event window and mark its anchor date."""
    axes.axvspan(preset.window_start, preset.window_end, color=WINDOW_COLOR, zorder=0, lw=0)
    if preset.anchor_date is not None:
        axes.axvline(preset.anchor_date, color="#555555", linestyle=":", linewidth=1)
        axes.annotate(
            f"anchor {preset.anchor_date}",
            xy=(preset.anchor_date, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
            color="#555555",
        )


def _dates(frame: pl.DataFrame) -> list[date]:
    return frame.get_column("date").to_list()


def _value_chart(comparison: EventComparison, preset: EventPreset, colors: dict[str, str]) -> Chart:
    paths = comparison.normalized_paths.filter(pl.col("event_slug") == preset.slug)
    normalized = preset.scenario_overrides.normalize_start_value
    unhedged_col, hedged_col = (
        ("index_unhedged", "index_hedged") if normalized else ("value_unhedged", "value_hedged")
    )
    currency = comparison.portfolio.currency
    figure = _figure(11.0, 4.4)
    axes = figure.add_subplot()
    _mark_window(axes, preset)
    first = paths.filter(pl.col("template_slug") == paths.get_column("template_slug")[0])
    axes.plot(
        _dates(first),
        first.get_column(unhedged_col).to_numpy(),
        color=UNHEDGED_COLOR,
        linewidth=2.2,
        label="unhedged collateral",
    )
    for slug, colour in colors.items():
        rows = paths.filter(pl.col("template_slug") == slug)
        if rows.height:
            axes.plot(
                _dates(rows),
                rows.get_column(hedged_col).to_numpy(),
                color=colour,
                linewidth=1.4,
                label=f"hedged: {slug}",
            )
    if normalized:
        axes.axhline(100.0, color="#999999", linewidth=0.8)
        axes.set_ylabel("value (first day = 100)")
    else:
        axes.set_ylabel(f"value ({currency})")
    _date_axis(axes)
    title = f"{preset.display_name or preset.slug}: collateral value, unhedged vs hedged"
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    _legend_outside(axes)
    return Chart(
        name=f"{preset.slug}-value",
        title=title,
        alt=f"{title}; shaded: event window {preset.window_start} to {preset.window_end}",
        png=_png(figure),
        event_slug=preset.slug,
    )


def _ltv_chart(comparison: EventComparison, preset: EventPreset, colors: dict[str, str]) -> Chart:
    paths = comparison.ltv_paths.filter(pl.col("event_slug") == preset.slug)
    threshold = float(paths.get_column("margin_call_ltv")[0])
    figure = _figure(11.0, 4.0)
    axes = figure.add_subplot()
    _mark_window(axes, preset)
    first = paths.filter(pl.col("template_slug") == paths.get_column("template_slug")[0])
    axes.plot(
        _dates(first),
        first.get_column("ltv_unhedged").to_numpy(),
        color=UNHEDGED_COLOR,
        linewidth=2.2,
        label="unhedged LTV",
    )
    unhedged = paths.get_column("ltv_unhedged").to_numpy()
    finite_max = float(np.nanmax(np.where(np.isfinite(unhedged), unhedged, np.nan)))
    for slug, colour in colors.items():
        rows = paths.filter(pl.col("template_slug") == slug)
        if rows.height:
            ltv = rows.get_column("ltv_hedged").to_numpy()
            ltv = np.where(np.isfinite(ltv), ltv, np.nan)  # inf: hedged value <= 0
            axes.plot(_dates(rows), ltv, color=colour, linewidth=1.4, label=f"hedged: {slug}")
            if np.isfinite(ltv).any():
                finite_max = max(finite_max, float(np.nanmax(ltv)))
    axes.axhline(
        threshold,
        color=MARGIN_CALL_COLOR,
        linestyle="--",
        linewidth=1.6,
        label=f"margin call at LTV {threshold:.0%}",
    )
    axes.set_ylim(bottom=0.0, top=max(finite_max, threshold) * 1.08)
    axes.yaxis.set_major_formatter(_percent_formatter())
    axes.set_ylabel("loan-to-value")
    _date_axis(axes)
    title = f"{preset.display_name or preset.slug}: loan-to-value against the margin-call line"
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    _legend_outside(axes)
    return Chart(
        name=f"{preset.slug}-ltv",
        title=title,
        alt=f"{title} (dashed red: margin call at {threshold:.0%})",
        png=_png(figure),
        event_slug=preset.slug,
    )


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1.0, decimals=0)


def _rank_heatmap(comparison: EventComparison) -> Chart:
    slugs = comparison.across_events.get_column("template_slug").to_list()
    events = [p.slug for p in comparison.presets]
    ranks = np.full((len(slugs), len(events)), np.nan)
    for row in comparison.summary.iter_rows(named=True):
        ranks[slugs.index(row["template_slug"]), events.index(row["event_slug"])] = row["rank"]
    n_templates = max(len(slugs), 1)
    figure = _figure(
        max(8.0, 1.1 * len(events) + 5.0),
        0.55 * n_templates + 2.4,
        left=0.3,
        right=0.97,
        bottom=0.3,
        top=0.88,
    )
    axes = figure.add_subplot()
    image = axes.imshow(ranks, cmap="RdYlGn_r", vmin=1, vmax=max(n_templates, 2), aspect="auto")
    for (i, j), value in np.ndenumerate(ranks):
        if np.isfinite(value):
            axes.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=10)
    axes.set_xticks(range(len(events)), events, rotation=30, ha="right", fontsize=9)
    axes.set_yticks(range(len(slugs)), slugs, fontsize=9)
    colorbar = figure.colorbar(image, ax=axes, shrink=0.8)
    colorbar.set_label("rank in the event (1 = best)")
    title = "Rank of each template in each event (1 = best; rows in overall rank order)"
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    return Chart(name="ranks-heatmap", title=title, alt=title, png=_png(figure))


def _margin_call_bars(comparison: EventComparison, colors: dict[str, str]) -> Chart:
    events = [p.slug for p in comparison.presets]
    unhedged = comparison.events.get_column("margin_call_days_unhedged").to_numpy()
    width = 0.8 / (len(colors) + 1)
    x = np.arange(len(events))
    figure = _figure(max(11.0, 1.2 * len(events) + 3.0), 4.4, left=0.09, bottom=0.24)
    axes = figure.add_subplot()
    axes.bar(x, unhedged, width, color=UNHEDGED_COLOR, label="unhedged")
    for k, (slug, colour) in enumerate(colors.items(), start=1):
        days = [
            comparison.summary.filter(
                (pl.col("event_slug") == event) & (pl.col("template_slug") == slug)
            ).get_column("margin_call_days_hedged")
            for event in events
        ]
        heights = [int(d[0]) if d.len() else 0 for d in days]
        axes.bar(x + k * width, heights, width, color=colour, label=f"hedged: {slug}")
    axes.set_xticks(x + width * len(colors) / 2, events, rotation=30, ha="right", fontsize=9)
    axes.set_ylabel("trading days at or above the margin-call LTV")
    axes.grid(visible=True, axis="y", color="#e5e5e5", linewidth=0.6)
    title = "Margin-call days per event: unhedged vs each hedge"
    axes.set_title(title, loc="left", fontsize=11, fontweight="bold")
    _legend_outside(axes)
    return Chart(name="margin-call-days", title=title, alt=title, png=_png(figure))


def render_charts(comparison: EventComparison) -> list[Chart]:
    """Draw every chart of the report: two overviews, then two per event.

    Returns
    -------
    list[Chart]
        ``ranks-heatmap``, ``margin-call-days``, then ``<event>-value`` and
        ``<event>-ltv`` for each event in order.
    """
    ran = set(comparison.across_events.get_column("template_slug").to_list())
    colors = template_colors([t.slug for t in comparison.templates if t.slug in ran])
    charts = [_rank_heatmap(comparison), _margin_call_bars(comparison, colors)]
    for preset in comparison.presets:
        charts.append(_value_chart(comparison, preset, colors))
        charts.append(_ltv_chart(comparison, preset, colors))
    return charts
