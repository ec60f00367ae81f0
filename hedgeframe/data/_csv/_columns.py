"""Which file column becomes which store column: header names, ``column_map``, the close.

A header names a store column when it equals it after :func:`normal` (``Date``,
``Open Interest``, ``Close*``); ``column_map`` (file column -> store column) adds or
overrides. Daily-bar files often hold both a raw and an adjusted close (Yahoo's ``Close``
and ``Adj Close``): the raw one is taken unless ``close="adjusted"`` asks for the other,
and a note says which was used.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import polars as pl

from hedgeframe.data._csv._result import QUARANTINE_SCHEMA
from hedgeframe.errors import BadInputError, FailureReason, InvalidMarketDataError

__all__ = ["ROOT", "CloseChoice", "Columns", "bar_columns", "normal", "refuse_missing", "resolve"]

CloseChoice = Literal["adjusted", "raw"]

ROOT: Final = "root"
"""The option root column (``SPX``, ``SPXW``) a chain file may have, for ``roots``."""

_ADJUSTED_CLOSE: Final = frozenset({"adj_close", "adjusted_close", "adjclose"})
"""Normal names of an adjusted close column (Yahoo: ``Adj Close``)."""


def normal(name: str) -> str:
    """Return a header name in lower case with runs of other characters as ``_``.

    Examples
    --------
    >>> normal("Adj. Close*"), normal(" Open Interest ")
    ('adj_close', 'open_interest')
    """
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class Columns:
    """Store column -> file column, and notes on choices made (printed by the CLI)."""

    chosen: dict[str, str]
    notes: tuple[str, ...] = ()


def refuse_missing(name: str, needed: Collection[str], header: Collection[str]) -> None:
    missing = [column for column in needed if column not in header]
    if missing:
        failures = pl.DataFrame(
            [
                {
                    "line": None,
                    "date": None,
                    "column": column,
                    "value": None,
                    "reason": FailureReason.MISSING_COLUMN.value,
                }
                for column in missing
            ],
            schema=QUARANTINE_SCHEMA,
        )
        remedy = f"columns of the file: {', '.join(header)}; map one with column_map (--map)"
        what = f"{name}: CSV columns missing"
        raise InvalidMarketDataError(what, failures, remedy=remedy)


def resolve(
    name: str,
    header: Collection[str],
    targets: Collection[str],
    column_map: Mapping[str, str] | None,
    *,
    defaults: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Return store column -> file column for ``targets``.

    ``defaults`` (store -> file) are taken first where the file has them (a format's own
    names, e.g. CBOE's ``bid_1545``), then header names equal to a target after
    :func:`normal`; ``column_map`` overrides both.

    Raises
    ------
    BadInputError
        When ``column_map`` names a store column the reader does not take, or two file
        columns for one store column.
    InvalidMarketDataError
        When a file column ``column_map`` names is not in the file.
    """
    chosen = {store: file for store, file in (defaults or {}).items() if file in header}
    for column in header:
        target = normal(column)
        if target in targets and target not in chosen:
            chosen[target] = column
    mapped: dict[str, str] = {}
    for file, store in (column_map or {}).items():
        if store not in targets:
            msg = (
                f"column_map maps {file!r} to {store!r}, which this reader does not take; "
                f"expected one of {', '.join(sorted(targets))}"
            )
            raise BadInputError(msg)
        if store in mapped:
            msg = f"column_map maps both {mapped[store]!r} and {file!r} to {store!r}"
            raise BadInputError(msg)
        mapped[store] = file
    refuse_missing(name, mapped.values(), header)
    return chosen | mapped


def bar_columns(
    name: str,
    header: Collection[str],
    targets: Collection[str],
    column_map: Mapping[str, str] | None,
    close: CloseChoice | None,
) -> Columns:
    """Resolve a bar file's columns, choosing between its raw and adjusted close.

    Raises
    ------
    BadInputError
        When ``close`` asks for a close column the file does not have, or ``column_map``
        already names the close.
    """
    chosen = resolve(name, header, targets, column_map)
    raw = [column for column in header if normal(column) == "close"]
    adjusted = [column for column in header if normal(column) in _ADJUSTED_CLOSE]
    if "close" in (column_map or {}).values():
        if close is not None:
            msg = f"close={close!r} (--close) and column_map (--map) both choose the close"
            raise BadInputError(msg)
        return Columns(chosen)
    found = {"raw": raw[:1], "adjusted": adjusted[:1]}
    kind = close or ("raw" if raw else "adjusted")
    if not found[kind]:
        if close is None:  # no close at all: validation reports the missing column
            return Columns(chosen)
        msg = (
            f"{name} has no {kind} close column (looked for "
            f"{'Close' if kind == 'raw' else 'Adj Close or Adjusted Close'}); its columns: "
            f"{', '.join(header)}"
        )
        raise BadInputError(msg)
    (column,) = found[kind]
    other = "adjusted" if kind == "raw" else "raw"
    if not found[other]:  # one close: named only when it is not the usual raw one
        notes = () if kind == "raw" else (f"close: {column!r} ({kind})",)
        return Columns(chosen | {"close": column}, notes)
    note = (
        f"close: {column!r} ({kind}); the file also has {found[other][0]!r} "
        f"(close={other!r}, --close {other})"
    )
    return Columns(chosen | {"close": column}, (note,))
