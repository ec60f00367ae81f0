"""The command line, called through ``main(argv)`` as a script would."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.cli import main


def test_demo_prints_the_ranking_and_writes_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for template in hf.seed_templates():
        assert template.slug in out
    comparison = pl.read_parquet(
        tmp_path / "comparison" / "*" / "*.parquet", hive_partitioning=True
    )
    assert comparison["rank"].to_list() == [1, 2, 3, 4]
    assert comparison["status"].to_list() == ["complete"] * 4


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert hf.__version__ in capsys.readouterr().out


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bogus"]) == 2
    assert "No such command" in capsys.readouterr().err
