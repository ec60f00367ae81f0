"""``for_each_block``: every block runs once, on a pool when there are cores for it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from hedgeframe._blocks import for_each_block, thread_count


@pytest.mark.parametrize("cores", [1, 2, 8])
def test_every_block_runs_once(cores: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hedgeframe._blocks.thread_count", lambda: cores)
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
    monkeypatch.setattr("hedgeframe._blocks.thread_count", lambda: 2)

    def work(start: int) -> None:
        if start == 2:
            msg = "block 2 failed"
            raise ValueError(msg)

    with pytest.raises(ValueError, match="block 2 failed"):
        for_each_block(work, range(4))


def test_thread_count_follows_the_process_affinity() -> None:
    cores = thread_count()
    assert 1 <= cores <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this OS")
def test_a_process_pinned_to_one_core_runs_one_thread() -> None:
    code = "import os, hedgeframe as hf; os.sched_setaffinity(0, {0}); print(hf.thread_count())"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "1"
