"""Array work split into blocks that run on every core.

numpy and scipy release the GIL inside their loops, so blocks of array work run in
parallel on threads: two cores price a million Black-Scholes pairs in about 55 % of one
core's time. Used where blocks write disjoint slices of preallocated outputs, so results
do not depend on the order blocks finish in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["for_each_block", "usable_cores"]


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the OS has one.

    A process pinned to one core (``taskset -c 0``, or a worker of a parallel sweep)
    therefore runs its blocks on a single thread.
    """
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def for_each_block(work: Callable[[int], None], starts: range) -> None:
    """Call ``work(start)`` for every block start, on up to one thread per core.

    The pool lives for one call, so nothing is left behind across a ``fork``. A block's
    exception is raised here.
    """
    workers = min(usable_cores(), len(starts))
    if workers <= 1:
        for start in starts:
            work(start)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(work, starts):
            pass
