"""Charts that read well: no label outside the figure, lines told apart when they overlap.

Every chart is laid out, drawn with its Agg renderer, and each text artist a reader sees
(title, axis and tick labels, legend entries, the colorbar's label) is measured with
``get_window_extent``: it must lie inside the figure, whose size is the PNG's size. The
cases: the two overview charts over 1, 3, 7 and 10 events (seed slugs, and 60-character
event and 100-character template slugs), one event's value and LTV charts in each case
(they do not depend on how many events there are), and a single run's charts.
"""

from __future__ import annotations

import struct
from datetime import date
from typing import Any

import pytest
from matplotlib.lines import Line2D
from matplotlib.text import Text
from report_helpers import gfc_run

import hedgeframe as hf
from hedgeframe.events import EventComparison, compare_events
from hedgeframe.models import EventPreset
from hedgeframe.report import Chart, render_run_charts, template_styles
from hedgeframe.report._event_charts import comparison_styles, event_charts, overview_charts

LONG_EVENT = "selloff-{year}-spring-with-a-long-descriptive-name-for-the-committee"
LONG_TEMPLATES = (
    "protective-put-with-a-remarkably-long-descriptive-name-at-the-money-twelve-months-held-to-expiry-v22",
    "ladder-with-a-remarkably-long-descriptive-name-ninety-five-and-ninety-percent-twelve-months-v2-final",
)


def _slug(pattern: str, year: int) -> str:
    return pattern.format(year=year)[:60].rstrip("-")


def _comparison(n_events: int, *, long_slugs: bool) -> EventComparison:
    """``n_events`` four-week April windows on the bundled S&P 500 sample (2000, 2001...)."""
    pattern = LONG_EVENT if long_slugs else "selloff-{year}-04"
    presets = [
        EventPreset(
            slug=_slug(pattern, 2000 + i),
            symbol="^GSPC",
            window_start=date(2000 + i, 4, 3),
            window_end=date(2000 + i, 5, 1),
            anchor_date=date(2000 + i, 4, 14),
        )
        for i in range(n_events)
    ]
    templates = hf.seed_templates()
    if long_slugs:
        assert all(len(s) == 100 for s in LONG_TEMPLATES)
        templates = [
            hf.protective_put(LONG_TEMPLATES[0]),
            hf.put_ladder(LONG_TEMPLATES[1], [0.95, 0.9], [0.5, 0.5]),
            *templates,
        ]
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
    return compare_events(presets, templates, provider)


CASES = [(1, False), (3, False), (7, False), (10, False), (1, True), (10, True)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{c[0]}-events{'-long' * c[1]}")
def charts(request: pytest.FixtureRequest) -> list[Chart]:
    """The overview charts and the first event's two charts."""
    n_events, long_slugs = request.param
    comparison = _comparison(n_events, long_slugs=long_slugs)
    styles = comparison_styles(comparison)
    return overview_charts(comparison, styles) + event_charts(
        comparison, comparison.presets[0], styles
    )


@pytest.fixture(scope="module")
def run_charts() -> list[Chart]:
    templates = [hf.protective_put(LONG_TEMPLATES[0]), *hf.seed_templates()]
    portfolio = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=1409.34, loan_amount=84_000, margin_call_ltv=0.75
    )
    return render_run_charts(gfc_run(templates, portfolio))


def _drawn_texts(figure: Any) -> list[Text]:
    """Every non-empty text a reader sees, after a draw: tick labels of drawn ticks only."""
    figure.canvas.draw()
    tick_labels: set[int] = set()
    drawn: list[Text] = []
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                tick_labels.update({id(tick.label1), id(tick.label2)})
                if low <= tick.get_loc() <= high:
                    drawn.extend(t for t in (tick.label1, tick.label2) if t.get_visible())
    others = [t for t in figure.findobj(Text) if id(t) not in tick_labels and t.get_visible()]
    return [t for t in [*drawn, *others] if t.get_text().strip()]


