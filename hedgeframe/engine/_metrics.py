"""Path -> summary metrics, and the ranking: pure functions over arrays and tables.

One module feeds both a run's ``summary`` and the event comparison (BT-003). Metrics
summarize a whole path only after the run has produced it; nothing here feeds back into
trading decisions (seed anti-lookahead "Metric rule").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe import _memory as memory

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
    unhedged_value: FloatArray,
    net_value: FloatArray,
    premium: FloatArray,
    realized: FloatArray,
    ltv_unhedged: FloatArray,
    ltv_hedged: FloatArray,
    margin_call_unhedged: BoolArray,
    margin_call_hedged: BoolArray,
    roll_count: IntArray,
    valid_days: IntArray,
) -> dict[str, pl.Series]:
    """Every ``BacktestSummaryMetrics`` field, for each template (row) at once.

    Hedged inputs are ``(templates, days)`` arrays; ``unhedged_value``, ``ltv_unhedged``
    and ``margin_call_unhedged`` are ``(days,)``, the same for every template. Only the
    first ``valid_days[t]`` days of row ``t`` count, so an incomplete template is
    summarized over the days it ran (the unhedged series through prefix maxima and
    counts). A template that ran no day has no path to summarize: every metric but
    ``start_value`` (a property of the scenario's first close) is null, never the
    ``-inf`` or ``-0.0`` of an empty maximum or sum (SPEC 9.3).
    """
    n_templates, n_days = net_value.shape
    last = np.maximum(valid_days - 1, 0)
    complete = bool((valid_days == n_days).all())
    valid = np.arange(n_days)[None, :] < valid_days[:, None]

    def masked(values: npt.NDArray[np.generic], fill: float) -> npt.NDArray[np.generic]:
        return values if complete else np.where(valid, values, fill)

    def row_max(values: FloatArray) -> FloatArray:
        result: FloatArray = masked(values, -np.inf).max(axis=1)
        return result

    def max_before(values: FloatArray) -> FloatArray:
        """Max of a ``(days,)`` series over each template's valid days (prefix maxima)."""
        prefix = np.concatenate(([-np.inf], np.maximum.accumulate(values)))
        result: FloatArray = prefix[valid_days]
        return result

    def count_before(flags: BoolArray) -> IntArray:
        prefix = np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))
        result: IntArray = prefix[valid_days]
        return result

    call_h = masked(margin_call_hedged, fill=False)  # False on days past a template's end
    # A drawdown never looks forward, so days past `valid_days` cannot change the result.
    metrics: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]] = {
        "start_value": np.full(n_templates, unhedged_value[0]),
        "end_value_unhedged": unhedged_value[last],
        "end_value_hedged_net": net_value[np.arange(n_templates), last],
        # `0.0 -` rather than unary minus: a template that paid nothing costs 0.0, not -0.0.
        "total_hedge_cost": 0.0 - masked(premium, 0.0).sum(axis=1),
        "total_option_payoff_realized": masked(realized, 0.0).sum(axis=1),
        "max_ltv_unhedged": max_before(ltv_unhedged),
        "max_ltv_hedged": row_max(ltv_hedged),
        "margin_call_days_unhedged": count_before(margin_call_unhedged),
        "margin_call_days_hedged": call_h.sum(axis=1).astype(np.int64),
        "worst_drawdown_unhedged": max_before(drawdown(unhedged_value)),
        "worst_drawdown_hedged": row_max(drawdown(net_value)),
        "days_protected_below_threshold": masked(
            margin_call_unhedged & ~margin_call_hedged, fill=False
        ).sum(axis=1),
        "roll_count": roll_count.astype(np.int64),
    }
    never_ran = np.flatnonzero(valid_days == 0)
    return {
        name: pl.Series(name, values).scatter(never_ran, None)
        if never_ran.size and name != "start_value"
        else pl.Series(name, values)
        for name, values in metrics.items()
    }


def rank_summary(summary: pl.DataFrame) -> pl.DataFrame:
    """Add ``rank`` (1..n) and sort by it (SPEC 9.3).

    Complete results rank first, in section 4's order: fewer hedged margin-call days,
    lower hedged max LTV, lower hedge cost, higher hedged end value, then slug and version
    for a total order. Incomplete ones follow (their metrics cover less time and are not
    comparable), those that ran longer first, then by slug and version.
    """
    is_complete = pl.col("complete")
    complete = summary.filter(is_complete).sort(
        [name for name, _ in RANKING_ORDER],
        descending=[desc for _, desc in RANKING_ORDER],
        nulls_last=True,
    )
    incomplete = summary.filter(~is_complete).sort(
        ["days_run", "template_slug", "template_version"],
        descending=[True, False, False],
        nulls_last=True,
    )
    ranked = pl.concat([complete, incomplete])
    return ranked.with_columns(pl.int_range(1, ranked.height + 1, dtype=pl.Int64).alias("rank"))
