"""Row validation for market data: the one gate every store write and reader passes.

A frame is checked whole before anything is written, and every bad cell is reported at
once (pandera's ``failure_cases``): a refused frame raises
:class:`~hedgeframe.errors.InvalidMarketDataError` whose ``failures`` frame has one row per
bad cell, with columns ``row`` (0-based input row; null for a whole-column problem),
``column``, ``value`` (the cell as text) and ``reason`` (a
:class:`~hedgeframe.errors.FailureReason` value). :func:`screen` does the work and returns
the valid rows beside the failures, for readers that may leave bad rows out.

The row rules (:data:`BAR_RULES`, :data:`QUOTE_RULES`) are stated twice, as Polars
expressions and on numpy arrays (:class:`RowRule`). :func:`screen` finds the bad rows with
the numpy form (a clean million-row chain costs a few array passes) and describes only
those cells with the Polars form. The store's readers check every row they read with the
numpy form too (:func:`first_broken`), so a file edited by another tool is refused by the
same rules as a frame written through the store.

Coercions are deliberately few and lossless: integer and decimal columns become
``Float64``; integral floats become ``Int64`` for counts; ``Datetime`` cells become
``Date`` only when they are at midnight; ``Categorical``/``Enum`` become ``String``. Text
is parsed only when a reader asks for it (``parse_strings=True``; dates in the format
their values show, :mod:`hedgeframe.data._dates`); a store write refuses a text column
where a number or date belongs, because that is usually a parsing mistake upstream.
Columns the schema does not know are refused rather than dropped, so a typo in a column
name cannot silently lose data.
"""

from __future__ import annotations

import functools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, ClassVar, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe.data._dates import ISO_DATE, infer_date_format
from hedgeframe.data._schemas import (
    DEFAULT_SOURCE,
    OPTION_QUOTE_KEY,
    OPTION_QUOTE_REQUIRED,
    OPTION_QUOTE_SCHEMA,
    OPTION_TYPES,
    UNDERLYING_BAR_KEY,
    UNDERLYING_BAR_REQUIRED,
    UNDERLYING_BAR_SCHEMA,
)
from hedgeframe.errors import FailureReason, InvalidMarketDataError

__all__ = [
    "BARS",
    "BAR_RULES",
    "FAILURE_SCHEMA",
    "QUOTES",
    "QUOTE_RULES",
    "BoolArray",
    "ColumnArrays",
    "RowRule",
    "Screened",
    "Table",
    "broken_rows",
    "first_broken",
    "screen",
    "validate_option_quotes",
    "validate_underlying_bars",
]

FAILURE_SCHEMA: Final = pl.Schema(
    {"row": pl.Int64(), "column": pl.String(), "value": pl.String(), "reason": pl.String()}
)
"""Columns of :attr:`InvalidMarketDataError.failures`."""

_MIN_YEAR: Final = 1000
_MAX_YEAR: Final = 9999
"""Partition folders are named ``year=YYYY``; dates outside four digits are refused."""
_FIRST_DAY: Final = int(np.datetime64(f"{_MIN_YEAR}-01-01", "D").astype(np.int64))
_LAST_DAY: Final = int(np.datetime64(f"{_MAX_YEAR}-12-31", "D").astype(np.int64))
"""The same bounds as day numbers (days since 1970-01-01)."""

_MID_TOLERANCE: Final = 1e-9
"""How far a given ``mid`` may sit outside ``[bid, ask]`` (float rounding only)."""

_TEXT_COLUMNS: Final = frozenset({"symbol", "option_type", "source"})

MAX_SYMBOL_LENGTH: Final = 50
"""Symbols name partition folders, and a folder name has at most 255 bytes; 50 characters
(the models' limit) stay below it however they are percent-encoded."""


def _v(name: str) -> pl.Expr:
    """Refer to a coerced column in the working frame."""
    return pl.col(f"v:{name}")


def _r(name: str) -> pl.Expr:
    """Refer to a column's original cells as text, for the failure report."""
    return pl.col(f"r:{name}")


@dataclass(frozen=True)
class _Check:
    """One rule: ``mask`` is true where the cell of ``column`` breaks it."""

    column: str
    reason: FailureReason
    mask: pl.Expr
    value: pl.Expr | None = None


