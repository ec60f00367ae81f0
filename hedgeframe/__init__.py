"""hedgeframe: point-in-time backtests of option hedges on Lombard-loan collateral."""

from __future__ import annotations

from hedgeframe.templates import protective_put, put_ladder, seed_templates

__version__ = "0.1.0"

__all__ = ["__version__", "protective_put", "put_ladder", "seed_templates"]
