"""``for_each_block``: every block runs once, on a pool when there are cores for it."""

from __future__ import annotations

import os
import threading

import pytest

from hedgeframe._blocks import for_each_block, usable_cores


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_every_block_runs_once(cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hedgeframe._blocks.usable_cores", lambda: cores)
    seen: list[int] = []
    threads: set[int] = set()

    def work(start: int) -> None:
        seen.append(start)
        threads.add(threading.get_ident())

    for_each_block(work, range(0, 100, 10))
    assert sorted(seen) == list(range(0, 100, 10))
    if cores == 1:
        assert threads == {threading.get_ident()}  # no pool at all
    else:
        assert threading.get_ident() not in threads


def test_a_failing_block_raises_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hedgeframe._blocks.usable_cores", lambda: 2)

    def work(start: int) -> None:
        if start == 2:
            msg = "block 2 failed"
            raise ValueError(msg)

    with pytest.raises(ValueError, match="block 2 failed"):
        for_each_block(work, range(4))


def test_usable_cores_follow_the_process_affinity() -> None:
    cores = usable_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))