@dataclass
class _Coerced:
    """A column cast to its schema dtype, plus the cells the cast could not take."""

    value: pl.Series
    failures: list[tuple[BoolArray, FailureReason]] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    """What is validated: schema, key, required columns, rules and a finishing step."""

    schema: pl.Schema
    key: tuple[str, ...]
    required: tuple[str, ...]
    rules: tuple[RowRule, ...]
    finish: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame


def _parsed(
    text: pl.Series, parse: Callable[[pl.Series], pl.Series]
) -> tuple[pl.Series, list[tuple[BoolArray, FailureReason]]]:
    """Parse text cells, and name the non-blank ones that do not parse.

    Cells are parsed as they are first; only when some fail is the column parsed again
    without surrounding blanks (``" 2 "`` is 2), so clean text is parsed once.
    """
    parsed = parse(text)
    if not (parsed.is_null() & text.is_not_null()).any():
        return parsed, []
    stripped = text.str.strip_chars()
    parsed = parse(stripped)
    unparsable = stripped.is_not_null() & (stripped != "") & parsed.is_null()
    return parsed, [(_flags(unparsable), FailureReason.BAD_VALUE)]


def _whole_numbers(number: pl.Series) -> _Coerced:
    """Turn float counts into integers; cells not finite or not integral are refused."""
    values = number.to_numpy()  # nulls become NaN
    null = number.is_null().to_numpy() if number.null_count() else np.zeros(len(number), bool)
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore"):  # beyond int64: cast to garbage, then not exact
        as_int = np.where(finite, values, 0.0).astype(np.int64)
        exact = finite & (as_int == values)
    whole = pl.Series(number.name, np.ma.masked_array(as_int, mask=~exact), dtype=pl.Int64)
    return _Coerced(
        whole,
        [(~finite & ~null, FailureReason.NOT_FINITE), (finite & ~exact, FailureReason.BAD_VALUE)],
    )


def _coerce(
    column: pl.Series, target: pl.DataType, *, parse_strings: bool, date_format: str
) -> _Coerced | None:
    """Cast one column losslessly to ``target``; ``None`` when its dtype cannot be cast."""
    source = column.dtype
    if source == pl.Null:
        return _Coerced(column.cast(target))
    text = source == pl.String and parse_strings
    if target == pl.String:
        if source == pl.String or isinstance(source, pl.Categorical | pl.Enum):
            return _Coerced(column.cast(pl.String))
        return None
    if target == pl.Date:
        if source == pl.Date:
            return _Coerced(column)
        if isinstance(source, pl.Datetime):
            not_midnight = column.is_not_null() & (column.dt.time() != time(0))
            return _Coerced(column.dt.date(), [(_flags(not_midnight), FailureReason.BAD_VALUE)])
        if text:
            return _Coerced(*_parsed(column, lambda s: s.str.to_date(date_format, strict=False)))
        return None
    failures: list[tuple[BoolArray, FailureReason]] = []
    if source.is_numeric() or isinstance(source, pl.Decimal):
        number = column if source.is_integer() else column.cast(pl.Float64)
    elif text:
        number, failures = _parsed(column, lambda s: s.cast(pl.Float64, strict=False))
    else:
        return None
    if target == pl.Float64:
        return _Coerced(number.cast(pl.Float64), failures)
    # Int64 counts: integers pass through; floats must be finite and integral.
    if number.dtype.is_integer():
        as_int = number.cast(pl.Int64, strict=False)
        return _Coerced(
            as_int, [(_flags(number.is_not_null() & as_int.is_null()), FailureReason.BAD_VALUE)]
        )
    whole = _whole_numbers(number)
    return _Coerced(whole.value, failures + whole.failures)


ColumnRef = Callable[[str], pl.Expr]
"""How a rule names a column: ``pl.col`` for a stored frame, :func:`_v` while validating."""

BoolArray = npt.NDArray[np.bool_]


