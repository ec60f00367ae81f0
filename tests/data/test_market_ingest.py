from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest
from market_frames import RECORDED
from polars.testing import assert_frame_equal

from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    UNDERLYING_BAR_SCHEMA,
    MarketDataStore,
    fetch_yfinance_bars,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.errors import (
    BadInputError,
    CorruptFileError,
    DataFetchError,
    InvalidMarketDataError,
)

START, END = date(2020, 1, 2), date(2020, 1, 8)


def _recorded(auto_adjust: bool) -> pd.DataFrame:
    name = "yfinance_spy_adjusted.csv" if auto_adjust else "yfinance_spy_raw.csv"
    return pd.read_csv(RECORDED / name, index_col="Date", parse_dates=["Date"])


def _naive_midnights(*days: date) -> pl.Series:
    """Time-zone-naive midnight datetimes, as yfinance indexes daily bars."""
    return pl.Series(days, dtype=pl.Date).cast(pl.Datetime("ns"))


class RecordedDownloader:
    """Plays back the recorded yfinance frames and remembers how it was called."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date, date, bool]] = []

    def __call__(self, symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        self.calls.append((symbol, start, end, auto_adjust))
        return _recorded(auto_adjust)


# yfinance ----------------------------------------------------------------------------


def test_raw_closes_are_yahoo_close_and_labelled_raw() -> None:
    download = RecordedDownloader()
    bars = fetch_yfinance_bars("SPY", START, END, auto_adjust=False, downloader=download)

    assert bars.schema == UNDERLYING_BAR_SCHEMA
    assert bars.get_column("date").to_list() == [
        date(2020, 1, 2),
        date(2020, 1, 3),
        date(2020, 1, 6),
        date(2020, 1, 7),
        date(2020, 1, 8),
    ]
    assert bars.get_column("close").to_list() == [324.87, 322.41, 323.64, 322.73, 324.45]
    assert bars.row(0) == (
        "SPY",
        date(2020, 1, 2),
        323.54,
        324.89,
        322.53,
        324.87,
        59151200.0,
        "yfinance:raw",
    )
    # `end` is inclusive for us, exclusive for yfinance.
    assert download.calls == [("SPY", START, END + timedelta(days=1), False)]


def test_adjusted_closes_are_labelled_adjusted() -> None:
    bars = fetch_yfinance_bars("SPY", START, END, auto_adjust=True, downloader=RecordedDownloader())
    assert set(bars.get_column("source")) == {"yfinance:adjusted"}
    assert bars.item(0, "close") == pytest.approx(301.0037536621094)
    raw = _recorded(auto_adjust=False)
    assert bars.get_column("close").to_list() == raw["Adj Close"].tolist()


def test_two_level_column_labels_are_flattened() -> None:
    def download(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        frame = _recorded(auto_adjust)
        frame.columns = pd.MultiIndex.from_product(
            [frame.columns, [symbol]], names=["Price", "Ticker"]
        )
        return frame

    bars = fetch_yfinance_bars("SPY", START, END, auto_adjust=False, downloader=download)
    assert bars.height == 5
    assert bars.item(4, "close") == 324.45


def test_downloads_are_cached_per_request(tmp_path: Path) -> None:
    download = RecordedDownloader()
    first = fetch_yfinance_bars(
        "SPY", START, END, auto_adjust=False, cache_dir=tmp_path, downloader=download
    )
    again = fetch_yfinance_bars(
        "SPY", START, END, auto_adjust=False, cache_dir=tmp_path, downloader=download
    )
    assert_frame_equal(first, again)
    assert len(download.calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == [
        "yfinance_SPY_2020-01-02_2020-01-08_raw.parquet"
    ]

    fetch_yfinance_bars(
        "SPY", START, END, auto_adjust=True, cache_dir=tmp_path, downloader=download
    )
    assert len(download.calls) == 2  # adjusted is another request


def test_a_range_reaching_today_is_not_cached(tmp_path: Path) -> None:
    today = datetime.now(tz=UTC).date()

    def download(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        return pl.DataFrame({"Date": _naive_midnights(today), "Close": [1.0]})

    bars = fetch_yfinance_bars(
        "SPY", today, today, auto_adjust=True, cache_dir=tmp_path, downloader=download
    )
    assert bars.height == 1
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    download = RecordedDownloader()
    fetch_yfinance_bars(
        "SPY", START, END, auto_adjust=False, cache_dir=tmp_path, downloader=download
    )
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"garbage")
    with pytest.raises(CorruptFileError, match="delete it to re-download"):
        fetch_yfinance_bars(
            "SPY", START, END, auto_adjust=False, cache_dir=tmp_path, downloader=download
        )
    assert cached.read_bytes() == b"garbage"


def test_offline_download_raises_a_one_line_fetch_error() -> None:
    def offline(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        msg = "Failed to resolve 'query2.finance.yahoo.com'\n(Name or service not known)"
        raise ConnectionError(msg)

    with pytest.raises(DataFetchError) as info:
        fetch_yfinance_bars("^GSPC", START, END, auto_adjust=True, downloader=offline)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("could not download '^GSPC' 2020-01-02..2020-01-08 from yfinance")
    assert "ConnectionError" in message
    assert isinstance(info.value.__cause__, ConnectionError)


@pytest.mark.parametrize("empty", [None, pd.DataFrame(), pl.DataFrame()])
def test_empty_download_raises_a_fetch_error(empty: Any) -> None:
    def nothing(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        return empty

    with pytest.raises(DataFetchError, match=r"yfinance returned no bars for 'NOPE'"):
        fetch_yfinance_bars("NOPE", START, END, auto_adjust=True, downloader=nothing)


def test_placeholder_rows_without_any_price_are_dropped_and_bad_cells_refused() -> None:
    nan = float("nan")

    def download(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        return pl.DataFrame(
            {
                "Date": _naive_midnights(date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)),
                "Open": [1.0, nan, 2.0],
                "High": [1.0, nan, 2.0],
                "Low": [1.0, nan, 2.0],
                "Close": [1.0, nan, -2.0],
                "Volume": [0, 0, 0],
            }
        )

    with pytest.raises(InvalidMarketDataError) as info:
        fetch_yfinance_bars("X", START, END, auto_adjust=True, downloader=download)
    assert info.value.failures.rows() == [(1, "close", "-2.0", "not_positive")]


def test_fetched_bars_write_to_the_store(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path / "store")
    bars = fetch_yfinance_bars(
        "SPY", START, END, auto_adjust=False, downloader=RecordedDownloader()
    )
    store.write_underlying_bars(bars)
    assert_frame_equal(store.underlying_bars("SPY"), bars)


# generic CSV bars --------------------------------------------------------------------


def test_read_bars_csv_matches_headers_case_insensitively() -> None:
    bars = read_bars_csv(RECORDED / "yfinance_spy_raw.csv", symbol="SPY", source="yahoo-csv").rows
    assert bars.schema == UNDERLYING_BAR_SCHEMA
    assert bars.get_column("close").to_list() == [324.87, 322.41, 323.64, 322.73, 324.45]
    assert set(bars.get_column("source")) == {"yahoo-csv"}


def test_column_map_overrides_a_default_match() -> None:
    bars = read_bars_csv(
        RECORDED / "yfinance_spy_raw.csv", symbol="SPY", column_map={"Adj Close": "close"}
    ).rows
    assert bars.item(0, "close") == pytest.approx(301.0037536621094)
    assert bars.item(0, "open") == 323.54


def test_read_bars_csv_with_a_date_format_and_renamed_columns(tmp_path: Path) -> None:
    path = tmp_path / "vix.csv"
    path.write_text("Day;Last\n02.01.2020;12.47\n03.01.2020;14.02\n".replace(";", ","))
    bars = read_bars_csv(
        path,
        symbol="^VIX",
        column_map={"Day": "date", "Last": "close"},
        date_format="%d.%m.%Y",
    ).rows
    assert bars.select("date", "close").rows() == [
        (date(2020, 1, 2), 12.47),
        (date(2020, 1, 3), 14.02),
    ]


def test_bad_csv_cells_are_named_by_file_line_and_date(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,close\n2020-01-02,1.0\n2020-01-03,n/a\n2020-01-06,-4\n2020-01-06,5\n")
    with pytest.raises(InvalidMarketDataError, match=r"bars from bad\.csv") as info:
        read_bars_csv(path, symbol="X")
    assert info.value.failures.rows() == [
        (3, "2020-01-03", "close", "n/a", "bad_value"),
        (4, "2020-01-06", "close", "-4", "not_positive"),  # as written: the file was read as text
        (4, "2020-01-06", "symbol, date", "X, 2020-01-06", "duplicate_key"),
        (5, "2020-01-06", "symbol, date", "X, 2020-01-06", "duplicate_key"),
    ]
    assert "line 3 (2020-01-03): close=n/a (bad_value)" in str(info.value)


def test_column_map_problems_are_explicit(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("date,close\n2020-01-02,1.0\n")
    with pytest.raises(InvalidMarketDataError) as info:
        read_bars_csv(path, symbol="X", column_map={"Adj Close": "close"})
    assert info.value.failures.rows() == [(None, None, "Adj Close", None, "missing_column")]
    with pytest.raises(BadInputError, match="which this reader does not take"):
        read_bars_csv(path, symbol="X", column_map={"close": "settle"})


# CBOE DataShop -----------------------------------------------------------------------

CBOE = RECORDED / "cboe_eod_sample.csv"


def test_cboe_file_reads_into_the_quote_schema() -> None:
    quotes = read_cboe_chain_csv(CBOE).rows
    assert quotes.schema == OPTION_QUOTE_SCHEMA
    assert quotes.height == 21
    assert set(quotes.get_column("symbol")) == {"^SPX"}
    assert set(quotes.get_column("source")) == {"cboe_datashop"}
    assert quotes.get_column("as_of_date").unique().sort().to_list() == [
        date(2020, 1, 2),
        date(2020, 1, 3),
        date(2020, 1, 6),
    ]
    first = quotes.row(0, named=True)
    assert first == {
        "symbol": "^SPX",
        "as_of_date": date(2020, 1, 2),
        "option_type": "put",
        "expiry": date(2020, 1, 10),
        "strike": 3200.0,
        "bid": 4.9,
        "ask": 5.1,
        "mid": pytest.approx(5.0),
        "implied_volatility": 0.115,
        "delta": -0.1678,
        "open_interest": 1000,
        "volume": 412,
        "underlying_close": 3252.41,
        "source": "cboe_datashop",
    }


def test_cboe_mid_rules_for_zero_bids() -> None:
    quotes = read_cboe_chain_csv(CBOE).rows.filter(pl.col("as_of_date") == date(2020, 1, 2))
    zero_bid = quotes.filter(pl.col("strike") == 1500.0).row(0, named=True)
    assert (zero_bid["bid"], zero_bid["ask"], zero_bid["mid"]) == (0.0, 0.05, 0.025)
    no_market = quotes.filter(pl.col("strike") == 4500.0).row(0, named=True)
    assert (no_market["bid"], no_market["ask"], no_market["mid"]) == (0.0, 0.0, None)
    assert set(quotes.get_column("option_type")) == {"put", "call"}


def test_cboe_chain_round_trips_through_the_store(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path)
    quotes = read_cboe_chain_csv(CBOE).rows
    store.write_option_quotes(quotes)
    assert store.option_symbols() == ["^SPX"]
    day = store.option_quotes("^SPX", date(2020, 1, 3))
    expected = quotes.filter(pl.col("as_of_date") == date(2020, 1, 3))
    assert_frame_equal(day, expected.sort("option_type", "expiry", "strike"))


def test_cboe_roots_choose_between_spx_and_spxw_on_shared_expiries(tmp_path: Path) -> None:
    lines = CBOE.read_text().splitlines()
    spx_row = next(line for line in lines if ",SPX,2020-01-17," in line)
    path = tmp_path / "both_roots.csv"
    path.write_text("\n".join([*lines, spx_row.replace(",SPX,", ",SPXW,")]) + "\n")

    with pytest.raises(InvalidMarketDataError) as info:
        read_cboe_chain_csv(path)
    assert set(info.value.failures.get_column("reason")) == {"duplicate_key"}
    assert info.value.failures.get_column("line").to_list() == [4, 23]

    assert read_cboe_chain_csv(path, roots={"SPX"}).rows.height == 15
    assert read_cboe_chain_csv(path, roots={"SPXW"}).rows.height == 6 + 1


def test_cboe_errors_name_file_lines_even_after_root_filtering(tmp_path: Path) -> None:
    lines = CBOE.read_text().splitlines()
    lines[20] = lines[20].replace(",0.0500,", ",-0.0500,", 1)  # line 21: the 1500 put's ask
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidMarketDataError) as info:
        read_cboe_chain_csv(path, roots={"SPX"})
    assert info.value.failures.select("line", "date", "column", "reason").rows() == [
        (21, "2020-01-06", "bid_1545", "bid_above_ask"),
        (21, "2020-01-06", "ask_1545", "negative"),
    ]


def test_cboe_file_missing_a_column_is_refused(tmp_path: Path) -> None:
    frame = pl.read_csv(CBOE, infer_schema=False).drop("bid_1545")
    path = tmp_path / "short.csv"
    frame.write_csv(path)
    with pytest.raises(InvalidMarketDataError) as info:
        read_cboe_chain_csv(path)
    assert info.value.failures.rows() == [(None, None, "bid_1545", None, "missing_column")]


# generic CSV chains ------------------------------------------------------------------


def test_read_chain_csv_with_a_column_map(tmp_path: Path) -> None:
    path = tmp_path / "chain.csv"
    path.write_text(
        "Date,Expiration,Type,Strike,Bid,Ask,IV\n"
        "01/02/2020,01/17/2020,P,3200,10.1,10.5,0.13\n"
        "01/02/2020,01/17/2020,Call,3200,60.0,61.0,0.12\n"
        "01/02/2020,01/17/2020,p,3000,,0.5,\n"
    )
    quotes = read_chain_csv(
        path,
        symbol="^SPX",
        date_format="%m/%d/%Y",
        column_map={
            "Date": "as_of_date",
            "Expiration": "expiry",
            "Type": "option_type",
            "IV": "implied_volatility",
        },
        source="vendor-x",
    ).rows
    assert quotes.schema == OPTION_QUOTE_SCHEMA
    assert quotes.select("option_type", "strike", "bid", "ask", "mid").rows() == [
        ("put", 3200.0, 10.1, 10.5, pytest.approx(10.3)),
        ("call", 3200.0, 60.0, 61.0, 60.5),
        ("put", 3000.0, None, 0.5, None),
    ]
    assert set(quotes.get_column("source")) == {"vendor-x"}


def test_read_chain_csv_refuses_bad_rows_by_name(tmp_path: Path) -> None:
    path = tmp_path / "chain.csv"
    path.write_text(
        "symbol,as_of_date,option_type,expiry,strike,bid,ask\n"
        "^SPX,2020-01-02,put,2020-01-17,3200,10.5,10.1\n"
        "^SPX,2020-01-02,straddle,2019-12-20,3200,1,2\n"
    )
    with pytest.raises(InvalidMarketDataError) as info:
        read_chain_csv(path)
    assert info.value.failures.select("line", "column", "reason").rows() == [
        (2, "bid", "bid_above_ask"),
        (3, "option_type", "bad_value"),
        (3, "expiry", "expiry_before_as_of_date"),
    ]
