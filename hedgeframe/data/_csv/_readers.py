"""The CSV readers: daily bars, option chains, and CBOE DataShop end-of-day option files.

Each reader resolves the file's columns and hands a :class:`_Spec` to :func:`_read`, the
one pipeline every file goes through:

1. read the columns used, numbers parsed while reading (:class:`CsvSource`; a zip holding
   one CSV is read as delivered);
2. leave out blank lines and, with ``roots``, the rows of other option roots;
3. tell the date format from the values when none is given (never guessing the day/month
   order: :func:`~hedgeframe.data._dates.infer_date_format`);
4. check every row with the store's one rule set
   (:func:`~hedgeframe.data._validation.screen`);
5. refuse the file, naming every bad cell by file line and the row's date, or with
   ``drop_bad_rows=True`` leave those rows out (:attr:`CsvImport.dropped`);
6. warn about rows dated on a day that is not a session of the exchange calendar.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe.data._calendar import get_calendar
from hedgeframe.data._csv._columns import (
    ROOT,
    CloseChoice,
    bar_columns,
    refuse_missing,
    resolve,
)
from hedgeframe.data._csv._result import QUARANTINE_SCHEMA, CsvImport
from hedgeframe.data._csv._source import FIRST_LINE, CsvSource
from hedgeframe.data._dates import ISO_DATE, infer_date_format
from hedgeframe.data._schemas import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA
from hedgeframe.data._validation import BARS, QUOTES, Table, screen
from hedgeframe.errors import BadInputError, InvalidMarketDataError

__all__ = ["CBOE_SOURCE", "read_bars_csv", "read_cboe_chain_csv", "read_chain_csv"]

CBOE_SOURCE: Final = "cboe_datashop"

_CBOE_QUOTES: Final = {
    "symbol": "underlying_symbol",
    "as_of_date": "quote_date",
    "option_type": "option_type",
    "expiry": "expiration",
    "strike": "strike",
    "bid": "bid_1545",
    "ask": "ask_1545",
    "open_interest": "open_interest",
    "volume": "trade_volume",
}
"""Store column -> CBOE DataShop column of both end-of-day products ("Option EOD Summary",
with or without Calcs). Quotes are the 15:45 ET snapshot, the one CBOE computes greeks on."""

_CBOE_CALCS: Final = {
    "implied_volatility": "implied_volatility_1545",
    "delta": "delta_1545",
    "underlying_close": "active_underlying_price_1545",
}
"""Store column -> column of the product with Calcs only; without them these stay null."""

_OPTION_TYPE_NAMES: Final = {"p": "put", "put": "put", "c": "call", "call": "call"}

_SHOWN_DAYS: Final = 5
"""Non-session days named in a warning."""

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Spec:
    """How a reader reads its file: what it is, which columns, and the caller's options."""

    what: str
    table: Table
    columns: dict[str, str]
    """Store column -> file column."""
    constants: dict[str, str]
    """Store column -> the value of every row (``symbol``, ``source``)."""
    date_format: str | None
    drop_bad_rows: bool
    calendar: str | None
    notes: tuple[str, ...] = ()
    root: str | None = None
    """The file's option root column, when ``roots`` filters on it."""
    roots: Collection[str] | None = None

    @property
    def date_column(self) -> str:
        """The store column that dates a row."""
        return "date" if self.table is BARS else "as_of_date"


def _option_types(column: pl.Series) -> pl.Series:
    """Return ``P``/``C``/``put``/``call`` in any case as ``put``/``call``.

    Other text is kept for validation to refuse. Only the distinct values are looked at.
    """
    names = {
        value: name
        for value in column.drop_nulls().unique()
        if (name := _OPTION_TYPE_NAMES.get(value.strip().lower(), value)) != value
    }
    text = pl.col(column.name)
    named = functools.reduce(
        lambda other, pair: pl.when(text == pair[0]).then(pl.lit(pair[1])).otherwise(other),
        names.items(),
        text,
    )
    return column.to_frame().select(named.alias(column.name)).to_series()


def _rows_of_roots(
    source: CsvSource, raw: pl.DataFrame, root: str, roots: Collection[str]
) -> pl.Series:
    """Return where a row's option root is one of ``roots``; refuse a file with none."""
    root_text = raw.get_column(root).str.strip_chars()
    keep = root_text.is_in(list(roots)).fill_null(value=False)
    if not keep.any():
        found = ", ".join(sorted(root_text.drop_nulls().unique())) or "none"
        msg = f"{source.name}: no row has root {', '.join(roots)} (roots in the file: {found})"
        raise BadInputError(msg)
    return keep


