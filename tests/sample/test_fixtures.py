"""The hand-made markets of ``fixtures/`` load cleanly and are what their README says."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import fixture_markets
import numpy as np
import polars as pl
import pytest
from fixture_markets import (
    CHAIN_UNDERLYING,
    FIXTURE_SYMBOL,
    FIXTURES,
    MARKETS,
    MISSING_QUOTE,
    fixture_store,
    load_fixture_bars,
    load_fixture_chain,
)

from hedgeframe.data import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA, get_calendar

FIRST, LAST = date(2024, 3, 1), date(2024, 4, 15)
GAP = date(2024, 3, 15)
CHAIN_DAYS = [date(2024, 3, d) for d in (1, 4, 5, 6, 7, 8)]


def _closes(name: str) -> list[float]:
    return load_fixture_bars(name)["close"].to_list()


def test_fixture_helpers_import_from_the_tests_folder() -> None:
    # No tests/__init__.py: in pytest's default "prepend" import mode the folder of
    # tests/conftest.py (tests/) goes on sys.path, so `from fixture_markets import ...`
    # works from any folder below it.
    assert Path(fixture_markets.__file__).resolve() == Path(__file__).parents[1] / (
        "fixture_markets.py"
    )


def test_every_fixture_file_is_documented_and_every_documented_file_exists() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in FIXTURES.glob("*.csv"))
    assert files == sorted([*(f"{name}.csv" for name in MARKETS), "listed_chain.csv"])
    for name in files:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", MARKETS)
def test_market_loads_into_a_store_and_reads_back(tmp_path: Path, name: str) -> None:
    bars = load_fixture_bars(name)
    assert bars.schema == UNDERLYING_BAR_SCHEMA
    store = fixture_store(tmp_path, name)
    stored = store.underlying_bars(FIXTURE_SYMBOL)
    assert stored.equals(bars)
    assert stored["source"].unique().to_list() == [f"fixture:{name}"]


@pytest.mark.parametrize("name", MARKETS)
def test_market_dates_are_xnys_sessions(name: str) -> None:
    sessions = get_calendar("XNYS").sessions_in_range(FIRST, LAST)
    days = load_fixture_bars(name)["date"].to_numpy().astype("datetime64[D]")
    expected = sessions[sessions != np.datetime64(GAP)] if name == "gap_day" else sessions
    assert sessions.size == 31
    np.testing.assert_array_equal(days, expected)


def test_monotonic_selloff_falls_by_one_every_session() -> None:
    closes = _closes("monotonic_selloff")
    assert closes == [100.0 - i for i in range(31)]
    assert all(b < a for a, b in itertools.pairwise(closes))


def test_v_shape_falls_to_70_then_recovers_to_100() -> None:
    bars = load_fixture_bars("v_shape")
    closes = bars["close"].to_list()
    bottom = closes.index(min(closes))
    assert (closes[0], min(closes), closes[-1]) == (100.0, 70.0, 100.0)
    assert bars["date"][bottom] == date(2024, 3, 22)
    assert all(b - a == -2.0 for a, b in itertools.pairwise(closes[: bottom + 1]))
    assert all(b - a == 2.0 for a, b in itertools.pairwise(closes[bottom:]))


def test_flat_is_100_every_session() -> None:
    assert _closes("flat") == [100.0] * 31


def test_gap_day_is_the_selloff_without_the_march_expiry_bar() -> None:
    gap = load_fixture_bars("gap_day")
    full = load_fixture_bars("monotonic_selloff")
    assert get_calendar("XNYS").is_session(GAP)
    assert GAP not in gap["date"].to_list()
    assert gap.drop("source").equals(full.filter(pl.col("date") != GAP).drop("source"))
    before = gap.filter(pl.col("date") < GAP)["close"][-1]
    assert before == 91.0


def test_two_markets_in_one_store_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="all trade as FIX"):
        fixture_store(tmp_path, "flat", "v_shape")


def test_unknown_market_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="monotonic_selloff"):
        load_fixture_bars("crash")


# --- the listed chain ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain() -> pl.DataFrame:
    return load_fixture_chain()


def test_chain_loads_into_a_store_with_its_underlying(tmp_path: Path, chain: pl.DataFrame) -> None:
    assert chain.schema == OPTION_QUOTE_SCHEMA
    store = fixture_store(tmp_path, chain=True)
    assert store.underlying_bars(FIXTURE_SYMBOL)["source"][0] == f"fixture:{CHAIN_UNDERLYING}"
    for day in CHAIN_DAYS:
        stored = store.option_quotes(FIXTURE_SYMBOL, day)
        expected = chain.filter(pl.col("as_of_date") == day)
        assert stored.height == expected.height
        key = ["option_type", "expiry", "strike"]
        assert stored.sort(key).equals(expected.sort(key))


def test_chain_covers_24_contracts_on_6_sessions_less_one(chain: pl.DataFrame) -> None:
    assert chain.height == 143
    assert sorted(chain["as_of_date"].unique().to_list()) == CHAIN_DAYS
    assert sorted(chain["expiry"].unique().to_list()) == [
        date(2024, 3, 15),
        date(2024, 4, 19),
        date(2024, 6, 21),
    ]
    assert sorted(chain["strike"].unique().to_list()) == [90.0, 95.0, 100.0, 105.0]


def test_exactly_the_documented_quote_is_missing(chain: pl.DataFrame) -> None:
    counts = chain.group_by("option_type", "expiry", "strike").agg(pl.len().alias("days"))
    assert counts.height == 24
    short = counts.filter(pl.col("days") < len(CHAIN_DAYS))
    assert short.rows(named=True) == [
        {
            "option_type": MISSING_QUOTE["option_type"],
            "expiry": date.fromisoformat(str(MISSING_QUOTE["expiry"])),
            "strike": MISSING_QUOTE["strike"],
            "days": 5,
        }
    ]
    contract = chain.filter(
        pl.col("option_type") == "put",
        pl.col("expiry") == date(2024, 4, 19),
        pl.col("strike") == 95.0,
    )
    missing_day = date.fromisoformat(str(MISSING_QUOTE["as_of_date"]))
    assert missing_day not in contract["as_of_date"].to_list()
    assert contract["mid"].to_list() == [2.75, 3.0, 3.25, 3.75, 4.0]


def test_chain_prices_follow_the_documented_rule(chain: pl.DataFrame) -> None:
    base = {date(2024, 3, 15): 2.0, date(2024, 4, 19): 4.0, date(2024, 6, 21): 6.0}
    for row in chain.iter_rows(named=True):
        spot, strike = row["underlying_close"], row["strike"]
        tv = max(base[row["expiry"]] - 0.25 * abs(strike - spot), 0.25)
        sign = 1.0 if row["option_type"] == "call" else -1.0
        assert row["mid"] == max(sign * (spot - strike), 0.0) + tv
        assert (row["bid"], row["ask"]) == (row["mid"] - 0.25, row["mid"] + 0.25)
        assert row["mid"] == (row["bid"] + row["ask"]) / 2


def test_chain_underlying_is_the_selloff_and_parity_holds(chain: pl.DataFrame) -> None:
    closes = load_fixture_bars(CHAIN_UNDERLYING).select("date", "close")
    joined = chain.join(closes, left_on="as_of_date", right_on="date")
    assert joined.height == chain.height
    assert (joined["underlying_close"] == joined["close"]).all()
    key = ["as_of_date", "expiry", "strike"]
    puts = chain.filter(pl.col("option_type") == "put").select(*key, put="mid")
    calls = chain.filter(pl.col("option_type") == "call").select(
        *key, "underlying_close", call="mid"
    )
    pairs = calls.join(puts, on=key)
    assert pairs.height == 71
    parity = pairs["call"] - pairs["put"] - (pairs["underlying_close"] - pairs["strike"])
    assert (parity == 0.0).all()
