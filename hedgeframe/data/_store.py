r"""The market-data store: hive-partitioned Parquet that BI tools read as they are.

Layout (SPEC section 3)::

    <root>/underlying/symbol=<SYM>/year=<YYYY>/part-0.parquet
    <root>/options/symbol=<SYM>/year=<YYYY>/month=<MM>/part-0.parquet

Symbols in folder names. ``<SYM>`` is the symbol with only the characters that are unsafe
in a folder name or a glob percent-encoded as UTF-8 ``%XX`` (upper-case hex): control
characters and the punctuation ``" # % ' * / : < = > ? [ \ ] { | }``. Everything else
is kept, so ``^GSPC`` and ``BRK.B`` read as themselves and ``XAU/USD`` becomes
``symbol=XAU%2FUSD``. Polars (``hive_partitioning=True``) and DuckDB
(``hive_partitioning = true``) both URL-decode partition values, so they read the original
symbol back; the tests check both.

Partition columns versus file columns. Each file also holds the ``symbol`` column (with
the same value as its folder), so a single file is self-describing and both engines keep
``symbol`` as text even for a numeric-looking ticker such as ``7203`` (with no column in
the file, hive type inference would turn it into an integer). When a hive column is also
in the file, Polars and DuckDB take the folder's value, which the store guarantees equal.
``year`` and ``month`` exist only in folder names, so a hive read adds them next to the
file columns with no conflict. Polars infers both as integers; DuckDB infers ``year`` as
``BIGINT`` but keeps the zero-padded ``month`` as text (``'01'``) unless the query says
``hive_types = {'month': INTEGER}``.

Writes validate the whole frame first (:mod:`hedgeframe.data._validation`), then, under
one lock per store, read each touched partition, upsert (a new row replaces a stored row
with the same key), sort, and encode every new file in memory before the first file is
replaced. Each file is replaced atomically (temporary file, fsync, rename), so readers
see the old file or the new one, and a refused write, an unreadable existing partition or
a failing encode leaves the store unchanged. Only touched partitions are rewritten. The
store owns ``part-0.parquet`` in each partition; other files there are ignored by its
readers (but would be read by a glob, so don't add any).

A write that touches several partitions is one commit, even across a crash: every new
file is first written and fsynced beside its target as a hidden ``.part-0.parquet.*.tmp``,
then a journal ``<root>/.store.journal`` naming the renames is written atomically (the
commit point), then the renames run and the journal is removed. A crash before the
journal leaves every old file; a crash after it leaves a journal that the store's next
read or write (from any process) completes first. So the store's readers never see half
of a write; a plain glob by another tool sees each file old or new until then.

Reads refuse rows the store never writes (a non-positive or NaN close, a repeated date,
``bid > ask``, ...) with a :class:`~hedgeframe.errors.CorruptFileError` naming the file:
a partition edited by another tool must not turn into a silently wrong backtest. The rules
are validation's own (:data:`~hedgeframe.data._validation.QUOTE_RULES` and
``BAR_RULES``), checked on numpy arrays of the columns a read returns (a read of some
columns checks every rule about them). Rows come back sorted by key: files are written
sorted, so the order is checked, and a key repeated within the rows read is two equal
neighbours.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final, NoReturn
from urllib.parse import unquote

import numpy as np
import polars as pl

from hedgeframe._atomic import atomic_write_bytes, file_lock, fsync_dir, write_temporary
from hedgeframe.data._schemas import (
    OPTION_QUOTE_KEY,
    OPTION_QUOTE_SCHEMA,
    OPTION_TYPES,
    UNDERLYING_BAR_KEY,
    UNDERLYING_BAR_SCHEMA,
)
from hedgeframe.data._validation import (
    BAR_RULES,
    QUOTE_RULES,
    BoolArray,
    ColumnArrays,
    RowRule,
    first_broken,
    validate_option_quotes,
    validate_underlying_bars,
)
from hedgeframe.errors import CorruptFileError, FailureReason

__all__ = ["MarketDataStore", "decode_symbol", "encode_symbol"]

PART_FILE: Final = "part-0.parquet"
_UNSAFE: Final = frozenset("\"#%'*/:<=>?[\\]{|}")
_READ_ERRORS: Final = (pl.exceptions.PolarsError, OSError, pl.exceptions.PanicException)
_ROW_GROUP_ROWS: Final = 8192
"""Files are sorted by key, so row-group statistics let a one-day read skip most of a
month file; 8192 rows keeps compression good and one-day reads of a 20k-row month ~3 ms."""
_JOURNAL: Final = ".store.journal"
_JOURNAL_FORMAT: Final = "hedgeframe.store_journal"


@dataclass(frozen=True)
class _Table:
    """What the readers check a stored frame against: its rules and its key."""

    rules: tuple[RowRule, ...]
    key: tuple[str, ...]


def _table_for(schema: pl.Schema) -> _Table:
    if "close" in schema:
        return _Table(BAR_RULES, UNDERLYING_BAR_KEY)
    return _Table(QUOTE_RULES, OPTION_QUOTE_KEY)


def _adjacent(columns: ColumnArrays, name: str) -> tuple[BoolArray, BoolArray]:
    """Whether each row's value of column ``name`` is above, and equal to, the row before's.

    An ``option_type`` (one of :data:`OPTION_TYPES` by then) is compared by its rank among
    them, from the comparisons the rules already made, instead of as text.
    """
    column = columns.frame.get_column(name)
    if name == "option_type":
        values = np.zeros(len(column), dtype=np.int8)
        for rank, text in enumerate(sorted(OPTION_TYPES)[1:], start=1):
            values[columns.equals(name, text)] = rank
    elif column.dtype == pl.String:
        later, earlier = column.slice(1), column.slice(0, len(column) - 1)
        return (later > earlier).to_numpy(), (later == earlier).to_numpy()
    else:
        values = columns.values(name)
    return values[1:] > values[:-1], values[1:] == values[:-1]


def _repeats(columns: ColumnArrays, key: Sequence[str]) -> tuple[bool, BoolArray]:
    """Whether a frame is in ``key`` order, and where a row has the row before's key."""
    height = columns.frame.height
    ahead = np.zeros(max(height - 1, 0), dtype=bool)
    same = np.ones_like(ahead)
    if height < 2:
        return True, same
    for name in key:
        above, equal = _adjacent(columns, name)
        ahead |= same & above
        same &= equal
    return bool((ahead | same).all()), same


