"""Row validation for market data: the one gate every store write and reader passes.

A frame is checked whole before anything is written, and every bad cell is reported at
once (pandera's ``failure_cases``): a refused frame raises
:class:`~hedgeframe.errors.InvalidMarketDataError` whose ``failures`` frame has one row per
bad cell, with columns ``row`` (0-based input row; null for a whole-column problem),
``column``, ``value`` (the cell as text) and ``reason`` (a
:class:`~hedgeframe.errors.FailureReason` value).

The row rules (:data:`BAR_RULES`, :data:`QUOTE_RULES`) are also what the store's readers
check every row they read against (:func:`first_broken`), so a file edited by another
tool is refused by the same rules as a frame written through the store.

Coercions are deliberately few and lossless: integer and decimal columns become
``Float64``; integral floats become ``Int64`` for counts; ``Datetime`` cells become
``Date`` only when they are at midnight; ``Categorical``/``Enum`` become ``String``. Text
is parsed only when a reader asks for it (``parse_strings=True``); a store write refuses a
text column where a number or date belongs, because that is usually a parsing mistake
upstream. Columns the schema does not know are refused rather than dropped, so a typo in a
column name cannot silently lose data.
"""

from __future__ import annotations

import functools
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

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
    "BAR_RULES",
    "FAILURE_SCHEMA",
    "QUOTE_RULES",
    "BoolArray",
    "ColumnArrays",
    "RowRule",
    "first_broken",
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

    value: pl.Expr
    failures: list[tuple[pl.Expr, FailureReason]] = field(default_factory=list)


@dataclass(frozen=True)
class _Table:
    """What is validated: schema, key, required columns, rules and a finishing step."""

    schema: pl.Schema
    key: tuple[str, ...]
    required: tuple[str, ...]
    rules: tuple[RowRule, ...]
    finish: Callable[[pl.DataFrame], pl.DataFrame] = lambda frame: frame


def _coerce(
    name: str,
    source: pl.DataType,
    target: pl.DataType,
    *,
    parse_strings: bool,
    date_format: str | None,
) -> _Coerced | None:
    """Cast one column losslessly to ``target``; ``None`` when its dtype cannot be cast."""
    col = pl.col(name)
    if source == pl.Null:
        return _Coerced(col.cast(target))
    text = col.str.strip_chars() if source == pl.String else None
    present_text = (text.is_not_null() & (text != "")) if text is not None else None
    if target == pl.String:
        if source == pl.String or isinstance(source, pl.Categorical | pl.Enum):
            return _Coerced(col.cast(pl.String))
        return None
    if target == pl.Date:
        if source == pl.Date:
            return _Coerced(col)
        if isinstance(source, pl.Datetime):
            not_midnight = col.is_not_null() & (col.dt.time() != pl.lit(time(0)))
            return _Coerced(col.dt.date(), [(not_midnight, FailureReason.BAD_VALUE)])
        if text is not None and present_text is not None and parse_strings:
            parsed = pl.when(present_text).then(text).str.to_date(date_format, strict=False)
            return _Coerced(parsed, [(present_text & parsed.is_null(), FailureReason.BAD_VALUE)])
        return None
    if source.is_numeric() or isinstance(source, pl.Decimal):
        number = col.cast(pl.Float64) if not source.is_integer() else col
        unparsable = None
    elif text is not None and present_text is not None and parse_strings:
        number = pl.when(present_text).then(text).cast(pl.Float64, strict=False)
        unparsable = present_text & number.is_null()
    else:
        return None
    failures = [] if unparsable is None else [(unparsable, FailureReason.BAD_VALUE)]
    if target == pl.Float64:
        return _Coerced(number.cast(pl.Float64), failures)
    # Int64 counts: integers pass through; floats must be finite and integral.
    if source.is_integer():
        as_int = number.cast(pl.Int64, strict=False)
        return _Coerced(as_int, [(col.is_not_null() & as_int.is_null(), FailureReason.BAD_VALUE)])
    not_finite = number.is_nan() | number.is_infinite()
    as_int = pl.when(~not_finite).then(number).cast(pl.Int64, strict=False)
    lossy = ~not_finite & (as_int.is_null() | (as_int.cast(pl.Float64) != number))
    failures += [(not_finite, FailureReason.NOT_FINITE), (lossy, FailureReason.BAD_VALUE)]
    return _Coerced(pl.when(~not_finite & ~lossy).then(as_int), failures)


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


def first_broken(columns: ColumnArrays, rules: Sequence[RowRule]) -> tuple[int, RowRule] | None:
    """Return the first row of a frame that breaks a rule, and the first rule it breaks.

    Rules whose columns the frame lacks are skipped; ``None`` when every row keeps the rest.
    """
    frame = columns.frame
    present = set(frame.columns)
    usable = [rule for rule in rules if set(rule.needs) <= present]
    if not usable or frame.is_empty():
        return None
    bad = np.zeros(frame.height, dtype=bool)
    # Last rule first: a text's allowed values are compared before the empty string, which
    # they then rule out (ColumnArrays.equals). Masks are dropped at once: memory reused.
    for rule in reversed(usable):
        bad |= rule.broken(columns)
    if not bad.any():
        return None
    row = int(np.argmax(bad))
    suspect = ColumnArrays(frame.slice(row, 1))
    return row, next(rule for rule in usable if rule.broken(suspect)[0])