def _assert_inside(chart: Chart) -> None:
    figure = chart.figure
    renderer = figure.canvas.get_renderer()
    texts = _drawn_texts(figure)
    assert any(t.get_text().startswith(chart.title[:20]) for t in texts), "title not found"
    width, height = figure.bbox.width, figure.bbox.height
    for text in texts:
        box = text.get_window_extent(renderer)
        inside = box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
        where = f"{text.get_text()!r} at {box.bounds} is outside {width}x{height}"
        assert inside, f"{chart.name}: {where}"


def _hedged_lines(chart: Chart) -> list[Line2D]:
    (axes,) = chart.figure.axes
    return [line for line in axes.get_lines() if line.get_label().startswith("hedged: ")]


def test_every_label_lies_inside_its_figure(charts: list[Chart]) -> None:
    for chart in charts:
        _assert_inside(chart)


def test_run_chart_labels_lie_inside_their_figure(run_charts: list[Chart]) -> None:
    assert [c.name.rsplit("-", 1)[1] for c in run_charts] == ["value", "ltv"]
    for chart in run_charts:
        _assert_inside(chart)


def test_legend_sits_outside_the_plot(charts: list[Chart], run_charts: list[Chart]) -> None:
    for chart in [*charts[1:], *run_charts]:  # the heat-map has a colorbar, no legend
        axes = chart.figure.axes[0]
        renderer = chart.figure.canvas.get_renderer()
        legend = axes.get_legend().get_window_extent(renderer)
        assert legend.x0 >= axes.get_window_extent(renderer).x1, chart.name


def test_overlapping_lines_differ_in_dash_and_marker(
    charts: list[Chart], run_charts: list[Chart]
) -> None:
    """The 95 % put and the 33/33/33 ladder nearly coincide: colour alone does not do."""
    for chart in [*charts[2:], *run_charts]:
        lines = _hedged_lines(chart)
        looks = [(str(line.get_linestyle()), line.get_marker()) for line in lines]
        assert len(lines) >= 4
        assert len(set(looks)) == len(looks), chart.name
        assert len({line.get_color() for line in lines}) == len(lines), chart.name
        by_label = {line.get_label(): line for line in lines}
        put = by_label["hedged: protective-put-95pct-12m"]
        ladder = by_label["hedged: ladder-33-33-33-atm-95pct-90pct-12m"]
        assert put.get_linestyle() != ladder.get_linestyle()
        assert put.get_marker() != ladder.get_marker()
        assert put.get_zorder() < ladder.get_zorder()  # drawn first, so drawn wider
        assert put.get_linewidth() > ladder.get_linewidth()


def test_styles_stay_distinct_for_many_templates() -> None:
    styles = template_styles([f"t{i}" for i in range(36)])
    looks = {(str(s.linestyle), s.marker) for s in styles.values()}
    assert len(looks) == 36
    widths = [s.linewidth for s in styles.values()]
    assert widths == sorted(widths, reverse=True)
    assert min(widths) >= 1.3


def test_the_png_is_the_figure_that_was_measured(run_charts: list[Chart]) -> None:
    chart = run_charts[0]
    width, height = struct.unpack(">II", chart.png[16:24])  # the PNG IHDR chunk
    size = (chart.figure.bbox.width, chart.figure.bbox.height)
    assert (width, height) == pytest.approx(size, abs=1e-6)


def test_the_plot_keeps_its_size_when_slugs_are_long(charts: list[Chart]) -> None:
    """Long labels widen the figure; they do not squeeze the plot below its minimum."""
    heatmap = charts[0]
    axes = heatmap.figure.axes[0]
    renderer = heatmap.figure.canvas.get_renderer()
    assert axes.get_window_extent(renderer).width >= 3.0 * heatmap.figure.dpi - 1
    for chart in charts[1:]:
        plot = chart.figure.axes[0].get_window_extent(renderer)
        assert plot.width >= 6.0 * chart.figure.dpi - 1, chart.name