def _checked(
    frame: pl.DataFrame, table: _Table, key: Sequence[str]
) -> tuple[ColumnArrays, str | None]:
    """Return ``frame`` in ``key`` order (with its arrays), and describe its first bad row.

    A bad row breaks a rule, or repeats the row before's key when the whole key was read;
    ``None`` when there is none. Files are written sorted, so usually the order is only
    checked.
    """
    columns = ColumnArrays(frame)
    broken = first_broken(columns, table.rules)
    if broken is not None:
        row, rule = broken
        value = frame.get_column(rule.column)[row]
        return columns, f"row {row} has {rule.column}={value!r} ({rule.reason})"
    present = [name for name in key if name in frame.columns]  # the rules passed: no nulls
    in_order, same = _repeats(columns, present)
    if not in_order:
        columns = ColumnArrays(frame.sort(present, maintain_order=True))
        _, same = _repeats(columns, present)
    if len(present) < len(key) or not same.any():
        return columns, None
    row = int(np.argmax(same)) + 1
    values = ", ".join(str(columns.frame.get_column(name)[row]) for name in key)
    reason = FailureReason.DUPLICATE_KEY
    return columns, f"row {row} repeats row {row - 1}'s ({', '.join(key)})=({values}) ({reason})"


def _refuse(
    problem: str, paths: Sequence[Path], recheck: Callable[[Path], str | None] | None = None
) -> NoReturn:
    """Raise a :class:`CorruptFileError` naming the file of a read's first bad row.

    When several files were read, ``recheck`` reads one of them the same way and describes
    its first bad row; none has one when a key repeats across files.
    """
    guilty, detail = paths[0], problem
    if recheck is not None and len(paths) > 1:
        for path in paths:
            found = recheck(path)
            if found is not None:
                guilty, detail = path, found
                break
        else:
            detail = f"{problem} in another of the files read ({len(paths)} files)"
    raise CorruptFileError(
        guilty,
        f"{detail}; hedgeframe never writes such a row, so the file was changed outside it "
        "(fix or remove it, then write the data again through MarketDataStore)",
    )


def _journal_bytes(root: Path, renames: Sequence[tuple[Path, Path]]) -> bytes:
    document = {
        "format": _JOURNAL_FORMAT,
        "renames": [
            [tmp.relative_to(root).as_posix(), target.relative_to(root).as_posix()]
            for tmp, target in renames
        ],
    }
    return (json.dumps(document, indent=1) + "\n").encode("utf-8")


