from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_frames import make_bars, make_quotes, snapshot
from polars.testing import assert_frame_equal

import hedgeframe.data._store
from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    UNDERLYING_BAR_SCHEMA,
    MarketDataStore,
    decode_symbol,
    encode_symbol,
)
from hedgeframe.errors import CorruptFileError, InvalidMarketDataError

SYMBOLS = ["^GSPC", "BRK.B", "XAU/USD"]
AWKWARD = ["7203", "A%2FB", "x=y", "a b", "C:\\d", "[*?]", "Ä€", "it's"]


def _days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


# symbol encoding ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "folder"),
    [
        ("^GSPC", "^GSPC"),
        ("BRK.B", "BRK.B"),
        ("XAU/USD", "XAU%2FUSD"),
        ("A%B", "A%25B"),
        ("a=b", "a%3Db"),
        ("a\\b", "a%5Cb"),
        ("tab\there", "tab%09here"),
        ("A B", "A B"),
    ],
)
def test_symbol_folder_encoding_keeps_safe_characters(symbol: str, folder: str) -> None:
    assert encode_symbol(symbol) == folder
    assert decode_symbol(folder) == symbol


@given(st.text(min_size=1, max_size=20))
def test_symbol_encoding_round_trips_and_is_one_path_segment(symbol: str) -> None:
    encoded = encode_symbol(symbol)
    assert decode_symbol(encoded) == symbol
    assert "/" not in encoded
    assert "\\" not in encoded
    assert "=" not in encoded
    assert all(ord(c) >= 0x20 and ord(c) != 0x7F for c in encoded)


# round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", SYMBOLS + AWKWARD)
def test_bars_and_quotes_round_trip_for_every_symbol_kind(tmp_path: Path, symbol: str) -> None:
    store = MarketDataStore(tmp_path)
    bars = make_bars(symbol, _days(date(2019, 12, 30), 5))
    quotes = make_quotes(symbol, date(2020, 1, 2))
    store.write_underlying_bars(bars)
    store.write_option_quotes(quotes)

    assert_frame_equal(store.underlying_bars(symbol), bars)
    assert_frame_equal(store.option_quotes(symbol, date(2020, 1, 2)), quotes)
    assert store.symbols() == [symbol]
    assert store.option_symbols() == [symbol]
    assert store.option_quote_dates(symbol) == [date(2020, 1, 2)]


def test_layout_is_hive_partitioned_as_specified(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("XAU/USD", _days(date(2019, 12, 31), 2)))
    store.write_option_quotes(make_quotes("^GSPC", date(2020, 3, 2)))

    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.parquet"))
    assert files == [
        "options/symbol=^GSPC/year=2020/month=03/part-0.parquet",
        "underlying/symbol=XAU%2FUSD/year=2019/part-0.parquet",
        "underlying/symbol=XAU%2FUSD/year=2020/part-0.parquet",
    ]
    # The file holds exactly the schema columns; partition columns live in folder names.
    one = tmp_path / files[0]
    assert pl.read_parquet_schema(one) == OPTION_QUOTE_SCHEMA


