"""Per-template backtest results as records (the engine's tables hold the same fields)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from hedgeframe.models._base import FrozenModel
from hedgeframe.models._enums import TemplateResultStatus, TradeAction, TradeReason
from hedgeframe.models._market import HistoricalInstrumentKey

__all__ = [
    "BacktestDailyPoint",
    "BacktestSummaryMetrics",
    "BacktestTradeRecord",
    "HistoricalOptionPosition",
    "TemplateBacktestResult",
]


class BacktestSummaryMetrics(FrozenModel):
    """Compact per-template metrics; SPEC sections 4 and 9.2 define each one.

    A metric is null (``None``) where no day exists to compute it on: a template that ran
    no day has only ``start_value`` (SPEC 9.3).
    """

    start_value: float
    end_value_unhedged: float | None
    end_value_hedged_net: float | None
    total_hedge_cost: float | None
    total_option_payoff_realized: float | None
    max_ltv_unhedged: float | None
    max_ltv_hedged: float | None
    margin_call_days_unhedged: int | None
    margin_call_days_hedged: int | None
    worst_drawdown_unhedged: float | None
    worst_drawdown_hedged: float | None
    days_protected_below_threshold: int | None
    roll_count: int | None
    collateral_sold_units: float | None = 0.0
    collateral_sold_value: float | None = 0.0
    forced_sale_value: float | None = 0.0
    forced_sale_days: int | None = 0
    end_loan_amount: float | None = None
    end_equity_hedged: float | None = None
    end_equity_unhedged: float | None = None
    forced_sale_value_unhedged: float | None = 0.0


class BacktestDailyPoint(FrozenModel):
    """One template's state at one day's close, after that day's trades.

    The LTVs and margin-call flags are taken before the lender acts (SPEC 9.2 step 8), the
    money (``underlying_units`` to ``loan_amount``) and ``ltv_*_after`` after it.
    """

    date: date
    spot_close: float
    underlying_units: float | None = None
    underlying_value: float
    option_market_value: float
    premium_cashflow: float
    realized_option_cashflow: float
    cash: float
    net_portfolio_value: float
    loan_amount: float
    ltv_unhedged: float
    ltv_hedged: float
    margin_call_unhedged: bool
    margin_call_hedged: bool
    ltv_unhedged_after: float | None = None
    ltv_hedged_after: float | None = None
    active_position_ids: list[str] = Field(default_factory=list)


class BacktestTradeRecord(FrozenModel):
    """One dated cashflow event of a template."""

    trade_id: str
    date: date
    action: TradeAction
    leg_id: str
    position_id: str
    instrument_key: HistoricalInstrumentKey
    quantity: float
    contracts: float | None = None
    price: float
    fee: float = 0.0
    cashflow: float
    reason: TradeReason


class HistoricalOptionPosition(FrozenModel):
    """One option position's lifecycle, from entry to close."""

    position_id: str
    instrument_key: HistoricalInstrumentKey
    opened_at: date
    expiry: date
    quantity: float
    contracts: float | None = None
    entry_price: float
    current_mark: float | None = None
    template_leg_id: str
    source_snapshot_date: date
    closed_at: date | None = None
    exit_price: float | None = None
    close_reason: TradeReason | None = None


class TemplateBacktestResult(FrozenModel):
    """Everything one template produced in one run."""

    template_id: str
    template_version: int
    template_name: str
    template_slug: str
    status: TemplateResultStatus = TemplateResultStatus.COMPLETE
    days_run: int = Field(ge=0)
    incomplete_reason: str | None = None
    summary_metrics: BacktestSummaryMetrics
    daily_path: list[BacktestDailyPoint]
    position_log: list[HistoricalOptionPosition]
    trade_log: list[BacktestTradeRecord]
    validation_notes: list[str] = Field(default_factory=list)
