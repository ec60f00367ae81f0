"""The bundled sample store: real S&P 500, NASDAQ Composite and VIX daily closes.

The data come from the files that ship inside the ``arch`` package (originally Yahoo
Finance); ``datasets/README.md`` gives the provenance, row counts and checksums. It is
sample data for research and tests, not for trading.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from hedgeframe.data import MarketDataStore
from hedgeframe.errors import MissingMarketDataError

__all__ = ["SAMPLE_STORE_ENV", "SAMPLE_SYMBOLS", "sample_store", "sample_store_path"]

SAMPLE_SYMBOLS: Final = ("^GSPC", "^IXIC", "^VIX")
"""S&P 500 and NASDAQ Composite OHLCV 1999-01-04..2018-12-31; VIX closes 2014-01-03..
2019-01-03."""

SAMPLE_STORE_ENV: Final = "HEDGEFRAME_SAMPLE_STORE"
"""Environment variable that points :func:`sample_store` at another store folder."""


def sample_store_path() -> Path:
    """Where the sample store is: ``$HEDGEFRAME_SAMPLE_STORE``, else ``<repo>/datasets/store``.

    Returns
    -------
    pathlib.Path
        The folder, whether or not it exists.
    """
    override = os.environ.get(SAMPLE_STORE_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "datasets" / "store"


def sample_store() -> MarketDataStore:
    """Open the bundled sample store (read it; don't write into it).

    It lives in the source tree, not in the wheel, so it exists in a checkout (or wherever
    ``HEDGEFRAME_SAMPLE_STORE`` points), not in a plain ``pip install``.

    Returns
    -------
    MarketDataStore
        The store holding :data:`SAMPLE_SYMBOLS`.

    Raises
    ------
    MissingMarketDataError
        If the folder has no underlying bars, with the command that builds it.

    Examples
    --------
    >>> store = sample_store()
    >>> store.underlying_bars("^GSPC").height
    5031
    """
    root = sample_store_path()
    if not (root / "underlying").is_dir():
        where = f"${SAMPLE_STORE_ENV}" if os.environ.get(SAMPLE_STORE_ENV) else "bundled"
        msg = (
            f"no sample store at {root} ({where}); build it from a source checkout with "
            "`python datasets/build_sample.py`, or set "
            f"{SAMPLE_STORE_ENV} to a store folder"
        )
        raise MissingMarketDataError(msg)
    return MarketDataStore(root)
