"""Analyses built on whole backtest runs (hindsight tools, never run inside a step).

The model risk of a pricing assumption, and the de-risking baseline matched to a hedge's
cost.
"""

from hedgeframe.analysis._de_risk import DeRiskMatch, match_de_risk
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
    "DeRiskMatch",
    "compare_providers",
    "match_de_risk",
]