def _in_file(
    failures: pl.DataFrame, raw: pl.DataFrame, lines: IntArray, spec: _Spec
) -> pl.DataFrame:
    """Return the failures of the checked frame located in the file: line, date, column."""
    if failures.is_empty():
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    date_column = spec.columns.get(spec.date_column)
    located = pl.DataFrame(
        {
            "row": np.arange(raw.height, dtype=np.int64),
            "line": lines,
            "date": raw.get_column(date_column) if date_column else None,
        },
        schema_overrides={"date": pl.String},
    )
    names = {
        checked: ", ".join(spec.columns.get(part, part) for part in checked.split(", "))
        for checked in failures.get_column("column").unique()
    }
    return (
        failures.with_columns(pl.col("column").replace(names))
        .join(located, on="row", how="left", maintain_order="left")
        .select(QUARANTINE_SCHEMA.names())
        .cast(QUARANTINE_SCHEMA)
    )


def _off_sessions(source: CsvSource, days: pl.Series, lines: IntArray, calendar: str) -> str | None:
    """Return a warning naming the days of ``days`` that are not sessions of ``calendar``.

    Days outside the calendar's range (before 1970, years ahead) are not judged.
    """
    sessions = get_calendar(calendar).sessions
    distinct = days.drop_nulls().unique().sort().to_numpy().astype("datetime64[D]")
    inside = distinct[(distinct >= sessions[0]) & (distinct <= sessions[-1])]
    found = sessions[np.searchsorted(sessions, inside)] == inside
    off = inside[~found]
    if not off.size:
        return None
    on_off = days.is_in(pl.Series(off.astype("datetime64[D]"))).to_numpy()
    shown = []
    for day in off[:_SHOWN_DAYS]:
        line = lines[int(np.argmax(days.to_numpy() == day))]
        weekday = day.astype("datetime64[D]").item().strftime("%a")
        shown.append(f"{day} ({weekday}, line {line})")
    more = f" and {off.size - _SHOWN_DAYS} more" if off.size > _SHOWN_DAYS else ""
    return (
        f"{source.name}: {int(on_off.sum())} row(s) on {off.size} day(s) that are not "
        f"{calendar} sessions: {', '.join(shown)}{more}; check the dates (a wrong day/month "
        "order puts rows on weekends)"
    )


def _line_of(lines: IntArray) -> Callable[[int], str]:
    """Name a checked row by its file line, in messages."""
    return lambda row: f"line {lines[row]}"


def _file_rows(source: CsvSource, spec: _Spec) -> tuple[pl.DataFrame, IntArray, tuple[str, ...]]:
    """Read the columns ``spec`` uses; leave out blank lines and rows of other roots.

    Returns the rows, the file line of each, and the notes (the roots kept).
    """
    root, roots = spec.root, spec.roots
    files = list(dict.fromkeys([*spec.columns.values(), *([root] if root else [])]))
    numbers = {
        file for store, file in spec.columns.items() if spec.table.schema[store].is_numeric()
    }
    raw = source.read(files, numbers=numbers)
    if raw.is_empty():
        msg = f"{source.name} has a header but no rows"
        raise BadInputError(msg)
    keep = ~raw.select(pl.all_horizontal(pl.all().is_null())).to_series()
    notes = spec.notes
    if root is not None and roots is not None:
        keep &= _rows_of_roots(source, raw, root, roots)
        notes += (f"roots {', '.join(roots)}: {int(keep.sum())} of {raw.height} rows",)
    lines = np.arange(FIRST_LINE, FIRST_LINE + raw.height, dtype=np.int64)
    if not keep.all():
        raw, lines = raw.filter(keep), lines[keep.to_numpy()]
    return raw, lines, notes


def _store_frame(raw: pl.DataFrame, spec: _Spec) -> pl.DataFrame:
    """Return the file's columns under store names, with the values of every row added."""
    frame = raw.select(
        *(pl.lit(value, pl.String).alias(store) for store, value in spec.constants.items()),
        *(pl.col(file).alias(store) for store, file in spec.columns.items()),
    )
    if "option_type" in frame.columns:
        frame = frame.with_columns(_option_types(frame.get_column("option_type")))
    return frame


