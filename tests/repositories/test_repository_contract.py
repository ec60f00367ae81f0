"""One corrupt-file contract, run against every repository (STYLE.md 13).

Each repository must refuse a corrupt file with a :class:`CorruptFileError` that names the
file and what is wrong, on reads and on writes, and must leave the file byte-for-byte
unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

import hedgeframe as hf
from hedgeframe.errors import CorruptFileError
from hedgeframe.models import BacktestRun, EventPreset, ProviderSnapshot
from hedgeframe.repositories import EventPresetRepository, RunRepository, TemplateRepository


def _truncate(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _garbage(raw: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n this is not json"


def _top_level_array(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw)["records"]).encode()


def _wrong_format(raw: bytes) -> bytes:
    document = json.loads(raw)
    document["format"] = "hedgeframe.somebody_else"
    return json.dumps(document).encode()


CORRUPTIONS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "empty": (lambda raw: b"", "the file is empty"),
    "truncated": (_truncate, "not valid JSON"),
    "garbage": (_garbage, "not UTF-8 text"),
    "top-level-array": (_top_level_array, "top level is a JSON array"),
    "wrong-format": (_wrong_format, "format is 'hedgeframe.somebody_else'"),
}


class RepositoryContract:
    """Subclass with the three hooks; every test below then runs for that repository."""

    bad_field: ClassVar[str]
    bad_value: ClassVar[Any]

    def make(self, data_dir: Path) -> Any:
        raise NotImplementedError

    def file_of(self, repo: Any) -> Path:
        raise NotImplementedError

    def write_one(self, repo: Any, n: int) -> None:
        raise NotImplementedError

    def read_all(self, repo: Any) -> list[Any]:
        raise NotImplementedError

    def _stored(self, tmp_path: Path) -> tuple[Any, Path]:
        repo = self.make(tmp_path / "data")
        self.write_one(repo, 0)
        return repo, self.file_of(repo)

    def _assert_refused(
        self, repo: Any, path: Path, content: bytes, detail: str
    ) -> CorruptFileError:
        path.write_bytes(content)
        with pytest.raises(CorruptFileError) as read_error:
            self.read_all(repo)
        assert read_error.value.path == path
        assert str(read_error.value).startswith(f"{path}: ")
        assert detail in str(read_error.value)
        with pytest.raises(CorruptFileError, match="the file was left unchanged"):
            self.write_one(repo, 1)
        assert path.read_bytes() == content
        return read_error.value

    def test_a_missing_file_reads_as_empty(self, tmp_path: Path) -> None:
        assert self.read_all(self.make(tmp_path / "absent")) == []
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("corruption", sorted(CORRUPTIONS))
    def test_a_corrupt_file_is_refused_and_kept(self, tmp_path: Path, corruption: str) -> None:
        repo, path = self._stored(tmp_path)
        corrupt, detail = CORRUPTIONS[corruption]
        self._assert_refused(repo, path, corrupt(path.read_bytes()), detail)

    def test_a_bad_record_is_named_by_index_and_field(self, tmp_path: Path) -> None:
        repo, path = self._stored(tmp_path)
        document = json.loads(path.read_bytes())
        document["records"][0][self.bad_field] = self.bad_value
        content = json.dumps(document).encode()
        error = self._assert_refused(repo, path, content, "record 0 is not a valid")
        assert f"field '{self.bad_field}'" in str(error)


class TestTemplateRepositoryContract(RepositoryContract):
    bad_field = "version"
    bad_value = 0

    def make(self, data_dir: Path) -> TemplateRepository:
        return TemplateRepository(data_dir)

    def file_of(self, repo: TemplateRepository) -> Path:
        return repo.path

    def write_one(self, repo: TemplateRepository, n: int) -> None:
        repo.save(hf.protective_put(f"pp-{n}"))

    def read_all(self, repo: TemplateRepository) -> list[Any]:
        return repo.list(include_archived=True)


class TestEventPresetRepositoryContract(RepositoryContract):
    bad_field = "window_start"
    bad_value = "not a date"

    def make(self, data_dir: Path) -> EventPresetRepository:
        return EventPresetRepository(data_dir)

    def file_of(self, repo: EventPresetRepository) -> Path:
        return repo.path

    def write_one(self, repo: EventPresetRepository, n: int) -> None:
        repo.save(
            EventPreset(
                slug=f"event-{n}",
                symbol="^GSPC",
                window_start=date(2008, 9, 1),
                window_end=date(2008, 12, 31),
            )
        )

    def read_all(self, repo: EventPresetRepository) -> list[Any]:
        return repo.list()


class TestRunRepositoryContract(RepositoryContract):
    bad_field = "status"
    bad_value = "exploded"

    def make(self, data_dir: Path) -> RunRepository:
        return RunRepository(data_dir)

    def file_of(self, repo: RunRepository) -> Path:
        return repo.path_of("run-0")

    def write_one(self, repo: RunRepository, n: int) -> None:
        # A run's only write after create is a transition of the same file.
        if n == 0:
            repo.create(
                BacktestRun(
                    run_id="run-0",
                    scenario_id="s",
                    provider_snapshot=ProviderSnapshot(provider_id="synthetic_v1"),
                    submitted_at=datetime(2024, 1, 2, tzinfo=UTC),
                )
            )
        else:
            repo.transition("run-0", "running")

    def read_all(self, repo: RunRepository) -> list[Any]:
        return repo.list()
