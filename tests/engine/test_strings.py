"""``take_strings``: the engine's string gather must equal Polars' own, row for row."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeframe.engine._strings import _ROWS_PER_BLOCK, take_strings


@given(
    strings=st.lists(st.text(max_size=40), min_size=1, max_size=60),
    picks=st.lists(st.integers(min_value=0, max_value=10_000), max_size=200),
)
def test_take_strings_equals_polars_gather(strings: list[str], picks: list[int]) -> None:
    # Short strings live inside their 16-byte views, longer ones in shared data buffers.
    index = np.array([p % len(strings) for p in picks], dtype=np.int64)
    taken = take_strings(strings, index, name="ids")
    assert taken.name == "ids"
    assert taken.dtype == pl.String
    assert taken.to_list() == pl.Series(strings).gather(index).to_list()


def test_take_strings_of_a_sliced_series_reads_the_slice() -> None:
    base = pl.Series([f"a-long-position-id-{i:04d}" if i % 2 else str(i) for i in range(50)])
    window = base.slice(7, 20)
    index = np.array([19, 0, 5, 5, 12], dtype=np.int32)
    assert take_strings(window, index).to_list() == window.gather(index).to_list()


def test_take_strings_result_survives_its_source() -> None:
    strings = [f"template-{i}-with-a-long-slug" for i in range(1_000)]
    taken = take_strings(pl.Series(strings), np.arange(999, -1, -1))
    del strings
    assert taken[0] == "template-999-with-a-long-slug"
    assert taken.str.len_chars().sum() == sum(
        len(f"template-{i}-with-a-long-slug") for i in range(1_000)
    )


def test_empty_index_gives_an_empty_string_series() -> None:
    taken = take_strings(["x", "y"], np.empty(0, dtype=np.int64), name="leg_id")
    assert taken.dtype == pl.String
    assert taken.name == "leg_id"
    assert taken.len() == 0
    assert take_strings([], np.empty(0, dtype=np.int64)).len() == 0


@pytest.mark.parametrize(("strings", "index"), [(["a", "b"], [2]), ([], [0])])
def test_an_index_out_of_range_raises(strings: list[str], index: list[int]) -> None:
    with pytest.raises(IndexError):
        take_strings(strings, np.array(index, dtype=np.int64))


def test_nulls_are_refused() -> None:
    with pytest.raises(ValueError, match="without nulls"):
        take_strings(pl.Series(["a", None]), np.array([0]))


def test_a_take_larger_than_a_block_is_gathered_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks on a pool of two threads.
    monkeypatch.setattr("hedgeframe._blocks.thread_count", lambda: 2)
    strings = [f"position-{i}" if i % 3 else f"p{i}" for i in range(5_000)]
    index = np.random.default_rng(3).integers(0, len(strings), 2 * _ROWS_PER_BLOCK + 11)
    taken = take_strings(strings, index)
    assert taken.to_list() == pl.Series(strings).gather(index).to_list()