def _read(source: CsvSource, spec: _Spec) -> CsvImport:
    """Read ``source`` as ``spec`` says, through the steps of the module docstring."""
    raw, lines, notes = _file_rows(source, spec)
    date_format = spec.date_format or infer_date_format(
        {
            spec.columns[name]: raw.get_column(spec.columns[name])
            for name, dtype in spec.table.schema.items()
            if dtype == pl.Date and name in spec.columns
        },
        what=source.name,
        where=_line_of(lines),
    )
    screened = screen(
        _store_frame(raw, spec),
        spec.table,
        what=spec.what,
        parse_strings=True,
        date_format=date_format,
    )
    failures = _in_file(screened.failures, raw, lines, spec)
    if failures.height and (screened.column_refused or not spec.drop_bad_rows):
        remedy = (
            f"columns of the file: {', '.join(source.header)}; map one with column_map (--map)"
            if screened.column_refused
            else "pass drop_bad_rows=True (--drop-bad-rows) to read the other rows and set "
            "these aside in a quarantine file"
        )
        raise InvalidMarketDataError(spec.what, failures, remedy=remedy)
    kept_lines = np.delete(lines, screened.failures.get_column("row").unique().to_numpy())
    days = screened.valid.get_column(spec.date_column)
    warning = (
        None if spec.calendar is None else _off_sessions(source, days, kept_lines, spec.calendar)
    )
    return CsvImport(
        path=source.path,
        rows=screened.valid,
        dropped=failures,
        warnings=() if warning is None else (warning,),
        notes=notes,
        columns=dict(spec.columns),
    )


def read_bars_csv(
    path: str | os.PathLike[str],
    *,
    symbol: str,
    column_map: Mapping[str, str] | None = None,
    close: CloseChoice | None = None,
    date_format: str | None = None,
    drop_bad_rows: bool = False,
    calendar: str | None = "XNYS",
    source: str = "csv",
) -> CsvImport:
    """Read daily bars of one symbol from a CSV file (Yahoo, Stooq, a broker's export).

    Header names matching store columns case-insensitively (``Date``, ``Close``,
    ``Open``...) are taken as they are; ``column_map`` adds or overrides, mapping file
    column to store column. A file with a raw and an adjusted close (Yahoo's ``Close``
    and ``Adj Close``) gives the raw one unless ``close="adjusted"``; a note says which.

    Parameters
    ----------
    path
        The CSV file, or a zip holding one.
    symbol
        The symbol of every row (a ``symbol`` column in the file is not read).
    column_map
        File column -> one of ``date, open, high, low, close, volume``.
    close
        ``"adjusted"`` or ``"raw"``: which close column to take when the file has both.
    date_format
        ``strftime`` format of the dates; told from the values when ``None`` (a file whose
        day/month order the values do not show is refused).
    drop_bad_rows
        Leave rows that break a rule out (in :attr:`CsvImport.dropped`) instead of
        refusing the file.
    calendar
        Exchange calendar whose non-sessions are warned about (``None``: no check).
    source
        Written to the ``source`` column.

    Returns
    -------
    CsvImport
        The bars (``rows``, in :data:`UNDERLYING_BAR_SCHEMA`, file order), rows left out,
        warnings and notes.

    Raises
    ------
    InvalidMarketDataError
        Naming every bad cell by file line and date (or a missing column).
    BadInputError
        When the file cannot be read, or its dates do not tell their format.
    """
    file = CsvSource.open(Path(path))
    targets = [name for name in UNDERLYING_BAR_SCHEMA if name not in {"symbol", "source"}]
    columns = bar_columns(file.name, file.header, targets, column_map, close)
    spec = _Spec(
        f"bars from {file.name}",
        BARS,
        columns.chosen,
        {"symbol": symbol, "source": source},
        date_format,
        drop_bad_rows,
        calendar,
        notes=columns.notes,
    )
    return _read(file, spec)