def _fill_mid(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing mid from both sides, when the ask is usable (> 0)."""
    bid, ask, mid = pl.col("bid"), pl.col("ask"), pl.col("mid")
    fillable = mid.is_null() & bid.is_not_null() & ask.is_not_null() & (ask > 0)
    return frame.with_columns(mid=pl.when(fillable).then((bid + ask) / 2).otherwise(mid))


_BARS: Final = _Table(UNDERLYING_BAR_SCHEMA, UNDERLYING_BAR_KEY, UNDERLYING_BAR_REQUIRED, BAR_RULES)
_QUOTES: Final = _Table(
    OPTION_QUOTE_SCHEMA, OPTION_QUOTE_KEY, OPTION_QUOTE_REQUIRED, QUOTE_RULES, _fill_mid
)


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


def _validate(
    frame: pl.DataFrame,
    table: _Table,
    *,
    what: str,
    parse_strings: bool,
    date_format: str | None,
) -> pl.DataFrame:
    """Coerce ``frame`` to ``table.schema`` and check every rule, or raise with every failure."""
    column_failures = [
        _column_failure(name, "unexpected column", FailureReason.BAD_VALUE)
        for name in frame.columns
        if name not in table.schema
    ]
    values: dict[str, pl.Expr] = {}
    raws: dict[str, pl.Expr] = {}
    cast_masks: list[pl.Expr] = []
    checks: list[_Check] = []
    usable: set[str] = set()
    for name, dtype in table.schema.items():
        if name not in frame.schema:
            if name in table.required:
                column_failures.append(_column_failure(name, None, FailureReason.MISSING_COLUMN))
            else:
                default = DEFAULT_SOURCE if name == "source" else None
                values[name] = pl.lit(default, dtype)
                raws[name] = pl.lit(default, pl.String)
                usable.add(name)
            continue
        source = frame.schema[name]
        coerced = _coerce(name, source, dtype, parse_strings=parse_strings, date_format=date_format)
        if coerced is None:
            detail = f"dtype {source}, expected {dtype}"
            column_failures.append(_column_failure(name, detail, FailureReason.BAD_VALUE))
            continue
        values[name] = coerced.value
        raws[name] = pl.col(name).cast(pl.String)
        for mask, reason in coerced.failures:
            # Cast failures are judged on the original cells, so computed with them.
            label = f"c:{len(cast_masks)}"
            cast_masks.append(mask.alias(label))
            checks.append(_Check(name, reason, pl.col(label)))
        usable.add(name)
    checks += [
        _Check(rule.column, rule.reason, rule.mask(_v))
        for rule in table.rules
        if set(rule.needs) <= usable
    ]
    if set(table.key) <= usable:
        key_text = pl.concat_str([_v(k).cast(pl.String) for k in table.key], separator=", ")
        duplicated = pl.struct([_v(k) for k in table.key]).is_duplicated()
        all_present = pl.all_horizontal([_v(k).is_not_null() for k in table.key])
        key_name = ", ".join(table.key)
        checks.append(
            _Check(key_name, FailureReason.DUPLICATE_KEY, duplicated & all_present, key_text)
        )

    work = frame.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        *[expr.alias(f"v:{name}") for name, expr in values.items()],
        *[expr.alias(f"r:{name}") for name, expr in raws.items()],
        *cast_masks,
    )
    work = work.with_columns(
        [check.mask.fill_null(value=False).alias(f"m:{i}") for i, check in enumerate(checks)]
    )
    counts = work.select(pl.col(f"m:{i}").sum() for i in range(len(checks)))
    positions = {name: i for i, name in enumerate(table.schema)}
    parts = [
        pl.DataFrame(column_failures, schema=FAILURE_SCHEMA).with_columns(
            pl.lit(0, pl.Int64).alias("position")
        )
    ]
    for i, check in enumerate(checks):
        if not counts.item(0, i):
            continue
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
    failures = (
        pl.concat(parts)
        .unique(subset=["row", "column"], keep="first", maintain_order=True)
        .sort("row", "position", nulls_last=False, maintain_order=True)
        .drop("position")
    )
    if failures.height:
        raise InvalidMarketDataError(what, failures)
    clean = work.select(pl.col(f"v:{name}").alias(name) for name in table.schema)
    return table.finish(clean).cast(table.schema)


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
        ``strftime`` format of text dates; inferred when ``None``.

    Returns
    -------
    pl.DataFrame
        The bars, coerced to the store schema, in input order.

    Raises
    ------
    InvalidMarketDataError
        With one ``failures`` row per bad cell.
    """
    return _validate(frame, _BARS, what=what, parse_strings=parse_strings, date_format=date_format)


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
        ``strftime`` format of text dates; inferred when ``None``.

    Returns
    -------
    pl.DataFrame
        The quotes, coerced to the store schema, in input order.

    Raises
    ------
    InvalidMarketDataError
        With one ``failures`` row per bad cell.
    """
    return _validate(
        frame, _QUOTES, what=what, parse_strings=parse_strings, date_format=date_format
    )
