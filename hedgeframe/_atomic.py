"""Atomic file writes under a lock: the one way hedgeframe writes anything it keeps.

A write goes to a temporary file in the target's folder, is fsynced, then renamed over the
target (``os.replace`` is atomic on POSIX), and the folder is fsynced so the rename itself
survives a crash. A crash therefore leaves the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write_bytes", "file_lock", "fsync_dir", "write_temporary"]

LOCK_TIMEOUT_SECONDS = 60.0


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries so a rename inside it is durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_temporary(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new, fsynced hidden file beside ``path`` and return its path.

    The file is named ``.<name>.<random>.tmp``, so no ``*.json`` or ``*.parquet`` glob
    sees it. The caller renames it over ``path`` (or removes it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    # mkstemp returns an absolute name; keep the caller's form, so that a store opened at
    # a relative root can relate its temporary files to that root.
    tmp = path.parent / Path(tmp_name).name
    try:
        # mkstemp makes the file owner-only; stored data should be readable like any file
        # the user writes (BI tools often run as another user).
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temporary file, fsync, rename)."""
    tmp = write_temporary(path, data)
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an inter-process lock on ``path`` (a ``<name>.lock`` file beside it)."""
    from filelock import FileLock  # imported when first needed: `import hedgeframe` stays fast

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(path.name + ".lock")), timeout=timeout):
        yield
