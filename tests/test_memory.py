"""The engine's array pool: freed blocks are reused, live ones never are; and glibc's tuning."""

from __future__ import annotations

import gc
import os
import resource
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest

from hedgeframe import _memory as memory

LARGE = memory.SMALLEST_POOLED_BYTES // 8 * 3  # float64 count: pooled


@pytest.fixture(autouse=True)
def empty_pool() -> Iterator[None]:
    gc.collect()
    memory.release()
    yield
    gc.collect()
    memory.release()


def address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def test_small_arrays_come_from_numpy_and_large_ones_from_the_pool() -> None:
    small = memory.empty(16)
    large = memory.empty(LARGE)
    assert small.flags.owndata
    assert not large.flags.owndata
    assert large.flags.writeable
    assert large.flags.c_contiguous


def test_full_zeros_and_shapes() -> None:
    grid = memory.full((3, LARGE // 3), -1, np.int32)
    assert grid.shape == (3, LARGE // 3)
    assert grid.dtype == np.int32
    assert (grid == -1).all()
    assert (memory.zeros(LARGE) == 0.0).all()
    assert memory.empty((0, 2), np.uint64).shape == (0, 2)


def test_a_freed_block_is_lent_again_and_the_pool_counts_it() -> None:
    first = memory.empty(LARGE)
    where = address(first)
    assert memory.free_bytes() == 0
    del first
    assert memory.free_bytes() >= LARGE * 8
    again = memory.zeros(LARGE)
    assert address(again) == where
    assert memory.free_bytes() == 0


def test_a_block_polars_still_uses_is_not_lent() -> None:
    values = memory.full(LARGE, 1.5)
    series = pl.Series("v", values)  # adopts the memory without a copy
    where = address(values)
    del values
    gc.collect()
    other = memory.full(LARGE, 9.0)
    assert address(other) != where
    assert series.to_numpy().tolist() == [1.5] * LARGE
    del series
    gc.collect()
    assert address(memory.empty(LARGE)) == where


def test_views_keep_their_block() -> None:
    values = memory.full((4, LARGE // 4), 2.0)
    row = values[1]
    where = address(values)
    del values
    assert address(memory.full(LARGE, 3.0)) != where
    assert (row == 2.0).all()


def test_free_blocks_beyond_the_cap_are_unmapped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "KEEP_FREED_BYTES", 3 << 21)
    arrays = [memory.empty(LARGE) for _ in range(4)]
    del arrays
    assert 0 < memory.free_bytes() <= 3 << 21


def test_a_forked_child_writes_to_its_own_copy() -> None:
    values = memory.full(LARGE, 1.0)
    pid = os.fork()
    if pid == 0:  # the child
        values.fill(7.0)
        os._exit(0 if (values == 7.0).all() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (values == 1.0).all()


REFAULTS = """
import resource
import numpy as np
import hedgeframe._memory

def churn():
    arrays = [np.ones(1 << 20) for _ in range(4)]  # 4 x 8 MiB at once, then freed
    return sum(float(a[-1]) for a in arrays)

churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    churn()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.parametrize("tuning", ["1", "0"])
def test_tuned_malloc_keeps_freed_mid_sized_arrays_instead_of_faulting_them_in_again(
    tuning: str,
) -> None:
    """Arrays under 32 MiB that numpy allocates and frees again and again (a snapshot
    read's columns and masks) stay in the heap only when glibc is tuned."""
    env = {**os.environ, "HEDGEFRAME_MALLOC_TUNING": tuning}
    ran = subprocess.run(
        [sys.executable, "-c", REFAULTS], env=env, capture_output=True, text=True, check=True
    )
    page_faults = int(ran.stdout)
    pages = 5 * 4 * (8 << 20) // resource.getpagesize()
    if tuning == "1":
        assert page_faults < pages // 100
    else:  # seen: about one array's pages a round
        assert page_faults > pages // 8