def _parse_journal(journal: Path, raw: bytes, root: Path) -> list[tuple[Path, Path]]:
    """Read a journal; refuse one that names anything but a temporary beside a part file."""
    remedy = "move it out of the store to discard the interrupted write it describes"
    try:
        document = json.loads(raw)
        tag = document["format"]
        pairs = [(str(tmp), str(target)) for tmp, target in document["renames"]]
    except (ValueError, KeyError, TypeError) as exc:
        detail = f"not a store journal ({type(exc).__name__}: {exc}); {remedy}"
        raise CorruptFileError(journal, detail) from None
    if tag != _JOURNAL_FORMAT:
        raise CorruptFileError(journal, f"format is {tag!r}, not {_JOURNAL_FORMAT!r}; {remedy}")
    renames = []
    for tmp_name, target_name in pairs:
        tmp, target = Path(tmp_name), Path(target_name)
        safe = (
            not tmp.is_absolute()
            and ".." not in target.parts
            and target.name == PART_FILE
            and tmp.parent == target.parent
            and tmp.name.startswith(f".{PART_FILE}.")
            and tmp.name.endswith(".tmp")
        )
        if not safe:
            detail = f"the journal names {tmp_name!r} -> {target_name!r}; {remedy}"
            raise CorruptFileError(journal, detail)
        renames.append((root / tmp, root / target))
    return renames


def encode_symbol(symbol: str) -> str:
    """Percent-encode only the characters of ``symbol`` unsafe in a partition folder name.

    Examples
    --------
    >>> encode_symbol("^GSPC"), encode_symbol("XAU/USD"), encode_symbol("A%B")
    ('^GSPC', 'XAU%2FUSD', 'A%25B')
    """
    return "".join(
        "".join(f"%{byte:02X}" for byte in char.encode())
        if char in _UNSAFE or ord(char) < 0x20 or ord(char) == 0x7F
        else char
        for char in symbol
    )


def decode_symbol(name: str) -> str:
    """Invert :func:`encode_symbol` (a plain URL-decode, as Polars and DuckDB do)."""
    return unquote(name, errors="strict")


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


def _encode(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True, row_group_size=_ROW_GROUP_ROWS)
    return buffer.getvalue()


def _diagnose(paths: Sequence[Path], schema: pl.Schema) -> CorruptFileError | None:
    """Find the file behind a failed read, so the error can name it."""
    for path in paths:
        try:
            found = pl.read_parquet_schema(path)
        except _READ_ERRORS as exc:
            return CorruptFileError(path, f"not a readable Parquet file ({exc})")
        if dict(found) != dict(schema):
            expected = ", ".join(f"{k} {v}" for k, v in schema.items())
            actual = ", ".join(f"{k} {v}" for k, v in found.items())
            return CorruptFileError(
                path, f"columns [{actual}] are not the store schema [{expected}]"
            )
        try:
            pl.read_parquet(path, hive_partitioning=False)
        except _READ_ERRORS as exc:
            return CorruptFileError(path, f"not a readable Parquet file ({exc})")
    return None


def _scan(
    paths: Sequence[Path], schema: pl.Schema, condition: pl.Expr, wanted: pl.Schema
) -> pl.DataFrame:
    """Read the ``wanted`` columns of the rows of ``paths`` that meet ``condition``."""
    try:
        frame = (
            pl.scan_parquet(list(paths), glob=False, hive_partitioning=False)
            .filter(condition)
            .select(list(wanted))
            .collect()
        )
    except _READ_ERRORS as exc:
        corrupt = _diagnose(paths, schema)
        if corrupt is None:
            raise
        raise corrupt from exc
    if frame.schema != wanted:
        raise _diagnose(paths, schema) or CorruptFileError(paths[0], "unexpected schema")
    return frame


def _read(
    paths: Sequence[Path],
    schema: pl.Schema,
    symbol: str,
    predicate: pl.Expr | None,
    columns: Sequence[str] | None = None,
) -> ColumnArrays:
    """Read ``paths`` (no globbing, no hive columns), filter, check; name a corrupt file.

    The rows come back sorted by the key (files are written sorted, so the sort is only
    checked), and every rule about the columns read is checked on every row read. The
    symbol filter is cheap (one symbol per file) and keeps reads right even where two
    symbols share a folder (``spy`` and ``SPY`` on a case-insensitive file system).
    """
    unknown = [name for name in columns or () if name not in schema]
    if unknown:
        msg = f"no column {unknown[0]!r} in the store's tables; they have {list(schema)}"
        raise ValueError(msg)
    wanted = pl.Schema({name: schema[name] for name in (columns or list(schema))})
    if not paths:
        return ColumnArrays(pl.DataFrame(schema=wanted))
    condition = pl.col("symbol") == symbol
    if predicate is not None:
        condition = condition & predicate
    table = _table_for(schema)
    key = table.key[1:]  # the symbol is one value

    def check(paths: Sequence[Path]) -> tuple[ColumnArrays, str | None]:
        return _checked(_scan(paths, schema, condition, wanted), table, key)

    read, problem = check(paths)
    if problem is not None:
        _refuse(problem, paths, lambda path: check([path])[1])
    return read


