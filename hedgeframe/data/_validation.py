"""Row validation for market data: the one gate every store write and reader passes.

A frame is checked whole before anything is written, and every bad cell is reported at
once (pandera's ``failure_cases``): a refused frame raises
:class:`~hedgeframe.errors.InvalidMarketDataError` whose ``failures`` frame has one row per
bad cell, with columns ``row`` (0-based input row; null for a whole-column problem),
``column``, ``value`` (the cell as text) and ``reason`` (a
:class:`~hedgeframe.errors.FailureReason` value).

Coercions are deliberately few and lossless: integer and decimal columns become
``Float64``; integral floats become ``Int64`` for counts; ``Datetime`` cells become
``Date`` only when they are at midnight; ``Categorical``/``Enum`` become ``String``. Text
is parsed only when a reader asks for it (``parse_strings=True``); a store write refuses a
text column where a number or date belongs, because that is usually a parsing mistake
upstream. Columns the schema does not know are refused rather than dropped, so a typo in a
column name cannot silently lose data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Final

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

__all__ = ["FAILURE_SCHEMA", "validate_option_quotes", "validate_underlying_bars"]

FAILURE_SCHEMA: Final = pl.Schema(
    {"row": pl.Int64(), "column": pl.String(), "value": pl.String(), "reason": pl.String()}
)
"""Columns of :attr:`InvalidMarketDataError.failures`."""

_MIN_YEAR: Final = 1000
_MAX_YEAR: Final = 9999
"""Partition folders are named ``year=YYYY``; dates outside four digits are refused."""

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
    checks: Callable[[set[str]], list[_Check]]
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


def _not_finite(name: str) -> pl.Expr:
    return _v(name).is_nan() | _v(name).is_infinite()


def _finite_checks(usable: set[str], names: Sequence[str], *, positive: bool) -> list[_Check]:
    """NaN/inf refused everywhere; negative (or non-positive) values refused too."""
    checks: list[_Check] = []
    for name in names:
        if name not in usable:
            continue
        checks.append(_Check(name, FailureReason.NOT_FINITE, _not_finite(name)))
        if positive:
            checks.append(_Check(name, FailureReason.NOT_POSITIVE, _v(name) <= 0))
        else:
            checks.append(_Check(name, FailureReason.NEGATIVE, _v(name) < 0))
    return checks


def _missing(usable: set[str], names: Sequence[str]) -> list[_Check]:
    """Nulls refused; an empty string counts as missing for text columns."""
    checks = []
    for name in names:
        if name in usable:
            mask = _v(name).is_null()
            if name in _TEXT_COLUMNS:
                mask = mask | (_v(name) == "")
            checks.append(_Check(name, FailureReason.MISSING, mask))
    return checks


def _symbol_checks(usable: set[str]) -> list[_Check]:
    if "symbol" not in usable:
        return []
    too_long = _v("symbol").str.len_chars() > MAX_SYMBOL_LENGTH
    return [_Check("symbol", FailureReason.BAD_VALUE, too_long)]


def _year_checks(usable: set[str], name: str) -> list[_Check]:
    if name not in usable:
        return []
    out_of_range = ~_v(name).dt.year().is_between(_MIN_YEAR, _MAX_YEAR)
    return [_Check(name, FailureReason.BAD_VALUE, out_of_range)]


def _bar_checks(usable: set[str]) -> list[_Check]:
    checks = _missing(usable, ["symbol", "date", "close", "source"])
    checks += _symbol_checks(usable)
    checks += _year_checks(usable, "date")
    checks += _finite_checks(usable, ["close"], positive=True)
    checks += _finite_checks(usable, ["open", "high", "low", "volume"], positive=False)
    return checks


def _quote_checks(usable: set[str]) -> list[_Check]:
    checks = _missing(usable, [*OPTION_QUOTE_KEY, "source"])
    checks += _symbol_checks(usable)
    checks += _year_checks(usable, "as_of_date")
    if "option_type" in usable:
        not_a_type = ~_v("option_type").is_in(list(OPTION_TYPES))
        checks.append(_Check("option_type", FailureReason.BAD_VALUE, not_a_type))
    if {"expiry", "as_of_date"} <= usable:
        early = _v("expiry") < _v("as_of_date")
        checks.append(_Check("expiry", FailureReason.EXPIRY_BEFORE_AS_OF, early))
    checks += _finite_checks(usable, ["strike", "underlying_close"], positive=True)
    checks += _finite_checks(usable, ["bid", "ask", "mid", "implied_volatility"], positive=False)
    checks += [
        _Check(name, FailureReason.NEGATIVE, _v(name) < 0)
        for name in ("open_interest", "volume")
        if name in usable
    ]
    if "delta" in usable:
        checks.append(_Check("delta", FailureReason.NOT_FINITE, _not_finite("delta")))
        checks.append(_Check("delta", FailureReason.BAD_VALUE, _v("delta").abs() > 1))
    if {"bid", "ask"} <= usable:
        crossed = _v("bid") > _v("ask")
        checks.append(_Check("bid", FailureReason.BID_ABOVE_ASK, crossed))
    if {"bid", "ask", "mid"} <= usable:
        # A given mid must sit inside the quoted sides, and needs at least one side.
        no_side = _v("bid").is_null() & _v("ask").is_null()
        below = _v("mid") < _v("bid") - _MID_TOLERANCE
        above = _v("mid") > _v("ask") + _MID_TOLERANCE
        inconsistent = _v("mid").is_not_null() & (no_side | below | above)
        checks.append(_Check("mid", FailureReason.BAD_VALUE, inconsistent))
    return checks


def _fill_mid(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing mid from both sides, when the ask is usable (> 0)."""
    bid, ask, mid = pl.col("bid"), pl.col("ask"), pl.col("mid")
    fillable = mid.is_null() & bid.is_not_null() & ask.is_not_null() & (ask > 0)
    return frame.with_columns(mid=pl.when(fillable).then((bid + ask) / 2).otherwise(mid))


_BARS: Final = _Table(
    UNDERLYING_BAR_SCHEMA, UNDERLYING_BAR_KEY, UNDERLYING_BAR_REQUIRED, _bar_checks
)
_QUOTES: Final = _Table(
    OPTION_QUOTE_SCHEMA, OPTION_QUOTE_KEY, OPTION_QUOTE_REQUIRED, _quote_checks, _fill_mid
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
    checks += table.checks(usable)
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
