"""The backtest run repository: one JSON file per run, append-only once the run has ended.

File: ``<data_dir>/backtests/runs/<run_id>.json``, the shared envelope of
:mod:`hedgeframe.repositories._json_collection` holding exactly one record (format
``hedgeframe.backtest_run``). One file per run means a run's writes lock only that run.

Lifecycle
---------
A run is created ``queued``, then moves::

    queued  -> running | failed | cancelled
    running -> completed | failed | cancelled

``completed``, ``failed`` and ``cancelled`` are final: any later change is refused, so a
finished run's record is never rewritten. A ``failed`` run must carry its ``error``, a
``completed`` one must not; ``warnings`` may only grow. Moving to ``running`` stamps
``started_at`` and a final status stamps ``completed_at`` unless the caller gives them.

A ``run_id`` becomes a file name, so it is checked before the file system is touched:
1-200 characters from ``[A-Za-z0-9._-]``, starting with a letter or digit, without ``..``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hedgeframe.errors import (
    CorruptFileError,
    InvalidRunIdError,
    InvalidRunTransitionError,
    RunNotFoundError,
)
from hedgeframe.models import BacktestRun, RunStatus
from hedgeframe.repositories._json_collection import DuplicateRecordError, JsonCollection

__all__ = [
    "RUNS_FOLDER",
    "RUN_FORMAT",
    "InvalidRunIdError",
    "InvalidRunTransitionError",
    "RunRepository",
]

RUNS_FOLDER = Path("backtests") / "runs"
"""Where run files live, relative to the data folder."""
RUN_FORMAT = "hedgeframe.backtest_run"

_RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")

_NEXT: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.COMPLETED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}
_FINAL = frozenset(status for status, allowed in _NEXT.items() if not allowed)
_REPOSITORY_OWNED_FIELDS = frozenset({"run_id", "status", "submitted_at"})


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a safe file name, else raise :class:`InvalidRunIdError`."""
    if not isinstance(run_id, str) or not _RUN_ID_PATTERN.fullmatch(run_id) or ".." in run_id:
        msg = (
            f"run_id {run_id!r} is not a safe file name: use 1-200 characters from "
            "A-Z a-z 0-9 . _ -, starting with a letter or digit, without '..'"
        )
        raise InvalidRunIdError(msg)
    return run_id


def _one_run_check(run_id: str) -> Callable[[list[BacktestRun]], str | None]:
    def check(records: list[BacktestRun]) -> str | None:
        if len(records) != 1:
            return f"a run file holds exactly one record (found {len(records)})"
        if records[0].run_id != run_id:
            return f"the record's run_id {records[0].run_id!r} does not match the file name"
        return None

    return check


