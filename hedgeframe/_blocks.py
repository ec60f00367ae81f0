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

__all__ = ["for_each_block"]


def for_each_block(work: Callable[[int], None], starts: range) -> None:
    """Call ``work(start)`` for every block start, on up to one thread per core.

    The pool lives for one call, so nothing is left behind across a ``fork``. A block's
    exception is raised here.
    """
    workers = min(os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for start in starts:
            work(start)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(work, starts):
            pass
