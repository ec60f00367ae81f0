"""Large engine arrays from a pool that keeps freed memory mapped for the next run.

numpy maps each array of more than 32 MiB afresh and unmaps it when it is freed, so
every run pays again to fault in and zero its memory. A B2 run with daily paths writes
about 1 GB of such arrays (its results and scratch); on the project machine refilling
that much fresh memory took 150-880 ms a run, and memory that stays mapped about 120 ms
(``benchmarks/README.md``, "Fresh memory (and the pool)"). Neither Arrow's mimalloc nor
its jemalloc pool kept it mapped between runs there, hence this pool.
Smaller arrays stay with numpy and glibc, which :func:`tune_malloc` tells to keep freed
memory.

Importing this module changes nothing in the process: the pool is made by the first
array it lends, and glibc is tuned only by an explicit :func:`tune_malloc` call (the
``hedgeframe`` command and the benchmark runner make it).

A lent block is exposed through a ctypes array that owns the only export of it: numpy,
Polars and Arrow keep that object alive as long as any of them uses the memory, and the
block returns to the pool only when it dies. The pool keeps at most
:data:`KEEP_FREED_BYTES` of free blocks (the oldest are unmapped first); arrays under
:data:`SMALLEST_POOLED_BYTES` come from numpy as usual.
"""

from __future__ import annotations

import ctypes
import math
import mmap
import os
import threading
import weakref
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "KEEP_FREED_BYTES",
    "SMALLEST_POOLED_BYTES",
    "empty",
    "free_bytes",
    "full",
    "release",
    "tune_malloc",
    "zeros",
]

KEEP_FREED_BYTES = 2 << 30
"""Free blocks kept for reuse at most (a B2 daily-path run lends about 1 GB)."""
SMALLEST_POOLED_BYTES = 1 << 20
"""Smaller arrays come from numpy: its allocator already reuses them."""
_PAGE = 1 << 21  # block sizes are whole huge pages, so near sizes share blocks

Shape = int | tuple[int, ...]


class _Pool:
    """Free anonymous mappings by age, lent out through ctypes arrays."""

    def __init__(self) -> None:
        # Re-entrant: a garbage collection inside a locked section can run a finalizer
        # that gives a block back on the same thread.
        self._lock = threading.RLock()
        self._free: list[mmap.mmap] = []  # oldest first
        os.register_at_fork(after_in_child=self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.RLock()  # another thread may have held it at the fork

    def lend(self, nbytes: int) -> ctypes.Array[ctypes.c_char]:
        """Return a writable ctypes array of ``nbytes`` over a pooled block."""
        block = self._take(nbytes)
        if block is None:
            # Private, so a forked child writing to its copy never touches ours.
            size = -(-nbytes // _PAGE) * _PAGE
            block = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
            if hasattr(mmap, "MADV_HUGEPAGE"):
                block.madvise(mmap.MADV_HUGEPAGE)  # as numpy does for large arrays
        lent = (ctypes.c_char * nbytes).from_buffer(block)
        weakref.finalize(lent, self._give_back, block).atexit = False
        return lent

    def _take(self, nbytes: int) -> mmap.mmap | None:
        """Take the smallest free block that fits ``nbytes`` without wasting half of it."""
        with self._lock:
            fits = [b for b in self._free if nbytes <= len(b) <= 2 * nbytes + _PAGE]
            if not fits:
                return None
            block = min(fits, key=len)
            self._free.remove(block)
            return block

    def _give_back(self, block: mmap.mmap) -> None:
        with self._lock:
            self._free.append(block)
            # Dropping the pool's reference unmaps a block once its last export is gone.
            while sum(len(b) for b in self._free) > KEEP_FREED_BYTES:
                self._free.pop(0)

    def release(self) -> int:
        with self._lock:
            released = sum(len(b) for b in self._free)
            self._free.clear()
            return released

    def free_bytes(self) -> int:
        with self._lock:
            return sum(len(b) for b in self._free)


_POOL: _Pool | None = None
_POOL_MADE = threading.Lock()


def _pool() -> _Pool:
    """Return the process's pool, made on first use (making it registers a fork hook)."""
    global _POOL
    if _POOL is None:
        with _POOL_MADE:
            if _POOL is None:
                _POOL = _Pool()
    return _POOL


MALLOC_MMAP_THRESHOLD = 32 << 20
"""Allocations below this size come from glibc's heap, not a fresh mapping each."""
MALLOC_TRIM_THRESHOLD = 256 << 20
"""Free memory at the heap's top that glibc keeps instead of giving it back to the OS."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # <malloc.h>


def tune_malloc() -> bool:
    """Keep glibc from mapping and unmapping each mid-sized array afresh; ``True`` if set.

    The arrays left to numpy (a snapshot read's columns and masks, a few MB each) are
    allocated and freed many times a run. By default glibc maps many of them afresh and
    gives freed heap memory back within megabytes, so each is faulted in and zeroed
    again (B3 ran about 15 % slower). The setting is process-wide (allocations under
    32 MiB come from the heap; up to 256 MiB of freed heap is kept), so the package never
    makes it on import: the ``hedgeframe`` command and the benchmark runner call this
    first thing, and a long notebook session may too. ``HEDGEFRAME_MALLOC_TUNING=0``
    turns it off; nothing is set on other C libraries (``False``).

    Returns
    -------
    bool
        Whether glibc accepted both settings.
    """
    if os.environ.get("HEDGEFRAME_MALLOC_TUNING", "1") == "0":
        return False
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version"):
        return False
    settings = (
        (_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD),
    )
    return all(libc.mallopt(option, value) == 1 for option, value in settings)


def empty(shape: Shape, dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
    """Return an uninitialized, writable, C-ordered array (pooled when large)."""
    kind = np.dtype(dtype)
    dims = (shape,) if isinstance(shape, int) else shape
    nbytes = math.prod(dims) * kind.itemsize
    if nbytes < SMALLEST_POOLED_BYTES:
        return np.empty(dims, dtype=kind)
    lent: Any = _pool().lend(nbytes)  # a ctypes array: numpy reads it as a buffer
    return np.frombuffer(lent, dtype=kind).reshape(dims)


def full(shape: Shape, value: object, dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
    """Return ``np.full(shape, value, dtype)`` (pooled when large)."""
    array = empty(shape, dtype)
    array.fill(value)
    return array


def zeros(shape: Shape, dtype: npt.DTypeLike = np.float64) -> npt.NDArray[Any]:
    """Return ``np.zeros(shape, dtype)`` (pooled when large)."""
    return full(shape, 0, dtype)


def free_bytes() -> int:
    """Bytes of free blocks the pool keeps mapped for reuse."""
    return 0 if _POOL is None else _POOL.free_bytes()


def release() -> int:
    """Unmap the free blocks the engine keeps for its next run; return how many bytes.

    After a large run the process keeps up to :data:`KEEP_FREED_BYTES` mapped so that
    the next run need not fault its memory in again; call this when no run follows soon.
    Blocks still in use (by a result's columns) are unaffected: they are unmapped when
    their last array dies.

    Returns
    -------
    int
        The bytes unmapped.
    """
    return 0 if _POOL is None else _POOL.release()
