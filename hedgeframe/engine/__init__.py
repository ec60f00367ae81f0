"""The backtest engine, its result tables and metrics."""

from hedgeframe.engine._metrics import RANKING_ORDER, drawdown, rank_summary, summary_metrics
from hedgeframe.engine._result import BacktestRunResult
from hedgeframe.engine._run import RULES_SEMANTICS, engine_version, rules_version, run_backtest
from hedgeframe.engine._schemas import (
    COMPARISON_SCHEMA,
    DAILY_PATH_SCHEMA,
    POSITIONS_SCHEMA,
    SUMMARY_SCHEMA,
    TABLE_SCHEMAS,
    TRADES_SCHEMA,
)
from hedgeframe.engine._shadow import UnhedgedPath, unhedged_path

__all__ = [
    "COMPARISON_SCHEMA",
    "DAILY_PATH_SCHEMA",
    "POSITIONS_SCHEMA",
    "RANKING_ORDER",
    "RULES_SEMANTICS",
    "SUMMARY_SCHEMA",
    "TABLE_SCHEMAS",
    "TRADES_SCHEMA",
    "BacktestRunResult",
    "UnhedgedPath",
    "drawdown",
    "engine_version",
    "rank_summary",
    "rules_version",
    "run_backtest",
    "summary_metrics",
    "unhedged_path",
]
