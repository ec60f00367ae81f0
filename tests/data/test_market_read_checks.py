"""Read-time row checks of the store: the validation rules, applied to files edited by hand.

The store refuses, on every read, rows it never writes (``docs/reliability.md``). The rules
are validation's (``hedgeframe.data._validation``): written once, evaluated as Polars masks
when a frame is written and on numpy arrays when a file is read; these tests hold the two
to the same rows, and check the key order and repeated keys of hand-edited files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_frames import make_quotes
from polars.testing import assert_frame_equal

from hedgeframe.data import OPTION_QUOTE_SCHEMA, MarketDataStore
from hedgeframe.data._validation import (
    BAR_RULES,
    QUOTE_RULES,
    QUOTES,
    ColumnArrays,
    RowRule,
    _coerced_cells,
    _described,
    _duplicated,
    screen,
)
from hedgeframe.errors import CorruptFileError

DAY = date(2020, 1, 2)
MONTH_FILE = "options/symbol=^SPX/year=2020/month=01/part-0.parquet"
PRICED = ("as_of_date", "option_type", "expiry", "strike", "bid", "ask", "mid")
"""The columns the snapshot provider reads."""


def _store(tmp_path: Path) -> tuple[MarketDataStore, Path]:
    store = MarketDataStore(tmp_path)
    store.write_option_quotes(
        pl.concat([make_quotes("^SPX", DAY), make_quotes("^SPX", DAY + timedelta(days=1))])
    )
    return store, tmp_path / MONTH_FILE


def _edit(path: Path, frame: pl.DataFrame) -> None:
    """Rewrite a partition with plain Polars, as another tool would (no checks)."""
    frame.write_parquet(path)


def _reads(store: MarketDataStore) -> dict[str, Callable[[], object]]:
    january = ("^SPX", date(2020, 1, 1), date(2020, 1, 31))
    return {
        "option_quotes": lambda: store.option_quotes("^SPX", DAY),
        "option_quotes_between": lambda: store.option_quotes_between(*january),
        "option_quote_arrays, priced columns": lambda: store.option_quote_arrays(*january, PRICED),
    }


@pytest.mark.parametrize("where", ["adjacent", "at the end"])
def test_a_repeated_key_in_a_hand_edited_file_is_refused(tmp_path: Path, where: str) -> None:
    store, path = _store(tmp_path)
    rows = pl.read_parquet(path)
    copy = rows.slice(3, 1).with_columns(bid=pl.col("bid") + 0.01)  # same key, other prices
    edited = (
        pl.concat([rows.head(4), copy, rows.slice(4)])
        if where == "adjacent"
        else pl.concat([rows, copy])
    )
    _edit(path, edited)
    for name, read in _reads(store).items():
        with pytest.raises(CorruptFileError, match="duplicate_key") as refused:
            read()
        assert refused.value.path == path, name
    with pytest.raises(CorruptFileError, match="duplicate_key"):
        store.write_option_quotes(make_quotes("^SPX", DAY + timedelta(days=2)))


def test_a_hand_edited_file_out_of_order_is_read_in_order(tmp_path: Path) -> None:
    store, path = _store(tmp_path)
    stored = store.option_quotes_between("^SPX", date(2020, 1, 1), date(2020, 1, 31))
    _edit(path, pl.read_parquet(path).reverse())
    assert_frame_equal(
        store.option_quotes_between("^SPX", date(2020, 1, 1), date(2020, 1, 31)), stored
    )
    day = store.option_quotes("^SPX", DAY)
    assert_frame_equal(day, stored.filter(pl.col("as_of_date") == DAY))
    arrays = store.option_quote_arrays("^SPX", date(2020, 1, 1), date(2020, 1, 31))
    assert_frame_equal(arrays.frame, stored)
    assert (np.diff(arrays.values("as_of_date")) >= 0).all()


def test_a_read_checks_the_rules_of_the_columns_it_reads(tmp_path: Path) -> None:
    store, path = _store(tmp_path)
    _edit(path, pl.read_parquet(path).with_columns(delta=pl.lit(3.0)))
    with pytest.raises(CorruptFileError, match=r"delta=3\.0 \(bad_value\)"):
        store.option_quotes_between("^SPX", date(2020, 1, 1), date(2020, 1, 31))
    read = store.option_quote_arrays("^SPX", date(2020, 1, 1), date(2020, 1, 31), PRICED)
    assert read.frame.columns == list(PRICED)  # delta was not read, so not checked
    crossed = pl.read_parquet(path).with_columns(bid=pl.col("ask") + 1.0)
    _edit(path, crossed.with_columns(delta=pl.lit(0.5)))
    with pytest.raises(CorruptFileError, match=r"row 0 has bid=.* \(bid_above_ask\)") as refused:
        store.option_quote_arrays("^SPX", date(2020, 1, 1), date(2020, 1, 31), PRICED)
    assert refused.value.path == path


def test_a_read_of_an_unknown_column_names_it(tmp_path: Path) -> None:
    store, _ = _store(tmp_path)
    with pytest.raises(ValueError, match=r"no column 'nope' in the store's tables; .*'mid'"):
        store.option_quote_arrays("^SPX", date(2020, 1, 1), date(2020, 1, 31), ["mid", "nope"])


def test_the_arrays_of_a_read_are_its_frame_as_numpy(tmp_path: Path) -> None:
    store, _ = _store(tmp_path)
    read = store.option_quote_arrays("^SPX", date(2020, 1, 1), date(2020, 1, 31))
    frame = read.frame
    assert frame.height == 24
    for name in ("strike", "bid", "ask", "mid", "open_interest"):
        np.testing.assert_array_equal(read.values(name), frame.get_column(name).to_numpy())
    days = frame.get_column("as_of_date").to_numpy().astype("datetime64[D]").view(np.int64)
    np.testing.assert_array_equal(read.values("as_of_date"), days)
    is_call = (frame.get_column("option_type") == "call").to_numpy()
    np.testing.assert_array_equal(read.equals("option_type", "call"), is_call)


# the two evaluations of one rule ---------------------------------------------------------

_NUMBERS = st.sampled_from([0.0, -0.5, 0.5, 1.0, 2.5, 100.0, float("inf"), -float("inf")])
_TEXT = st.sampled_from(["", "put", "call", "straddle", "x" * 60])


@st.composite
def _odd_quotes(draw: st.DrawFn, *, nan: bool) -> pl.DataFrame:
    """Quote rows with odd cells of every kind the rules look at (nulls included)."""
    n = draw(st.integers(1, 12))
    numbers = _NUMBERS | st.just(float("nan")) if nan else _NUMBERS

    def column(values: st.SearchStrategy[object]) -> list[object]:
        return draw(st.lists(st.none() | values, min_size=n, max_size=n))

    days = st.dates(date(998, 1, 1), date(2030, 1, 1))
    return pl.DataFrame(
        {
            "symbol": column(_TEXT),
            "as_of_date": column(days),
            "option_type": column(_TEXT),
            "expiry": column(days),
            **{
                name: column(numbers)
                for name in ("strike", "bid", "ask", "mid", "implied_volatility", "delta")
            },
            "open_interest": column(st.integers(-2, 2)),
            "volume": column(st.integers(-2, 2)),
            "underlying_close": column(numbers),
            "source": column(_TEXT),
        },
        schema=OPTION_QUOTE_SCHEMA,
    )


def _polars_masks(frame: pl.DataFrame, rules: tuple[RowRule, ...]) -> np.ndarray:
    masks = [rule.mask(pl.col).fill_null(value=False).alias(str(i)) for i, rule in enumerate(rules)]
    return frame.select(masks).to_numpy().T.astype(bool)


def _numpy_masks(frame: pl.DataFrame, rules: tuple[RowRule, ...]) -> np.ndarray:
    columns = ColumnArrays(frame)
    return np.array([rule.broken(columns) for rule in rules])


@settings(max_examples=60)
@given(frame=_odd_quotes(nan=False))
def test_each_rule_flags_the_same_cells_in_polars_and_numpy(frame: pl.DataFrame) -> None:
    np.testing.assert_array_equal(
        _numpy_masks(frame, QUOTE_RULES), _polars_masks(frame, QUOTE_RULES)
    )


@settings(max_examples=60)
@given(frame=_odd_quotes(nan=True))
def test_with_nan_cells_the_same_rows_break_a_rule(frame: pl.DataFrame) -> None:
    """NaN compares differently in Polars and numpy; a row holding one is bad in both."""
    bad_rows = _numpy_masks(frame, QUOTE_RULES).any(axis=0)
    np.testing.assert_array_equal(bad_rows, _polars_masks(frame, QUOTE_RULES).any(axis=0))


def test_bar_rules_flag_the_same_cells_in_polars_and_numpy() -> None:
    frame = pl.DataFrame(
        {
            "symbol": ["A", "", None, "B" * 51, "C"],
            "date": [date(2020, 1, 2), None, date(999, 1, 1), date(2020, 1, 3), date(2020, 1, 6)],
            "open": [1.0, -1.0, None, float("inf"), 0.0],
            "high": [1.0, 2.0, 3.0, None, -0.1],
            "low": [1.0, 2.0, 3.0, 4.0, 5.0],
            "close": [1.0, 0.0, -1.0, None, float("inf")],
            "volume": [0.0, 1.0, -5.0, None, 2.0],
            "source": ["x", "x", "", None, "x"],
        }
    )
    numpy_masks = _numpy_masks(frame, BAR_RULES)
    np.testing.assert_array_equal(numpy_masks, _polars_masks(frame, BAR_RULES))
    assert numpy_masks.any(axis=0).tolist() == [False, True, True, True, True]


@settings(max_examples=60)
@given(odd=_odd_quotes(nan=True))
def test_screening_describes_every_bad_cell_though_it_looks_at_bad_rows_only(
    odd: pl.DataFrame,
) -> None:
    """``screen`` finds bad rows on numpy and describes only those; describing every row
    with the Polars masks must give the same failures, and the valid rows are the rest."""
    frame = pl.concat([make_quotes("^SPX", DAY), odd])
    screened = screen(frame, QUOTES, what="quotes")
    cells = _coerced_cells(frame, QUOTES, parse_strings=False, date_format="%Y-%m-%d")
    values = pl.DataFrame(list(cells.values.values()))
    every_row = np.ones(frame.height, dtype=bool)
    described = _described(frame, QUOTES, cells, _duplicated(values, QUOTES.key), every_row)
    assert_frame_equal(screened.failures, described)
    bad = described.get_column("row").unique().to_list()
    expected = values.filter(~pl.int_range(pl.len()).is_in(bad))
    assert_frame_equal(screened.valid, QUOTES.finish(expected).cast(OPTION_QUOTE_SCHEMA))
    assert screened.valid.height >= make_quotes("^SPX", DAY).height - odd.height
