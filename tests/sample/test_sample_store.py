"""The bundled sample store: contents, provenance, checksums and the rebuild script."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import numpy as np
import polars as pl
import pytest

from hedgeframe import sample as sample_module
from hedgeframe.data import UNDERLYING_BAR_SCHEMA, MarketDataStore, get_calendar
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.sample import (
    BUNDLED_STORE,
    SAMPLE_STORE_ENV,
    SAMPLE_SYMBOLS,
    sample_store,
    sample_store_path,
)

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "datasets"
CHECKSUMS = DATASETS / "checksums.sha256"
STORE = REPO / "hedgeframe" / "sample-store"

EXPECTED = {
    # symbol: (rows, first date, last date, source)
    "^GSPC": (5031, date(1999, 1, 4), date(2018, 12, 31), "sp500.csv.gz"),
    "^IXIC": (5031, date(1999, 1, 4), date(2018, 12, 31), "nasdaq.csv.gz"),
    "^VIX": (1259, date(2014, 1, 3), date(2019, 1, 3), "vix.csv.gz"),
}


@pytest.fixture(scope="module")
def store() -> MarketDataStore:
    return sample_store()


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", DATASETS / "build_sample.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_sample", module)
    spec.loader.exec_module(module)
    return module


def test_sample_store_is_the_package_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SAMPLE_STORE_ENV, raising=False)
    assert sample_store_path() == BUNDLED_STORE == STORE
    assert _build_script().STORE == STORE  # the rebuild writes where the package reads
    assert SAMPLE_SYMBOLS == ("^GSPC", "^IXIC", "^VIX")


@pytest.mark.parametrize("symbol", SAMPLE_SYMBOLS)
def test_rows_date_range_and_source(store: MarketDataStore, symbol: str) -> None:
    rows, first, last, file_name = EXPECTED[symbol]
    bars = store.underlying_bars(symbol)
    assert bars.schema == UNDERLYING_BAR_SCHEMA
    assert (bars.height, bars["date"].min(), bars["date"].max()) == (rows, first, last)
    assert bars["source"].unique().to_list() == [f"arch-package:{file_name} (Yahoo Finance)"]
    assert bars["date"].is_unique().all()


def test_store_lists_exactly_the_sample_symbols(store: MarketDataStore) -> None:
    assert store.symbols() == sorted(SAMPLE_SYMBOLS)
    assert store.option_symbols() == []


def test_sp500_sessions_are_the_xnys_sessions(store: MarketDataStore) -> None:
    days = store.underlying_bars("^GSPC")["date"].to_numpy().astype("datetime64[D]")
    sessions = get_calendar("XNYS").sessions_in_range(date(1999, 1, 4), date(2018, 12, 31))
    assert sessions.size == 5031
    np.testing.assert_array_equal(days, sessions)


def test_nasdaq_has_the_same_sessions_and_full_ohlcv(store: MarketDataStore) -> None:
    gspc = store.underlying_bars("^GSPC")
    ixic = store.underlying_bars("^IXIC")
    assert ixic["date"].equals(gspc["date"])
    for bars in (gspc, ixic):
        assert bars.null_count().sum_horizontal().item() == 0
        assert (bars["low"] <= bars["close"]).all()
        assert (bars["close"] <= bars["high"]).all()


def test_vix_has_closes_only_on_sessions(store: MarketDataStore) -> None:
    vix = store.underlying_bars("^VIX")
    assert vix.select("open", "high", "low", "volume").null_count().row(0) == (1259,) * 4
    days = vix["date"].to_numpy().astype("datetime64[D]")
    assert np.isin(days, get_calendar("XNYS").sessions).all()
    assert vix["close"].min() == pytest.approx(9.14)
    assert vix["close"].max() == pytest.approx(40.74)


def test_closes_equal_what_the_arch_loader_returns(store: MarketDataStore) -> None:
    import arch.data.sp500

    loaded = arch.data.sp500.load()
    gspc = store.underlying_bars("^GSPC")
    np.testing.assert_array_equal(gspc["close"].to_numpy(), loaded["Close"].to_numpy())
    # An index has no dividends to adjust for: the file's Adj Close equals Close.
    np.testing.assert_array_equal(loaded["Adj Close"].to_numpy(), loaded["Close"].to_numpy())


def _checksum_lines() -> list[tuple[str, str]]:
    lines = CHECKSUMS.read_text(encoding="utf-8").splitlines()
    return [(line[:64], line[66:]) for line in lines]


def test_checksums_match_every_committed_parquet_file() -> None:
    listed = _checksum_lines()
    on_disk = sorted(
        path.relative_to(REPO).as_posix() for path in STORE.rglob("*") if path.is_file()
    )
    assert sorted(name for _, name in listed) == on_disk
    assert len(listed) == 20 + 20 + 6
    for digest, name in listed:
        assert hashlib.sha256((REPO / name).read_bytes()).hexdigest() == digest, name


def test_duckdb_reads_the_whole_store_with_one_glob() -> None:
    glob = (STORE / "underlying" / "*" / "*" / "*.parquet").as_posix()
    relation = duckdb.sql(
        f"SELECT symbol, count(*) FROM read_parquet('{glob}', hive_partitioning = true) "
        "GROUP BY symbol ORDER BY symbol"
    )
    assert relation is not None
    rows = relation.fetchall()
    assert rows == [("^GSPC", 5031), ("^IXIC", 5031), ("^VIX", 1259)]


def test_rebuild_gives_the_same_rows(tmp_path: Path) -> None:
    build = _build_script()
    rebuilt_at = tmp_path / "hedgeframe" / "sample-store"
    counts = build.build(rebuilt_at, tmp_path / "checksums.sha256", base=tmp_path)
    assert counts == {symbol: rows for symbol, (rows, *_) in EXPECTED.items()}
    rebuilt = MarketDataStore(rebuilt_at)
    for symbol in SAMPLE_SYMBOLS:
        assert rebuilt.underlying_bars(symbol).equals(sample_store().underlying_bars(symbol))
    names = [line[66:] for line in (tmp_path / "checksums.sha256").read_text().splitlines()]
    assert names == [name for _, name in _checksum_lines()]
    assert not list(rebuilt_at.glob("*.lock"))


def test_env_var_points_at_another_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = MarketDataStore(tmp_path / "other")
    other.write_underlying_bars(
        pl.DataFrame({"symbol": ["X"], "date": [date(2020, 1, 2)], "close": [1.0]})
    )
    monkeypatch.setenv(SAMPLE_STORE_ENV, str(tmp_path / "other"))
    assert sample_store().symbols() == ["X"]


def test_a_missing_env_store_names_the_folder_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SAMPLE_STORE_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(MissingMarketDataError, match=rf"\${SAMPLE_STORE_ENV}") as err:
        sample_store()
    assert str(tmp_path / "nowhere") in str(err.value)


def test_a_missing_bundled_store_says_how_to_get_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SAMPLE_STORE_ENV, raising=False)
    monkeypatch.setattr(sample_module, "BUNDLED_STORE", tmp_path / "gone")
    with pytest.raises(MissingMarketDataError, match=r"reinstall hedgeframe") as err:
        sample_store()
    assert "python datasets/build_sample.py" in str(err.value)
    assert str(tmp_path / "gone") in str(err.value)