class ColumnArrays:
    """A frame and its columns as numpy arrays, each converted once (on first use).

    Numbers hold nulls as NaN; dates are day numbers since 1970-01-01 (nulls: the smallest
    integer); text is compared in Polars, each comparison once. The store's readers check
    rows on these arrays (:meth:`RowRule.broken`) and hand them on, so a numeric reader
    converts nothing twice.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame
        self._values: dict[str, npt.NDArray[Any]] = {}
        self._null: dict[str, BoolArray] = {}
        self._equals: dict[tuple[str, str], BoolArray] = {}

    def values(self, name: str) -> npt.NDArray[Any]:
        """Return the column as a numpy array."""
        if name not in self._values:
            values = self.frame.get_column(name).to_numpy()
            self._values[name] = values.view(np.int64) if values.dtype.kind == "M" else values
        return self._values[name]

    def null(self, name: str) -> BoolArray:
        """Return where the column's cells are null."""
        if name not in self._null:
            column = self.frame.get_column(name)
            if column.null_count():
                self._null[name] = column.is_null().to_numpy()
            else:
                self._null[name] = np.zeros(len(column), dtype=bool)
        return self._null[name]

    def present(self, name: str, mask: BoolArray) -> BoolArray:
        """Return ``mask`` where the column's cells are not null (false where they are)."""
        if not self.frame.get_column(name).null_count():
            return mask
        return mask & ~self.null(name)

    def equals(self, name: str, text: str) -> BoolArray:
        """Return where a text column's cells equal ``text`` (false where null).

        A cell equals one text at most: once the texts compared so far cover every cell,
        the answer is known without comparing.
        """
        if (name, text) not in self._equals:
            known = [mask for (column, _), mask in self._equals.items() if column == name]
            if known and (np.logical_or.reduce(known) | self.null(name)).all():
                self._equals[name, text] = np.zeros(self.frame.height, dtype=bool)
            else:
                self._equals[name, text] = _flags(self.frame.get_column(name) == text)
        return self._equals[name, text]


def _flags(mask: pl.Series) -> BoolArray:
    """Return a Polars boolean series as numpy, null as false."""
    return (mask.fill_null(value=False) if mask.null_count() else mask).to_numpy()


@dataclass(frozen=True)
class RowRule(ABC):
    """A rule every stored row keeps; a row breaks it in ``column``, for ``reason``.

    Written once, stated twice: :meth:`mask` as a Polars expression for validation, which
    reports every bad cell of a frame being written, and :meth:`broken` on numpy arrays
    for the store's read-time check (about half Polars' time on a year of quotes, and the
    arrays then serve the reader). Both are true exactly where a row breaks the rule (a
    null cell breaks only the missing-value rule; NaN compares differently in Polars and
    numpy, but a row holding one breaks a not-finite rule in both), which
    ``tests/data/test_market_read_checks.py`` checks on generated frames.
    """

    column: str
    reason: FailureReason
    null_breaks: ClassVar[bool] = False
    """Whether a null cell of ``column`` can break the rule (only the missing-value rule)."""

    @property
    def needs(self) -> tuple[str, ...]:
        """The columns the rule reads."""
        return (self.column,)

    @abstractmethod
    def mask(self, col: ColumnRef) -> pl.Expr:
        """Return an expression that is true where a row breaks the rule."""

    @abstractmethod
    def broken(self, columns: ColumnArrays) -> BoolArray:
        """Return where a row breaks the rule."""


@dataclass(frozen=True)
class _Missing(RowRule):
    """A null cell; for a text column, an empty string too."""

    reason: FailureReason = FailureReason.MISSING
    null_breaks: ClassVar[bool] = True

    def mask(self, col: ColumnRef) -> pl.Expr:
        missing = col(self.column).is_null()
        if self.column in _TEXT_COLUMNS:
            missing = missing | (col(self.column) == "")
        return missing

    def broken(self, columns: ColumnArrays) -> BoolArray:
        missing = columns.null(self.column)
        if self.column in _TEXT_COLUMNS:
            missing = missing | columns.equals(self.column, "")
        return missing


