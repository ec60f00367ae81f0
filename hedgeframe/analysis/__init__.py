"""Analyses built on whole backtest runs, e.g. the model risk of a pricing assumption."""

from hedgeframe.analysis._model_risk import (
    MODEL_RISK_METRICS,
    MODEL_RISK_SCHEMA,
    MODEL_RISK_SURFACE_SCHEMA,
    compare_providers,
)

__all__ = [
    "MODEL_RISK_METRICS",
    "MODEL_RISK_SCHEMA",
    "MODEL_RISK_SURFACE_SCHEMA",
    "compare_providers",
]
