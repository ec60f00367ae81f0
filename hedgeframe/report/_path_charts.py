"""Value and LTV path charts, the same drawing in the run report and in each event's section.

Each takes a long path frame (one row per template and day: ``template_slug``, ``date``
and the value columns) and draws the unhedged line in black and one styled line per
template; an event's chart adds its shaded window through ``mark``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Final

import numpy as np
import polars as pl

from hedgeframe.report._plot import (
    UNHEDGED_COLOR,
    Chart,
    SeriesStyle,
    date_axis,
    finish,
    new_axes,
)

__all__ = ["MARGIN_CALL_COLOR", "ltv_chart", "plot_paths", "value_chart"]

MARGIN_CALL_COLOR: Final = "#c0392b"

Mark = Callable[[Any], None]
"""Draws on the axes before the lines (an event's shaded window and anchor)."""


def _finite(values: np.ndarray) -> np.ndarray:
    """Leave out ``inf`` (an LTV whose hedged value is <= 0): a line cannot draw it."""
    return np.where(np.isfinite(values), values, np.nan)


def _dates(frame: pl.DataFrame) -> list[date]:
    return frame.get_column("date").to_list()


def plot_paths(
    axes: Any,
    paths: pl.DataFrame,
    *,
    unhedged: str,
    hedged: str,
    styles: Mapping[str, SeriesStyle],
    unhedged_label: str,
) -> float:
    """Draw the unhedged line and each template's hedged line from a long path frame.

    The unhedged line is the same for every template, so it is read from the first
    template's rows. Templates are drawn in ``styles`` order, each above the last.

    Returns
    -------
    float
        The largest finite value drawn (for the caller's axis limits).
    """
    first = paths.filter(pl.col("template_slug") == paths.get_column("template_slug")[0])
    base = _finite(first.get_column(unhedged).to_numpy())
    axes.plot(
        _dates(first), base, color=UNHEDGED_COLOR, linewidth=2.4, label=unhedged_label, zorder=2
    )
    largest = float(np.nanmax(base)) if np.isfinite(base).any() else 0.0
    for slug, style in styles.items():
        rows = paths.filter(pl.col("template_slug") == slug)
        if rows.height:
            values = _finite(rows.get_column(hedged).to_numpy())
            axes.plot(_dates(rows), values, label=f"hedged: {slug}", **style.line_kwargs())
            if np.isfinite(values).any():
                largest = max(largest, float(np.nanmax(values)))
    return largest


def value_chart(
    paths: pl.DataFrame,
    styles: Mapping[str, SeriesStyle],
    *,
    name: str,
    subject: str,
    columns: tuple[str, str],
    unhedged_label: str,
    currency: str | None,
    alt_note: str,
    mark: Mark | None = None,
    event_slug: str | None = None,
) -> Chart:
    """Chart the unhedged and hedged values over time.

    Parameters
    ----------
    columns
        The unhedged and hedged value columns of ``paths``.
    currency
        The values' currency; ``None`` when they are indexed to 100 on the first day (a
        grey line marks 100).
    alt_note
        What the alt text adds to the title (what is shaded, what black stands for).
    """
    axes = new_axes(11.0, 4.4)
    if mark is not None:
        mark(axes)
    unhedged, hedged = columns
    plot_paths(
        axes, paths, unhedged=unhedged, hedged=hedged, styles=styles, unhedged_label=unhedged_label
    )
    if currency is None:
        axes.axhline(100.0, color="#999999", linewidth=0.8)
        axes.set_ylabel("value (first day = 100)")
    else:
        axes.set_ylabel(f"value ({currency})")
        axes.yaxis.set_major_formatter("{x:,.0f}")
    date_axis(axes)
    title = f"{subject}: portfolio value, unhedged vs hedged (net of hedge costs)"
    finish(axes, title, min_width=6.5, min_height=2.8)
    alt = f"{title}; {alt_note}"
    return Chart(name=name, title=title, alt=alt, figure=axes.figure, event_slug=event_slug)


def _plot_loans(axes: Any, paths: pl.DataFrame, styles: Mapping[str, SeriesStyle]) -> float:
    """Draw each template's loan, as a share of the first day's collateral, when it moves.

    A loan rate grows the loan and a sale of collateral repays it (SPEC 9.2); a constant
    loan is already the LTV's numerator and draws nothing. Returns the largest share drawn.
    """
    if "loan_amount" not in paths.columns:
        return 0.0
    loans = paths.get_column("loan_amount")
    if loans.min() == loans.max():
        return 0.0
    largest, label = 0.0, "loan / first day's collateral (dotted)"
    for slug, style in styles.items():
        rows = paths.filter(pl.col("template_slug") == slug)
        if not rows.height:
            continue
        first = rows.row(0, named=True)
        collateral = first["loan_amount"] / first["ltv_unhedged"]
        share = rows.get_column("loan_amount").to_numpy() / collateral
        axes.plot(_dates(rows), share, color=style.color, linestyle=":", linewidth=1.2, label=label)
        label = "_nolegend_"
        largest = max(largest, float(np.nanmax(share)))
    return largest


def ltv_chart(
    paths: pl.DataFrame,
    styles: Mapping[str, SeriesStyle],
    *,
    name: str,
    subject: str,
    threshold: float,
    mark: Mark | None = None,
    event_slug: str | None = None,
) -> Chart:
    """Chart each loan-to-value path against the dashed red margin-call line, from 0 %.

    Where the loan moves (interest, or collateral sold to repay it), each template's loan
    is drawn dotted as a share of the first day's collateral, on the same axis.
    """
    from matplotlib.ticker import PercentFormatter

    axes = new_axes(11.0, 4.0)
    if mark is not None:
        mark(axes)
    largest = plot_paths(
        axes,
        paths,
        unhedged="ltv_unhedged",
        hedged="ltv_hedged",
        styles=styles,
        unhedged_label="unhedged LTV",
    )
    axes.axhline(
        threshold,
        color=MARGIN_CALL_COLOR,
        linestyle="--",
        linewidth=1.6,
        label=f"margin call at LTV {threshold:.0%}",
        zorder=2.5,
    )
    largest = max(largest, _plot_loans(axes, paths, styles))
    axes.set_ylim(bottom=0.0, top=max(largest, threshold) * 1.08)
    axes.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axes.set_ylabel("loan-to-value")
    date_axis(axes)
    title = f"{subject}: loan-to-value against the margin-call line"
    finish(axes, title, min_width=6.5, min_height=2.6)
    return Chart(
        name=name,
        title=title,
        alt=f"{title} (dashed red: margin call at {threshold:.0%})",
        figure=axes.figure,
        event_slug=event_slug,
    )