@dataclass(frozen=True)
class _TooLong(RowRule):
    """Text longer than ``limit`` characters."""

    limit: int = MAX_SYMBOL_LENGTH

    def mask(self, col: ColumnRef) -> pl.Expr:
        return col(self.column).str.len_chars() > self.limit

    def broken(self, columns: ColumnArrays) -> BoolArray:
        text = columns.frame.get_column(self.column)
        # A character has at least one byte: counting bytes is cheaper, and enough when
        # no cell has too many.
        too_long = _flags(text.str.len_bytes() > self.limit)
        if too_long.any():
            too_long = _flags(text.str.len_chars() > self.limit)
        return too_long


@dataclass(frozen=True)
class _YearOutside(RowRule):
    """A date whose year has not four digits (partition folders are ``year=YYYY``)."""

    def mask(self, col: ColumnRef) -> pl.Expr:
        return ~col(self.column).dt.year().is_between(_MIN_YEAR, _MAX_YEAR)

    def broken(self, columns: ColumnArrays) -> BoolArray:
        day = columns.values(self.column)
        return columns.present(self.column, (day < _FIRST_DAY) | (day > _LAST_DAY))


@dataclass(frozen=True)
class _NotOneOf(RowRule):
    """Text other than the ``allowed`` values."""

    allowed: tuple[str, ...] = ()

    def mask(self, col: ColumnRef) -> pl.Expr:
        return ~col(self.column).is_in(list(self.allowed))

    def broken(self, columns: ColumnArrays) -> BoolArray:
        inside = (columns.equals(self.column, value) for value in self.allowed)
        return columns.present(self.column, ~functools.reduce(operator.or_, inside))


@dataclass(frozen=True)
class _Compared(RowRule):
    """``column`` above ``other`` (``above=True``) or below it."""

    other: str = ""
    above: bool = True

    @property
    def needs(self) -> tuple[str, ...]:
        return (self.column, self.other)

    def mask(self, col: ColumnRef) -> pl.Expr:
        if self.above:
            return col(self.column) > col(self.other)
        return col(self.column) < col(self.other)

    def broken(self, columns: ColumnArrays) -> BoolArray:
        value, other = columns.values(self.column), columns.values(self.other)
        compared: BoolArray = value > other if self.above else value < other
        return columns.present(self.column, columns.present(self.other, compared))


@dataclass(frozen=True)
class _NotFinite(RowRule):
    """NaN or an infinity."""

    reason: FailureReason = FailureReason.NOT_FINITE

    def mask(self, col: ColumnRef) -> pl.Expr:
        return col(self.column).is_nan() | col(self.column).is_infinite()

    def broken(self, columns: ColumnArrays) -> BoolArray:
        return columns.present(self.column, ~np.isfinite(columns.values(self.column)))


@dataclass(frozen=True)
class _Below(RowRule):
    """Below ``bound`` (``inclusive``: at it too)."""

    bound: float = 0.0
    inclusive: bool = False

    def mask(self, col: ColumnRef) -> pl.Expr:
        value = col(self.column)
        return value <= self.bound if self.inclusive else value < self.bound

    def broken(self, columns: ColumnArrays) -> BoolArray:
        value = columns.values(self.column)
        below: BoolArray = value <= self.bound if self.inclusive else value < self.bound
        return below


@dataclass(frozen=True)
class _AbsAbove(RowRule):
    """An absolute value above ``limit``."""

    limit: float = 1.0

    def mask(self, col: ColumnRef) -> pl.Expr:
        return col(self.column).abs() > self.limit

    def broken(self, columns: ColumnArrays) -> BoolArray:
        above: BoolArray = np.abs(columns.values(self.column)) > self.limit
        return above


@dataclass(frozen=True)
class _MidOutside(RowRule):
    """A given mid without a quoted side, or outside ``[bid, ask]`` (float rounding aside)."""

    @property
    def needs(self) -> tuple[str, ...]:
        return ("mid", "bid", "ask")

    def mask(self, col: ColumnRef) -> pl.Expr:
        bid, ask, mid = col("bid"), col("ask"), col("mid")
        no_side = bid.is_null() & ask.is_null()
        outside = (mid < bid - _MID_TOLERANCE) | (mid > ask + _MID_TOLERANCE)
        return mid.is_not_null() & (no_side | outside)

    def broken(self, columns: ColumnArrays) -> BoolArray:
        bid, ask, mid = (columns.values(name) for name in ("bid", "ask", "mid"))
        no_side = columns.null("bid") & columns.null("ask")
        outside = (mid < bid - _MID_TOLERANCE) | (mid > ask + _MID_TOLERANCE)
        return columns.present("mid", no_side | outside)


