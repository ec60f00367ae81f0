"""CSV files as researchers bring them: column maps, two closes, bad rows, roots, zips."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from market_frames import RECORDED
from polars.testing import assert_frame_equal

from hedgeframe.data import (
    QUARANTINE_SCHEMA,
    MarketDataStore,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.data._csv import quarantine_path
from hedgeframe.errors import BadInputError, InvalidMarketDataError

CBOE_CALCS = RECORDED / "cboe_eod_sample.csv"
CBOE_QUOTES = RECORDED / "cboe_eod_quotes_sample.csv"
YAHOO_RAW = RECORDED / "yfinance_spy_raw.csv"
NOW = datetime(2026, 12, 6, 21, 30, 5, tzinfo=UTC)

CHAIN_HEADER = "Date,Root,Expiration,Type,Strike,Bid,Ask\n"
CROSSED_CHAIN = CHAIN_HEADER + (
    "2021-09-17,SPY,2021-10-15,P,400,1.10,1.20\n"
    "2021-09-17,SPY,2021-10-15,C,400,9.50,9.40\n"  # crossed: bid above ask
    "2021-09-17,SPY,2021-11-19,P,400,3.00,3.10\n"
    "2021-09-17,SPY,2021-11-19,C,400,12.0,11.5\n"  # crossed
    "2021-09-20,SPY,2021-10-15,P,400,1.50,1.60\n"
)
CHAIN_MAP = {"Date": "as_of_date", "Expiration": "expiry", "Type": "option_type"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# the close column ------------------------------------------------------------------------


def test_a_file_with_two_closes_gives_the_raw_one_and_says_so() -> None:
    imported = read_bars_csv(YAHOO_RAW, symbol="SPY")
    assert imported.rows.get_column("close").to_list()[:2] == [324.87, 322.41]
    assert imported.notes == (
        "close: 'Close' (raw); the file also has 'Adj Close' (close='adjusted', --close adjusted)",
    )
    assert imported.columns["close"] == "Close"


def test_close_adjusted_takes_the_adjusted_column() -> None:
    imported = read_bars_csv(YAHOO_RAW, symbol="SPY", close="adjusted")
    adjusted = pl.read_csv(RECORDED / "yfinance_spy_adjusted.csv")
    assert imported.rows.get_column("close").to_list() == adjusted.get_column("Close").to_list()
    assert imported.rows.item(0, "open") == 323.54  # the file's open: Yahoo adjusts only Adj Close
    assert imported.notes[0].startswith("close: 'Adj Close' (adjusted); the file also has 'Close'")
    assert read_bars_csv(YAHOO_RAW, symbol="SPY", close="raw").rows.item(0, "close") == 324.87


def test_close_choices_the_file_cannot_meet_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"has no adjusted close column .*its columns: Date, "):
        read_bars_csv(RECORDED / "yfinance_spy_adjusted.csv", symbol="SPY", close="adjusted")
    only_adjusted = _write(tmp_path, "adj.csv", "Date,Adj Close\n2020-01-02,301.0\n")
    with pytest.raises(BadInputError, match=r"adj\.csv has no raw close column"):
        read_bars_csv(only_adjusted, symbol="SPY", close="raw")
    imported = read_bars_csv(only_adjusted, symbol="SPY")
    assert imported.rows.item(0, "close") == 301.0
    assert imported.notes == ("close: 'Adj Close' (adjusted)",)
    with pytest.raises(BadInputError, match="both choose the close"):
        read_bars_csv(YAHOO_RAW, symbol="SPY", close="raw", column_map={"Adj Close": "close"})


# column maps -----------------------------------------------------------------------------


def test_a_column_map_reads_any_header(tmp_path: Path) -> None:
    path = _write(tmp_path, "chain.csv", CROSSED_CHAIN.replace("9.50,9.40", "9.30,9.40"))
    path.write_text(path.read_text().replace("12.0,11.5", "11.0,11.5"))
    imported = read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP)
    assert imported.rows.select("as_of_date", "option_type", "expiry", "strike", "bid").row(1) == (
        date(2021, 9, 17),
        "call",
        date(2021, 10, 15),
        400.0,
        9.3,
    )
    assert imported.columns == {
        "as_of_date": "Date",
        "expiry": "Expiration",
        "option_type": "Type",
        "strike": "Strike",
        "bid": "Bid",
        "ask": "Ask",
    }


def test_column_map_mistakes_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "chain.csv", CROSSED_CHAIN)
    with pytest.raises(BadInputError, match="maps 'Date' to 'trade_date', which this reader"):
        read_chain_csv(path, symbol="SPY", column_map={"Date": "trade_date"})
    with pytest.raises(BadInputError, match="maps both 'Bid' and 'Ask' to 'bid'"):
        read_chain_csv(path, symbol="SPY", column_map={"Bid": "bid", "Ask": "bid"})
    with pytest.raises(InvalidMarketDataError) as info:
        read_chain_csv(path, symbol="SPY", column_map={"Expiry": "expiry"})
    assert info.value.failures.rows() == [(None, None, "Expiry", None, "missing_column")]
    assert "columns of the file: Date, Root, Expiration" in str(info.value)


def test_a_missing_store_column_names_the_file_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "chain.csv", CROSSED_CHAIN)
    with pytest.raises(InvalidMarketDataError) as info:
        read_chain_csv(path, symbol="SPY", drop_bad_rows=True)
    failures = info.value.failures.filter(pl.col("line").is_null())
    assert failures.select("column", "reason").rows() == [
        ("as_of_date", "missing_column"),
        ("option_type", "missing_column"),
        ("expiry", "missing_column"),
    ]
    assert "map one with column_map (--map)" in str(info.value)


# bad rows --------------------------------------------------------------------------------


def test_bad_rows_refuse_the_file_naming_lines_and_dates(tmp_path: Path) -> None:
    path = _write(tmp_path, "spy.csv", CROSSED_CHAIN)
    with pytest.raises(InvalidMarketDataError) as info:
        read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP)
    assert info.value.failures.rows() == [
        (3, "2021-09-17", "Bid", "9.5", "bid_above_ask"),
        (5, "2021-09-17", "Bid", "12.0", "bid_above_ask"),
    ]
    message = str(info.value)
    assert message.startswith("option quotes from spy.csv: 2 bad cell(s) refused")
    assert "line 3 (2021-09-17): Bid=9.5 (bid_above_ask)" in message
    assert "pass drop_bad_rows=True (--drop-bad-rows)" in message


def test_drop_bad_rows_reads_the_others_and_lists_the_dropped_cells(tmp_path: Path) -> None:
    path = _write(tmp_path, "spy.csv", CROSSED_CHAIN)
    imported = read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP, drop_bad_rows=True)
    assert imported.rows.select("as_of_date", "option_type", "expiry").rows() == [
        (date(2021, 9, 17), "put", date(2021, 10, 15)),
        (date(2021, 9, 17), "put", date(2021, 11, 19)),
        (date(2021, 9, 20), "put", date(2021, 10, 15)),
    ]
    assert imported.dropped.schema == QUARANTINE_SCHEMA
    assert imported.dropped.rows() == [
        (3, "2021-09-17", "Bid", "9.5", "bid_above_ask"),
        (5, "2021-09-17", "Bid", "12.0", "bid_above_ask"),
    ]
    assert imported.dropped_rows == 2


def test_a_row_with_two_bad_cells_is_one_dropped_row(tmp_path: Path) -> None:
    path = _write(tmp_path, "bars.csv", "Date,Open,Close\n2020-01-02,1,1\n2020-01-03,-1,0\n")
    imported = read_bars_csv(path, symbol="X", drop_bad_rows=True)
    assert imported.dropped.select("line", "column", "reason").rows() == [
        (3, "Open", "negative"),
        (3, "Close", "not_positive"),
    ]
    assert imported.dropped_rows == 1
    assert imported.rows.get_column("date").to_list() == [date(2020, 1, 2)]


def test_duplicate_keys_drop_every_copy(tmp_path: Path) -> None:
    path = _write(tmp_path, "bars.csv", "Date,Close\n2020-01-02,1\n2020-01-03,2\n2020-01-02,3\n")
    imported = read_bars_csv(path, symbol="X", drop_bad_rows=True)
    assert imported.rows.get_column("close").to_list() == [2.0]
    assert imported.dropped.select("line", "column", "value").rows() == [
        (2, "symbol, Date", "X, 2020-01-02"),
        (4, "symbol, Date", "X, 2020-01-02"),
    ]


def test_a_whole_column_problem_is_refused_even_when_dropping_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, "bars.csv", "Date,Price\n2020-01-02,1\n")
    with pytest.raises(InvalidMarketDataError) as info:
        read_bars_csv(path, symbol="X", drop_bad_rows=True)
    assert info.value.failures.rows() == [(None, None, "close", None, "missing_column")]


def test_write_to_puts_rows_in_the_store_and_dropped_cells_beside_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "spy.csv", CROSSED_CHAIN)
    store = MarketDataStore(tmp_path / "market")
    imported = read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP, drop_bad_rows=True)
    quarantine = imported.write_to(store, now=NOW)
    assert quarantine == tmp_path / "market.quarantine" / "spy-20261206T213005Z.csv"
    assert_frame_equal(pl.read_csv(quarantine, schema=QUARANTINE_SCHEMA), imported.dropped)
    assert quarantine.read_text().splitlines() == [
        "line,date,column,value,reason",
        "3,2021-09-17,Bid,9.5,bid_above_ask",
        "5,2021-09-17,Bid,12.0,bid_above_ask",
    ]
    assert store.option_quote_dates("SPY") == [date(2021, 9, 17), date(2021, 9, 20)]
    assert store.option_quotes("SPY", date(2021, 9, 17)).height == 2
    # A second import of the same file in the same second keeps the first quarantine.
    again = imported.write_to(store, now=NOW)
    assert again == tmp_path / "market.quarantine" / "spy-20261206T213005Z-2.csv"
    assert [p.name for p in (tmp_path / "market").iterdir() if p.name[0] != "."] == ["options"]


def test_write_to_without_dropped_rows_writes_no_quarantine(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path / "market")
    assert read_bars_csv(YAHOO_RAW, symbol="SPY").write_to(store) is None
    assert store.symbols() == ["SPY"]
    assert not (tmp_path / "market.quarantine").exists()


def test_the_quarantine_file_name() -> None:
    store = Path("/data/market")
    assert quarantine_path(store, Path("x/UnderlyingOptionsEODCalcs_2021-09-17.zip"), NOW) == Path(
        "/data/market.quarantine/UnderlyingOptionsEODCalcs_2021-09-17-20261206T213005Z.csv"
    )


# lines -----------------------------------------------------------------------------------


def test_lines_count_the_header_and_blank_lines(tmp_path: Path) -> None:
    days = [date(2015, 1, 1) + timedelta(days=i) for i in range(2000)]
    rows = [f"{day},100" for day in days]
    rows[1999] = f"{days[1999]},0"
    path = _write(tmp_path, "bars.csv", "Date,Close\n" + "\n".join(rows) + "\n")
    with pytest.raises(InvalidMarketDataError, match=r"line 2001 \(2020-06-22\): Close=0.0"):
        read_bars_csv(path, symbol="X", calendar=None)
    with_blanks = _write(tmp_path, "blank.csv", "Date,Close\n2020-01-02,1\n\n,\n2020-01-03,0\n\n")
    with pytest.raises(InvalidMarketDataError) as info:
        read_bars_csv(with_blanks, symbol="X")
    assert info.value.failures.select("line", "date").rows() == [(5, "2020-01-03")]


def test_numbers_are_parsed_alike_when_another_cell_forces_a_text_read(tmp_path: Path) -> None:
    body = "Date,Open,Close,Volume\n2020-01-02, 1.5,+2e1,1000\n2020-01-03,.5,3.,7.0\n"
    clean = read_bars_csv(_write(tmp_path, "clean.csv", body), symbol="X")
    forced = read_bars_csv(
        _write(tmp_path, "forced.csv", body + "2020-01-06,x,1,1\n"), symbol="X", drop_bad_rows=True
    )
    assert forced.dropped.select("line", "column", "value").rows() == [(4, "Open", "x")]
    assert_frame_equal(forced.rows, clean.rows)
    assert clean.rows.select("open", "close", "volume").rows() == [
        (1.5, 20.0, 1000.0),
        (0.5, 3.0, 7.0),
    ]


# roots -----------------------------------------------------------------------------------


def test_roots_filter_a_generic_chain_by_its_root_column(tmp_path: Path) -> None:
    text = CROSSED_CHAIN.replace("9.50,9.40", "9.30,9.40").replace("12.0,11.5", "11.0,11.5")
    path = _write(tmp_path, "chain.csv", text.replace("-17,SPY,2021-11-19", "-17,SPYW,2021-11-19"))
    imported = read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP, roots=["SPYW"])
    assert imported.rows.get_column("expiry").to_list() == [date(2021, 11, 19)] * 2
    assert imported.notes == ("roots SPYW: 2 of 5 rows",)
    with pytest.raises(
        BadInputError, match=r"no row has root SPX \(roots in the file: SPY, SPYW\)"
    ):
        read_chain_csv(path, symbol="SPY", column_map=CHAIN_MAP, roots=["SPX"])
    mapped = _write(tmp_path, "mapped.csv", text.replace("Root", "Class"))
    renamed = read_chain_csv(mapped, symbol="SPY", column_map=CHAIN_MAP | {"Class": "root"})
    assert renamed.rows.height == 5
    no_root = _write(tmp_path, "plain.csv", "symbol,as_of_date,option_type,expiry,strike,bid,ask\n")
    with pytest.raises(InvalidMarketDataError, match="column root: missing_column"):
        read_chain_csv(no_root, roots=["SPX"])


# CBOE DataShop ---------------------------------------------------------------------------


def _zip(tmp_path: Path, *members: tuple[str, bytes]) -> Path:
    path = tmp_path / "UnderlyingOptionsEODCalcs_2020-01-02.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def test_a_datashop_zip_reads_as_its_csv(tmp_path: Path) -> None:
    path = _zip(tmp_path, ("UnderlyingOptionsEODCalcs_2020-01-02.csv", CBOE_CALCS.read_bytes()))
    assert_frame_equal(read_cboe_chain_csv(path).rows, read_cboe_chain_csv(CBOE_CALCS).rows)
    spx = read_cboe_chain_csv(path, roots=["SPX"])
    assert spx.rows.height == 15


def test_bad_cells_in_a_zip_name_the_member(tmp_path: Path) -> None:
    text = CBOE_CALCS.read_text().replace(",4.9000,12,5.1000,", ",5.9000,12,5.1000,", 1)
    path = _zip(tmp_path, ("day.csv", text.encode()))
    with pytest.raises(InvalidMarketDataError) as info:
        read_cboe_chain_csv(path)
    assert str(info.value).startswith(
        "CBOE option quotes from UnderlyingOptionsEODCalcs_2020-01-02.zip:day.csv: 1 bad cell(s)"
    )
    assert info.value.failures.row(0) == (2, "2020-01-02", "bid_1545", "5.9", "bid_above_ask")


def test_a_zip_of_several_files_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path, ("a.csv", b"x\n"), ("b.csv", b"y\n"))
    with pytest.raises(BadInputError, match=r"holding 2 files \(a.csv, b.csv\); a zip must hold"):
        read_cboe_chain_csv(path)


def test_the_quotes_product_without_calcs_leaves_greeks_null() -> None:
    quotes = read_cboe_chain_csv(CBOE_QUOTES).rows
    calcs = read_cboe_chain_csv(CBOE_CALCS).rows
    blank = ["implied_volatility", "delta", "underlying_close"]
    assert quotes.select(blank).null_count().row(0) == (21, 21, 21)
    assert_frame_equal(quotes.drop(blank), calcs.drop(blank))


def test_a_cboe_file_missing_a_core_column_is_refused(tmp_path: Path) -> None:
    frame = pl.read_csv(CBOE_QUOTES, infer_schema=False).drop("trade_volume", "root")
    frame.write_csv(path := tmp_path / "short.csv")
    with pytest.raises(InvalidMarketDataError) as info:
        read_cboe_chain_csv(path, roots=["SPX"])
    assert info.value.failures.get_column("column").to_list() == ["trade_volume", "root"]
    imported = read_cboe_chain_csv(path, column_map={"open_interest": "volume"})
    assert imported.rows.get_column("volume").to_list()[:2] == [1000, 1731]


def test_a_cboe_column_can_be_swapped_for_the_closing_snapshot() -> None:
    eod = read_cboe_chain_csv(CBOE_CALCS, column_map={"bid_eod": "bid", "ask_eod": "ask"})
    assert eod.rows.select("bid", "ask").row(0) == (4.0, 4.2)
    assert eod.columns["bid"] == "bid_eod"


# files that cannot be read ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "day.csv is empty: a CSV needs a header line and rows"),
        (b"Date,Close\n", "day.csv has a header but no rows"),
        (b"Date,Close\n2020-01-02,3,5\n", "day.csv cannot be read as CSV: found more fields"),
        (
            "Fälligkeit,Close\n".encode("latin-1"),
            r"day.csv is not UTF-8 text \(header 'F\ufffdlligkeit'\)",
        ),
        ("Date,Close,Name\n2020-01-02,1,Fällig\n".encode("latin-1"), "day.csv is not UTF-8 text"),
    ],
)
def test_unreadable_files_are_named_with_the_remedy(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "day.csv"
    path.write_bytes(content)
    with pytest.raises(BadInputError, match=message):
        read_bars_csv(path, symbol="X")


def test_a_gzipped_csv_reads_as_its_csv(tmp_path: Path) -> None:
    path = tmp_path / "spy.csv.gz"
    path.write_bytes(gzip.compress(YAHOO_RAW.read_bytes()))
    assert_frame_equal(
        read_bars_csv(path, symbol="SPY").rows, read_bars_csv(YAHOO_RAW, symbol="SPY").rows
    )
