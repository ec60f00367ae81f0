"""The format of a text date column, told from its values; the day/month order is never guessed.

A value is one of a few numeric shapes: year first (``2020-01-02``, ``2020/01/02``,
``2020.01.02``, ``20200102``: always year, month, day) or day and month first with a
four-digit year (``02/01/2020``, ``02.01.2020``, ``02-01-2020``). The shape of most of a
column's distinct values is its format (year first on a tie); values of other shapes are
then bad cells of that format, reported row by row.

Day and month first is decided by the values of that shape across every date column read
together (a chain's ``as_of_date`` and ``expiry`` share one format):

- a value whose first number is above 12 (and second not) can only be day first, one
  whose second number is above 12 can only be month first; values of one kind only decide
  the order, values of both kinds are a file mixing the two and are refused;
- with neither kind, the order cannot be told: refused, unless every value has day equal
  to month (then both orders read the same dates). Such a file needs an explicit format.

Refusals name the data, show example values with where they are, and give the remedy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import polars as pl

from hedgeframe.errors import BadInputError

__all__ = ["ISO_DATE", "infer_date_format"]

ISO_DATE: Final = "%Y-%m-%d"

_LAST_MONTH: Final = 12
_EXAMPLES: Final = 3
"""Example values shown in a refusal."""


@dataclass(frozen=True)
class _Shape:
    """One numeric date shape; ``format`` is None for the day/month-first shapes."""

    pattern: str
    format: str | None
    separator: str = ""


_SHAPES: Final = (
    *(_Shape(rf"^\d{{4}}\{s}\d{{1,2}}\{s}\d{{1,2}}$", f"%Y{s}%m{s}%d", s) for s in "-/."),
    _Shape(r"^\d{8}$", "%Y%m%d"),
    *(_Shape(rf"^(\d{{1,2}})\{s}(\d{{1,2}})\{s}\d{{4}}$", None, s) for s in "/.-"),
)
"""In order of preference on a tie: ISO first."""


@dataclass(frozen=True)
class _Value:
    """A distinct value of a column: as written (``raw``) and without surrounding blanks."""

    column: str
    raw: str
    text: str


def _distinct(columns: Mapping[str, pl.Series]) -> list[_Value]:
    """Each column's distinct non-blank values (stripped after ``unique``: cheaper)."""
    values: dict[tuple[str, str], _Value] = {}
    for name, column in columns.items():
        raw = column.drop_nulls().unique()
        for cell, text in zip(raw, raw.str.strip_chars(), strict=True):
            if text:
                values.setdefault((name, text), _Value(name, cell, text))
    return list(values.values())


class _Examples:
    """Shows a few values with the row they first appear in (looked up only on a refusal)."""

    def __init__(self, columns: Mapping[str, pl.Series], where: Callable[[int], str]) -> None:
        self.columns = columns
        self.where = where

    def _first_rows(self, column: str) -> dict[str, int]:
        firsts = (
            pl.DataFrame({"raw": self.columns[column]})
            .with_row_index("row")
            .group_by("raw")
            .agg(pl.col("row").min())
        )
        return {raw: int(row) for raw, row in firsts.select("raw", "row").iter_rows()}

    def __call__(self, values: list[_Value]) -> str:
        firsts = {column: self._first_rows(column) for column in {v.column for v in values}}
        located = sorted(((firsts[v.column][v.raw], v) for v in values), key=lambda pair: pair[0])
        return ", ".join(
            f"{v.text!r} ({v.column}, {self.where(row)})" for row, v in located[:_EXAMPLES]
        )


def _day_month_order(values: list[_Value], shape: _Shape, what: str, shown: _Examples) -> str:
    """``%d/%m/%Y`` or ``%m/%d/%Y`` (with the shape's separator), as the values decide."""
    s = shape.separator
    day_first, month_first = f"%d{s}%m{s}%Y", f"%m{s}%d{s}%Y"
    matches = pl.Series([v.text for v in values]).str.extract_groups(shape.pattern)
    first = matches.struct.field("1").cast(pl.Int64).to_list()
    second = matches.struct.field("2").cast(pl.Int64).to_list()
    pairs = list(zip(values, first, second, strict=True))
    only_day_first = [v for v, a, b in pairs if a > _LAST_MONTH >= b]
    only_month_first = [v for v, a, b in pairs if b > _LAST_MONTH >= a]
    if only_day_first and only_month_first:
        msg = (
            f"{what}: dates are day first in some rows ({shown(only_day_first)}) "
            f"and month first in others ({shown(only_month_first)}); fix the file, or "
            f"pass the format of the rows to keep as date_format (--date-format {day_first} "
            f"or {month_first}) and the others are refused as bad values"
        )
        raise BadInputError(msg)
    if only_day_first:
        return day_first
    if only_month_first or all(a == b for _, a, b in pairs):
        return month_first
    unclear = [v for v, a, b in pairs if a != b]
    msg = (
        f"{what}: cannot tell day from month in the dates, every value fits both orders "
        f"(e.g. {shown(unclear)}); pass the format as date_format (--date-format "
        f"{month_first} for month first, {day_first} for day first)"
    )
    raise BadInputError(msg)


def infer_date_format(
    columns: Mapping[str, pl.Series], *, what: str, where: Callable[[int], str]
) -> str:
    """Return the ``strftime`` format of text date columns read together, from their values.

    Parameters
    ----------
    columns
        Text date columns by name (e.g. ``as_of_date`` and ``expiry``), of equal length.
    what
        Names the data in an error message (e.g. the file).
    where
        Names a row in an error message (e.g. ``lambda row: f"line {row + 2}"``).

    Returns
    -------
    str
        The format; ISO when there is no value at all.

    Raises
    ------
    BadInputError
        When no value has a known shape, when the day/month order cannot be told, or when
        the values mix both orders; the message shows examples and the remedy.
    """
    values = _distinct(columns)
    shown = _Examples(columns, where)
    if not values:
        return ISO_DATE
    texts = pl.Series([v.text for v in values])
    fits = [texts.str.contains(shape.pattern).to_list() for shape in _SHAPES]
    counts = [sum(fit) for fit in fits]
    best = max(range(len(_SHAPES)), key=lambda i: (counts[i], -i))
    if not counts[best]:
        msg = (
            f"{what}: cannot tell the date format from values like {shown(values)}; "
            "pass it as date_format (--date-format), e.g. %d-%b-%Y for 02-Jan-2020"
        )
        raise BadInputError(msg)
    shape = _SHAPES[best]
    if shape.format is not None:
        return shape.format
    fitting = [v for v, fit in zip(values, fits[best], strict=True) if fit]
    return _day_month_order(fitting, shape, what, shown)