def _read_whole(path: Path, schema: pl.Schema) -> pl.DataFrame:
    """Read one stored partition completely (before an upsert rewrites it)."""
    try:
        frame = pl.read_parquet(path, hive_partitioning=False)
    except _READ_ERRORS as exc:
        raise CorruptFileError(path, f"not a readable Parquet file ({exc})") from exc
    if frame.schema != schema:
        raise _diagnose([path], schema) or CorruptFileError(path, "unexpected schema")
    table = _table_for(schema)
    read, problem = _checked(frame, table, table.key)
    if problem is not None:
        _refuse(problem, [path])
    return read.frame


def _subdirs(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    """``(value, path)`` of the ``prefix=value`` folders inside ``folder``, sorted."""
    if not folder.is_dir():
        return []
    found = [
        (entry.name.removeprefix(prefix), Path(entry.path))
        for entry in os.scandir(folder)
        if entry.is_dir() and entry.name.startswith(prefix)
    ]
    return sorted(found)


class MarketDataStore:
    """Daily underlying bars and option-chain snapshots in hive-partitioned Parquet.

    The store is a folder anyone can query: DuckDB, Polars, Spark or a BI tool read
    ``<root>/underlying/*/*/*.parquet`` or ``<root>/options/*/*/*/*.parquet`` with hive
    partitioning on. Its own readers open only the partition files a request needs, so a
    one-day chain read touches one month file.

    Parameters
    ----------
    root
        The store folder; created on the first write. Reading a missing store gives
        empty frames.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import date
    >>> import polars as pl
    >>> store = MarketDataStore(tempfile.mkdtemp())
    >>> store.write_underlying_bars(
    ...     pl.DataFrame({"symbol": ["^GSPC"], "date": [date(2008, 9, 15)], "close": [1192.7]})
    ... )
    >>> store.underlying_bars("^GSPC").select("symbol", "date", "close").row(0)
    ('^GSPC', datetime.date(2008, 9, 15), 1192.7)
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"MarketDataStore({str(self.root)!r})"

    # paths ---------------------------------------------------------------------------

    def _bars_dir(self, symbol: str) -> Path:
        return self.root / "underlying" / f"symbol={encode_symbol(symbol)}"

    def _quotes_dir(self, symbol: str) -> Path:
        return self.root / "options" / f"symbol={encode_symbol(symbol)}"

    def _bars_path(self, symbol: str, year: int) -> Path:
        return self._bars_dir(symbol) / f"year={year:04d}" / PART_FILE

    def _quotes_path(self, symbol: str, year: int, month: int) -> Path:
        return self._quotes_dir(symbol) / f"year={year:04d}" / f"month={month:02d}" / PART_FILE

    def _bar_files(self, symbol: str, first_year: int | None, last_year: int | None) -> list[Path]:
        paths = []
        for value, folder in _subdirs(self._bars_dir(symbol), "year="):
            if not value.isdigit():
                continue  # not a folder the store wrote
            year = int(value)
            if (first_year is None or year >= first_year) and (
                last_year is None or year <= last_year
            ):
                path = folder / PART_FILE
                if path.is_file():
                    paths.append(path)
        return paths

    def _quote_files(self, symbol: str) -> list[Path]:
        paths = []
        for _, year_dir in _subdirs(self._quotes_dir(symbol), "year="):
            for _, month_dir in _subdirs(year_dir, "month="):
                path = month_dir / PART_FILE
                if path.is_file():
                    paths.append(path)
        return paths

    # writes --------------------------------------------------------------------------

    def write_underlying_bars(self, frame: pl.DataFrame) -> None:
        """Validate daily bars, then upsert them by ``(symbol, date)``.

        Parameters
        ----------
        frame
            Bars in (or castable to) :data:`UNDERLYING_BAR_SCHEMA`; ``symbol, date, close``
            required.

        Raises
        ------
        InvalidMarketDataError
            If any cell breaks a rule; the store is unchanged.
        CorruptFileError
            If a partition to be updated is unreadable; it is left as it is.
        """
        clean = validate_underlying_bars(frame, what="underlying bars")
        year = pl.col("date").dt.year().alias("__year")
        targets = {
            self._bars_path(str(symbol), int(y)): part.drop("__year")
            for (symbol, y), part in clean.with_columns(year)
            .partition_by(["symbol", "__year"], as_dict=True)
            .items()
        }
        self._upsert(targets, UNDERLYING_BAR_SCHEMA, UNDERLYING_BAR_KEY)

    def write_option_quotes(self, frame: pl.DataFrame) -> None:
        """Validate option quotes, then upsert them by ``OPTION_QUOTE_KEY``.

        Parameters
        ----------
        frame
            Quotes in (or castable to) :data:`OPTION_QUOTE_SCHEMA`; the key columns and
            ``bid, ask`` required.

        Raises
        ------
        InvalidMarketDataError
            If any cell breaks a rule; the store is unchanged.
        CorruptFileError
            If a partition to be updated is unreadable; it is left as it is.
        """
        clean = validate_option_quotes(frame, what="option quotes")
        day = pl.col("as_of_date")
        parts = clean.with_columns(
            day.dt.year().alias("__year"), day.dt.month().alias("__month")
        ).partition_by(["symbol", "__year", "__month"], as_dict=True)
        targets = {
            self._quotes_path(str(symbol), int(y), int(m)): part.drop("__year", "__month")
            for (symbol, y, m), part in parts.items()
        }
        self._upsert(targets, OPTION_QUOTE_SCHEMA, OPTION_QUOTE_KEY)

    def _upsert(
        self, targets: dict[Path, pl.DataFrame], schema: pl.Schema, key: tuple[str, ...]
    ) -> None:
        """Merge each partition's new rows into the stored file; all-or-nothing before I/O."""
        if not targets:
            return
        with file_lock(self.root / ".store"):
            self._finish_interrupted_write()
            staged: list[tuple[Path, bytes]] = []
            for path in sorted(targets):
                new = targets[path]
                if path.exists():
                    kept = _read_whole(path, schema).join(new, on=list(key), how="anti")
                    new = pl.concat([kept, new])
                staged.append((path, _encode(new.sort(list(key)))))
            if len(staged) == 1:
                atomic_write_bytes(*staged[0])
            else:
                self._replace_together(staged)

    def _replace_together(self, staged: Sequence[tuple[Path, bytes]]) -> None:
        """Replace several partition files as one commit (see the module docstring)."""
        journal = self.root / _JOURNAL
        renames: list[tuple[Path, Path]] = []
        try:
            for path, data in staged:
                renames.append((write_temporary(path, data), path))
            pending = write_temporary(journal, _journal_bytes(self.root, renames))
            try:
                pending.replace(journal)  # the commit point
            except BaseException:
                pending.unlink(missing_ok=True)
                raise
        except BaseException:
            for tmp, _ in renames:
                tmp.unlink(missing_ok=True)
            raise
        # Committed: a failure from here on leaves the journal (and every temporary file
        # it names) for the next read or write of the store to finish.
        fsync_dir(self.root)
        self._replay(renames)

    def _replay(self, renames: Sequence[tuple[Path, Path]]) -> None:
        """Do a committed write's renames (those a crash left undone), then drop the journal."""
        for tmp, target in renames:
            if tmp.exists():
                tmp.replace(target)
        for folder in sorted({target.parent for _, target in renames}):
            fsync_dir(folder)
        (self.root / _JOURNAL).unlink()
        fsync_dir(self.root)

    def _finish_interrupted_write(self) -> None:
        """Complete a write that committed but crashed before its renames (lock held)."""
        journal = self.root / _JOURNAL
        try:
            raw = journal.read_bytes()
        except FileNotFoundError:
            return
        self._replay(_parse_journal(journal, raw, self.root))

    def _settle(self) -> None:
        """Before a read: finish an interrupted write, so no reader sees half of one."""
        if (self.root / _JOURNAL).exists():
            with file_lock(self.root / ".store"):
                self._finish_interrupted_write()

    # reads ---------------------------------------------------------------------------

    def underlying_bars(
        self, symbol: str, start: date | None = None, end: date | None = None
    ) -> pl.DataFrame:
        """Daily bars of ``symbol`` with ``start <= date <= end``, sorted by date.

        Parameters
        ----------
        symbol
            As written, e.g. ``"^GSPC"``.
        start, end
            Inclusive bounds; ``None`` leaves that side open.

        Returns
        -------
        pl.DataFrame
            In :data:`UNDERLYING_BAR_SCHEMA`; empty (same schema) when nothing matches.

        Raises
        ------
        CorruptFileError
            Naming an unreadable partition file.
        """
        self._settle()
        first = _as_date(start) if start is not None else None
        last = _as_date(end) if end is not None else None
        paths = self._bar_files(symbol, first.year if first else None, last.year if last else None)
        predicate = None
        if first is not None:
            predicate = pl.col("date") >= first
        if last is not None:
            upper = pl.col("date") <= last
            predicate = upper if predicate is None else predicate & upper
        return _read(paths, UNDERLYING_BAR_SCHEMA, symbol, predicate).frame

    def option_quotes(self, symbol: str, as_of_date: date) -> pl.DataFrame:
        """Return the option chain of ``symbol`` on ``as_of_date`` alone (one month file).

        Returns
        -------
        pl.DataFrame
            In :data:`OPTION_QUOTE_SCHEMA`, sorted by ``(option_type, expiry, strike)``;
            empty (same schema) when that day has no chain.

        Raises
        ------
        CorruptFileError
            Naming an unreadable partition file.
        """
        self._settle()
        day = _as_date(as_of_date)
        path = self._quotes_path(symbol, day.year, day.month)
        paths = [path] if path.is_file() else []
        predicate = pl.col("as_of_date") == day
        return _read(paths, OPTION_QUOTE_SCHEMA, symbol, predicate).frame

    def option_quotes_between(self, symbol: str, start: date, end: date) -> pl.DataFrame:
        """Option chains of ``symbol`` with ``start <= as_of_date <= end``.

        Reads only the month files overlapping the range.

        Returns
        -------
        pl.DataFrame
            In :data:`OPTION_QUOTE_SCHEMA`, sorted by
            ``(as_of_date, option_type, expiry, strike)``.

        Raises
        ------
        CorruptFileError
            Naming an unreadable partition file.
        """
        return self.option_quote_arrays(symbol, start, end).frame

    def option_quote_arrays(
        self, symbol: str, start: date, end: date, columns: Sequence[str] | None = None
    ) -> ColumnArrays:
        """:meth:`option_quotes_between`, with its columns as numpy arrays.

        The arrays are the ones the row checks made, so a numeric reader (the snapshot
        provider) converts nothing again.

        Parameters
        ----------
        columns
            Read only these columns (in this order); every rule about them is checked on
            every row read. ``None``: all of them.

        Raises
        ------
        CorruptFileError
            Naming an unreadable partition file.
        """
        self._settle()
        first, last = _as_date(start), _as_date(end)
        paths = [
            path
            for year, month in _months(first, last)
            if (path := self._quotes_path(symbol, year, month)).is_file()
        ]
        predicate = pl.col("as_of_date").is_between(first, last)
        return _read(paths, OPTION_QUOTE_SCHEMA, symbol, predicate, columns)

    def option_quote_dates(self, symbol: str) -> list[date]:
        """Return the sorted ``as_of_date`` values on which ``symbol`` has a stored chain."""
        self._settle()
        paths = self._quote_files(symbol)
        if not paths:
            return []
        frame = _read(paths, OPTION_QUOTE_SCHEMA, symbol, None, columns=["as_of_date"]).frame
        return list(frame.get_column("as_of_date").unique(maintain_order=True))

    def symbols(self) -> list[str]:
        """Symbols that have underlying bars, sorted."""
        self._settle()
        return sorted(
            symbol
            for symbol in _folder_symbols(self.root / "underlying")
            if self._bar_files(symbol, None, None)
        )

    def option_symbols(self) -> list[str]:
        """Symbols that have option quotes, sorted."""
        self._settle()
        return sorted(
            symbol for symbol in _folder_symbols(self.root / "options") if self._quote_files(symbol)
        )


def _months(first: date, last: date) -> Iterator[tuple[int, int]]:
    """Every ``(year, month)`` from ``first``'s month to ``last``'s, inclusive."""
    start, stop = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    for index in range(start, stop + 1):
        year, month0 = divmod(index, 12)
        yield year, month0 + 1


def _folder_symbols(folder: Path) -> list[str]:
    return [decode_symbol(value) for value, _ in _subdirs(folder, "symbol=")]
