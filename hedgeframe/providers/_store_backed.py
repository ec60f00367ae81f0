"""What every provider that reads a ``MarketDataStore`` shares: bars, calendar, fingerprint."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import numpy as np

from hedgeframe.data import MarketDataStore, TradingCalendar, get_calendar
from hedgeframe.models import UnderlyingBar
from hedgeframe.providers._protocol import DateArray, FloatArray
from hedgeframe.sample import sample_store, sample_store_path

__all__ = [
    "StoreBackedProvider",
    "fingerprint_arrays",
    "open_store",
    "read_history",
    "store_label",
]


def store_label(store: MarketDataStore) -> str | None:
    """Return how a provider's configuration names its store: ``None`` for the bundled sample.

    The sample's folder depends on where hedgeframe is installed, so a run records "the
    sample" rather than that path; any other store is recorded by its path.
    """
    root = Path(store.root).resolve()
    return None if root == sample_store_path().resolve() else str(store.root)


def open_store(label: str | None) -> MarketDataStore:
    """Open the store a configuration names (:func:`store_label`)."""
    return MarketDataStore(label) if label is not None else sample_store()


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """Return a short sha256 over the bytes of the market data a run read."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return "sha256:" + digest.hexdigest()[:32]


def read_history(
    store: MarketDataStore, symbol: str, end: date, start: date | None = None
) -> tuple[DateArray, FloatArray]:
    """Return the bars of ``symbol`` dated ``start..end`` as date and close arrays.

    ``start=None`` reads every bar up to ``end`` (the history a volatility model needs).
    """
    bars = store.underlying_bars(symbol, start, end)
    dates = bars["date"].to_numpy().astype("datetime64[D]")
    closes = bars["close"].to_numpy().astype(np.float64)
    return dates, closes


class StoreBackedProvider:
    """Base of the providers that read underlying bars from a ``MarketDataStore``."""

    def __init__(self, store: MarketDataStore, *, calendar: str = "XNYS") -> None:
        self.store = store
        self._calendar = get_calendar(calendar)

    @property
    def calendar(self) -> TradingCalendar:
        """The exchange calendar that sets expiries and roll sessions."""
        return self._calendar

    def get_trading_days(self, symbol: str, start_date: date, end_date: date) -> list[date]:
        """Return the dates in ``[start_date, end_date]`` with an underlying bar."""
        bars = self.store.underlying_bars(symbol, start_date, end_date)
        return list(bars["date"])

    def get_underlying_bars(
        self, symbol: str, start_date: date, end_date: date
    ) -> list[UnderlyingBar]:
        """Return the underlying's bars in ``[start_date, end_date]``."""
        bars = self.store.underlying_bars(symbol, start_date, end_date)
        return [UnderlyingBar.model_validate(row) for row in bars.iter_rows(named=True)]
