"""The run repository: lifecycle, append-only after the end, safe run ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

import hedgeframe as hf
from hedgeframe.errors import CorruptFileError, RunNotFoundError
from hedgeframe.models import BacktestRun, ProviderSnapshot, RunStatus
from hedgeframe.repositories import (
    DuplicateRecordError,
    InvalidRunIdError,
    InvalidRunTransitionError,
    RunRepository,
)

T0 = datetime(2024, 1, 2, 9, 30, tzinfo=UTC)


def _run(run_id: str = "run-1", **fields: object) -> BacktestRun:
    return BacktestRun.model_validate(
        {
            "run_id": run_id,
            "scenario_id": "scenario-1",
            "provider_snapshot": ProviderSnapshot(provider_id="synthetic_v1"),
            "submitted_at": T0,
            **fields,
        }
    )


@pytest.fixture
def repo(tmp_path: Path) -> RunRepository:
    return RunRepository(tmp_path / "data")


def test_a_run_round_trips_at_its_documented_path(repo: RunRepository, tmp_path: Path) -> None:
    run = _run(template_snapshots=hf.seed_templates())
    assert repo.create(run) is run
    path = tmp_path / "data" / "backtests" / "runs" / "run-1.json"
    assert repo.path_of("run-1") == path
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "hedgeframe.backtest_run"
    assert document["records"] == [run.model_dump(mode="json")]
    assert RunRepository(tmp_path / "data").get("run-1") == run


def test_create_refuses_a_stored_run_id(repo: RunRepository) -> None:
    repo.create(_run())
    before = repo.path_of("run-1").read_bytes()
    with pytest.raises(DuplicateRecordError, match="run_id 'run-1' is already stored"):
        repo.create(_run(scenario_id="another"))
    assert repo.path_of("run-1").read_bytes() == before


def test_create_needs_a_queued_run(repo: RunRepository) -> None:
    with pytest.raises(InvalidRunTransitionError, match="a new run must be 'queued'"):
        repo.create(_run(status=RunStatus.COMPLETED))
    assert not repo.path_of("run-1").exists()


def test_a_run_moves_queued_running_completed(repo: RunRepository) -> None:
    repo.create(_run())
    running = repo.transition("run-1", RunStatus.RUNNING, engine_version="0.1.0")
    assert running.status is RunStatus.RUNNING
    assert running.started_at is not None
    assert running.completed_at is None
    assert running.engine_version == "0.1.0"
    done = repo.transition("run-1", "completed", warnings=["2008-10-10: stale mark"])
    assert done.status is RunStatus.COMPLETED
    assert done.started_at == running.started_at
    assert done.completed_at is not None
    assert done.completed_at >= done.started_at
    assert repo.get("run-1") == done


def test_given_timestamps_win_over_the_stamps(repo: RunRepository) -> None:
    repo.create(_run())
    started = T0 + timedelta(minutes=1)
    assert repo.transition("run-1", "running", started_at=started).started_at == started


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        pytest.param(["running", "completed"], {}, id="completed"),
        pytest.param(["running", "failed"], {"error": "boom"}, id="failed-while-running"),
        pytest.param(["running", "cancelled"], {}, id="cancelled-while-running"),
        pytest.param(["failed"], {"error": "bad scenario"}, id="failed-before-start"),
        pytest.param(["cancelled"], {}, id="cancelled-before-start"),
    ],
)
def test_allowed_paths_end_in_a_final_status_that_refuses_every_change(
    repo: RunRepository, path: list[str], fields: dict[str, object]
) -> None:
    repo.create(_run())
    for status in path[:-1]:
        repo.transition("run-1", status)
    final = repo.transition("run-1", path[-1], **fields)
    before = repo.path_of("run-1").read_bytes()
    for status in RunStatus:
        with pytest.raises(InvalidRunTransitionError, match="append-only once it is completed"):
            repo.transition("run-1", status, error="late", warnings=[*final.warnings, "late"])
    assert repo.path_of("run-1").read_bytes() == before
    assert repo.get("run-1") == final


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param(
            ["completed"],
            "cannot go from 'queued' to 'completed'; allowed: cancelled, failed, running",
            id="queued-to-completed",
        ),
        pytest.param(["queued"], "from 'queued' to 'queued'", id="queued-to-queued"),
        pytest.param(["running", "queued"], "from 'running' to 'queued'", id="back-to-queued"),
        pytest.param(["running", "running"], "from 'running' to 'running'", id="running-twice"),
    ],
)
def test_moves_outside_the_lifecycle_are_refused(
    repo: RunRepository, path: list[str], message: str
) -> None:
    repo.create(_run())
    for status in path[:-1]:
        repo.transition("run-1", status)
    with pytest.raises(InvalidRunTransitionError, match=message):
        repo.transition("run-1", path[-1])


def test_a_failed_run_keeps_its_warnings_and_error(repo: RunRepository) -> None:
    repo.create(_run())
    repo.transition("run-1", "running", warnings=["first"])
    with pytest.raises(InvalidRunTransitionError, match="a failed run needs its error"):
        repo.transition("run-1", "failed")
    failed = repo.transition(
        "run-1", "failed", warnings=["first", "second"], error="MissingMarketDataError: ..."
    )
    reloaded = repo.get("run-1")
    assert reloaded == failed
    assert reloaded.warnings == ["first", "second"]
    assert reloaded.error == "MissingMarketDataError: ..."


def test_warnings_only_grow_and_a_completed_run_has_no_error(repo: RunRepository) -> None:
    repo.create(_run())
    repo.transition("run-1", "running", warnings=["first"])
    with pytest.raises(InvalidRunTransitionError, match="warnings only grow"):
        repo.transition("run-1", "completed", warnings=["other"])
    with pytest.raises(InvalidRunTransitionError, match="a completed run has no error"):
        repo.transition("run-1", "completed", error="oops")
    assert repo.get("run-1").status is RunStatus.RUNNING


def test_transition_refuses_repository_fields_and_bad_values(repo: RunRepository) -> None:
    repo.create(_run())
    before = repo.path_of("run-1").read_bytes()
    with pytest.raises(TypeError, match=r"cannot set \['run_id', 'submitted_at'\]"):
        repo.transition("run-1", "running", run_id="x", submitted_at=T0)
    with pytest.raises(ValidationError):
        repo.transition("run-1", "running", warnings="not a list")
    with pytest.raises(ValueError, match="'exploded' is not a valid RunStatus"):
        repo.transition("run-1", "exploded")
    assert repo.path_of("run-1").read_bytes() == before


def test_unknown_runs(repo: RunRepository) -> None:
    with pytest.raises(RunNotFoundError, match="no backtest run with run_id 'nope'"):
        repo.get("nope")
    with pytest.raises(RunNotFoundError, match="no backtest run with run_id 'nope'"):
        repo.transition("nope", "running")
    assert not repo.path_of("nope").exists()


def test_list_is_sorted_by_submission_time(repo: RunRepository) -> None:
    assert repo.list() == []
    runs = [
        _run("c-run", submitted_at=T0),
        _run("a-run", submitted_at=T0 + timedelta(hours=2)),
        _run("b-run", submitted_at=T0 + timedelta(hours=1)),
    ]
    for run in runs:
        repo.create(run)
    repo.transition("b-run", "cancelled")
    assert [run.run_id for run in repo.list()] == ["c-run", "b-run", "a-run"]


def test_list_refuses_a_stray_file(repo: RunRepository) -> None:
    repo.create(_run())
    stray = repo.folder / "not a run.json"
    stray.write_text("{}", encoding="utf-8")
    with pytest.raises(CorruptFileError, match="not a valid run id"):
        repo.list()


def test_a_run_file_under_another_name_is_corrupt(repo: RunRepository) -> None:
    repo.create(_run())
    repo.path_of("run-1").rename(repo.path_of("run-2"))
    with pytest.raises(CorruptFileError, match="run_id 'run-1' does not match the file name"):
        repo.get("run-2")
    with pytest.raises(CorruptFileError):
        repo.transition("run-2", "running")


UNSAFE_RUN_IDS = [
    "../evil",
    "..",
    ".",
    "a/../../evil",
    "/etc/passwd",
    "a/b",
    "a\\b",
    ".hidden",
    "a..b",
    "",
    "with space",
    "tab\t",
    "new\nline",
    "café",
    "nul\x00",
    "x" * 201,
]


@pytest.mark.parametrize("run_id", UNSAFE_RUN_IDS)
def test_unsafe_run_ids_are_refused_before_touching_the_file_system(
    tmp_path: Path, run_id: str
) -> None:
    data = tmp_path / "data"
    repo = RunRepository(data)
    unchecked = _run().model_copy(update={"run_id": run_id})  # as a buggy caller might
    with pytest.raises(InvalidRunIdError, match="is not a safe file name"):
        repo.create(unchecked)
    with pytest.raises(InvalidRunIdError):
        repo.get(run_id)
    with pytest.raises(InvalidRunIdError):
        repo.transition(run_id, "running")
    with pytest.raises(ValueError, match="not a safe file name"):
        repo.path_of(run_id)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("run_id", ["a", "run-1", "2024-01-02T09.30_x", "A.b_c-9", "x" * 200])
def test_safe_run_ids_are_accepted(repo: RunRepository, run_id: str) -> None:
    repo.create(_run(run_id))
    assert repo.get(run_id).run_id == run_id
