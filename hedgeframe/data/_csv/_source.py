"""Opening a CSV file as delivered: plain, gzipped or a zip holding one; UTF-8; by column.

Numbers are parsed by Polars' CSV reader while it reads (typed columns), which is several
times faster than reading text and casting it. A cell the reader cannot parse as a number
makes it fail the whole read; the file is then read again as text, so validation can name
every such cell. Both ways parse a number the same way (the text way also takes surrounding
blanks), and everything else (dates, text) is read as text either way.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from hedgeframe.errors import BadInputError

__all__ = ["FIRST_LINE", "CsvSource"]

FIRST_LINE: Final = 2
"""The file line of the first data row: the header is line 1, then one line per row."""

_REPLACEMENT: Final = "\ufffd"


def _not_utf8(name: str, detail: str) -> BadInputError:
    msg = (
        f"{name} is not UTF-8 text ({detail}); save it as UTF-8 (in Excel: CSV UTF-8), "
        "or convert it, e.g. iconv -f latin1 -t utf-8"
    )
    return BadInputError(msg)


def _unreadable(name: str, error: Exception) -> BadInputError:
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if "utf-8" in detail.lower():
        return _not_utf8(name, detail)
    msg = f"{name} cannot be read as CSV: {detail}"
    return BadInputError(msg)


def _unzipped(path: Path) -> tuple[str, Path | bytes]:
    """Return the one CSV of a zip file (as CBOE DataShop delivers), named ``zip:member``."""
    with zipfile.ZipFile(path) as archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) != 1:
            listed = ", ".join(info.filename for info in members) or "nothing"
            msg = (
                f"{path.name} is a zip file holding {len(members)} files ({listed}); "
                "a zip must hold exactly one CSV (unzip it and import each CSV)"
            )
            raise BadInputError(msg)
        (member,) = members
        return f"{path.name}:{member.filename}", archive.read(member)


@dataclass(frozen=True)
class CsvSource:
    """A CSV file opened for reading: its name in messages, its bytes or path, its header."""

    path: Path
    name: str
    data: Path | bytes
    header: tuple[str, ...]

    @classmethod
    def open(cls, path: Path) -> CsvSource:
        """Open ``path`` (a zip holding one CSV is read from memory) and read its header.

        Raises
        ------
        BadInputError
            When the file is empty, not UTF-8, not CSV, or a zip of more than one file.
        """
        name, data = _unzipped(path) if zipfile.is_zipfile(path) else (path.name, path)
        try:
            header = pl.read_csv(cls._readable(data), n_rows=0, infer_schema=False).columns
        except pl.exceptions.NoDataError:
            msg = f"{name} is empty: a CSV needs a header line and rows"
            raise BadInputError(msg) from None
        except pl.exceptions.PolarsError as error:
            raise _unreadable(name, error) from None
        # Polars reads a header that is not UTF-8 with replacement characters.
        garbled = [column for column in header if _REPLACEMENT in column]
        if garbled:
            raise _not_utf8(name, f"header {garbled[0]!r}")
        return cls(path, name, data, tuple(header))

    @staticmethod
    def _readable(data: Path | bytes) -> Path | io.BytesIO:
        return io.BytesIO(data) if isinstance(data, bytes) else data

    def read(self, columns: Collection[str], *, numbers: Collection[str]) -> pl.DataFrame:
        """Read ``columns``; ``numbers`` as ``Float64`` when every cell parses, else as text.

        Raises
        ------
        BadInputError
            When the file cannot be read as CSV (e.g. a row with more fields than the header).
        """
        names = list(columns)
        typed = {name: pl.Float64() for name in names if name in numbers}
        if typed:
            # A cell that is not a number fails the typed read: read as text to name it.
            with contextlib.suppress(pl.exceptions.PolarsError):
                return self._read(names, typed)
        try:
            return self._read(names, {})
        except pl.exceptions.PolarsError as error:
            raise _unreadable(self.name, error) from None

    def _read(self, names: list[str], overrides: Mapping[str, pl.DataType]) -> pl.DataFrame:
        return pl.read_csv(
            self._readable(self.data), columns=names, infer_schema=False, schema_overrides=overrides
        )
