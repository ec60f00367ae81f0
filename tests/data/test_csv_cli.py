"""``hedgeframe data import-bars`` and ``import-chain`` with the options real files need."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from market_frames import RECORDED

from hedgeframe.data import MarketDataStore

Run = Callable[..., tuple[int, str, str]]
"""The ``cli`` fixture (tests/conftest.py): exit code, stdout, stderr."""

CHAIN = (
    "Date,Root,Expiration,Type,Strike,Bid,Ask\n"
    "2021-09-17,SPY,2021-10-15,P,400,1.10,1.20\n"
    "2021-09-17,SPY,2021-10-15,C,400,9.50,9.40\n"
    "2021-09-17,SPYW,2021-11-19,P,400,3.00,3.10\n"
    "2021-09-20,SPY,2021-10-15,P,400,1.50,1.60\n"
)
CHAIN_MAPS = ("--map", "Date=as_of_date", "--map", "Expiration=expiry", "--map", "Type=option_type")


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: what a refused import must not change."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _ok(cli: Run, *argv: str) -> list[str]:
    """Run a ``hedgeframe data`` command that must succeed; return its output lines."""
    code, out, err = cli("data", *argv)
    assert code == 0, err
    return out.splitlines()


@pytest.fixture
def store(tmp_path: Path, cli: Run) -> Path:
    """A store that already holds SPY bars."""
    root = tmp_path / "market"
    _ok(
        cli,
        "import-bars",
        str(RECORDED / "yfinance_spy_raw.csv"),
        "--symbol",
        "SPY",
        "--store",
        str(root),
    )
    return root


def test_import_bars_takes_the_adjusted_close_and_says_which(tmp_path: Path, cli: Run) -> None:
    root = tmp_path / "market"
    lines = _ok(
        cli, "import-bars", str(RECORDED / "yfinance_spy_raw.csv"), "--symbol", "SPY",
        "--store", str(root), "--close", "adjusted",
    )  # fmt: skip
    assert lines == [
        f"SPY: 5 bars 2020-01-02..2020-01-08 (csv) -> {root}",
        "close: 'Adj Close' (adjusted); the file also has 'Close' (close='raw', --close raw)",
    ]
    bars = MarketDataStore(root).underlying_bars("SPY")
    assert bars.item(0, "close") == pytest.approx(301.0037536621094)


def test_import_bars_with_a_map_and_a_date_format(tmp_path: Path, cli: Run) -> None:
    path = tmp_path / "broker.csv"
    path.write_text("Trade Date;Last\n02.01.2020;12.47\n03.01.2020;14.02\n".replace(";", ","))
    root = tmp_path / "market"
    lines = _ok(
        cli, "import-bars", str(path), "--symbol", "^VIX", "--store", str(root),
        "--map", "Trade Date=date", "--map", "Last=close", "--date-format", "%d.%m.%Y",
    )  # fmt: skip
    assert lines[0].startswith("^VIX: 2 bars 2020-01-02..2020-01-03 (csv)")
    assert MarketDataStore(root).underlying_bars("^VIX").get_column("close").to_list() == [
        12.47,
        14.02,
    ]


def test_ambiguous_dates_exit_2_and_change_nothing(store: Path, tmp_path: Path, cli: Run) -> None:
    path = tmp_path / "broker.csv"
    path.write_text("Date,Close\n01/02/2020,324.87\n01/03/2020,322.41\n")
    before = _files(tmp_path)
    code, out, err = cli("data", "import-bars", str(path), "--symbol", "SPY", "--store", str(store))
    assert code == 2
    assert out == ""
    assert err.startswith("error: broker.csv: cannot tell day from month in the dates")
    assert "--date-format %m/%d/%Y for month first" in err
    assert _files(tmp_path) == before


def test_non_sessions_are_printed_as_warnings(tmp_path: Path, cli: Run) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("Date,Close\n2020-07-02,1\n2020-07-04,2\n")
    lines = _ok(cli, "import-bars", str(path), "--symbol", "X", "--store", str(tmp_path / "market"))
    assert lines[1] == (
        "warning: bars.csv: 1 row(s) on 1 day(s) that are not XNYS sessions: 2020-07-04 "
        "(Sat, line 3); check the dates (a wrong day/month order puts rows on weekends)"
    )
    assert MarketDataStore(tmp_path / "market").underlying_bars("X").height == 2


def test_bad_rows_exit_2_naming_lines_and_change_nothing(
    store: Path, tmp_path: Path, cli: Run
) -> None:
    path = tmp_path / "spy.csv"
    path.write_text(CHAIN)
    before = _files(tmp_path)
    code, _, err = cli(
        "data", "import-chain", str(path), "--symbol", "SPY", "--store", str(store), *CHAIN_MAPS
    )
    assert code == 2
    assert "line 3 (2021-09-17): Bid=9.5 (bid_above_ask)" in err
    assert "--drop-bad-rows" in err
    assert _files(tmp_path) == before


def test_drop_bad_rows_imports_the_rest_and_quarantines_the_bad(
    store: Path, tmp_path: Path, cli: Run
) -> None:
    path = tmp_path / "spy.csv"
    path.write_text(CHAIN)
    lines = _ok(
        cli, "import-chain", str(path), "--symbol", "SPY", "--store", str(store), *CHAIN_MAPS,
        "--drop-bad-rows",
    )  # fmt: skip
    assert lines[0] == f"SPY: 3 quotes on 2 day(s) 2021-09-17..2021-09-20 -> {store}"
    (quarantine,) = (tmp_path / "market.quarantine").iterdir()
    assert lines[1] == f"dropped 1 row(s) (bid_above_ask 1) -> {quarantine}"
    assert quarantine.name.startswith("spy-")
    assert quarantine.read_text().splitlines() == [
        "line,date,column,value,reason",
        "3,2021-09-17,Bid,9.5,bid_above_ask",
    ]
    assert MarketDataStore(store).option_quotes("SPY", date(2021, 9, 17)).height == 2


def test_roots_filter_a_generic_chain(store: Path, tmp_path: Path, cli: Run) -> None:
    path = tmp_path / "spy.csv"
    path.write_text(CHAIN.replace("9.50,9.40", "9.30,9.40"))
    lines = _ok(
        cli, "import-chain", str(path), "--symbol", "SPY", "--store", str(store), *CHAIN_MAPS,
        "--roots", "SPYW",
    )  # fmt: skip
    assert lines[1] == "roots SPYW: 1 of 4 rows"
    assert MarketDataStore(store).option_quote_dates("SPY") == [date(2021, 9, 17)]


def test_a_datashop_zip_imports_with_roots(tmp_path: Path, cli: Run) -> None:
    path = tmp_path / "UnderlyingOptionsEODCalcs_2020-01-02.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(RECORDED / "cboe_eod_sample.csv", "UnderlyingOptionsEODCalcs_2020-01-02.csv")
    root = tmp_path / "market"
    lines = _ok(
        cli, "import-chain", str(path), "--format", "cboe", "--roots", "SPX, SPXW",
        "--store", str(root),
    )  # fmt: skip
    assert lines == [
        f"^SPX: 21 quotes on 3 day(s) 2020-01-02..2020-01-06 -> {root}",
        "roots SPX, SPXW: 21 of 21 rows",
    ]


def test_the_datashop_quotes_product_imports_without_greeks(tmp_path: Path, cli: Run) -> None:
    root = tmp_path / "market"
    _ok(
        cli, "import-chain", str(RECORDED / "cboe_eod_quotes_sample.csv"), "--format", "cboe",
        "--store", str(root),
    )  # fmt: skip
    quotes = MarketDataStore(root).option_quotes("^SPX", date(2020, 1, 2))
    assert quotes.height == 7
    assert quotes.get_column("implied_volatility").null_count() == 7
    assert quotes.filter(pl.col("strike") == 3200.0).item(0, "bid") == 4.9


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--map", "close"), "--map expects FILE_COLUMN=STORE_COLUMN"),
        (("--map", "=close"), "--map expects FILE_COLUMN=STORE_COLUMN"),
        (("--roots", " , "), "--roots expects option roots separated by commas"),
        (("--calendar", "NOPE"), "unknown trading calendar 'NOPE'"),
    ],
)
def test_option_mistakes_exit_2(
    tmp_path: Path, cli: Run, option: tuple[str, str], message: str
) -> None:
    path = tmp_path / "spy.csv"
    path.write_text(CHAIN.replace("9.50,9.40", "9.30,9.40"))
    code, _, err = cli(
        "data", "import-chain", str(path), "--symbol", "SPY", "--store", str(tmp_path / "m"),
        *CHAIN_MAPS, *option,
    )  # fmt: skip
    assert code == 2
    assert message in err
    assert not (tmp_path / "m").exists()