class RunRepository:
    """Create, advance, load and list backtest runs, one JSON file per run.

    Each write locks only its own run (``<run_id>.json.lock``) and is atomic, so a crash
    or a second process never leaves a torn or lost run record.

    Parameters
    ----------
    data_dir
        The data folder; runs live in ``<data_dir>/backtests/runs/``.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.folder = Path(data_dir) / RUNS_FOLDER

    def __repr__(self) -> str:
        return f"RunRepository({str(self.folder.parent.parent)!r})"

    def path_of(self, run_id: str) -> Path:
        """Return the file of ``run_id`` (after checking that it is a safe file name)."""
        return self.folder / f"{check_run_id(run_id)}.json"

    def create(self, run: BacktestRun) -> BacktestRun:
        """Store a new, ``queued`` run.

        Raises
        ------
        InvalidRunIdError
            When ``run.run_id`` is not a safe file name.
        InvalidRunTransitionError
            When the run is not ``queued``.
        DuplicateRecordError
            When a run with that id is stored.
        """
        collection = self._collection(run.run_id)
        if run.status is not RunStatus.QUEUED:
            msg = (
                f"a new run must be 'queued' (run {run.run_id!r} is {run.status.value!r}); "
                "create it queued, then use transition()"
            )
            raise InvalidRunTransitionError(msg)

        def change(records: list[BacktestRun]) -> tuple[list[BacktestRun], BacktestRun]:
            if records:
                msg = f"run_id {run.run_id!r} is already stored in {collection.path}"
                raise DuplicateRecordError(msg)
            return [run], run

        return collection.modify(change)

    def transition(self, run_id: str, status: RunStatus | str, /, **fields: Any) -> BacktestRun:
        """Move a run to ``status``, setting ``fields`` on it, as one atomic write.

        Parameters
        ----------
        run_id
            The run to change.
        status
            The next status; see the module docstring for the allowed moves.
        **fields
            Other run fields to set, e.g. ``error=...``, ``warnings=[...]``,
            ``template_snapshots=[...]``. ``run_id``, ``status`` and ``submitted_at``
            are refused here.

        Returns
        -------
        BacktestRun
            The stored run after the change.

        Raises
        ------
        InvalidRunTransitionError
            When the move is not allowed (always, once the run is final), a failed run
            has no ``error``, a completed one has one, or ``warnings`` would drop a
            stored warning.
        RunNotFoundError
            When no run has that id.
        TypeError
            When ``fields`` names a field the repository sets.
        pydantic.ValidationError
            When a field value is invalid (nothing is written).
        """
        collection = self._collection(run_id)
        target = RunStatus(status)
        owned = sorted(_REPOSITORY_OWNED_FIELDS & fields.keys())
        if owned:
            msg = f"transition() cannot set {owned}; pass the status as the second argument"
            raise TypeError(msg)

        def change(records: list[BacktestRun]) -> tuple[list[BacktestRun], BacktestRun]:
            if not records:
                raise RunNotFoundError(self._not_found(run_id))
            current = records[0]
            _check_move(current, target)
            now = datetime.now(UTC)
            merged = current.model_dump()
            if target is RunStatus.RUNNING:
                merged["started_at"] = now
            if target in _FINAL:
                merged["completed_at"] = now
            merged.update(fields)
            merged["status"] = target
            new_run = BacktestRun.model_validate(merged)
            _check_content(current, new_run)
            return [new_run], new_run

        return collection.modify(change)

    def get(self, run_id: str) -> BacktestRun:
        """Return the run with that id.

        Raises
        ------
        RunNotFoundError
            When no run has that id.
        InvalidRunIdError
            When ``run_id`` is not a safe file name.
        """
        records = self._collection(run_id).load()
        if not records:
            raise RunNotFoundError(self._not_found(run_id))
        return records[0]

    def list(self) -> builtins.list[BacktestRun]:
        """Return every stored run, oldest ``submitted_at`` first.

        Raises
        ------
        CorruptFileError
            When a run file is corrupt or its name is not a run id.
        """
        if not self.folder.is_dir():
            return []
        runs: builtins.list[BacktestRun] = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                collection = self._collection(path.stem)
            except InvalidRunIdError:
                msg = "the file name is not a valid run id; move the file out of this folder"
                raise CorruptFileError(path, msg) from None
            runs.extend(collection.load())
        return sorted(runs, key=lambda run: (run.submitted_at, run.run_id))

    def _collection(self, run_id: str) -> JsonCollection[BacktestRun]:
        return JsonCollection(
            self.path_of(run_id), BacktestRun, format_name=RUN_FORMAT, check=_one_run_check(run_id)
        )

    def _not_found(self, run_id: str) -> str:
        return f"no backtest run with run_id {run_id!r} in {self.folder}"


def _check_move(current: BacktestRun, target: RunStatus) -> None:
    """Refuse a status move the lifecycle does not allow."""
    name = f"run {current.run_id!r}"
    if current.status in _FINAL:
        msg = (
            f"{name} is {current.status.value!r}; a run is append-only once it is "
            f"completed, failed or cancelled (refused: -> {target.value!r})"
        )
        raise InvalidRunTransitionError(msg)
    allowed = _NEXT[current.status]
    if target not in allowed:
        names = ", ".join(sorted(status.value for status in allowed))
        msg = (
            f"{name} cannot go from {current.status.value!r} to {target.value!r}; allowed: {names}"
        )
        raise InvalidRunTransitionError(msg)


def _check_content(current: BacktestRun, new_run: BacktestRun) -> None:
    """Refuse a failed run without its error, and warnings that shrink."""
    name = f"run {current.run_id!r}"
    if new_run.status is RunStatus.FAILED and not new_run.error:
        msg = f"{name}: a failed run needs its error; pass error='...'"
        raise InvalidRunTransitionError(msg)
    if new_run.status is RunStatus.COMPLETED and new_run.error:
        msg = f"{name}: a completed run has no error (got {new_run.error!r}); use status 'failed'"
        raise InvalidRunTransitionError(msg)
    if new_run.warnings[: len(current.warnings)] != current.warnings:
        msg = (
            f"{name}: warnings only grow; the new list must start with the "
            f"{len(current.warnings)} stored warning(s)"
        )
        raise InvalidRunTransitionError(msg)
