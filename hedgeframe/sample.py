"""The bundled sample store: real S&P 500, NASDAQ Composite and VIX daily closes.

The data come from the files that ship inside the ``arch`` package (originally Yahoo
Finance); ``datasets/README.md`` gives the provenance, row counts and checksums. It is
sample data for research and tests, not for trading.

The store's Parquet files are package data (``hedgeframe/sample-store/``, 46 files,
about 380 kB), so every install has them: a wheel, an editable install and a checkout
alike open the same folder next to this module.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from hedgeframe.data import MarketDataStore
from hedgeframe.errors import MissingMarketDataError

__all__ = [
    "BUNDLED_STORE",
    "SAMPLE_STORE_ENV",
    "SAMPLE_SYMBOLS",
    "sample_store",
    "sample_store_path",
]

SAMPLE_SYMBOLS: Final = ("^GSPC", "^IXIC", "^VIX")
"""S&P 500 and NASDAQ Composite OHLCV 1999-01-04..2018-12-31; VIX closes 2014-01-03..
2019-01-03."""

SAMPLE_STORE_ENV: Final = "HEDGEFRAME_SAMPLE_STORE"
"""Environment variable that points :func:`sample_store` at another store folder."""

BUNDLED_STORE: Final = Path(__file__).resolve().parent / "sample-store"
"""The store shipped inside the package (``datasets/build_sample.py`` rebuilds it)."""


def sample_store_path() -> Path:
    """Where the sample store is: ``$HEDGEFRAME_SAMPLE_STORE``, else :data:`BUNDLED_STORE`.

    Returns
    -------
    pathlib.Path
        The folder, whether or not it exists.
    """
    override = os.environ.get(SAMPLE_STORE_ENV)
    if override:
        return Path(override)
    return BUNDLED_STORE


def sample_store() -> MarketDataStore:
    """Open the bundled sample store (read it; don't write into it).

    Reads leave the folder as it is, so it may sit in a read-only ``site-packages``; copy
    its bars into a store of your own (``hedgeframe data sample --to STORE``) to add data.

    Returns
    -------
    MarketDataStore
        The store holding :data:`SAMPLE_SYMBOLS`.

    Raises
    ------
    MissingMarketDataError
        If the folder has no underlying bars, with what to do about it.

    Examples
    --------
    >>> store = sample_store()
    >>> store.underlying_bars("^GSPC").height
    5031
    """
    root = sample_store_path()
    if not (root / "underlying").is_dir():
        if os.environ.get(SAMPLE_STORE_ENV):
            remedy = f"point ${SAMPLE_STORE_ENV} at a store folder, or unset it"
        else:
            remedy = (
                "the installation is incomplete: reinstall hedgeframe, or in a source "
                "checkout rebuild it with `python datasets/build_sample.py`"
            )
        msg = f"no sample store at {root}: {remedy}"
        raise MissingMarketDataError(msg)
    return MarketDataStore(root)
