"""Path -> summary metrics, and the ranking: pure functions over arrays and tables.

One module feeds both a run's ``summary`` and the event comparison (BT-003). Metrics
summarize a whole path only after the run has produced it; nothing here feeds back into
trading decisions (seed anti-lookahead "Metric rule").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe import _memory as memory
from hedgeframe.engine._lender import FORCED_SALE_REASONS

if TYPE_CHECKING:
    from hedgeframe.engine._lender import CollateralSales
    from hedgeframe.engine._shadow import UnhedgedPath

__all__ = ["RANKING_ORDER", "drawdown", "rank_summary", "summary_metrics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

RANKING_ORDER: tuple[tuple[str, bool], ...] = (
    ("margin_call_days_hedged", False),
    ("max_ltv_hedged", False),
    ("total_hedge_cost", False),
    ("end_value_hedged_net", True),
    ("template_slug", False),
    ("template_version", False),
)
"""Ranking keys and whether each sorts descending (seed "Ranking recommendation")."""


def drawdown(values: FloatArray) -> FloatArray:
    """``1 - V_t / max_{s<=t} V_s`` along the last axis."""
    # The peak, then the drawdown in its place.
    result: FloatArray = np.maximum.accumulate(values, axis=-1, out=memory.empty(values.shape))
    no_peak = ~(result > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(values, result, out=result)
    np.subtract(1.0, result, out=result)
    result[no_peak] = 0.0
    return result


def summary_metrics(
    *,
    shadow: UnhedgedPath,
    net_value: FloatArray,
    loan: FloatArray,
    premium: FloatArray,
    realized: FloatArray,
    ltv_hedged: FloatArray,
    margin_call_hedged: BoolArray,
    roll_count: IntArray,
    valid_days: IntArray,
    on_equity: BoolArray,
    sales: CollateralSales | None,
) -> dict[str, pl.Series]:
    """Every ``BacktestSummaryMetrics`` field, for each template (row) at once.

    Hedged inputs are ``(templates, days)`` arrays (``loan`` may be ``(days,)``, the same
    for every template); the unhedged figures are the shadow portfolio's. Only the first
    ``valid_days[t]`` days of row ``t`` count, so an incomplete template is summarized over
    the days it ran (the unhedged series through prefix maxima and counts). A template
    that ran no day has no path to summarize: every metric but ``start_value`` (a property
    of the scenario's first close) is null, never the ``-inf`` or ``-0.0`` of an empty
    maximum or sum (SPEC 9.3). Drawdowns of rows in ``on_equity`` are measured on equity,
    ``net value - loan``, as are the shadow's under a lender policy (SPEC 9.2).
    """
    n_templates, n_days = net_value.shape
    rows = np.arange(n_templates)
    last = np.maximum(valid_days - 1, 0)
    complete = bool((valid_days == n_days).all())
    valid = np.arange(n_days)[None, :] < valid_days[:, None]

    def masked(values: npt.NDArray[np.generic], fill: float) -> npt.NDArray[np.generic]:
        return values if complete else np.where(valid, values, fill)

    def row_max(values: FloatArray) -> FloatArray:
        result: FloatArray = masked(values, -np.inf).max(axis=1)
        return result

    def before(values: npt.NDArray[np.generic], prefix: npt.NDArray[np.generic]) -> FloatArray:
        """Return a ``(days,)`` series' running statistic at each template's last valid day."""
        result: FloatArray = np.concatenate(([values], prefix))[valid_days]
        return result

    def max_before(values: FloatArray) -> FloatArray:
        """Max of a ``(days,)`` series over each template's valid days (prefix maxima)."""
        return before(np.array(-np.inf), np.maximum.accumulate(values))

    def sum_before(values: npt.NDArray[np.generic]) -> FloatArray:
        return before(np.zeros((), dtype=values.dtype), np.cumsum(values))

    loan_cells = loan if loan.ndim == 2 else np.broadcast_to(loan, net_value.shape)
    end_loan = loan_cells[rows, last]
    end_net = net_value[rows, last]
    basis = net_value
    if on_equity.any():
        basis = np.where(on_equity[:, None], net_value - loan_cells, net_value)
    call_h = masked(margin_call_hedged, fill=False)  # False on days past a template's end
    sold = _sales_by_template(sales, valid_days, n_templates)
    # A drawdown never looks forward, so days past `valid_days` cannot change the result.
    metrics: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]] = {
        "start_value": np.full(n_templates, shadow.start_value),
        "end_value_unhedged": shadow.value[last],
        "end_value_hedged_net": end_net,
        # `0.0 -` rather than unary minus: a template that paid nothing costs 0.0, not -0.0.
        "total_hedge_cost": 0.0 - masked(premium, 0.0).sum(axis=1),
        "total_option_payoff_realized": masked(realized, 0.0).sum(axis=1),
        "max_ltv_unhedged": max_before(shadow.ltv),
        "max_ltv_hedged": row_max(ltv_hedged),
        "margin_call_days_unhedged": sum_before(shadow.margin_call.astype(np.int64)),
        "margin_call_days_hedged": call_h.sum(axis=1).astype(np.int64),
        "worst_drawdown_unhedged": max_before(drawdown(shadow.drawdown_basis)),
        "worst_drawdown_hedged": row_max(drawdown(basis)),
        "days_protected_below_threshold": masked(
            shadow.margin_call & ~margin_call_hedged, fill=False
        ).sum(axis=1),
        "roll_count": roll_count.astype(np.int64),
        **sold,
        "end_loan_amount": end_loan,
        "end_equity_hedged": end_net - end_loan,
        "end_equity_unhedged": shadow.equity[last],
        "forced_sale_value_unhedged": sum_before(shadow.forced_sales),
    }
    never_ran = np.flatnonzero(valid_days == 0)
    return {
        name: pl.Series(name, values).scatter(never_ran, None)
        if never_ran.size and name != "start_value"
        else pl.Series(name, values)
        for name, values in metrics.items()
    }