def read_chain_csv(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, str] | None = None,
    symbol: str | None = None,
    roots: Collection[str] | None = None,
    date_format: str | None = None,
    drop_bad_rows: bool = False,
    calendar: str | None = "XNYS",
    source: str = "csv",
) -> CsvImport:
    """Read end-of-day option quotes from a CSV file with any column names.

    Header names matching store columns case-insensitively are taken as they are;
    ``column_map`` adds or overrides (file column -> store column, or ``root``).
    ``option_type`` may be ``P``/``C``/``put``/``call`` in any case. A missing ``mid`` is
    filled from bid and ask by the store's rule.

    Parameters
    ----------
    path
        The CSV file, or a zip holding one.
    column_map
        File column -> store column of :data:`OPTION_QUOTE_SCHEMA` (not ``source``), or
        ``root`` (the option root, for ``roots``).
    symbol
        The symbol of every row; when ``None`` the file must have a symbol column.
    roots
        Keep only rows of these option roots (e.g. ``{"SPX"}``); needs a root column.
    date_format, drop_bad_rows, calendar, source
        As for :func:`read_bars_csv`; ``as_of_date`` and ``expiry`` show the date format
        together.

    Returns
    -------
    CsvImport
        Quotes in :data:`OPTION_QUOTE_SCHEMA`, otherwise as from :func:`read_bars_csv`.

    Raises
    ------
    InvalidMarketDataError
        As :func:`read_bars_csv`; also when ``roots`` is given and no column is the root.
    """
    file = CsvSource.open(Path(path))
    skip = {"source"} | ({"symbol"} if symbol is not None else set())
    targets = [name for name in OPTION_QUOTE_SCHEMA if name not in skip]
    chosen = resolve(file.name, file.header, [*targets, ROOT], column_map)
    root = chosen.pop(ROOT, None)
    if roots is not None and root is None:
        refuse_missing(file.name, [ROOT], file.header)
    constants = {"source": source} | ({"symbol": symbol} if symbol is not None else {})
    what = f"option quotes from {file.name}"
    spec = _Spec(
        what,
        QUOTES,
        chosen,
        constants,
        date_format,
        drop_bad_rows,
        calendar,
        root=root,
        roots=roots,
    )
    return _read(file, spec)


def read_cboe_chain_csv(
    path: str | os.PathLike[str],
    *,
    column_map: Mapping[str, str] | None = None,
    roots: Collection[str] | None = None,
    date_format: str | None = None,
    drop_bad_rows: bool = False,
    calendar: str | None = "XNYS",
) -> CsvImport:
    """Read a CBOE DataShop end-of-day option file ("Option EOD Summary"), as delivered.

    Both products are read: with Calcs (``UnderlyingOptionsEODCalcs``) and without
    (``UnderlyingOptionsEODQuotes``: ``implied_volatility``, ``delta`` and
    ``underlying_close`` stay null). Quotes are the 15:45 ET snapshot (``bid_1545``,
    ``ask_1545`` and the greeks CBOE computes on it); ``volume`` is ``trade_volume``;
    ``underlying_close`` is ``active_underlying_price_1545``; ``symbol`` is
    ``underlying_symbol`` as written (``^SPX`` for the index); ``source`` is
    ``"cboe_datashop"``. ``mid`` is ``(bid + ask) / 2`` when the ask is positive and null
    otherwise. ``column_map`` overrides a column (e.g. ``{"bid_eod": "bid", "ask_eod":
    "ask"}`` for the closing snapshot).

    Parameters
    ----------
    path
        The CSV file, or the zip CBOE delivers (one CSV inside).
    column_map
        File column -> store column (or ``root``), replacing the CBOE column above.
    roots
        Keep only these option roots (e.g. ``{"SPX"}``). SPX and SPXW options share
        underlying, expiry and strike on monthly expiry days; the store key has no root,
        so such a file is refused as having duplicate keys until one root is chosen.
    date_format
        ``strftime`` format of the dates (CBOE writes ``%Y-%m-%d``, the default).
    drop_bad_rows, calendar
        As for :func:`read_bars_csv`.

    Returns
    -------
    CsvImport
        As from :func:`read_chain_csv`.

    Raises
    ------
    InvalidMarketDataError
        As :func:`read_chain_csv`, and naming a core CBOE column the file lacks.
    """
    file = CsvSource.open(Path(path))
    targets = [*(name for name in OPTION_QUOTE_SCHEMA if name != "source"), ROOT]
    defaults = {**_CBOE_QUOTES, **_CBOE_CALCS, ROOT: ROOT}
    chosen = resolve(file.name, file.header, targets, column_map, defaults=defaults)
    mapped = set((column_map or {}).values())
    needed = [
        cboe
        for store, cboe in {**_CBOE_QUOTES, ROOT: ROOT}.items()
        if store not in mapped and (store != ROOT or roots is not None)
    ]
    refuse_missing(file.name, needed, file.header)
    spec = _Spec(
        f"CBOE option quotes from {file.name}",
        QUOTES,
        chosen,
        {"source": CBOE_SOURCE},
        date_format or ISO_DATE,
        drop_bad_rows,
        calendar,
        root=chosen.pop(ROOT, None),
        roots=roots,
    )
    return _read(file, spec)
