"""A single run's charts: value paths and LTV paths of every template against unhedged.

The same drawing as an event's charts (:mod:`hedgeframe.report._path_charts`), in
currency rather than indexed to 100, and without an event window to shade.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from hedgeframe.report._path_charts import ltv_chart, value_chart
from hedgeframe.report._plot import Chart, template_styles

if TYPE_CHECKING:
    from hedgeframe.engine import BacktestRunResult

__all__ = ["render_run_charts"]


def run_paths(result: BacktestRunResult) -> pl.DataFrame:
    """Return the daily path with unhedged and hedged values side by side, per template.

    ``value_unhedged`` = underlying value + initial cash (the unhedged LTV's denominator);
    ``value_hedged`` = the net portfolio value (collateral + option marks + cash).
    """
    cash = result.scenario_snapshot.initial_portfolio.cash_balance
    daily: pl.DataFrame = result.daily_path
    return daily.select(
        "template_slug",
        "date",
        (pl.col("underlying_value") + cash).alias("value_unhedged"),
        pl.col("net_portfolio_value").alias("value_hedged"),
        "ltv_unhedged",
        "ltv_hedged",
    )


def render_run_charts(result: BacktestRunResult) -> list[Chart]:
    """Draw the run report's charts: ``<scenario>-value`` and ``<scenario>-ltv``.

    A run that kept no daily path (``keep_daily_path=False``) has nothing to draw and
    gets no charts.
    """
    paths = run_paths(result)
    if paths.is_empty():
        return []
    styles = template_styles([t.slug for t in result.template_snapshots])
    scenario = result.scenario_snapshot
    subject = scenario.display_name or scenario.slug
    portfolio = scenario.initial_portfolio
    return [
        value_chart(
            paths,
            styles,
            name=f"{scenario.slug}-value",
            subject=subject,
            columns=("value_unhedged", "value_hedged"),
            unhedged_label="unhedged collateral (+ initial cash)",
            currency=portfolio.currency,
            alt_note="black: the unhedged collateral plus the initial cash",
        ),
        ltv_chart(
            paths,
            styles,
            name=f"{scenario.slug}-ltv",
            subject=subject,
            threshold=portfolio.margin_call_ltv,
        ),
    ]
