"""Path -> summary metrics, and the ranking: pure functions over arrays and tables.

One module feeds both a run's ``summary`` and the event comparison (BT-003). Metrics
summarize a whole path only after the run has produced it; nothing here feeds back into
trading decisions (seed anti-lookahead "Metric rule").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

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
    peak = np.maximum.accumulate(values, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        result: FloatArray = np.divide(values, peak)
    np.subtract(1.0, result, out=result)
    result[~(peak > 0.0)] = 0.0
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
) -> dict[str, npt.NDArray[np.float64] | npt.NDArray[np.int64]]:
    """Every ``BacktestSummaryMetrics`` field, for each template (row) at once.

    Inputs are ``(templates, days)`` arrays (``unhedged_value``, ``ltv_unhedged`` and
    ``margin_call_unhedged`` broadcast from ``(days,)``); only the first ``valid_days[t]``
    days of row ``t`` count, so an incomplete template is summarized over what it has.
    """
    n_templates, n_days = net_value.shape
    valid = np.arange(n_days)[None, :] < valid_days[:, None]
    last = np.maximum(valid_days - 1, 0)[:, None]
    unhedged = np.broadcast_to(unhedged_value, (n_templates, n_days))
    ltv_u = np.broadcast_to(ltv_unhedged, (n_templates, n_days))
    call_u = np.broadcast_to(margin_call_unhedged, (n_templates, n_days)) & valid
    call_h = margin_call_hedged & valid

    def masked_max(values: FloatArray) -> FloatArray:
        result: FloatArray = np.where(valid, values, -np.inf).max(axis=1)
        return result

    # A drawdown never looks forward, so days past `valid_days` cannot change the result.
    return {
        "start_value": unhedged[:, 0].copy(),
        "end_value_unhedged": np.take_along_axis(unhedged, last, axis=1)[:, 0],
        "end_value_hedged_net": np.take_along_axis(net_value, last, axis=1)[:, 0],
        "total_hedge_cost": -np.where(valid, premium, 0.0).sum(axis=1),
        "total_option_payoff_realized": np.where(valid, realized, 0.0).sum(axis=1),
        "max_ltv_unhedged": masked_max(ltv_u),
        "max_ltv_hedged": masked_max(ltv_hedged),
        "margin_call_days_unhedged": call_u.sum(axis=1).astype(np.int64),
        "margin_call_days_hedged": call_h.sum(axis=1).astype(np.int64),
        "worst_drawdown_unhedged": masked_max(drawdown(unhedged)),
        "worst_drawdown_hedged": masked_max(drawdown(net_value)),
        "days_protected_below_threshold": (call_u & ~call_h).sum(axis=1).astype(np.int64),
        "roll_count": roll_count.astype(np.int64),
    }


def rank_summary(summary: pl.DataFrame) -> pl.DataFrame:
    """Add ``rank`` (1..n) and sort by it.

    Complete results rank before incomplete ones (an incomplete path's metrics cover less
    time and are not comparable); then fewer hedged margin-call days, lower hedged max LTV,
    lower hedge cost, higher hedged end value, then slug and version for a total order.
    """
    keys = ["__incomplete", *(name for name, _ in RANKING_ORDER)]
    descending = [False, *(desc for _, desc in RANKING_ORDER)]
    ranked = (
        summary.with_columns((pl.col("status") != "complete").alias("__incomplete"))
        .sort(keys, descending=descending, nulls_last=True)
        .drop("__incomplete")
    )
    return ranked.with_columns(pl.int_range(1, ranked.height + 1, dtype=pl.Int64).alias("rank"))
