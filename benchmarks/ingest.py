"""B8: chain CSV ingestion, the path ``hedgeframe data import-chain`` takes up to the store write.

A generated chain of ``rows`` quotes (one million by default) is written once into the
scratch folder in two layouts, each read by the reader ``import-chain`` uses for it:

- ``cboe``: CBOE DataShop's "Option EOD Summary" with Calcs, the 34 columns of the real
  product with its 4-decimal numbers (``read_cboe_chain_csv``; about 235 bytes a row);
- ``generic``: the store's own column names, ``P``/``C`` types (``read_chain_csv``).

Quotes are 4,000 a day (20 expiries x 100 strikes x put/call) on consecutive XNYS
sessions from 2021-01-04, so no row is refused and no day warned about. Each file is read
once and compared with the frame the generator meant, built from its own arrays; only then
is the read timed (open, parse, validate: everything but the store write).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np
import polars as pl

from benchmarks.crosscheck import CrossCheckError
from benchmarks.report import CaseRow, TargetCheck
from benchmarks.workloads import median
from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    CsvImport,
    get_calendar,
    read_cboe_chain_csv,
    read_chain_csv,
)

__all__ = ["MIN_ROWS_PER_S", "chain_frame", "run_ingest"]

MIN_ROWS_PER_S: Final = 1e6
"""The issue's target: a million rows a second, read and validated."""

FIRST_DAY: Final = date(2021, 1, 4)
EXPIRIES: Final = 20
STRIKES: Final = 100
PER_DAY: Final = EXPIRIES * STRIKES * 2

CBOE_CALCS_HEADER: Final = [
    "underlying_symbol",
    "quote_date",
    "root",
    "expiration",
    "strike",
    "option_type",
    "open",
    "high",
    "low",
    "close",
    "trade_volume",
    "bid_size_1545",
    "bid_1545",
    "ask_size_1545",
    "ask_1545",
    "underlying_bid_1545",
    "underlying_ask_1545",
    "implied_underlying_price_1545",
    "active_underlying_price_1545",
    "implied_volatility_1545",
    "delta_1545",
    "gamma_1545",
    "theta_1545",
    "vega_1545",
    "rho_1545",
    "bid_size_eod",
    "bid_eod",
    "ask_size_eod",
    "ask_eod",
    "underlying_bid_eod",
    "underlying_ask_eod",
    "vwap",
    "open_interest",
    "delivery_code",
]
"""The columns of CBOE DataShop's ``UnderlyingOptionsEODCalcs`` files, in order."""


