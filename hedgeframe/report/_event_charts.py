"""The event comparison's charts: two overviews, then a value and an LTV chart per event.

Built from the blocks in :mod:`hedgeframe.report._plot` (one style per template across
every chart, legends outside the plot, layouts fitted to their labels).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import polars as pl

from hedgeframe.report._path_charts import ltv_chart, value_chart
from hedgeframe.report._plot import (
    UNHEDGED_COLOR,
    Chart,
    SeriesStyle,
    category_ticks,
    finish,
    new_axes,
    template_styles,
    wrap_label,
)

if TYPE_CHECKING:
    from hedgeframe.events import EventComparison
    from hedgeframe.models import EventPreset

__all__ = ["comparison_styles", "event_charts", "overview_charts", "render_charts"]

WINDOW_COLOR: Final = "#dfe8f3"


def _mark_window(axes: Any, *, preset: EventPreset) -> None:
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


def event_charts(
    comparison: EventComparison, preset: EventPreset, styles: dict[str, SeriesStyle]
) -> list[Chart]:
    """Draw the event's value chart (indexed to 100 unless the preset says not) and LTV chart."""
    event = pl.col("event_slug") == preset.slug
    subject = preset.display_name or preset.slug
    indexed = preset.scenario_overrides.normalize_start_value
    columns = "index" if indexed else "value"
    value = value_chart(
        comparison.normalized_paths.filter(event),
        styles,
        name=f"{preset.slug}-value",
        subject=subject,
        columns=(f"{columns}_unhedged", f"{columns}_hedged"),
        unhedged_label="unhedged collateral",
        currency=None if indexed else comparison.portfolio.currency,
        alt_note=f"shaded: event window {preset.window_start} to {preset.window_end}",
        mark=partial(_mark_window, preset=preset),
        event_slug=preset.slug,
    )
    ltv_paths = comparison.ltv_paths.filter(event)
    ltv = ltv_chart(
        ltv_paths,
        styles,
        name=f"{preset.slug}-ltv",
        subject=subject,
        threshold=float(ltv_paths.get_column("margin_call_ltv")[0]),
        mark=partial(_mark_window, preset=preset),
        event_slug=preset.slug,
    )
    return [value, ltv]


def _rank_heatmap(comparison: EventComparison) -> Chart:
    slugs = comparison.across_events.get_column("template_slug").to_list()
    events = [p.slug for p in comparison.presets]
    ranks = np.full((len(slugs), len(events)), np.nan)
    for row in comparison.summary.iter_rows(named=True):
        ranks[slugs.index(row["template_slug"]), events.index(row["event_slug"])] = row["rank"]
    n_templates = max(len(slugs), 1)
    axes = new_axes(8.0, 3.0)
    image = axes.imshow(ranks, cmap="RdYlGn_r", vmin=1, vmax=max(n_templates, 2), aspect="auto")
    for (i, j), value in np.ndenumerate(ranks):
        if np.isfinite(value):
            axes.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=10)
    category_ticks(axes, range(len(events)), events)
    axes.set_yticks(range(len(slugs)), [wrap_label(s) for s in slugs], fontsize=9)
    colorbar_axes = axes.inset_axes((1.03, 0.0, 0.035, 1.0))
    colorbar = axes.figure.colorbar(image, cax=colorbar_axes)
    colorbar.set_label("rank in the event (1 = best)")
    colorbar.set_ticks(range(1, max(n_templates, 2) + 1))
    title = "Rank of each template in each event (1 = best; rows in overall rank order)"
    finish(
        axes,
        title,
        min_width=max(3.0, 0.8 * len(events)),
        min_height=max(2.0, 0.5 * n_templates),
    )
    return Chart(name="ranks-heatmap", title=title, alt=title, figure=axes.figure)


def _margin_call_bars(comparison: EventComparison, styles: dict[str, SeriesStyle]) -> Chart:
    from matplotlib.ticker import MaxNLocator

    events = [p.slug for p in comparison.presets]
    unhedged = comparison.events.get_column("margin_call_days_unhedged").to_numpy()
    width = 0.8 / (len(styles) + 1)
    x = np.arange(len(events))
    axes = new_axes(11.0, 4.4)
    axes.bar(x, unhedged, width, color=UNHEDGED_COLOR, label="unhedged")
    for k, (slug, style) in enumerate(styles.items(), start=1):
        days = [
            comparison.summary.filter(
                (pl.col("event_slug") == event) & (pl.col("template_slug") == slug)
            ).get_column("margin_call_days_hedged")
            for event in events
        ]
        heights = [int(d[0]) if d.len() else 0 for d in days]
        axes.bar(x + k * width, heights, width, color=style.color, label=f"hedged: {slug}")
    category_ticks(axes, x + width * len(styles) / 2, events)
    axes.set_ylim(bottom=0.0, top=max(1.0, axes.get_ylim()[1]))  # all zero: 0..1, not -0.05
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("trading days at or above the margin-call LTV")
    axes.grid(visible=True, axis="y", color="#e5e5e5", linewidth=0.6)
    title = "Margin-call days per event: unhedged vs each hedge"
    finish(axes, title, min_width=max(6.0, 0.9 * len(events)), min_height=2.6)
    return Chart(name="margin-call-days", title=title, alt=title, figure=axes.figure)


def comparison_styles(comparison: EventComparison) -> dict[str, SeriesStyle]:
    """One style per template that ran, in the order the templates were given."""
    ran = set(comparison.across_events.get_column("template_slug").to_list())
    return template_styles([t.slug for t in comparison.templates if t.slug in ran])


def overview_charts(comparison: EventComparison, styles: dict[str, SeriesStyle]) -> list[Chart]:
    """Draw the two charts over every event: the rank heat-map and the margin-call days."""
    return [_rank_heatmap(comparison), _margin_call_bars(comparison, styles)]


def render_charts(comparison: EventComparison) -> list[Chart]:
    """Draw every chart of the event report: two overviews, then two per event.

    Returns
    -------
    list[Chart]
        ``ranks-heatmap``, ``margin-call-days``, then ``<event>-value`` and
        ``<event>-ltv`` for each event in order.
    """
    styles = comparison_styles(comparison)
    charts = overview_charts(comparison, styles)
    for preset in comparison.presets:
        charts.extend(event_charts(comparison, preset, styles))
    return charts
