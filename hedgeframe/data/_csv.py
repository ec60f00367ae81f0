"""Market data from CSV files: generic bars and chains, and CBOE DataShop end-of-day files.

Every reader reads all cells as text and hands the frame to the store's validation with
text parsing on, so a CSV is held to exactly the rules of a store write, and a bad cell is
reported with its 0-based data row (CSV line = row + 2, after the header). Columns a
reader does not use are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Final

import polars as pl

from hedgeframe.data._schemas import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA
from hedgeframe.data._validation import (
    FAILURE_SCHEMA,
    validate_option_quotes,
    validate_underlying_bars,
)
from hedgeframe.errors import FailureReason, InvalidMarketDataError

__all__ = ["read_bars_csv", "read_cboe_chain_csv", "read_chain_csv"]

CBOE_SOURCE: Final = "cboe_datashop"

_CBOE_COLUMNS: Final = {
    "underlying_symbol": "symbol",
    "quote_date": "as_of_date",
    "option_type": "option_type",
    "expiration": "expiry",
    "strike": "strike",
    "bid_1545": "bid",
    "ask_1545": "ask",
    "implied_volatility_1545": "implied_volatility",
    "delta_1545": "delta",
    "open_interest": "open_interest",
    "trade_volume": "volume",
    "active_underlying_price_1545": "underlying_close",
}
"""CBOE DataShop column -> store column. Quotes are the 15:45 ET snapshot, the one CBOE
computes greeks on; ``underlying_close`` is the active underlying price at 15:45."""

_OPTION_TYPE_NAMES: Final = {"p": "put", "put": "put", "c": "call", "call": "call"}


def _read_text(path: Path) -> pl.DataFrame:
    """Every cell as text, so parsing (and its failures) happens in validation."""
    return pl.read_csv(path, infer_schema=False)


def _refuse_missing(path: Path, needed: Collection[str], present: Collection[str]) -> None:
    missing = [name for name in needed if name not in present]
    if missing:
        failures = pl.DataFrame(
            [
                {
                    "row": None,
                    "column": name,
                    "value": None,
                    "reason": FailureReason.MISSING_COLUMN.value,
                }
                for name in missing
            ],
            schema=FAILURE_SCHEMA,
        )
        what = f"{path.name}: CSV columns missing"
        raise InvalidMarketDataError(what, failures)


def _resolve_columns(
    header: list[str],
    targets: Collection[str],
    column_map: Mapping[str, str] | None,
    path: Path,
) -> dict[str, str]:
    """Map store column -> CSV column: case-insensitive name matches, then ``column_map``."""
    chosen: dict[str, str] = {}
    for name in header:
        normal = name.strip().lower().replace(" ", "_")
        if normal in targets and normal not in chosen:
            chosen[normal] = name
    for csv_name, target in (column_map or {}).items():
        if target not in targets:
            msg = (
                f"`column_map` maps {csv_name!r} to {target!r}, which this reader does not "
                f"take; expected one of {', '.join(sorted(targets))}"
            )
            raise ValueError(msg)
        chosen[target] = csv_name
    _refuse_missing(path, list(chosen.values()), header)
    return chosen


def _option_type(name: str) -> pl.Expr:
    """``P``/``C``/``put``/``call`` in any case; anything else is kept for validation to refuse."""
    text = pl.col(name).str.strip_chars()
    return text.str.to_lowercase().replace_strict(_OPTION_TYPE_NAMES, default=text)


def read_bars_csv(
    path: str | os.PathLike[str],
    *,
    symbol: str,
    column_map: Mapping[str, str] | None = None,
    date_format: str | None = None,
    source: str = "csv",
) -> pl.DataFrame:
    """Read daily bars of one symbol from a CSV file.

    Header names matching store columns case-insensitively (``Date``, ``Close``,
    ``Open``...) are taken as they are; ``column_map`` adds or overrides, mapping CSV
    column to store column (e.g. ``{"Adj Close": "close"}`` to use adjusted closes).

    Parameters
    ----------
    path
        The CSV file.
    symbol
        The symbol of every row (a ``symbol`` column in the file is not read).
    column_map
        CSV column name -> one of ``date, open, high, low, close, volume``.
    date_format
        ``strftime`` format of the date column; inferred when ``None``.
    source
        Written to the ``source`` column.

    Returns
    -------
    pl.DataFrame
        Bars in :data:`UNDERLYING_BAR_SCHEMA`, in file order.

    Raises
    ------
    InvalidMarketDataError
        Naming every bad cell (or missing column).
    """
    file = Path(path)
    raw = _read_text(file)
    targets = [name for name in UNDERLYING_BAR_SCHEMA if name not in {"symbol", "source"}]
    chosen = _resolve_columns(raw.columns, targets, column_map, file)
    frame = raw.select(
        pl.lit(symbol).alias("symbol"),
        *[pl.col(csv_name).alias(target) for target, csv_name in chosen.items()],
        pl.lit(source).alias("source"),
    )
    return validate_underlying_bars(
        frame, what=f"bars from {file.name}", parse_strings=True, date_format=date_format
    )


def read_chain_csv(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, str] | None = None,
    symbol: str | None = None,
    date_format: str | None = None,
    source: str = "csv",
) -> pl.DataFrame:
    """Read end-of-day option quotes from a CSV file with any column names.

    Header names matching store columns case-insensitively are taken as they are;
    ``column_map`` adds or overrides (CSV column -> store column). ``option_type`` may be
    ``P``/``C``/``put``/``call`` in any case. A missing ``mid`` is filled from bid and ask
    by the store's rule.

    Parameters
    ----------
    path
        The CSV file.
    column_map
        CSV column name -> store column of :data:`OPTION_QUOTE_SCHEMA` (not ``source``).
    symbol
        The symbol of every row; when ``None`` the file must have a symbol column.
    date_format
        ``strftime`` format of ``as_of_date`` and ``expiry``; inferred when ``None``.
    source
        Written to the ``source`` column.

    Returns
    -------
    pl.DataFrame
        Quotes in :data:`OPTION_QUOTE_SCHEMA`, in file order.

    Raises
    ------
    InvalidMarketDataError
        Naming every bad cell (or missing column).
    """
    file = Path(path)
    raw = _read_text(file)
    skip = {"source"} | ({"symbol"} if symbol is not None else set())
    targets = [name for name in OPTION_QUOTE_SCHEMA if name not in skip]
    chosen = _resolve_columns(raw.columns, targets, column_map, file)
    columns = [
        _option_type(csv_name).alias(target)
        if target == "option_type"
        else pl.col(csv_name).alias(target)
        for target, csv_name in chosen.items()
    ]
    if symbol is not None:
        columns.insert(0, pl.lit(symbol).alias("symbol"))
    frame = raw.select(*columns, pl.lit(source).alias("source"))
    return validate_option_quotes(
        frame, what=f"option quotes from {file.name}", parse_strings=True, date_format=date_format
    )


def read_cboe_chain_csv(
    path: str | os.PathLike[str], *, roots: Collection[str] | None = None
) -> pl.DataFrame:
    """Read a CBOE DataShop end-of-day option file (``UnderlyingOptionsEODCalcs``).

    Quotes are the 15:45 ET snapshot (``bid_1545``, ``ask_1545`` and the greeks CBOE
    computes on it); ``volume`` is ``trade_volume``; ``underlying_close`` is
    ``active_underlying_price_1545``; ``symbol`` is ``underlying_symbol`` as written
    (CBOE writes ``^SPX`` for the index); ``source`` is ``"cboe_datashop"``. ``mid`` is
    ``(bid + ask) / 2`` when the ask is positive and null otherwise (a zero bid with a
    positive ask keeps its mid; zero bid and zero ask has no usable mid).

    Parameters
    ----------
    path
        The CSV file as delivered (optionally unzipped).
    roots
        Keep only these option roots (e.g. ``{"SPX"}``). SPX and SPXW options share
        underlying, expiry and strike on monthly expiry days; the store key has no
        root, so such a file is refused as having duplicate keys until one root is
        chosen.

    Returns
    -------
    pl.DataFrame
        Quotes in :data:`OPTION_QUOTE_SCHEMA`, in file order.

    Raises
    ------
    InvalidMarketDataError
        Naming every bad cell (rows counted in the file, before ``roots`` filtering).
    """
    file = Path(path)
    raw = _read_text(file).with_row_index("__row")
    needed = [*_CBOE_COLUMNS, *(["root"] if roots is not None else [])]
    _refuse_missing(file, needed, raw.columns)
    if roots is not None:
        raw = raw.filter(pl.col("root").str.strip_chars().is_in(list(roots)))
    frame = raw.select(
        _option_type(name).alias(target) if target == "option_type" else pl.col(name).alias(target)
        for name, target in _CBOE_COLUMNS.items()
    ).with_columns(pl.lit(CBOE_SOURCE).alias("source"))
    try:
        return validate_option_quotes(
            frame,
            what=f"CBOE option quotes from {file.name}",
            parse_strings=True,
            date_format="%Y-%m-%d",
        )
    except InvalidMarketDataError as exc:
        # Report rows as they are in the file, not in the roots-filtered frame.
        lines = raw.get_column("__row").to_list()
        rows = [None if row is None else lines[row] for row in exc.failures.get_column("row")]
        failures = exc.failures.with_columns(pl.Series("row", rows, dtype=pl.Int64))
        what = f"CBOE option quotes from {file.name}"
        raise InvalidMarketDataError(what, failures) from None
