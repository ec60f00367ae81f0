"""Gathering string columns for the result tables without Polars' string gather.

A Polars ``String`` column is an Arrow string-view array: one 16-byte view per row (its
length and either the string itself, up to 12 bytes, or a pointer into shared data
buffers). Taking rows is therefore copying views, which numpy does in one pass into a
buffer Polars then adopts without a copy. On B2's daily path (17.8 million gathered
strings) that is about three times faster than ``Series.gather`` inside a run: numpy
allocates large arrays on transparent huge pages, where Polars' allocator faults every
4 KiB page of a fresh buffer (``benchmarks/README.md``, profiles).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

__all__ = ["take_strings"]

_VIEW_WORDS = 2  # a string view is 16 bytes: two uint64 words


def take_strings(
    strings: pl.Series | Sequence[str], index: npt.NDArray[np.integer], name: str = ""
) -> pl.Series:
    """``strings[index]`` as a ``String`` series (no nulls in ``strings``).

    The result shares ``strings``' data buffers; ``index`` must hold positions in
    ``0 .. len(strings) - 1`` (out of range raises ``IndexError``).
    """
    source = pl.Series(name, strings, dtype=pl.String).rechunk()
    if source.null_count():
        msg = "take_strings needs strings without nulls"
        raise ValueError(msg)
    arrow = source.to_arrow(compat_level=pl.CompatLevel.newest())
    if index.size == 0:
        return source.clear()
    if len(arrow) == 0:
        msg = f"index {int(index.reshape(-1)[0])} is out of bounds for 0 strings"
        raise IndexError(msg)
    _, views, *data = arrow.buffers()
    table = np.frombuffer(views, dtype=np.uint64).reshape(-1, _VIEW_WORDS)
    table = table[arrow.offset : arrow.offset + len(arrow)]
    taken = np.take(table, index, axis=0)
    gathered = pa.Array.from_buffers(
        pa.string_view(), index.size, [None, pa.py_buffer(taken), *data]
    )
    return pl.Series(name, gathered)
