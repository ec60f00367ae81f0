"""Column schemas of the market-data store, declared once.

The same constants drive validation, the Parquet files, the readers and the docs, so a
column can only change in one place. Files hold exactly these columns, in this order; the
hive partition columns (``year``, ``month``) live only in folder names.
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "DEFAULT_SOURCE",
    "OPTION_QUOTE_KEY",
    "OPTION_QUOTE_REQUIRED",
    "OPTION_QUOTE_SCHEMA",
    "OPTION_TYPES",
    "UNDERLYING_BAR_KEY",
    "UNDERLYING_BAR_REQUIRED",
    "UNDERLYING_BAR_SCHEMA",
]

UNDERLYING_BAR_SCHEMA: Final = pl.Schema(
    {
        "symbol": pl.String(),
        "date": pl.Date(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "volume": pl.Float64(),
        "source": pl.String(),
    }
)
"""One daily bar per ``(symbol, date)``; ``close`` is the only price the engine needs."""

OPTION_QUOTE_SCHEMA: Final = pl.Schema(
    {
        "symbol": pl.String(),
        "as_of_date": pl.Date(),
        "option_type": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "bid": pl.Float64(),
        "ask": pl.Float64(),
        "mid": pl.Float64(),
        "implied_volatility": pl.Float64(),
        "delta": pl.Float64(),
        "open_interest": pl.Int64(),
        "volume": pl.Int64(),
        "underlying_close": pl.Float64(),
        "source": pl.String(),
    }
)
"""One end-of-day quote per contract and ``as_of_date``; prices are per underlying unit."""

UNDERLYING_BAR_KEY: Final[tuple[str, ...]] = ("symbol", "date")
OPTION_QUOTE_KEY: Final[tuple[str, ...]] = (
    "symbol",
    "as_of_date",
    "option_type",
    "expiry",
    "strike",
)

UNDERLYING_BAR_REQUIRED: Final[tuple[str, ...]] = ("symbol", "date", "close")
"""Columns a written frame must have; the others are filled with nulls (``source``:
``DEFAULT_SOURCE``) when absent."""

OPTION_QUOTE_REQUIRED: Final[tuple[str, ...]] = (*OPTION_QUOTE_KEY, "bid", "ask")
"""Columns a written frame must have: the key and both quote sides (whose cells may be
null), because a quote's usable mid is decided from bid and ask."""

OPTION_TYPES: Final[tuple[str, ...]] = ("put", "call")

DEFAULT_SOURCE: Final = "unknown"
"""The ``source`` of rows written from a frame that has no ``source`` column."""