def _signed(names: Sequence[str], reason: FailureReason) -> list[RowRule]:
    """Finite, and positive (``NOT_POSITIVE``) or not negative (``NEGATIVE``)."""
    positive = reason is FailureReason.NOT_POSITIVE
    return [
        rule
        for name in names
        for rule in (_NotFinite(name), _Below(name, reason, inclusive=positive))
    ]


BAR_RULES: Final[tuple[RowRule, ...]] = (
    *(_Missing(name) for name in ("symbol", "date", "close", "source")),
    _TooLong("symbol", FailureReason.BAD_VALUE),
    _YearOutside("date", FailureReason.BAD_VALUE),
    *_signed(["close"], FailureReason.NOT_POSITIVE),
    *_signed(["open", "high", "low", "volume"], FailureReason.NEGATIVE),
)
"""What a stored bar keeps, in the order a cell's first broken rule is reported."""

QUOTE_RULES: Final[tuple[RowRule, ...]] = (
    *(_Missing(name) for name in (*OPTION_QUOTE_KEY, "source")),
    _TooLong("symbol", FailureReason.BAD_VALUE),
    _YearOutside("as_of_date", FailureReason.BAD_VALUE),
    _NotOneOf("option_type", FailureReason.BAD_VALUE, OPTION_TYPES),
    _Compared("expiry", FailureReason.EXPIRY_BEFORE_AS_OF, "as_of_date", above=False),
    *_signed(["strike", "underlying_close"], FailureReason.NOT_POSITIVE),
    *_signed(["bid", "ask", "mid", "implied_volatility"], FailureReason.NEGATIVE),
    *(_Below(name, FailureReason.NEGATIVE) for name in ("open_interest", "volume")),
    _NotFinite("delta"),
    _AbsAbove("delta", FailureReason.BAD_VALUE),
    _Compared("bid", FailureReason.BID_ABOVE_ASK, "ask"),
    _MidOutside("mid", FailureReason.BAD_VALUE),
)
"""What a stored quote keeps, in the order a cell's first broken rule is reported."""


def broken_rows(columns: ColumnArrays, rules: Sequence[RowRule]) -> BoolArray:
    """Return where a row breaks any of ``rules`` (each of whose columns the frame has)."""
    frame = columns.frame
    bad = np.zeros(frame.height, dtype=bool)
    # Last rule first: a text's allowed values are compared before the empty string, which
    # they then rule out (ColumnArrays.equals). Masks are dropped at once: memory reused.
    for rule in reversed(rules):
        if rule.null_breaks or frame.get_column(rule.column).null_count() < frame.height:
            bad |= rule.broken(columns)  # (a column of nulls breaks only the missing rule)
    return bad


def first_broken(columns: ColumnArrays, rules: Sequence[RowRule]) -> tuple[int, RowRule] | None:
    """Return the first row of a frame that breaks a rule, and the first rule it breaks.

    Rules whose columns the frame lacks are skipped; ``None`` when every row keeps the rest.
    """
    frame = columns.frame
    present = set(frame.columns)
    usable = [rule for rule in rules if set(rule.needs) <= present]
    if not usable or frame.is_empty():
        return None
    bad = broken_rows(columns, usable)
    if not bad.any():
        return None
    row = int(np.argmax(bad))
    suspect = ColumnArrays(frame.slice(row, 1))
    return row, next(rule for rule in usable if rule.broken(suspect)[0])


def _duplicated(frame: pl.DataFrame, key: Sequence[str]) -> BoolArray:
    """Return where a row's key, all of it present, is another row's key too.

    Keys are hashed and the hashes sorted; only rows whose hash repeats are compared
    exactly (a clean million-row frame: one hash and one sort, about 0.05 s).
    """
    keys = frame.select(key)
    hashes = keys.hash_rows().to_numpy()
    ordered = np.sort(hashes)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    duplicated = np.zeros(frame.height, dtype=bool)
    if repeated.size:
        suspects = np.flatnonzero(np.isin(hashes, repeated))
        exact = keys[suspects].select(
            pl.struct(key).is_duplicated() & pl.all_horizontal(pl.col(k).is_not_null() for k in key)
        )
        duplicated[suspects[_flags(exact.to_series())]] = True
    return duplicated


