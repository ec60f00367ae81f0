"""Number formats and column choices shared by the HTML report and the command line.

One place decides how an LTV, a cost or a rank reads, and which columns a summary shows,
so the terminal and the report a committee gets never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

__all__ = [
    "ACROSS_COLUMNS",
    "EVENTS_COLUMNS",
    "EVENT_SUMMARY_COLUMNS",
    "FORCED_SALES_COLUMNS",
    "NUMERIC_FORMATS",
    "RUN_COMPARISON_COLUMNS",
    "TRADE_COLUMNS",
    "Column",
    "Formatter",
    "fmt_int",
    "fmt_ltv",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "fmt_text",
    "fmt_utc",
]

Formatter = Callable[[Any], str]
Column = tuple[str, str, Formatter]
"""``(column name, header, formatter)``."""


def _missing(value: Any) -> bool:
    """Nothing to show: null, NaN, or an infinite metric of an empty set of days."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_money(value: Any) -> str:
    """Format currency with thousands separators and no decimals."""
    return "" if _missing(value) else f"{value:,.0f}"


def fmt_ltv(value: Any) -> str:
    """Format a loan-to-value as a percentage; ``inf`` means nothing is left to lend on."""
    if value == math.inf:
        return "inf (hedged value <= 0)"
    return "" if _missing(value) else f"{value:.1%}"


def fmt_pct(value: Any) -> str:
    """Format a fraction as a percentage with one decimal."""
    return "" if _missing(value) else f"{value:.1%}"


def fmt_int(value: Any) -> str:
    """Format a count with thousands separators."""
    return "" if value is None else f"{value:,d}"


def fmt_num(value: Any) -> str:
    """Format a number with two decimals (prices, strikes, quantities, mean ranks)."""
    return "" if _missing(value) else f"{value:,.2f}"


def fmt_text(value: Any) -> str:
    """Format anything else as its string (dates in ISO form)."""
    return "" if value is None else str(value)


def fmt_utc(moment: datetime) -> str:
    """Format a timestamp in UTC to the second (when a report was generated)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


NUMERIC_FORMATS: Final = frozenset({fmt_money, fmt_ltv, fmt_pct, fmt_int, fmt_num})
"""Formatters whose cells align right."""

ACROSS_COLUMNS: Final[list[Column]] = [
    ("rank", "rank", fmt_int),
    ("template_slug", "template", fmt_text),
    ("events", "events", fmt_int),
    ("mean_rank", "mean rank", fmt_num),
    ("first_places", "1st places", fmt_int),
    ("margin_call_days_unhedged", "margin-call days unhedged", fmt_int),
    ("margin_call_days_hedged", "margin-call days hedged", fmt_int),
    ("max_ltv_hedged", "worst hedged LTV", fmt_ltv),
    ("worst_drawdown_hedged", "worst hedged drawdown", fmt_pct),
    ("total_hedge_cost", "total hedge cost", fmt_money),
    ("mean_hedge_cost_pct", "mean hedge cost / collateral", fmt_pct),
]
"""The across-event ranking as the report and ``hedgeframe demo`` show it."""

EVENT_SUMMARY_COLUMNS: Final[list[Column]] = [
    ("rank", "rank", fmt_int),
    ("template_slug", "template", fmt_text),
    ("margin_call_days_hedged", "margin-call days hedged", fmt_int),
    ("days_protected_below_threshold", "days kept out of a call", fmt_int),
    ("max_ltv_hedged", "max hedged LTV", fmt_ltv),
    ("worst_drawdown_hedged", "hedged drawdown", fmt_pct),
    ("total_hedge_cost", "hedge cost", fmt_money),
    ("hedge_cost_pct", "cost / collateral", fmt_pct),
    ("total_option_payoff_realized", "option proceeds", fmt_money),
    ("end_value_hedged_net", "hedged end value", fmt_money),
    ("end_value_unhedged", "unhedged end value", fmt_money),
    ("roll_count", "rolls", fmt_int),
    ("status", "status", fmt_text),
]
"""One event's ranked summary."""

RUN_COMPARISON_COLUMNS: Final[list[Column]] = [
    ("rank", "rank", fmt_int),
    ("template_slug", "template", fmt_text),
    ("status", "status", fmt_text),
    ("margin_call_days_hedged", "margin-call days hedged", fmt_int),
    ("margin_call_days_unhedged", "margin-call days unhedged", fmt_int),
    ("max_ltv_hedged", "max hedged LTV", fmt_ltv),
    ("worst_drawdown_hedged", "worst hedged drawdown", fmt_pct),
    ("total_hedge_cost", "hedge cost", fmt_money),
    ("hedge_cost_pct", "cost / collateral", fmt_pct),
    ("end_value_hedged_net", "hedged end value", fmt_money),
    ("end_value_unhedged", "unhedged end value", fmt_money),
    ("roll_count", "rolls", fmt_int),
]
"""A run's ranked comparison in its report (``hedge_cost_pct`` = cost / start value)."""

TRADE_COLUMNS: Final[list[Column]] = [
    ("date", "date", fmt_text),
    ("action", "action", fmt_text),
    ("leg_id", "leg", fmt_text),
    ("option_type", "type", fmt_text),
    ("strike", "strike", fmt_num),
    ("expiry", "expiry", fmt_text),
    ("quantity", "quantity", fmt_num),
    ("contracts", "contracts", fmt_num),
    ("price", "price", fmt_num),
    ("cashflow", "cashflow", fmt_num),
    ("reason", "reason", fmt_text),
]
"""One template's trades (``contracts`` is shown only for listed-contract runs)."""

EVENTS_COLUMNS: Final[list[Column]] = [
    ("event_slug", "event", fmt_text),
    ("symbol", "symbol", fmt_text),
    ("window_start", "window start", fmt_text),
    ("window_end", "window end", fmt_text),
    ("first_day", "first day", fmt_text),
    ("last_day", "last day", fmt_text),
    ("trading_days", "trading days", fmt_int),
    ("entry_spot", "first close", fmt_num),
    ("worst_drawdown_unhedged", "unhedged drawdown", fmt_pct),
    ("max_ltv_unhedged", "max unhedged LTV", fmt_ltv),
    ("margin_call_days_unhedged", "margin-call days unhedged", fmt_int),
]
"""The events overview."""

FORCED_SALES_COLUMNS: Final[list[Column]] = [
    ("rank", "rank", fmt_int),
    ("template_slug", "template", fmt_text),
    ("forced_sale_value_unhedged", "forced sales unhedged", fmt_money),
    ("forced_sale_value", "forced sales hedged", fmt_money),
    ("forced_sales_avoided", "forced sales avoided", fmt_money),
]
"""Collateral sold on margin calls over all events, with and without each hedge (SPEC 9.2)."""
