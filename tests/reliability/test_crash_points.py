"""A crash, or an I/O error, at every single step of every kind of write.

``reliability_workers.Steps`` numbers the steps of the atomic-write primitives (temporary
file created, half written, fsync, rename, folder fsync). Each write below is run once to
count its steps, then once per step with:

- a **crash** at that step: in-process, an exception that unwinds without any of the
  cleanup a dead process never runs (no temporary file removed), and, for the
  multi-partition store write, in a real child process ended by ``os._exit``;
- an **I/O error** (``OSError(EIO)``) from the call about to run (``before-*``) or
  from a write half done, which the write must report after removing its temporary file.

Before the commit point (the rename of the file, or of the store's journal) the data
must be byte-for-byte what it was; from it on, exactly the new state. Afterwards every
repository and the store load, and the next write succeeds.
"""

from __future__ import annotations

import errno
import shutil
from datetime import date
from pathlib import Path

import pytest
from reliability_tally import Tally
from reliability_workers import (
    CRASH_EXIT_CODE,
    CRASH_OPERATIONS,
    JOIN_TIMEOUT_SECONDS,
    RepositoryState,
    Steps,
    build_crash_base,
    crash_at_step,
    crash_follow_up,
    crash_store,
    observe_repositories,
    start,
)

SAME_DISK_STATE_AS_THE_NEXT_STEP = frozenset({"before-temp", "after-fsync", "before-dir-fsync"})
"""A crash at these steps leaves the disk exactly as a crash at the next step does."""


class SimulatedKill(BaseException):
    """Raised at a step to stand for the process dying there (nothing catches it)."""


Semantic = tuple[RepositoryState, tuple[tuple[object, ...], ...], tuple[tuple[object, ...], ...]]


def _semantic(root: Path) -> Semantic:
    """Everything stored, through the public readers, timestamps aside."""
    store = crash_store(root)
    bars = store.underlying_bars("PTS").select("date", "close").rows()
    quotes = store.option_quotes_between("PTS", date(2019, 1, 1), date(2022, 1, 1))
    return (
        observe_repositories(root / "data"),
        tuple(bars),
        tuple(quotes.select("as_of_date", "bid").rows()),
    )


def _visible_files(root: Path) -> dict[str, bytes]:
    """Every file a reader or a glob opens (hidden temporary files and locks aside)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".lock")
    }


def _hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".*") if p.is_file() and not p.name.endswith(".lock"))


def _raise_kill(label: str) -> None:
    raise SimulatedKill(label)


def _raise_io_error(label: str) -> None:
    raise OSError(errno.EIO, f"injected I/O error at {label}")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash-points-base")
    build_crash_base(root)
    return root


@pytest.mark.parametrize("name", list(CRASH_OPERATIONS))
def test_a_crash_or_an_io_error_at_every_step_leaves_the_old_or_the_new_state(
    tmp_path: Path, base: Path, name: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    operation = CRASH_OPERATIONS[name]
    before, before_files = _semantic(base), _visible_files(base)
    dry = tmp_path / "dry"
    shutil.copytree(base, dry)
    with Steps(sync=False).installed() as counted:
        operation(dry)
    after = _semantic(dry)
    assert after != before
    labels = counted.labels
    commit = labels.index("after-rename")  # the target's rename, or the store journal's

    for at, label in enumerate(labels):
        for variant, action, error in (
            ("crash", _raise_kill, SimulatedKill),
            ("io-error", _raise_io_error, OSError),
        ):
            if variant == "io-error" and not label.startswith(("before-", "mid-")):
                continue  # a call fails before it acts, or (a write) half-way through
            if variant == "crash" and label in SAME_DISK_STATE_AS_THE_NEXT_STEP:
                continue
            case = tmp_path / f"{variant}-{at}"
            shutil.copytree(base, case)
            steps = Steps(at, action, freeze_after_action=variant == "crash", sync=False)
            with pytest.raises(error), steps.installed():
                operation(case)
            where = f"{name}: {variant} at step {at} ({label}) of {labels}"
            if at < commit:
                assert _visible_files(case) == before_files, where
                assert _semantic(case) == before, where
            else:
                assert _semantic(case) == after, where  # a store read finishes the journal
            if variant == "io-error":
                assert _hidden(case) == [], where  # the failed write cleaned up after itself
            else:
                assert all(n.endswith(".tmp") for n in _hidden(case)), where
            if variant == "crash":
                with Steps(sync=False).installed():
                    crash_follow_up(case)
            tally.add("crash_points_injected" if variant == "crash" else "io_errors_injected")
            shutil.rmtree(case)


@pytest.mark.parametrize("name", ["bars, two partitions", "template update"])
def test_a_process_dying_at_every_step_leaves_the_old_or_the_new_state(
    tmp_path: Path, base: Path, name: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    before, before_files = _semantic(base), _visible_files(base)
    dry = tmp_path / "dry"
    shutil.copytree(base, dry)
    with Steps(sync=False).installed() as counted:
        CRASH_OPERATIONS[name](dry)
    after = _semantic(dry)
    labels = counted.labels
    commit = labels.index("after-rename")
    for at, label in enumerate(labels):
        if label in SAME_DISK_STATE_AS_THE_NEXT_STEP:
            continue
        case = tmp_path / f"exit-{at}"
        shutil.copytree(base, case)
        child = start(crash_at_step, name, str(case), at)
        child.join(JOIN_TIMEOUT_SECONDS)
        assert child.exitcode == CRASH_EXIT_CODE, f"{name}: step {at} ({label}) not reached"
        where = f"{name}: process died at step {at} ({label}) of {labels}"
        if at < commit:
            assert _visible_files(case) == before_files, where
        assert _semantic(case) == (before if at < commit else after), where
        with Steps(sync=False).installed():
            crash_follow_up(case)
        tally.add("kills")
        tally.add("process_deaths_at_a_chosen_step")
        shutil.rmtree(case)
