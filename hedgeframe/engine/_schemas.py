"""Column schemas of the output tables, declared once (SPEC section 5).

The engine builds its frames with them, ``write_parquet`` writes them, tests and docs
check against them, and BI tools read them.
"""

from __future__ import annotations

import polars as pl

__all__ = [
    "COMPARISON_SCHEMA",
    "DAILY_PATH_SCHEMA",
    "POSITIONS_SCHEMA",
    "RUNS_SCHEMA",
    "SUMMARY_METRIC_COLUMNS",
    "SUMMARY_SCHEMA",
    "TABLE_SCHEMAS",
    "TRADES_SCHEMA",
]

_TEMPLATE_KEY: dict[str, pl.DataType] = {"template_id": pl.String(), "template_version": pl.Int64()}

DAILY_PATH_SCHEMA = pl.Schema(
    {
        **_TEMPLATE_KEY,
        "template_slug": pl.String(),
        "date": pl.Date(),
        "spot_close": pl.Float64(),
        "underlying_units": pl.Float64(),
        "underlying_value": pl.Float64(),
        "option_market_value": pl.Float64(),
        "premium_cashflow": pl.Float64(),
        "realized_option_cashflow": pl.Float64(),
        "cash": pl.Float64(),
        "net_portfolio_value": pl.Float64(),
        "loan_amount": pl.Float64(),
        "ltv_unhedged": pl.Float64(),
        "ltv_hedged": pl.Float64(),
        "margin_call_unhedged": pl.Boolean(),
        "margin_call_hedged": pl.Boolean(),
        "ltv_unhedged_after": pl.Float64(),
        "ltv_hedged_after": pl.Float64(),
        "active_position_ids": pl.List(pl.String()),
    }
)

TRADES_SCHEMA = pl.Schema(
    {
        **_TEMPLATE_KEY,
        "trade_id": pl.String(),
        "date": pl.Date(),
        "action": pl.String(),
        "leg_id": pl.String(),
        "position_id": pl.String(),
        "symbol": pl.String(),
        "option_type": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "quantity": pl.Float64(),
        "contracts": pl.Float64(),
        "price": pl.Float64(),
        "fee": pl.Float64(),
        "cashflow": pl.Float64(),
        "reason": pl.String(),
    }
)

POSITIONS_SCHEMA = pl.Schema(
    {
        **_TEMPLATE_KEY,
        "position_id": pl.String(),
        "leg_id": pl.String(),
        "symbol": pl.String(),
        "option_type": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "quantity": pl.Float64(),
        "contracts": pl.Float64(),
        "opened_at": pl.Date(),
        "closed_at": pl.Date(),
        "entry_price": pl.Float64(),
        "exit_price": pl.Float64(),
        "close_reason": pl.String(),
        "source_snapshot_date": pl.Date(),
    }
)

SUMMARY_METRIC_COLUMNS: dict[str, pl.DataType] = {
    "start_value": pl.Float64(),
    "end_value_unhedged": pl.Float64(),
    "end_value_hedged_net": pl.Float64(),
    "total_hedge_cost": pl.Float64(),
    "total_option_payoff_realized": pl.Float64(),
    "max_ltv_unhedged": pl.Float64(),
    "max_ltv_hedged": pl.Float64(),
    "margin_call_days_unhedged": pl.Int64(),
    "margin_call_days_hedged": pl.Int64(),
    "worst_drawdown_unhedged": pl.Float64(),
    "worst_drawdown_hedged": pl.Float64(),
    "days_protected_below_threshold": pl.Int64(),
    "roll_count": pl.Int64(),
    "collateral_sold_units": pl.Float64(),
    "collateral_sold_value": pl.Float64(),
    "forced_sale_value": pl.Float64(),
    "forced_sale_days": pl.Int64(),
    "end_loan_amount": pl.Float64(),
    "end_equity_hedged": pl.Float64(),
    "end_equity_unhedged": pl.Float64(),
    "forced_sale_value_unhedged": pl.Float64(),
}

SUMMARY_SCHEMA = pl.Schema(
    {
        **_TEMPLATE_KEY,
        "template_slug": pl.String(),
        "status": pl.String(),
        "complete": pl.Boolean(),
        "days_run": pl.Int64(),
        "incomplete_reason": pl.String(),
        **SUMMARY_METRIC_COLUMNS,
    }
)

COMPARISON_SCHEMA = pl.Schema({**SUMMARY_SCHEMA, "rank": pl.Int64()})

RUNS_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "scenario_id": pl.String(),
        "scenario_slug": pl.String(),
        "event_preset_id": pl.String(),
        "symbol": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "templates": pl.Int64(),
        "complete_templates": pl.Int64(),
        "provider_id": pl.String(),
        "pricing_mode": pl.String(),
        "provider_kind": pl.String(),
        "provider": pl.String(),
        "provider_config": pl.String(),
        "volatility": pl.String(),
        "rate": pl.Float64(),
        "dividend_yield": pl.Float64(),
        "spread_pct": pl.Float64(),
        "fill": pl.String(),
        "max_stale_days": pl.Int64(),
        "calendar": pl.String(),
        "store": pl.String(),
        "data_fingerprint": pl.String(),
        "currency": pl.String(),
        "underlying_units": pl.Float64(),
        "entry_spot": pl.Float64(),
        "loan_amount": pl.Float64(),
        "margin_call_ltv": pl.Float64(),
        "cash_balance": pl.Float64(),
        "financing_rate": pl.Float64(),
        "engine_version": pl.String(),
        "rules_version": pl.String(),
        "created_at": pl.Datetime("us", "UTC"),
    }
)
"""One row per run, written beside its tables (``<root>/runs/run_id=<id>/``) so a BI tool
joins every table on ``run_id`` and filters by symbol, window, provider or portfolio. The
provider's settings are columns (null where a provider has no such setting);
``provider_config`` is the whole configuration as JSON, ``provider`` the same in words."""

TABLE_SCHEMAS: dict[str, pl.Schema] = {
    "daily_path": DAILY_PATH_SCHEMA,
    "trades": TRADES_SCHEMA,
    "positions": POSITIONS_SCHEMA,
    "summary": SUMMARY_SCHEMA,
    "comparison": COMPARISON_SCHEMA,
}
