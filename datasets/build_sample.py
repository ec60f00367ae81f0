"""Rebuild the bundled sample store ``hedgeframe/sample-store/`` from the files of ``arch``.

The ``arch`` package on PyPI ships daily S&P 500 and NASDAQ Composite OHLCV
(1999-01-04..2018-12-31) and VIX closes (2014-01-03..2019-01-03) that came from Yahoo
Finance. This script copies them, value for value, into a ``MarketDataStore`` as
``^GSPC``, ``^IXIC`` and ``^VIX``, checks them against the XNYS calendar, and rewrites
``datasets/checksums.sha256``. It refuses to write anything if a check fails. The store is
package data (it ships in the wheel); this script, the checksums and the provenance
(``datasets/README.md``) stay in the source tree.

Run it from anywhere in a source checkout::

    python datasets/build_sample.py

The files are read with Polars rather than ``arch.data.*.load()``, because that loader turns
any unparsable cell into NaN without a word; here the VIX file's ``.`` cells (its marker for
a day without a close) are the only text allowed, and they must fall on non-sessions. The
closes are then compared with what ``load()`` returns, so both readings agree.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Final

import arch
import arch.data.nasdaq
import arch.data.sp500
import arch.data.vix
import numpy as np
import polars as pl

from hedgeframe.data import MarketDataStore, get_calendar

HERE: Final = Path(__file__).resolve().parent
CHECKOUT: Final = HERE.parent
STORE: Final = CHECKOUT / "hedgeframe" / "sample-store"
CHECKSUMS: Final = HERE / "checksums.sha256"
ARCH_DATA: Final = Path(arch.data.sp500.__file__).resolve().parent.parent
SP500_SESSIONS: Final = 5031
VIX_MISSING: Final = "."

_OHLCV: Final = {
    "Date": pl.String,
    "Open": pl.Float64,
    "High": pl.Float64,
    "Low": pl.Float64,
    "Close": pl.Float64,
    "Adj Close": pl.Float64,
    "Volume": pl.Int64,
}


class SampleBuildError(RuntimeError):
    """A check on the source files failed; nothing was written."""


def _source(file_name: str) -> str:
    return f"arch-package:{file_name} (Yahoo Finance)"


def _read_ohlcv(name: str, symbol: str) -> pl.DataFrame:
    """One index's bars; ``Close`` must equal ``Adj Close`` (indices pay no dividends)."""
    file_name = f"{name}.csv.gz"
    raw = pl.read_csv(ARCH_DATA / name / file_name, schema=_OHLCV)
    if raw.null_count().sum_horizontal().item() != 0:
        msg = f"{file_name}: empty cells in {raw.null_count().row(0, named=True)}"
        raise SampleBuildError(msg)
    adjusted = raw.filter(pl.col("Close") != pl.col("Adj Close"))
    if adjusted.height:
        msg = f"{file_name}: Close != Adj Close on {adjusted.height} rows, first {adjusted[0]}"
        raise SampleBuildError(msg)
    return raw.select(
        pl.lit(symbol).alias("symbol"),
        pl.col("Date").str.to_date("%m/%d/%Y").alias("date"),
        pl.col("Open").alias("open"),
        pl.col("High").alias("high"),
        pl.col("Low").alias("low"),
        pl.col("Close").alias("close"),
        pl.col("Volume").cast(pl.Float64).alias("volume"),
        pl.lit(_source(file_name)).alias("source"),
    )


def _read_vix(sessions: np.ndarray) -> pl.DataFrame:
    """VIX closes; the file's ``.`` rows must be exactly its non-session days."""
    file_name = "vix.csv.gz"
    raw = pl.read_csv(
        ARCH_DATA / "vix" / file_name, schema={"Date": pl.String, "vix": pl.String}
    ).with_columns(pl.col("Date").str.to_date("%m/%d/%Y"))
    on_session = np.isin(raw["Date"].to_numpy().astype("datetime64[D]"), sessions)
    missing = (raw["vix"] == VIX_MISSING).to_numpy()
    if not np.array_equal(missing, ~on_session):
        odd = raw.filter(pl.Series(missing == on_session))
        msg = f"{file_name}: '.' rows are not exactly the non-sessions; first odd row {odd[0]}"
        raise SampleBuildError(msg)
    closes = raw.filter(~pl.Series(missing))
    return closes.select(
        pl.lit("^VIX").alias("symbol"),
        pl.col("Date").alias("date"),
        pl.lit(None, pl.Float64).alias("open"),
        pl.lit(None, pl.Float64).alias("high"),
        pl.lit(None, pl.Float64).alias("low"),
        pl.col("vix").cast(pl.Float64, strict=True).alias("close"),
        pl.lit(None, pl.Float64).alias("volume"),
        pl.lit(_source(file_name)).alias("source"),
    )


