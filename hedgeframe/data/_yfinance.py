"""Daily bars from Yahoo Finance (through ``yfinance``), cached on disk.

Adjusted or raw closes are an explicit choice recorded in the data: ``source`` is
``"yfinance:adjusted"`` (``auto_adjust=True``: open/high/low/close adjusted for splits and
dividends, so returns include dividends) or ``"yfinance:raw"`` (``auto_adjust=False``:
Yahoo's ``Close``, which is split-adjusted but not dividend-adjusted; ``Adj Close`` is
ignored). An index such as ``^GSPC`` has no dividends, so both agree there.

The download goes through a ``downloader`` callable so tests (and offline work) inject
recorded frames; the default calls :func:`yfinance.download`. ``end`` is inclusive here,
unlike ``yfinance`` (exclusive): the default downloader is asked for ``end + 1 day``.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

import polars as pl

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.data._schemas import UNDERLYING_BAR_SCHEMA
from hedgeframe.data._store import encode_symbol
from hedgeframe.data._validation import validate_underlying_bars
from hedgeframe.errors import CorruptFileError, DataFetchError

__all__ = ["BarDownloader", "fetch_yfinance_bars", "yfinance_download"]

_COLUMNS: Final = {
    "Date": "date",
    "Datetime": "date",
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Volume": "volume",
}
_PRICES: Final = ("open", "high", "low", "close")


class BarDownloader(Protocol):
    """Fetches daily bars of one symbol for ``start <= day < end`` (``end`` exclusive).

    Returns a ``yfinance.download``-shaped frame: a pandas frame indexed by ``Date`` with
    ``Open, High, Low, Close, Volume`` (and possibly ``Adj Close``) columns, single- or
    two-level (``Price, Ticker``) column labels; or a Polars frame with a ``Date``
    column. ``None`` or an empty frame means no data.
    """

    def __call__(self, symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        """Download the bars."""


def yfinance_download(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
    """Call :func:`yfinance.download` for one symbol, quietly, with flat column labels."""
    import yfinance  # heavy and network-facing: imported only when used

    return yfinance.download(
        symbol,
        start=start.isoformat(),
        end=end.isoformat(),
        auto_adjust=auto_adjust,
        actions=False,
        progress=False,
        threads=False,
        multi_level_index=False,
    )


def _to_polars(raw: Any) -> pl.DataFrame:
    """Turn a downloader's result into a Polars frame with yfinance's column names."""
    if raw is None:
        return pl.DataFrame()
    if isinstance(raw, pl.DataFrame):
        return raw
    frame = raw.copy()
    if getattr(frame.columns, "nlevels", 1) > 1:
        # yfinance >= 0.2.48 labels columns (Price, Ticker); keep the price level.
        frame.columns = frame.columns.get_level_values(0)
    converted: pl.DataFrame = pl.from_pandas(frame.reset_index())
    return converted


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _cache_path(cache_dir: Path, symbol: str, start: date, end: date, auto_adjust: bool) -> Path:
    kind = "adjusted" if auto_adjust else "raw"
    return cache_dir / f"yfinance_{encode_symbol(symbol)}_{start}_{end}_{kind}.parquet"


def _read_cache(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path, hive_partitioning=False)
    except (pl.exceptions.PolarsError, OSError, pl.exceptions.PanicException) as exc:
        detail = f"unreadable yfinance cache file ({_one_line(exc)}); delete it to re-download"
        raise CorruptFileError(path, detail) from exc
    if frame.schema != UNDERLYING_BAR_SCHEMA:
        detail = "yfinance cache file does not hold store-schema bars; delete it to re-download"
        raise CorruptFileError(path, detail)
    return frame


def fetch_yfinance_bars(
    symbol: str,
    start: date,
    end: date,
    *,
    auto_adjust: bool,
    cache_dir: Path | None = None,
    downloader: BarDownloader | None = None,
) -> pl.DataFrame:
    """Download daily bars of ``symbol`` from Yahoo Finance into the store schema.

    Rows with no price at all (Yahoo's placeholder rows) are dropped; any other bad cell
    is refused through the store's validation. With ``cache_dir``, each
    ``(symbol, start, end, auto_adjust)`` download is kept as one Parquet file there and
    reused; a range ending today or later is not cached, since its last bar may change.

    Parameters
    ----------
    symbol
        A Yahoo symbol, e.g. ``"^GSPC"``, ``"SPY"``, ``"BRK-B"``.
    start, end
        Inclusive first and last day.
    auto_adjust
        ``True``: dividend- and split-adjusted prices (``source`` ``"yfinance:adjusted"``);
        ``False``: raw closes (``source`` ``"yfinance:raw"``).
    cache_dir
        Folder of cached downloads; no caching when ``None``.
    downloader
        Replaces :func:`yfinance_download` (tests inject recorded frames here).

    Returns
    -------
    pl.DataFrame
        Bars in :data:`UNDERLYING_BAR_SCHEMA`, sorted by date.

    Raises
    ------
    DataFetchError
        If the download fails or returns no bars (offline, rate-limited, unknown symbol).
    InvalidMarketDataError
        If a downloaded cell breaks a store rule.
    CorruptFileError
        If the cached file for this request is unreadable.
    """
    if start > end:
        msg = f"`start` {start} is after `end` {end}"
        raise ValueError(msg)
    source = "yfinance:adjusted" if auto_adjust else "yfinance:raw"
    cache = _cache_path(cache_dir, symbol, start, end, auto_adjust) if cache_dir else None
    if cache is not None and cache.is_file():
        return _read_cache(cache)
    fetch = downloader if downloader is not None else yfinance_download
    span = f"{symbol!r} {start}..{end}"
    try:
        raw = _to_polars(
            fetch(symbol, start=start, end=end + timedelta(days=1), auto_adjust=auto_adjust)
        )
    except Exception as exc:
        msg = f"could not download {span} from yfinance: {_one_line(exc)}"
        raise DataFetchError(msg) from exc
    prices = [
        name for name, target in _COLUMNS.items() if target in _PRICES and name in raw.columns
    ]
    if prices:
        has_price = pl.any_horizontal(
            pl.col(c).cast(pl.Float64, strict=False).fill_nan(None).is_not_null() for c in prices
        )
        raw = raw.filter(has_price)
    if raw.is_empty():
        msg = f"yfinance returned no bars for {span} (offline, rate-limited, or an unknown symbol?)"
        raise DataFetchError(msg)
    picked: dict[str, str] = {}
    for name, target in _COLUMNS.items():
        if name in raw.columns and target not in picked:
            picked[target] = name
    frame = raw.select(
        pl.lit(symbol).alias("symbol"),
        *[pl.col(name).alias(target) for target, name in picked.items()],
        pl.lit(source).alias("source"),
    )
    bars = validate_underlying_bars(frame, what=f"yfinance bars of {span}")
    bars = bars.filter(pl.col("date").is_between(start, end)).sort("date")
    if cache is not None and end < datetime.now(tz=UTC).date():
        buffer = io.BytesIO()
        bars.write_parquet(buffer, compression="zstd", statistics=True)
        atomic_write_bytes(cache, buffer.getvalue())
    return bars