def _fill_mid(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing mid from both sides, when the ask is usable (> 0)."""
    bid, ask, mid = pl.col("bid"), pl.col("ask"), pl.col("mid")
    fillable = mid.is_null() & bid.is_not_null() & ask.is_not_null() & (ask > 0)
    return frame.with_columns(mid=pl.when(fillable).then((bid + ask) / 2).otherwise(mid))


BARS: Final = Table(UNDERLYING_BAR_SCHEMA, UNDERLYING_BAR_KEY, UNDERLYING_BAR_REQUIRED, BAR_RULES)
"""Daily bars, as every store write and bar reader checks them."""
QUOTES: Final = Table(
    OPTION_QUOTE_SCHEMA, OPTION_QUOTE_KEY, OPTION_QUOTE_REQUIRED, QUOTE_RULES, _fill_mid
)
"""End-of-day option quotes, as every store write and chain reader checks them."""


_SHOWN_CHARS: Final = 100
"""A failing cell longer than this is shown by its start and its length (the message of a
refused multi-megabyte string stays readable)."""


def _shortened(text: pl.Expr) -> pl.Expr:
    length = text.str.len_chars()
    start = text.str.slice(0, _SHOWN_CHARS)
    shown = pl.concat_str(start, pl.lit("... ("), length.cast(pl.String), pl.lit(" characters)"))
    return pl.when(length > _SHOWN_CHARS).then(shown).otherwise(text)


def _column_failure(column: str, value: str | None, reason: FailureReason) -> dict[str, object]:
    return {"row": None, "column": column, "value": value, "reason": reason.value}


@dataclass(frozen=True)
class Screened:
    """A frame checked cell by cell: the rows that keep every rule, and every bad cell.

    ``failures`` has :data:`FAILURE_SCHEMA` (``row`` indexes the checked frame; null for a
    whole-column problem). ``valid`` holds the other rows, coerced to the table's schema, in
    input order; it is empty when a whole column was refused.
    """

    valid: pl.DataFrame
    failures: pl.DataFrame

    @property
    def column_refused(self) -> bool:
        """Whether a whole column was refused (missing, unexpected or of the wrong dtype)."""
        return bool(self.failures.get_column("row").null_count())


@dataclass
class _Cells:
    """A frame coerced column by column: values, cast failures, and what could not be cast."""

    values: dict[str, pl.Series] = field(default_factory=dict)
    cast_failures: list[tuple[str, BoolArray, FailureReason]] = field(default_factory=list)
    column_failures: list[dict[str, object]] = field(default_factory=list)


def _text_date_format(frame: pl.DataFrame, table: Table, what: str) -> str:
    """Return the format of the frame's text date columns, as their values tell it."""
    text_dates = {
        name: frame.get_column(name)
        for name, dtype in table.schema.items()
        if dtype == pl.Date and frame.schema.get(name) == pl.String
    }
    return infer_date_format(text_dates, what=what, where=lambda row: f"row {row}")


def _coerced_cells(
    frame: pl.DataFrame, table: Table, *, parse_strings: bool, date_format: str
) -> _Cells:
    cells = _Cells(
        column_failures=[
            _column_failure(name, "unexpected column", FailureReason.BAD_VALUE)
            for name in frame.columns
            if name not in table.schema
        ]
    )
    for name, dtype in table.schema.items():
        if name not in frame.schema:
            if name in table.required:
                failure = _column_failure(name, None, FailureReason.MISSING_COLUMN)
                cells.column_failures.append(failure)
            else:
                default = DEFAULT_SOURCE if name == "source" else None
                cells.values[name] = pl.repeat(
                    default, frame.height, dtype=dtype, eager=True
                ).alias(name)
            continue
        column = frame.get_column(name)
        coerced = _coerce(column, dtype, parse_strings=parse_strings, date_format=date_format)
        if coerced is None:
            detail = f"dtype {column.dtype}, expected {dtype}"
            cells.column_failures.append(_column_failure(name, detail, FailureReason.BAD_VALUE))
            continue
        cells.values[name] = coerced.value.alias(name)
        cells.cast_failures += [(name, mask, reason) for mask, reason in coerced.failures]
    return cells


def _described(
    frame: pl.DataFrame, table: Table, cells: _Cells, duplicated: BoolArray, bad: BoolArray
) -> pl.DataFrame:
    """Return one failure row per bad cell of the ``bad`` rows (the first rule it breaks).

    Rules are row-local, so only the bad rows are evaluated here, with the rules' Polars
    masks; duplicates were found on the whole frame.
    """
    rows = np.flatnonzero(bad)
    columns: list[pl.Series] = [pl.Series("row", rows, dtype=pl.Int64)]
    columns += [values[rows].alias(f"v:{name}") for name, values in cells.values.items()]
    for name in cells.values:
        raw = (
            frame.get_column(name)[rows].cast(pl.String)
            if name in frame.columns
            else cells.values[name][rows].cast(pl.String)
        )
        columns.append(raw.alias(f"r:{name}"))
    checks: list[_Check] = []
    for i, (name, mask, reason) in enumerate(cells.cast_failures):
        # Cast failures are judged on the original cells, so computed with them.
        columns.append(pl.Series(f"c:{i}", mask[rows]))
        checks.append(_Check(name, reason, pl.col(f"c:{i}")))
    checks += [
        _Check(rule.column, rule.reason, rule.mask(_v))
        for rule in table.rules
        if set(rule.needs) <= cells.values.keys()
    ]
    if set(table.key) <= cells.values.keys():
        columns.append(pl.Series("duplicated", duplicated[rows]))
        key_text = pl.concat_str([_v(k).cast(pl.String) for k in table.key], separator=", ")
        checks.append(
            _Check(
                ", ".join(table.key), FailureReason.DUPLICATE_KEY, pl.col("duplicated"), key_text
            )
        )
    work = pl.DataFrame(columns).with_columns(
        check.mask.fill_null(value=False).alias(f"m:{i}") for i, check in enumerate(checks)
    )
    positions = {name: i for i, name in enumerate(table.schema)}
    parts = [
        pl.DataFrame(cells.column_failures, schema=FAILURE_SCHEMA).with_columns(
            pl.lit(0, pl.Int64).alias("position")
        )
    ]
    for i, check in enumerate(checks):
        value = check.value if check.value is not None else _r(check.column)
        parts.append(
            work.filter(pl.col(f"m:{i}")).select(
                "row",
                column=pl.lit(check.column, pl.String),
                value=_shortened(value.cast(pl.String)),
                reason=pl.lit(check.reason.value, pl.String),
                position=pl.lit(positions.get(check.column, len(positions)), pl.Int64),
            )
        )
    # One row per bad cell (the first rule it breaks), by row, then in schema column order.
    return (
        pl.concat(parts)
        .unique(subset=["row", "column"], keep="first", maintain_order=True)
        .sort("row", "position", nulls_last=False, maintain_order=True)
        .drop("position")
    )


def screen(
    frame: pl.DataFrame,
    table: Table,
    *,
    what: str,
    parse_strings: bool = False,
    date_format: str | None = None,
) -> Screened:
    """Coerce ``frame`` to ``table.schema`` and split its rows into valid ones and failures.

    Rows are checked with the rules on numpy arrays first (:meth:`RowRule.broken`); only
    the rows that break one are described cell by cell (:func:`_described`), so a clean
    frame costs a few array passes. Text dates without ``date_format`` get the format
    their values show (:func:`~hedgeframe.data._dates.infer_date_format`).

    Raises
    ------
    BadInputError
        When text dates have no ``date_format`` and their values do not tell it.
    """
    if date_format is None:
        date_format = _text_date_format(frame, table, what) if parse_strings else ISO_DATE
    cells = _coerced_cells(frame, table, parse_strings=parse_strings, date_format=date_format)
    values = pl.DataFrame(list(cells.values.values()))
    usable = [rule for rule in table.rules if set(rule.needs) <= cells.values.keys()]
    bad = np.zeros(frame.height, dtype=bool)
    if usable:
        bad |= broken_rows(ColumnArrays(values), usable)
    for _, mask, _ in cells.cast_failures:
        bad |= mask
    duplicated = np.zeros(frame.height, dtype=bool)
    if set(table.key) <= cells.values.keys():
        duplicated = _duplicated(values, table.key)
        bad |= duplicated
    if cells.column_failures:
        failures = _described(frame, table, cells, duplicated, bad)
        return Screened(pl.DataFrame(schema=table.schema), failures)
    valid = values if not bad.any() else values.filter(pl.Series(~bad))
    failures = (
        _described(frame, table, cells, duplicated, bad)
        if bad.any()
        else pl.DataFrame(schema=FAILURE_SCHEMA)
    )
    return Screened(table.finish(valid.select(table.schema.names())).cast(table.schema), failures)


def _validate(
    frame: pl.DataFrame,
    table: Table,
    *,
    what: str,
    parse_strings: bool,
    date_format: str | None,
) -> pl.DataFrame:
    """Coerce ``frame`` to ``table.schema`` and check every rule, or raise with every failure."""
    screened = screen(frame, table, what=what, parse_strings=parse_strings, date_format=date_format)
    if screened.failures.height:
        raise InvalidMarketDataError(what, screened.failures)
    return screened.valid


def validate_underlying_bars(
    frame: pl.DataFrame,
    *,
    what: str = "underlying bars",
    parse_strings: bool = False,
    date_format: str | None = None,
) -> pl.DataFrame:
    """Check daily bars and return them in :data:`UNDERLYING_BAR_SCHEMA`.

    Every store write and bar reader goes through here, so a bar in the store is always
    clean: a positive finite ``close``, no NaN/inf or negative ``open/high/low/volume``
    (nulls allowed), no duplicate ``(symbol, date)``, a symbol of at most 50 characters.

    Parameters
    ----------
    frame
        Bars with at least ``symbol, date, close``; absent ``open/high/low/volume`` are
        null, an absent ``source`` is ``"unknown"``.
    what
        Names the data in the error message.
    parse_strings
        Parse text cells into numbers and dates (for text sources such as CSV).
    date_format
        ``strftime`` format of text dates; told from their values when ``None``.

    Returns
    -------
    pl.DataFrame
        The bars, coerced to the store schema, in input order.

    Raises
    ------
    InvalidMarketDataError
        With one ``failures`` row per bad cell.
    BadInputError
        When text dates do not show their day/month order (pass ``date_format``).
    """
    return _validate(frame, BARS, what=what, parse_strings=parse_strings, date_format=date_format)


def validate_option_quotes(
    frame: pl.DataFrame,
    *,
    what: str = "option quotes",
    parse_strings: bool = False,
    date_format: str | None = None,
) -> pl.DataFrame:
    """Check end-of-day option quotes and return them in :data:`OPTION_QUOTE_SCHEMA`.

    Refuses ``bid > ask``, negative prices, a non-positive strike, expiry before
    ``as_of_date``, an ``option_type`` other than ``put``/``call``, NaN/inf in any numeric
    column, ``|delta| > 1``, and duplicate keys. A side may be null (no bid); a given
    ``mid`` must lie within the sides present. A null ``mid`` is filled with
    ``(bid + ask) / 2`` when both sides exist and ``ask > 0``; a zero ask leaves it null,
    marking the quote as having no usable mid.

    Parameters
    ----------
    frame
        Quotes with at least the key columns plus ``bid`` and ``ask``; other absent
        columns are null, an absent ``source`` is ``"unknown"``.
    what
        Names the data in the error message.
    parse_strings
        Parse text cells into numbers and dates (for text sources such as CSV).
    date_format
        ``strftime`` format of text dates; told from their values when ``None``.

    Returns
    -------
    pl.DataFrame
        The quotes, coerced to the store schema, in input order.

    Raises
    ------
    InvalidMarketDataError
        With one ``failures`` row per bad cell.
    BadInputError
        When text dates do not show their day/month order (pass ``date_format``).
    """
    return _validate(frame, QUOTES, what=what, parse_strings=parse_strings, date_format=date_format)