def _agrees_with_arch_loader(frame: pl.DataFrame, loaded: object, column: str) -> None:
    values = np.asarray(loaded[column].dropna().to_numpy(), dtype=np.float64)  # type: ignore[index]
    if not np.array_equal(values, frame["close"].to_numpy()):
        msg = f"{frame['symbol'][0]}: closes differ from arch's own loader, column {column}"
        raise SampleBuildError(msg)


def load_sample() -> dict[str, pl.DataFrame]:
    """Read and check the three series; raise :class:`SampleBuildError` on any surprise."""
    sessions = np.asarray(get_calendar("XNYS").sessions, dtype="datetime64[D]")
    gspc = _read_ohlcv("sp500", "^GSPC")
    ixic = _read_ohlcv("nasdaq", "^IXIC")
    vix = _read_vix(sessions)
    _agrees_with_arch_loader(gspc, arch.data.sp500.load(), "Close")
    _agrees_with_arch_loader(ixic, arch.data.nasdaq.load(), "Close")
    _agrees_with_arch_loader(vix, arch.data.vix.load(), "vix")

    first, last = gspc["date"][0], gspc["date"][-1]
    expected = get_calendar("XNYS").sessions_in_range(first, last)
    expected_days = np.asarray(expected, dtype="datetime64[D]")
    gspc_days = gspc["date"].to_numpy().astype("datetime64[D]")
    if gspc.height != SP500_SESSIONS or not np.array_equal(gspc_days, expected_days):
        extra = np.setdiff1d(gspc_days, expected_days)[:5]
        lacking = np.setdiff1d(expected_days, gspc_days)[:5]
        msg = (
            f"^GSPC has {gspc.height} bars {first}..{last}, the XNYS calendar "
            f"{expected_days.size} sessions (expected {SP500_SESSIONS}); "
            f"not sessions: {extra.tolist()}, sessions without a bar: {lacking.tolist()}"
        )
        raise SampleBuildError(msg)
    if not ixic["date"].equals(gspc["date"]):
        msg = "^IXIC dates differ from ^GSPC dates"
        raise SampleBuildError(msg)
    return {"^GSPC": gspc, "^IXIC": ixic, "^VIX": vix}


def write_checksums(root: Path, target: Path, base: Path) -> list[str]:
    """Write ``sha256sum``-format lines for every Parquet file under ``root``.

    Paths are relative to ``base`` (the checkout), where ``sha256sum -c`` runs.
    """
    lines = []
    for path in sorted(root.rglob("*.parquet")):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(base).as_posix()}")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def build(
    store_dir: Path = STORE, checksums: Path = CHECKSUMS, *, base: Path = CHECKOUT
) -> dict[str, int]:
    """Write the store into a fresh folder, then swap it in; return rows per symbol."""
    frames = load_sample()
    staging = store_dir.with_name(store_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    store = MarketDataStore(staging)
    for frame in frames.values():
        store.write_underlying_bars(frame)
    for lock in staging.glob("*.lock"):
        lock.unlink()
    for symbol, frame in frames.items():
        if not store.underlying_bars(symbol).equals(frame):
            msg = f"{symbol}: the store does not read back what was written"
            raise SampleBuildError(msg)
    old = store_dir.with_name(store_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if store_dir.exists():
        store_dir.rename(old)
    staging.rename(store_dir)
    shutil.rmtree(old, ignore_errors=True)
    write_checksums(store_dir, checksums, base)
    return {symbol: frame.height for symbol, frame in frames.items()}


def main() -> int:
    rows = build()
    for symbol, count in rows.items():
        bars = MarketDataStore(STORE).underlying_bars(symbol)
        print(f"{symbol}: {count} rows, {bars['date'][0]}..{bars['date'][-1]}")
    print(f"arch {arch.__version__}; wrote {STORE} and {CHECKSUMS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
