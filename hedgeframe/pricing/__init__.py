"""Pure, vectorized option pricing; imports nothing from the engine.

Black-Scholes-Merton prices, deltas and vegas as numpy functions taking "put"/"call"
strings, the same with boolean call flags (``*_is_call``, the engine's hot path), and the
price as a Polars expression; implied volatilities; the volatility regimes, among them a
volatility surface, and its calibration to a stored chain.
"""

from __future__ import annotations

from hedgeframe.pricing._black_scholes import (
    black_scholes_delta,
    black_scholes_delta_is_call,
    black_scholes_expr,
    black_scholes_price,
    black_scholes_price_is_call,
    black_scholes_vega,
)
from hedgeframe.pricing._calibration import (
    DAY_FIT_SCHEMA,
    QUOTE_FIT_SCHEMA,
    SurfaceCalibration,
    calibrate_surface,
    quote_errors,
)
from hedgeframe.pricing._implied import implied_volatility
from hedgeframe.pricing._volatility import (
    ASSET_VOLATILITY_INDEX,
    MAX_VOLATILITY,
    VOLATILITY_ADAPTER,
    AssetIndexVol,
    ConstantVol,
    FirstAvailableVol,
    FlatVolatilityRegime,
    IndexVol,
    StepVol,
    TenorIndex,
    TrailingRealizedVol,
    VolatilityInputs,
    VolatilityRegime,
    VolSurface,
)

__all__ = [  # noqa: RUF022 (grouped, sorted within groups)
    # volatility regimes
    "ASSET_VOLATILITY_INDEX",
    "MAX_VOLATILITY",
    "VOLATILITY_ADAPTER",
    "AssetIndexVol",
    "ConstantVol",
    "FirstAvailableVol",
    "FlatVolatilityRegime",
    "IndexVol",
    "StepVol",
    "TenorIndex",
    "TrailingRealizedVol",
    "VolSurface",
    "VolatilityInputs",
    "VolatilityRegime",
    # surface calibration
    "DAY_FIT_SCHEMA",
    "QUOTE_FIT_SCHEMA",
    "SurfaceCalibration",
    "calibrate_surface",
    "quote_errors",
    # Black-Scholes-Merton
    "black_scholes_delta",
    "black_scholes_delta_is_call",
    "black_scholes_expr",
    "black_scholes_price",
    "black_scholes_price_is_call",
    "black_scholes_vega",
    "implied_volatility",
]
