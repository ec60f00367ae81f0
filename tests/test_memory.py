"""The engine's array pool: freed blocks are reused, live ones never are; and glibc's tuning.

Importing hedgeframe changes nothing process-wide: no pool (and no fork hook) until an array
is lent, and no malloc tuning until ``tune_malloc()`` is called (the command line does).
"""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
from collections.abc import Iterator

import numpy as np
import polars as pl
import pytest

import hedgeframe as hf
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


def test_release_reports_the_bytes_it_unmapped() -> None:
    first = memory.empty(LARGE)
    del first
    kept = memory.free_bytes()
    assert kept >= LARGE * 8
    assert hf.release_memory() == kept
    assert memory.free_bytes() == 0
    assert hf.release_memory() == 0


def _python(code: str, **env: str) -> str:
    ran = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return ran.stdout.strip()


def test_importing_hedgeframe_makes_no_pool() -> None:
    # The pool registers a fork hook when it is made: only an array it lends makes it.
    code = (
        "import hedgeframe, hedgeframe._memory as m; print(m._POOL is None); "
        "m.empty(1 << 20); print(m._POOL is None)"
    )
    assert _python(code).split() == ["True", "False"]


# -- glibc's malloc tuning ------------------------------------------------------------------

GLIBC = platform.libc_ver()[0] == "glibc"

CHURN = """
import resource, sys
import numpy as np
import hedgeframe

tuned = hedgeframe.tune_malloc() if sys.argv[1:] == ["tune"] else None

def churn():
    arrays = [np.ones(1 << 20) for _ in range(4)]  # 4 x 8 MiB at once, then freed
    return sum(float(a[-1]) for a in arrays)

churn()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    churn()
print(tuned, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _churn(*argv: str, **env: str) -> tuple[str, int]:
    ran = subprocess.run(
        [sys.executable, "-c", CHURN, *argv],
        env={**os.environ, "HEDGEFRAME_MALLOC_TUNING": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    tuned, page_faults = ran.stdout.split()
    return tuned, int(page_faults)


@pytest.mark.skipif(not GLIBC, reason="mallopt's thresholds exist only in glibc")
def test_tuning_keeps_freed_mid_sized_arrays_and_importing_does_not_tune() -> None:
    """Arrays under 32 MiB that numpy makes and frees again and again (a snapshot read's
    columns and masks) are faulted in afresh each time unless glibc is tuned. The three
    processes run the same churn of 8 MiB arrays: after a plain import, after
    ``tune_malloc()``, and after ``tune_malloc()`` switched off by the environment."""
    imported = _churn()
    tuned = _churn("tune")
    switched_off = _churn("tune", HEDGEFRAME_MALLOC_TUNING="0")
    assert (imported[0], tuned[0], switched_off[0]) == ("None", "True", "False")
    # Seen on the project machine: 10,105 page faults untuned, 0 tuned (of 40,960 pages).
    assert tuned[1] * 4 < min(imported[1], switched_off[1]), (imported, tuned, switched_off)


class _FakeLibc:
    """A C library as ctypes shows it: glibc has ``gnu_get_libc_version``, others not."""

    def __init__(self, *, glibc: bool) -> None:
        self.calls: list[tuple[int, int]] = []
        if glibc:
            self.gnu_get_libc_version = lambda: b"2.36"

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


@pytest.mark.parametrize(
    ("glibc", "switch", "tuned", "calls"),
    [
        pytest.param(True, "1", True, 2, id="glibc"),
        pytest.param(True, "0", False, 0, id="switched-off"),
        pytest.param(False, "1", False, 0, id="another-libc"),
    ],
)
def test_tune_malloc_sets_glibc_only_and_obeys_the_switch(
    monkeypatch: pytest.MonkeyPatch, *, glibc: bool, switch: str, tuned: bool, calls: int
) -> None:
    libc = _FakeLibc(glibc=glibc)
    monkeypatch.setattr("hedgeframe._memory.ctypes.CDLL", lambda _name: libc)
    monkeypatch.setenv("HEDGEFRAME_MALLOC_TUNING", switch)
    assert hf.tune_malloc() is tuned
    assert len(libc.calls) == calls
    if calls:
        assert dict(libc.calls) == {
            -3: memory.MALLOC_MMAP_THRESHOLD,
            -1: memory.MALLOC_TRIM_THRESHOLD,
        }


def test_the_command_line_entry_point_tunes_before_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hedgeframe.cli import _main

    order: list[str] = []

    def tune() -> bool:
        order.append("tune")
        return True

    def run() -> int:
        order.append("main")
        return 0

    monkeypatch.setattr(_main, "tune_malloc", tune)
    monkeypatch.setattr(_main, "main", run)
    with pytest.raises(SystemExit) as exited:
        _main.console_main()
    assert exited.value.code == 0
    assert order == ["tune", "main"]
