"""Atomic writes from a relative folder, as the command line's default ``data/`` gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe._atomic import atomic_write_bytes, write_temporary


def test_a_temporary_file_keeps_the_form_of_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tmp = write_temporary(Path("folder") / "file.json", b"{}")
    assert not tmp.is_absolute()
    assert tmp.parent == Path("folder")
    assert tmp.read_bytes() == b"{}"


def test_a_store_at_a_relative_root_writes_and_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = hf.MarketDataStore("data/market")
    # Two years: two partition files, so the write goes through the store's journal.
    bars = pl.DataFrame({"symbol": ["X", "X"], "date": [date(2019, 12, 31), date(2020, 1, 2)],
                         "close": [1.0, 2.0]})  # fmt: skip
    store.write_underlying_bars(bars)
    assert store.underlying_bars("X")["close"].to_list() == [1.0, 2.0]
    assert not list((tmp_path / "data" / "market").rglob("*.tmp"))
    atomic_write_bytes(Path("data") / "note.txt", b"kept")
    assert (tmp_path / "data" / "note.txt").read_bytes() == b"kept"
