"""What a CSV reader returns, and how it is written: rows to the store, bad rows beside it.

Rows left out by ``drop_bad_rows=True`` go to a quarantine CSV beside the store, one
file per import::

    <store>.quarantine/<file name without .csv/.zip>-<UTC YYYYMMDDTHHMMSSZ>.csv

with the columns of :data:`QUARANTINE_SCHEMA`: the file ``line`` (the header is line 1),
the row's ``date`` as written, the file ``column``, its ``value`` and the ``reason`` (a
:class:`~hedgeframe.errors.FailureReason`), one line per bad cell. The quarantine sits
beside the store, not in it, so the store holds exactly the layout of SPEC section 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import polars as pl

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.data._store import MarketDataStore

__all__ = ["QUARANTINE_SCHEMA", "CsvImport", "quarantine_path"]

QUARANTINE_SCHEMA: Final = pl.Schema(
    {
        "line": pl.Int64(),
        "date": pl.String(),
        "column": pl.String(),
        "value": pl.String(),
        "reason": pl.String(),
    }
)
"""Columns of a CSV reader's refused cells: ``InvalidMarketDataError.failures``,
:attr:`CsvImport.dropped` and the quarantine file (``line`` is null for a whole column)."""

QUARANTINE_SUFFIX: Final = ".quarantine"


def quarantine_path(store: Path, source: Path, now: datetime) -> Path:
    """Return where the rows dropped from ``source`` go, beside the store at ``store``."""
    store = store.resolve()
    stem = source.name.removesuffix(".zip").removesuffix(".csv")
    folder = store.with_name(store.name + QUARANTINE_SUFFIX)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{stem}-{stamp}.csv"
    copy = 1
    while path.exists():  # two imports of one file within a second
        copy += 1
        path = folder / f"{stem}-{stamp}-{copy}.csv"
    return path


@dataclass(frozen=True)
class CsvImport:
    """What a CSV reader returns: the rows for the store and what the caller should know.

    Attributes
    ----------
    path
        The file read.
    rows
        The rows, in the store's schema (bars or quotes), in file order.
    dropped
        The bad cells of the rows left out (``drop_bad_rows=True``), one row per cell,
        in :data:`QUARANTINE_SCHEMA`; empty otherwise.
    warnings
        What looks wrong but was read (e.g. dates that are not exchange sessions).
    notes
        Choices made for the caller (e.g. which of two close columns was used).
    columns
        Store column -> file column, as read.
    """

    path: Path
    rows: pl.DataFrame
    dropped: pl.DataFrame
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    columns: Mapping[str, str]

    @property
    def dropped_rows(self) -> int:
        """How many rows were left out."""
        return self.dropped.get_column("line").n_unique()

    def write_to(self, store: MarketDataStore, *, now: datetime | None = None) -> Path | None:
        """Write the rows into ``store``, then the dropped rows to their quarantine file.

        Returns
        -------
        Path or None
            The quarantine file, or ``None`` when no row was dropped.

        Raises
        ------
        InvalidMarketDataError
            If the store refuses the rows (it is then unchanged and no file is written).
        """
        if "as_of_date" in self.rows.columns:
            store.write_option_quotes(self.rows)
        else:
            store.write_underlying_bars(self.rows)
        if self.dropped.is_empty():
            return None
        path = quarantine_path(store.root, self.path, now or datetime.now(UTC))
        atomic_write_bytes(path, self.dropped.write_csv().encode())
        return path