def test_underlying_bars_filters_an_inclusive_range_across_years(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    days = _days(date(2018, 12, 25), 20)
    store.write_underlying_bars(make_bars("^GSPC", days))

    got = store.underlying_bars("^GSPC", date(2018, 12, 31), date(2019, 1, 3))
    assert got.get_column("date").to_list() == _days(date(2018, 12, 31), 4)
    assert store.underlying_bars("^GSPC", start=date(2019, 1, 13)).height == 1
    assert store.underlying_bars("^GSPC", start=date(2019, 1, 14)).height == 0
    assert store.underlying_bars("^GSPC", end=date(2018, 12, 25)).height == 1


def test_reads_of_nothing_are_empty_frames_with_the_schema(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path / "never-written")
    assert store.underlying_bars("^GSPC").schema == UNDERLYING_BAR_SCHEMA
    assert store.option_quotes("^GSPC", date(2020, 1, 2)).schema == OPTION_QUOTE_SCHEMA
    between = store.option_quotes_between("^GSPC", date(2020, 1, 1), date(2020, 12, 31))
    assert between.schema == OPTION_QUOTE_SCHEMA
    assert store.option_quote_dates("^GSPC") == []
    assert store.symbols() == []
    assert store.option_symbols() == []
    assert not (tmp_path / "never-written").exists()


def test_option_quotes_returns_one_day_sorted(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    days = [date(2020, 1, 2), date(2020, 1, 3), date(2020, 2, 3)]
    # Written in reverse order to show the reader sorts.
    chains = pl.concat([make_quotes("^SPX", d) for d in days]).reverse()
    store.write_option_quotes(chains)

    day = store.option_quotes("^SPX", date(2020, 1, 3))
    assert day.get_column("as_of_date").unique().to_list() == [date(2020, 1, 3)]
    assert day.height == 12
    assert day.equals(day.sort("option_type", "expiry", "strike"))
    assert store.option_quotes("^SPX", date(2020, 1, 4)).height == 0

    between = store.option_quotes_between("^SPX", date(2020, 1, 3), date(2020, 2, 3))
    assert between.get_column("as_of_date").unique().sort().to_list() == days[1:]
    assert between.equals(between.sort("as_of_date", "option_type", "expiry", "strike"))
    assert store.option_quote_dates("^SPX") == days


# upserts -----------------------------------------------------------------------------


def _stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


def test_overlapping_write_replaces_rows_by_key_and_leaves_other_partitions(
    tmp_path: Path,
) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", _days(date(2019, 12, 20), 20)))
    store.write_underlying_bars(make_bars("BRK.B", _days(date(2020, 1, 2), 3)))
    y2019 = tmp_path / "underlying/symbol=^GSPC/year=2019/part-0.parquet"
    y2020 = tmp_path / "underlying/symbol=^GSPC/year=2020/part-0.parquet"
    other = tmp_path / "underlying/symbol=BRK.B/year=2020/part-0.parquet"
    before_2019, before_other = _stat(y2019), _stat(other)
    bytes_2019 = y2019.read_bytes()
    before_2020 = store.underlying_bars("^GSPC", start=date(2020, 1, 1))

    update = make_bars("^GSPC", _days(date(2020, 1, 5), 10), start_close=500.0)
    store.write_underlying_bars(update)

    assert _stat(y2019) == before_2019
    assert y2019.read_bytes() == bytes_2019
    assert _stat(other) == before_other
    assert _stat(y2020) != _stat(y2019)
    after = store.underlying_bars("^GSPC", start=date(2020, 1, 1))
    kept = before_2020.filter(pl.col("date") < date(2020, 1, 5))
    assert_frame_equal(after, pl.concat([kept, update]))


def test_quote_upsert_replaces_contracts_and_keeps_the_rest_of_the_month(
    tmp_path: Path,
) -> None:
    store = MarketDataStore(tmp_path)
    jan2, jan3 = date(2020, 1, 2), date(2020, 1, 3)
    store.write_option_quotes(pl.concat([make_quotes("^SPX", jan2), make_quotes("^SPX", jan3)]))
    revised = make_quotes("^SPX", jan3, strikes=(100.0, 120.0)).with_columns(
        pl.col("bid") + 1, pl.col("ask") + 1, pl.col("mid") + 1
    )
    store.write_option_quotes(revised)

    assert_frame_equal(store.option_quotes("^SPX", jan2), make_quotes("^SPX", jan2))
    day = store.option_quotes("^SPX", jan3)
    assert day.height == 12 + 4  # strikes 90, 100, 110 kept or replaced, 120 added
    assert_frame_equal(
        day.filter(pl.col("strike").is_in([100.0, 120.0])),
        revised.sort("option_type", "expiry", "strike"),
    )


# refusals ----------------------------------------------------------------------------

Spoil = Callable[[pl.DataFrame], pl.DataFrame]

_BAR_REFUSALS: dict[str, tuple[Spoil, str]] = {
    "missing_close": (lambda f: f.drop("close"), "missing_column"),
    "null_close": (lambda f: f.with_columns(close=pl.lit(None, pl.Float64)), "missing"),
    "nan_close": (lambda f: f.with_columns(close=pl.lit(float("nan"))), "not_finite"),
    "inf_high": (lambda f: f.with_columns(high=pl.lit(float("inf"))), "not_finite"),
    "zero_close": (lambda f: f.with_columns(close=pl.lit(0.0)), "not_positive"),
    "negative_low": (lambda f: f.with_columns(low=pl.lit(-1.0)), "negative"),
    "duplicate": (lambda f: pl.concat([f, f.head(1)]), "duplicate_key"),
    "string_close": (lambda f: f.with_columns(pl.col("close").cast(pl.String)), "bad_value"),
    "afternoon": (
        lambda f: f.with_columns(pl.col("date").cast(pl.Datetime) + pl.duration(hours=15)),
        "bad_value",
    ),
}

_QUOTE_REFUSALS: dict[str, tuple[Spoil, str]] = {
    "bid_above_ask": (lambda f: f.with_columns(bid=pl.col("ask") + 1), "bid_above_ask"),
    "negative_bid": (lambda f: f.with_columns(bid=pl.lit(-0.1)), "negative"),
    "zero_strike": (lambda f: f.with_columns(strike=pl.lit(0.0)), "not_positive"),
    "expired": (
        lambda f: f.with_columns(expiry=pl.col("as_of_date") - pl.duration(days=1)),
        "expiry_before_as_of_date",
    ),
    "bad_type": (lambda f: f.with_columns(option_type=pl.lit("P")), "bad_value"),
    "nan_iv": (lambda f: f.with_columns(implied_volatility=pl.lit(float("nan"))), "not_finite"),
    "duplicate": (lambda f: pl.concat([f, f.tail(1)]), "duplicate_key"),
    "missing_ask": (lambda f: f.drop("ask"), "missing_column"),
}


@pytest.mark.parametrize("case", sorted(_BAR_REFUSALS))
def test_refused_bar_write_names_the_reason_and_changes_nothing(tmp_path: Path, case: str) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", _days(date(2020, 1, 2), 3)))
    before = snapshot(tmp_path)
    spoil, reason = _BAR_REFUSALS[case]
    # The bad frame also touches a new partition (2021), which must not appear either.
    frame = spoil(pl.concat([make_bars("^GSPC", [date(2020, 1, 3), date(2021, 1, 4)])]))

    with pytest.raises(InvalidMarketDataError, match="nothing was written") as info:
        store.write_underlying_bars(frame)

    assert reason in info.value.failures.get_column("reason").to_list()
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("case", sorted(_QUOTE_REFUSALS))
def test_refused_quote_write_names_the_reason_and_changes_nothing(
    tmp_path: Path, case: str
) -> None:
    store = MarketDataStore(tmp_path)
    store.write_option_quotes(make_quotes("^SPX", date(2020, 1, 2)))
    before = snapshot(tmp_path)
    spoil, reason = _QUOTE_REFUSALS[case]
    frame = spoil(
        pl.concat([make_quotes("^SPX", date(2020, 1, 2)), make_quotes("^SPX", date(2020, 2, 3))])
    )

    with pytest.raises(InvalidMarketDataError, match="nothing was written") as info:
        store.write_option_quotes(frame)

    assert reason in info.value.failures.get_column("reason").to_list()
    assert snapshot(tmp_path) == before


# BI tools read the store as it is ----------------------------------------------------


def _mixed_store(root: Path) -> MarketDataStore:
    store = MarketDataStore(root)
    for i, symbol in enumerate([*SYMBOLS, "7203"]):
        store.write_underlying_bars(
            make_bars(symbol, _days(date(2019, 12, 28), 8), start_close=10.0 + i)
        )
        store.write_option_quotes(
            pl.concat(
                [make_quotes(symbol, date(2019, 12, 31)), make_quotes(symbol, date(2020, 1, 2))]
            )
        )
    return store


def test_duckdb_reads_the_whole_store_with_hive_partitioning(tmp_path: Path) -> None:
    store = _mixed_store(tmp_path)
    ours_bars = pl.concat([store.underlying_bars(s) for s in store.symbols()])
    ours_quotes = pl.concat(
        [
            store.option_quotes_between(s, date(2019, 1, 1), date(2020, 12, 31))
            for s in store.option_symbols()
        ]
    )

    con = duckdb.connect()
    query = "SELECT * FROM read_parquet('{}', hive_partitioning = true)"
    bars = con.sql(query.format(f"{tmp_path}/underlying/*/*/*.parquet")).pl()
    quotes = con.sql(query.format(f"{tmp_path}/options/*/*/*/*.parquet")).pl()

    # Same rows and values; `year` (and `month`) come on top from the folder names.
    assert bars.columns == [*UNDERLYING_BAR_SCHEMA, "year"]
    assert sorted(quotes.columns) == sorted([*OPTION_QUOTE_SCHEMA, "year", "month"])
    assert_frame_equal(
        bars.select(list(UNDERLYING_BAR_SCHEMA)).sort("symbol", "date"),
        ours_bars.sort("symbol", "date"),
    )
    assert_frame_equal(
        quotes.select(list(OPTION_QUOTE_SCHEMA)).sort(list(ours_quotes.columns[:5])),
        ours_quotes.sort(list(ours_quotes.columns[:5])),
    )
    assert set(store.symbols()) == set(bars.get_column("symbol"))  # "7203" stays text
    assert (bars.get_column("year") == bars.get_column("date").dt.year()).all()
    # DuckDB keeps the zero-padded month as text ('01'); Polars infers an integer.
    assert (
        quotes.get_column("month").cast(pl.Int32) == quotes.get_column("as_of_date").dt.month()
    ).all()


def test_polars_reads_the_whole_store_with_hive_partitioning(tmp_path: Path) -> None:
    store = _mixed_store(tmp_path)
    ours = pl.concat([store.underlying_bars(s) for s in store.symbols()])
    hive = pl.scan_parquet(
        tmp_path / "underlying" / "**" / "*.parquet", hive_partitioning=True
    ).collect()

    assert hive.schema["year"] == pl.Int64
    assert_frame_equal(
        hive.select(list(UNDERLYING_BAR_SCHEMA)).sort("symbol", "date"), ours.sort("symbol", "date")
    )
    quotes = pl.scan_parquet(
        tmp_path / "options" / "**" / "*.parquet", hive_partitioning=True
    ).collect()
    assert (quotes.get_column("month") == quotes.get_column("as_of_date").dt.month()).all()
    assert set(quotes.get_column("symbol")) == set(store.option_symbols())


# partition pruning, corruption, atomicity --------------------------------------------


def test_one_day_read_opens_only_that_month(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_option_quotes(
        pl.concat([make_quotes("^SPX", date(2020, 1, 2)), make_quotes("^SPX", date(2020, 2, 3))])
    )
    february = tmp_path / "options/symbol=^SPX/year=2020/month=02/part-0.parquet"
    february.write_bytes(b"this is not parquet")

    assert store.option_quotes("^SPX", date(2020, 1, 2)).height == 12
    assert store.option_quotes_between("^SPX", date(2020, 1, 1), date(2020, 1, 31)).height == 12
    with pytest.raises(CorruptFileError, match=r"month=02/part-0\.parquet") as info:
        store.option_quotes("^SPX", date(2020, 2, 3))
    assert info.value.path == february


def test_one_symbol_read_opens_only_its_years(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", [date(2019, 6, 3), date(2020, 6, 1)]))
    (tmp_path / "underlying/symbol=^GSPC/year=2019/part-0.parquet").write_bytes(b"garbage")

    assert store.underlying_bars("^GSPC", start=date(2020, 1, 1)).height == 1
    with pytest.raises(CorruptFileError, match="year=2019"):
        store.underlying_bars("^GSPC")


def test_file_with_foreign_schema_is_reported_as_corrupt(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", [date(2020, 6, 1)]))
    path = tmp_path / "underlying/symbol=^GSPC/year=2020/part-0.parquet"
    pl.DataFrame({"symbol": ["^GSPC"], "date": ["2020-06-01"]}).write_parquet(path)

    with pytest.raises(CorruptFileError, match="not the store schema"):
        store.underlying_bars("^GSPC")


def test_write_over_a_corrupt_partition_refuses_and_leaves_every_file(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", [date(2019, 6, 3), date(2020, 6, 1)]))
    (tmp_path / "underlying/symbol=^GSPC/year=2020/part-0.parquet").write_bytes(b"garbage")
    before = snapshot(tmp_path)

    # Touches 2019 (fine, sorted first) and 2020 (corrupt): neither may change.
    with pytest.raises(CorruptFileError, match="year=2020"):
        store.write_underlying_bars(make_bars("^GSPC", [date(2019, 6, 4), date(2020, 6, 2)]))
    assert snapshot(tmp_path) == before


def test_crash_while_replacing_a_partition_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", _days(date(2020, 1, 2), 3)))
    before = snapshot(tmp_path)

    def crash(fd: int) -> None:
        raise OSError(5, "simulated I/O error")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="simulated"):
        store.write_underlying_bars(make_bars("^GSPC", _days(date(2020, 1, 3), 3), start_close=9.0))
    monkeypatch.undo()

    assert snapshot(tmp_path) == before  # old file intact, no temporary file left behind
    assert store.underlying_bars("^GSPC").height == 3


def test_failure_before_the_first_rename_changes_no_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", [date(2019, 6, 3), date(2020, 6, 1)]))
    before = snapshot(tmp_path)
    real_encode = hedgeframe.data._store._encode
    calls: list[int] = []

    def encode_then_fail(frame: pl.DataFrame) -> bytes:
        calls.append(frame.height)
        if len(calls) == 2:
            raise MemoryError
        return real_encode(frame)

    monkeypatch.setattr(hedgeframe.data._store, "_encode", encode_then_fail)
    with pytest.raises(MemoryError):
        store.write_underlying_bars(make_bars("^GSPC", [date(2019, 6, 4), date(2020, 6, 2)]))

    assert len(calls) == 2
    assert snapshot(tmp_path) == before


def test_written_files_use_zstd_and_statistics(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(make_bars("^GSPC", _days(date(2020, 1, 2), 3)))
    meta = pq.ParquetFile(tmp_path / "underlying/symbol=^GSPC/year=2020/part-0.parquet").metadata
    column = meta.row_group(0).column(1)
    assert column.compression == "ZSTD"
    assert column.statistics.has_min_max


def test_writes_accept_castable_dtypes_and_fill_defaults(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    store.write_underlying_bars(
        pl.DataFrame(
            {
                "symbol": pl.Series(["^VIX", "^VIX"], dtype=pl.Categorical),
                "date": pl.Series([date(2020, 1, 2), date(2020, 1, 3)]).cast(pl.Datetime),
                "close": [12, 13],
            }
        )
    )
    got = store.underlying_bars("^VIX")
    assert got.schema == UNDERLYING_BAR_SCHEMA
    assert got.get_column("close").to_list() == [12.0, 13.0]
    assert got.get_column("source").to_list() == ["unknown", "unknown"]
    assert got.get_column("open").null_count() == 2


# properties --------------------------------------------------------------------------

_prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)
_symbols = st.sampled_from(["^GSPC", "BRK.B", "XAU/USD", "7203", "a=b%"])


@st.composite
def _bar_frames(draw: st.DrawFn) -> pl.DataFrame:
    keys = draw(
        st.lists(
            st.tuples(_symbols, st.dates(date(1995, 1, 1), date(2030, 12, 31))),
            min_size=1,
            max_size=25,
            unique=True,
        )
    )
    n = len(keys)
    optional = st.none() | st.floats(min_value=0, max_value=1e6)
    return pl.DataFrame(
        {
            "symbol": [k[0] for k in keys],
            "date": [k[1] for k in keys],
            "open": draw(st.lists(optional, min_size=n, max_size=n)),
            "high": draw(st.lists(optional, min_size=n, max_size=n)),
            "low": draw(st.lists(optional, min_size=n, max_size=n)),
            "close": draw(st.lists(_prices, min_size=n, max_size=n)),
            "volume": draw(st.lists(optional, min_size=n, max_size=n)),
            "source": draw(
                st.lists(st.sampled_from(["a", "yfinance:raw", "unknown"]), min_size=n, max_size=n)
            ),
        },
        schema=UNDERLYING_BAR_SCHEMA,
    )


@settings(max_examples=25)
@given(frame=_bar_frames())
def test_random_valid_bars_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory, frame: pl.DataFrame
) -> None:
    store = MarketDataStore(tmp_path_factory.mktemp("bars"))
    store.write_underlying_bars(frame)
    got = pl.concat([store.underlying_bars(s) for s in store.symbols()])
    assert_frame_equal(got, frame.sort("symbol", "date"))


@st.composite
def _quote_frames(draw: st.DrawFn) -> pl.DataFrame:
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["^SPX", "XAU/USD"]),
                st.dates(date(2019, 11, 1), date(2020, 2, 28)),
                st.sampled_from(["put", "call"]),
                st.integers(0, 400),
                st.sampled_from([50.0, 99.5, 100.0, 2500.0]),
            ),
            min_size=1,
            max_size=25,
            unique=True,
        )
    )
    rows = []
    for symbol, day, option_type, days_out, strike in keys:
        bid = draw(st.none() | st.floats(min_value=0, max_value=100))
        spread = draw(st.floats(min_value=0, max_value=5))
        ask = draw(st.none() | st.just((bid or 0.0) + spread))
        rows.append(
            {
                "symbol": symbol,
                "as_of_date": day,
                "option_type": option_type,
                "expiry": day + timedelta(days=days_out),
                "strike": strike,
                "bid": bid,
                "ask": ask,
                "mid": None,
                "implied_volatility": draw(st.none() | st.floats(min_value=0, max_value=5)),
                "delta": draw(st.none() | st.floats(min_value=-1, max_value=1)),
                "open_interest": draw(st.none() | st.integers(0, 10**9)),
                "volume": draw(st.none() | st.integers(0, 10**9)),
                "underlying_close": draw(st.none() | _prices),
                "source": "prop",
            }
        )
    frame = pl.DataFrame(rows, schema=OPTION_QUOTE_SCHEMA)
    both = pl.col("bid").is_not_null() & pl.col("ask").is_not_null() & (pl.col("ask") > 0)
    return frame.with_columns(mid=pl.when(both).then((pl.col("bid") + pl.col("ask")) / 2))


@settings(max_examples=25)
@given(frame=_quote_frames())
def test_random_valid_quotes_round_trip_exactly(
    tmp_path_factory: pytest.TempPathFactory, frame: pl.DataFrame
) -> None:
    store = MarketDataStore(tmp_path_factory.mktemp("quotes"))
    store.write_option_quotes(frame)
    got = pl.concat(
        [
            store.option_quotes_between(s, date(2019, 11, 1), date(2020, 2, 28))
            for s in store.option_symbols()
        ]
    )
    order = ["symbol", "as_of_date", "option_type", "expiry", "strike"]
    assert_frame_equal(got.sort(order), frame.sort(order))
    for symbol in store.option_symbols():
        dates = frame.filter(pl.col("symbol") == symbol).get_column("as_of_date").unique().sort()
        assert store.option_quote_dates(symbol) == dates.to_list()


def test_concurrent_writers_to_one_partition_lose_no_update(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)

    def write(i: int) -> None:
        store.write_underlying_bars(make_bars("^GSPC", [date(2020, 1, 1) + timedelta(days=i)]))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(16)))
    assert store.underlying_bars("^GSPC").height == 16
    # The lock file sits at the store root, outside every glob a reader uses.
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == [".store.lock"]


def test_public_names_are_importable() -> None:
    import hedgeframe.data as data

    assert sorted(data.__all__) == sorted(set(data.__all__))
    for name in data.__all__:
        assert getattr(data, name) is not None