def _sales_by_template(
    sales: CollateralSales | None, valid_days: IntArray, n_templates: int
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]]:
    """Collateral sold per template over its valid days (SPEC 9.2 summary metrics).

    Every sale counts in ``collateral_sold_*``; only margin-call sales (a cure or a
    liquidation) in ``forced_sale_value`` and ``forced_sale_days``.
    """
    units, value, forced = (np.zeros(n_templates) for _ in range(3))
    forced_days = np.zeros(n_templates, dtype=np.int64)
    if sales is not None and sales.template.size:
        kept = sales.day < valid_days[sales.template]
        who, proceeds = sales.template[kept], (sales.units * sales.price)[kept]
        np.add.at(units, who, sales.units[kept])
        np.add.at(value, who, proceeds)
        margin = np.isin(sales.reason[kept], FORCED_SALE_REASONS)
        np.add.at(forced, who[margin], proceeds[margin])
        days = np.unique(np.stack([who[margin], sales.day[kept][margin]]), axis=1)
        np.add.at(forced_days, days[0], 1)
    return {
        "collateral_sold_units": units,
        "collateral_sold_value": value,
        "forced_sale_value": forced,
        "forced_sale_days": forced_days,
    }


def rank_summary(summary: pl.DataFrame, *, forced_sales_first: bool = False) -> pl.DataFrame:
    """Add ``rank`` (1..n) and sort by it (SPEC 9.3, and 9.2 under a lender policy).

    Complete results rank first, in section 4's order: fewer hedged margin-call days,
    lower hedged max LTV, lower hedge cost, higher hedged end value, then slug and version
    for a total order; under a ``cure`` or ``liquidate`` policy (``forced_sales_first``),
    less collateral sold on margin calls (``forced_sale_value``) comes before all of them.
    Incomplete ones follow (their metrics cover less time and are not comparable), those
    that ran longer first, then by slug and version.
    """
    order = [("forced_sale_value", False)] if forced_sales_first else []
    order += list(RANKING_ORDER)
    is_complete = pl.col("complete")
    complete = summary.filter(is_complete).sort(
        [name for name, _ in order],
        descending=[desc for _, desc in order],
        nulls_last=True,
    )
    incomplete = summary.filter(~is_complete).sort(
        ["days_run", "template_slug", "template_version"],
        descending=[True, False, False],
        nulls_last=True,
    )
    ranked = pl.concat([complete, incomplete])
    return ranked.with_columns(pl.int_range(1, ranked.height + 1, dtype=pl.Int64).alias("rank"))
