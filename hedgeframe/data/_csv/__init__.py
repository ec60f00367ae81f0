"""Market data from CSV files: daily bars, option chains and CBOE DataShop end-of-day files.

The readers (:mod:`._readers`) take files as researchers get them (Yahoo, Stooq and broker
bar exports, vendors' chains, CBOE DataShop zips) and hold every row to the store's one
rule set. :mod:`._source` opens a file, :mod:`._columns` maps its columns to the store's,
:mod:`._result` is what a reader returns and how it is written (the quarantine file).
"""

from __future__ import annotations

from hedgeframe.data._csv._columns import CloseChoice
from hedgeframe.data._csv._readers import (
    CBOE_SOURCE,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.data._csv._result import QUARANTINE_SCHEMA, CsvImport, quarantine_path

__all__ = [
    "CBOE_SOURCE",
    "QUARANTINE_SCHEMA",
    "CloseChoice",
    "CsvImport",
    "quarantine_path",
    "read_bars_csv",
    "read_cboe_chain_csv",
    "read_chain_csv",
]