def chain_frame(rows: int, seed: int) -> pl.DataFrame:
    """The quotes of the generated chain, in the store schema (source ``csv``)."""
    days = -(-rows // PER_DAY)
    sessions = get_calendar("XNYS").sessions
    quote_days = sessions[sessions >= np.datetime64(FIRST_DAY)][:days]
    grid = np.arange(rows)
    day, rest = np.divmod(grid, PER_DAY)
    expiry, rest = np.divmod(rest, STRIKES * 2)
    strike, put_call = np.divmod(rest, 2)
    rng = np.random.default_rng(seed)
    bid = np.round(rng.uniform(0.05, 150.0, rows), 2)
    is_put = put_call == 0
    as_of = quote_days[day]
    return pl.DataFrame(
        {
            "symbol": "^SPX",
            "as_of_date": as_of,
            "option_type": np.where(is_put, "put", "call"),
            "expiry": as_of + ((expiry + 1) * 7).astype("timedelta64[D]"),
            "strike": 3000.0 + 10.0 * strike,
            "bid": bid,
            "ask": np.round(bid + rng.uniform(0.05, 2.0, rows), 2),
            "mid": None,
            "implied_volatility": np.round(rng.uniform(0.08, 0.9, rows), 4),
            "delta": np.round(np.where(is_put, -1.0, 1.0) * rng.uniform(0.0, 1.0, rows), 4),
            "open_interest": rng.integers(0, 50_000, rows),
            "volume": rng.integers(0, 5_000, rows),
            "underlying_close": np.round(3800.0 + 10.0 * day, 2),
            "source": "csv",
        },
        schema=OPTION_QUOTE_SCHEMA,
    ).with_columns(mid=(pl.col("bid") + pl.col("ask")) / 2)


def _write_cboe(quotes: pl.DataFrame, path: Path) -> None:
    zero = pl.lit(0.0)
    cboe = quotes.select(
        underlying_symbol="symbol",
        quote_date="as_of_date",
        root=pl.when(pl.col("expiry").dt.day() <= 7).then(pl.lit("SPX")).otherwise(pl.lit("SPXW")),
        expiration="expiry",
        strike="strike",
        option_type=pl.when(pl.col("option_type") == "put")
        .then(pl.lit("P"))
        .otherwise(pl.lit("C")),
        open=zero,
        high=zero,
        low=zero,
        close=zero,
        trade_volume="volume",
        bid_size_1545=pl.lit(10),
        bid_1545="bid",
        ask_size_1545=pl.lit(12),
        ask_1545="ask",
        underlying_bid_1545=pl.col("underlying_close") - 0.2,
        underlying_ask_1545=pl.col("underlying_close") + 0.2,
        implied_underlying_price_1545=pl.col("underlying_close") + 1.1,
        active_underlying_price_1545="underlying_close",
        implied_volatility_1545="implied_volatility",
        delta_1545="delta",
        gamma_1545=pl.lit(0.0012),
        theta_1545=pl.lit(-0.5),
        vega_1545=pl.lit(1.25),
        rho_1545=pl.lit(0.1),
        bid_size_eod=pl.lit(20),
        bid_eod="bid",
        ask_size_eod=pl.lit(25),
        ask_eod="ask",
        underlying_bid_eod=pl.col("underlying_close") + 0.5,
        underlying_ask_eod=pl.col("underlying_close") + 0.9,
        vwap=zero,
        open_interest="open_interest",
        delivery_code=pl.lit(0),
    )
    assert cboe.columns == CBOE_CALCS_HEADER
    cboe.write_csv(path, float_precision=4)


def _write_generic(quotes: pl.DataFrame, path: Path) -> None:
    generic = quotes.drop("mid", "source").with_columns(
        option_type=pl.when(pl.col("option_type") == "put").then(pl.lit("P")).otherwise(pl.lit("C"))
    )
    generic.write_csv(path, float_precision=4)


def _check(imported: CsvImport, expected: pl.DataFrame, variant: str) -> None:
    """The reader must give exactly the generated quotes, with nothing dropped or warned."""
    if imported.warnings or imported.dropped.height:
        msg = f"B8 {variant}: warnings {imported.warnings[:2]}, {imported.dropped.height} dropped"
        raise CrossCheckError(msg)
    got = imported.rows
    if got.schema != expected.schema or got.height != expected.height:
        msg = f"B8 {variant}: {got.height} rows {got.schema}, expected {expected.height}"
        raise CrossCheckError(msg)
    for name in expected.columns:
        if not got.get_column(name).equals(expected.get_column(name)):
            msg = f"B8 {variant}: column {name} differs from the generated quotes"
            raise CrossCheckError(msg)


def _timed(read: Callable[[], CsvImport], repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds (all threads) of ``repeat`` reads, each after a collection.

    CPU seconds say how much work a read is when neighbours slow the wall clock down.
    """
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        read()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def run_ingest(
    rows: int, *, seed: int, repeat: int, scratch: Path, log: Callable[[str], None]
) -> tuple[list[CaseRow], list[TargetCheck]]:
    """Generate, check, then time both layouts; return their rows and targets."""
    log(f"B8: generating a {rows:,}-quote chain as CSV ...")
    start = time.perf_counter()
    quotes = chain_frame(rows, seed)
    paths = {"cboe": scratch / "UnderlyingOptionsEODCalcs.csv", "generic": scratch / "chain.csv"}
    _write_cboe(quotes, paths["cboe"])
    _write_generic(quotes, paths["generic"])
    log(f"  written in {time.perf_counter() - start:.1f} s")
    readers: dict[str, tuple[Callable[[], CsvImport], pl.DataFrame, str]] = {
        "cboe": (
            lambda: read_cboe_chain_csv(paths["cboe"]),
            quotes.with_columns(source=pl.lit("cboe_datashop")),
            "read_cboe_chain_csv: CBOE DataShop EOD with Calcs, 34 columns",
        ),
        "generic": (
            lambda: read_chain_csv(paths["generic"]),
            quotes,
            "read_chain_csv: the store's columns, P/C types, ISO dates told from the values",
        ),
    }
    case_rows, targets = [], []
    for variant, (read, expected, what) in readers.items():
        log(f"B8 {variant}: check, then time ...")
        _check(read(), expected, variant)
        times, cpus = _timed(read, repeat)
        size_mb = paths[variant].stat().st_size / 1e6
        rate = rows / min(times)
        case_rows.append(
            CaseRow(
                case="B8",
                variant=variant,
                description=f"{what}; {rows:,} quotes, {size_mb:,.0f} MB, from the page cache",
                repeat=len(times),
                time_min_s=min(times),
                time_median_s=median(times),
                checked=f"{rows:,} rows equal the generated quotes, none dropped or warned",
                note=(
                    f"{rate:,.0f} rows/s (min), {rows / median(times):,.0f} rows/s (median); "
                    f"CPU {min(cpus):.2f}-{max(cpus):.2f} s a read (both threads)"
                ),
            )
        )
        targets.append(
            TargetCheck(
                "B8", variant, ">= 1M rows/s", rate, MIN_ROWS_PER_S, "rows/s", higher_is_better=True
            )
        )
    return case_rows, targets
