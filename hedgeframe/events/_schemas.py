"""Column schemas of the event comparison's tables, declared once (built, written, shown)."""

from __future__ import annotations

from typing import Final

import polars as pl

from hedgeframe.engine import (
    COMPARISON_SCHEMA,
)

BASELINE: Final = 100.0
"""Value of every normalized path on its first day."""

_PATH_KEY: dict[str, pl.DataType] = {
    "event_slug": pl.String(),
    "template_slug": pl.String(),
    "template_id": pl.String(),
    "template_version": pl.Int64(),
    "date": pl.Date(),
    "day_offset": pl.Int64(),
    "phase": pl.String(),
}

EVENTS_SCHEMA: Final = pl.Schema(
    {
        "event_slug": pl.String(),
        "event_preset_id": pl.String(),
        "display_name": pl.String(),
        "symbol": pl.String(),
        "event_type": pl.String(),
        "window_start": pl.Date(),
        "window_end": pl.Date(),
        "anchor_date": pl.Date(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "first_day": pl.Date(),
        "last_day": pl.Date(),
        "trading_days": pl.Int64(),
        "entry_spot": pl.Float64(),
        "underlying_units": pl.Float64(),
        "loan_amount": pl.Float64(),
        "margin_call_ltv": pl.Float64(),
        "max_ltv_unhedged": pl.Float64(),
        "margin_call_days_unhedged": pl.Int64(),
        "worst_drawdown_unhedged": pl.Float64(),
        "data_source": pl.String(),
        "run_id": pl.String(),
    }
)
"""One row per event: its window, the scenario it became and the unhedged outcome."""

EVENT_SUMMARY_SCHEMA: Final = pl.Schema(
    {
        "event_slug": pl.String(),
        "event_preset_id": pl.String(),
        "run_id": pl.String(),
        **COMPARISON_SCHEMA,
        "hedge_cost_pct": pl.Float64(),
    }
)
"""Each event's ranked ``comparison`` (SPEC section 5) with the event's keys in front;
``hedge_cost_pct`` is ``total_hedge_cost / start_value``."""

ACROSS_EVENTS_SCHEMA: Final = pl.Schema(
    {
        "rank": pl.Int64(),
        "template_slug": pl.String(),
        "template_id": pl.String(),
        "template_version": pl.Int64(),
        "status": pl.String(),
        "complete": pl.Boolean(),
        "days_run": pl.Int64(),
        "events": pl.Int64(),
        "mean_rank": pl.Float64(),
        "best_rank": pl.Int64(),
        "worst_rank": pl.Int64(),
        "first_places": pl.Int64(),
        "margin_call_days_unhedged": pl.Int64(),
        "margin_call_days_hedged": pl.Int64(),
        "days_protected_below_threshold": pl.Int64(),
        "max_ltv_unhedged": pl.Float64(),
        "max_ltv_hedged": pl.Float64(),
        "worst_drawdown_hedged": pl.Float64(),
        "total_hedge_cost": pl.Float64(),
        "mean_hedge_cost_pct": pl.Float64(),
        "total_end_value_hedged_net": pl.Float64(),
        "forced_sale_value": pl.Float64(),
        "forced_sale_value_unhedged": pl.Float64(),
    }
)
"""One row per template over all events: totals, worst cases, ranks; ranked by the SPEC
ranking rule applied to the totals (see :func:`compare_events`)."""

NORMALIZED_PATHS_SCHEMA: Final = pl.Schema(
    {
        **_PATH_KEY,
        "value_unhedged": pl.Float64(),
        "value_hedged": pl.Float64(),
        "index_unhedged": pl.Float64(),
        "index_hedged": pl.Float64(),
    }
)
"""Unhedged and hedged value per (event, template, day); ``index_*`` = 100 * value / the
first day's unhedged value, so every path starts from the same baseline."""

LTV_PATHS_SCHEMA: Final = pl.Schema(
    {
        **_PATH_KEY,
        "ltv_unhedged": pl.Float64(),
        "ltv_hedged": pl.Float64(),
        "loan_amount": pl.Float64(),
        "margin_call_ltv": pl.Float64(),
        "margin_call_unhedged": pl.Boolean(),
        "margin_call_hedged": pl.Boolean(),
    }
)
"""LTV per (event, template, day) against the margin-call threshold, and the template's loan
that day (it grows with a loan rate and falls when collateral repays it, SPEC 9.2)."""
