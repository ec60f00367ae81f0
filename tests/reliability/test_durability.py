"""Power lost right after a write returned: what was written must survive.

A crash test that kills the process (``test_crash_kills.py``, ``test_crash_points.py``)
cannot see a missing fsync: the operating system still holds the unsynced data and hands
it to the next reader. Power loss does not. :class:`PowerLossDisk` models POSIX's promise
and no more:

- a file's bytes survive once the file itself is fsynced (before that: nothing of them);
- a name in a folder (a new file, a rename, a new sub-folder) survives once that folder
  is fsynced (before that: the folder's last synced entries).

Every ``os.fsync`` under the test's folder is recorded; after the write returns, the
folder is rebuilt as it would be after the power came back, and read through the public
API. Each kind of durable write (a file replaced, a repository record in a new data
folder, a market-data write across new partitions) must read back whole. The last tests
show that the model notices a missing file fsync and a missing folder fsync.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe._atomic import atomic_write_bytes, make_folder
from hedgeframe.data import MarketDataStore, validate_underlying_bars


class PowerLossDisk:
    """The durable state of a folder tree: synced file bytes and synced folder entries."""

    def __init__(self, root: Path, *, sync_files: bool = True, sync_folders: bool = True) -> None:
        self.root = root
        self.sync_files = sync_files
        self.sync_folders = sync_folders
        self.content: dict[int, bytes] = {}  # file inode -> its last synced bytes
        self.entries: dict[int, dict[str, int]] = {}  # folder inode -> last synced entries
        self.folders: set[int] = set()
        for path in [root, *root.rglob("*")]:  # what exists before the write is durable
            self._record(path)

    def _record(self, path: Path) -> None:
        inode = path.stat().st_ino
        if path.is_dir():
            self.folders.add(inode)
            self.entries[inode] = {child.name: child.stat().st_ino for child in path.iterdir()}
        else:
            self.content[inode] = path.read_bytes()

    def _path_of(self, inode: int) -> Path | None:
        return next(
            (p for p in [self.root, *self.root.rglob("*")] if p.stat().st_ino == inode), None
        )

    def fsync(self, fd: int) -> None:
        """Stand-in for ``os.fsync``: record what the call makes durable."""
        status = os.fstat(fd)
        folder = stat.S_ISDIR(status.st_mode)
        if (folder and not self.sync_folders) or (not folder and not self.sync_files):
            return  # as if the code had not called fsync here
        path = self._path_of(status.st_ino)
        if path is not None:
            self._record(path)

    def rebuild(self, into: Path) -> None:
        """Write the tree as it is after the power comes back."""

        def restore(inode: int, target: Path) -> None:
            target.mkdir()
            for name, child in self.entries.get(inode, {}).items():
                if child in self.folders:
                    restore(child, target / name)
                else:  # a file whose bytes were never synced comes back empty
                    (target / name).write_bytes(self.content.get(child, b""))

        restore(self.root.stat().st_ino, into)


@pytest.fixture
def power_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., PowerLossDisk]:
    """Watch the fsyncs under ``tmp_path / "disk"``; the write happens after the call."""

    def watch(**kwargs: bool) -> PowerLossDisk:
        root = tmp_path / "disk"
        root.mkdir(exist_ok=True)
        disk = PowerLossDisk(root, **kwargs)
        monkeypatch.setattr(os, "fsync", disk.fsync)
        return disk

    return watch


def _after_power_loss(disk: PowerLossDisk, tmp_path: Path) -> Path:
    after = tmp_path / "after"
    disk.rebuild(after)
    return after


def test_a_replaced_file_survives_power_loss(
    tmp_path: Path, power_loss: Callable[..., PowerLossDisk]
) -> None:
    target = tmp_path / "disk" / "folder" / "record.json"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"old")
    disk = power_loss()
    atomic_write_bytes(target, b"new contents")
    after = _after_power_loss(disk, tmp_path)
    assert (after / "folder" / "record.json").read_bytes() == b"new contents"


def test_a_first_record_in_a_new_data_folder_survives_power_loss(
    tmp_path: Path, power_loss: Callable[..., PowerLossDisk]
) -> None:
    disk = power_loss()
    template = hf.protective_put("durable")
    hf.BacktestService(tmp_path / "disk" / "research" / "data").templates.save(template)
    after = _after_power_loss(disk, tmp_path)
    stored = hf.BacktestService(after / "research" / "data").templates.list()
    assert stored == [template]


def test_a_market_data_write_into_new_partitions_survives_power_loss(
    tmp_path: Path, power_loss: Callable[..., PowerLossDisk]
) -> None:
    bars = validate_underlying_bars(
        pl.DataFrame(
            {
                "symbol": ["PWR", "PWR"],
                "date": [date(2020, 12, 31), date(2021, 1, 4)],  # two year partitions
                "close": [10.0, 11.0],
            }
        )
    )
    disk = power_loss()
    MarketDataStore(tmp_path / "disk" / "store").write_underlying_bars(bars)
    after = _after_power_loss(disk, tmp_path)
    assert MarketDataStore(after / "store").underlying_bars("PWR").equals(bars)


@pytest.mark.parametrize(
    ("skipped", "survivor"),
    [
        ("file", b""),  # the rename survived, the bytes did not: a torn (empty) record
        ("folder", b"old"),  # the bytes survived under a name the folder never kept
    ],
)
def test_without_either_fsync_a_returned_write_is_lost(
    tmp_path: Path, power_loss: Callable[..., PowerLossDisk], skipped: str, survivor: bytes
) -> None:
    target = tmp_path / "disk" / "record.json"
    target.parent.mkdir()
    target.write_bytes(b"old")
    disk = power_loss(sync_files=skipped != "file", sync_folders=skipped != "folder")
    atomic_write_bytes(target, b"new contents")
    after = _after_power_loss(disk, tmp_path)
    assert (after / "record.json").read_bytes() == survivor


def test_a_folder_another_writer_creates_meanwhile_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two processes writing into one new partition both see it missing, and both create it.
    folder = tmp_path / "new" / "partition"
    real_exists = Path.exists

    def missing_then_created(path: Path) -> bool:
        if path == folder and not real_exists(path):
            path.mkdir(parents=True)  # the other writer, just after this one looked
            return False
        return real_exists(path)

    monkeypatch.setattr(Path, "exists", missing_then_created)
    make_folder(folder)
    assert folder.is_dir()
