"""Chart building blocks every report shares: styles, figures that fit their labels, PNG.

Figures are ``matplotlib.figure.Figure`` objects on their own Agg canvas: no ``pyplot``,
no global backend switch, and matplotlib is imported inside these functions only, so
``import hedgeframe`` never loads it. One :class:`SeriesStyle` per template, kept across
every chart of a report; the unhedged collateral is always the thick black line.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

__all__ = [
    "DPI",
    "UNHEDGED_COLOR",
    "Chart",
    "SeriesStyle",
    "category_ticks",
    "date_axis",
    "finish",
    "new_axes",
    "template_styles",
    "wrap_label",
]

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
_DASHES: Final = ("-", "--", "-.", ":")
"""Solid, dashed, dash-dot, dotted: a line drawn over another leaves gaps to see through."""
_MARKERS: Final = ("o", "s", "^", "D", "v", "P", "X", "<", "*")
_WIDEST: Final = 2.8
_NARROWEST: Final = 1.3
_MARKER_SPACING: Final = 0.09
"""Markers every 9 % of the plot's diagonal, staggered per template so they seldom stack."""
UNHEDGED_COLOR: Final = "#111111"
_PAD_INCHES: Final = 0.12
_LABEL_WIDTH: Final = 44
"""Legend and tick labels wrap at this many characters (a slug may have 100)."""


@dataclass(frozen=True)
class SeriesStyle:
    """How one template's line is drawn: colour, dash pattern, marker, width, draw order."""

    color: str
    linestyle: str
    marker: str
    linewidth: float
    zorder: float
    markevery: tuple[float, float]

    def line_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Axes.plot``."""
        return {
            "color": self.color,
            "linestyle": self.linestyle,
            "marker": self.marker,
            "markersize": 5.0,
            "markevery": self.markevery,
            "linewidth": self.linewidth,
            "zorder": self.zorder,
        }


def template_styles(template_slugs: Sequence[str]) -> dict[str, SeriesStyle]:
    """Give each template a fixed style, in the order the templates were given.

    Colour, dash pattern and marker all differ between neighbours (up to 36 templates
    have distinct dash-marker pairs), and earlier templates are drawn wider and lower, so
    two templates with the same path (a 95 % put and a ladder that ends up alike) still
    show as two lines: the wide one as a coloured edge around the narrow one on top.
    """
    count = max(len(template_slugs), 1)
    step = (_WIDEST - _NARROWEST) / max(count - 1, 1)
    return {
        slug: SeriesStyle(
            color=_PALETTE[i % len(_PALETTE)],
            linestyle=_DASHES[i % len(_DASHES)],
            marker=_MARKERS[i % len(_MARKERS)],
            linewidth=round(_WIDEST - i * step, 2) if count > 1 else 2.0,
            zorder=3.0 + i,
            markevery=(_MARKER_SPACING * i / count, _MARKER_SPACING),
        )
        for i, slug in enumerate(template_slugs)
    }


def wrap_label(label: str, width: int = _LABEL_WIDTH) -> str:
    """Wrap a long label (a slug) onto several lines, breaking after hyphens where it can."""
    return "\n".join(textwrap.wrap(label, width, break_on_hyphens=True)) or label


@dataclass(frozen=True)
class Chart:
    """One chart: its file stem, title, alt text and laid-out figure; ``png`` renders it."""

    name: str
    title: str
    alt: str
    figure: Any
    event_slug: str | None = None

    @cached_property
    def png(self) -> bytes:
        """The figure as PNG bytes (rendered once)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()


def new_axes(width: float, height: float) -> Any:
    """Make a figure of at least ``width`` x ``height`` inches on its own Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def _whole_pixels(inches: float) -> float:
    """Round a size up to whole pixels, so the PNG is exactly the figure that was fitted."""
    return math.ceil(inches * DPI - 1e-6) / DPI


def _fit_layout(axes: Any, title: Any, *, min_width: float, min_height: float) -> None:
    """Set the margins to the labels so nothing is clipped, growing the figure if needed.

    Measures what sits beside the plot (tick labels, the axis labels' depth, an outside
    legend, a colorbar made as a child axes) with the Agg renderer and gives it exactly
    that room, so long slugs or many events widen the figure instead of being cut; the
    plot area keeps at least ``min_width`` x ``min_height`` inches. What runs along the
    plot (the left-aligned title, the centred axis labels) is fitted by widening or
    heightening the whole figure when it is longer than the plot. Repeated (at most four
    times) because a date locator's ticks depend on the plot's size. One measuring pass
    costs a fraction of a layout engine's.
    """
    from matplotlib.transforms import Bbox

    figure = axes.figure
    width, height = figure.get_size_inches()
    for _ in range(4):
        renderer = figure.canvas.get_renderer()
        inner = axes.get_window_extent(renderer)
        beside = axes.get_tightbbox(renderer, for_layout_only=True)
        along = [t.get_window_extent(renderer) for t in (title, axes.xaxis.label, axes.yaxis.label)]
        full = Bbox.union([beside, *(b for b in along if b.width and b.height)])
        if (
            full.x0 >= 0
            and full.y0 >= 0
            and full.x1 <= figure.bbox.x1
            and full.y1 <= figure.bbox.y1
            and inner.width >= min_width * DPI - 1
            and inner.height >= min_height * DPI - 1
        ):
            return
        left = (inner.x0 - beside.x0) / DPI + _PAD_INCHES
        right = (beside.x1 - inner.x1) / DPI + _PAD_INCHES
        bottom = (inner.y0 - beside.y0) / DPI + _PAD_INCHES
        top = (beside.y1 - inner.y1) / DPI + _PAD_INCHES
        new_width = _whole_pixels(
            max(width, left + right + min_width, full.width / DPI + 2 * _PAD_INCHES)
        )
        new_height = _whole_pixels(
            max(height, bottom + top + min_height, full.height / DPI + 2 * _PAD_INCHES)
        )
        figure.set_size_inches(new_width, new_height)
        figure.subplots_adjust(
            left=left / new_width,
            right=1.0 - right / new_width,
            bottom=bottom / new_height,
            top=1.0 - top / new_height,
        )


def finish(axes: Any, title: str, *, min_width: float, min_height: float) -> None:
    """Title the chart, put the legend (if any) right of the plot, and fit the layout.

    The legend always sits outside the plot, so it never hides a line however crowded
    the chart is; its labels wrap so a 100-character slug cannot push the plot away.
    """
    text = axes.set_title(wrap_label(title, 110), loc="left", fontsize=11, fontweight="bold")
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        axes.legend(
            handles,
            [wrap_label(label) for label in labels],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False,
            handlelength=3.2,
        )
    _fit_layout(axes, text, min_width=min_width, min_height=min_height)


def category_ticks(axes: Any, positions: Any, labels: Sequence[str]) -> None:
    """Label the x axis with names (events): slanted, or upright when a name wraps.

    A name longer than 22 characters wraps onto several lines; slanted multi-line labels
    would touch their neighbours, so then every label stands at 90 degrees.
    """
    wrapped = [wrap_label(label, 22) for label in labels]
    upright = any("\n" in label for label in wrapped)
    axes.set_xticks(
        positions,
        wrapped,
        rotation=90 if upright else 30,
        ha="center" if upright else "right",
        rotation_mode="default" if upright else "anchor",
        fontsize=9,
    )


def date_axis(axes: Any) -> None:
    """Concise date ticks and a light grid on the x axis."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.grid(visible=True, color="#e5e5e5", linewidth=0.6)
    axes.set_xlabel("date (trading days with a close)")
