"""Pure, vectorized option pricing; imports nothing from the engine.

Black-Scholes-Merton prices and deltas as numpy functions taking "put"/"call" strings,
the same with boolean call flags (``*_is_call``, the engine's hot path), and the price as
a Polars expression.
"""

from __future__ import annotations

from hedgeframe.pricing._black_scholes import (
    black_scholes_delta,
    black_scholes_delta_is_call,
    black_scholes_expr,
    black_scholes_price,
    black_scholes_price_is_call,
)
from hedgeframe.pricing._volatility import (
    ASSET_VOLATILITY_INDEX,
    MAX_VOLATILITY,
    VOLATILITY_ADAPTER,
    AssetIndexVol,
    ConstantVol,
    FirstAvailableVol,
    IndexVol,
    StepVol,
    TrailingRealizedVol,
    VolatilityInputs,
    VolatilityRegime,
)

__all__ = [
    # volatility regimes
    "ASSET_VOLATILITY_INDEX",
    "MAX_VOLATILITY",
    "VOLATILITY_ADAPTER",
    "AssetIndexVol",
    "ConstantVol",
    "FirstAvailableVol",
    "IndexVol",
    "StepVol",
    "TrailingRealizedVol",
    "VolatilityInputs",
    "VolatilityRegime",
    # Black-Scholes-Merton
    "black_scholes_delta",
    "black_scholes_delta_is_call",
    "black_scholes_expr",
    "black_scholes_price",
    "black_scholes_price_is_call",
]
