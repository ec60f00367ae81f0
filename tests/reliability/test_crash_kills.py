"""About 150 SIGKILLs at random points of real writes: nothing torn, nothing lost.

Two long-lived children write side by side, each into its own data folder: one saves,
updates and archives templates, saves and deletes event presets and advances runs; the
other upserts underlying bars and option quotes (every write touching two partitions).
For each lane, the parent lets the child commit 0-2 writes, kills it at a random delay,
checks that every repository and the store load cleanly and hold *exactly* the state of
the writes the child logged as returned (or that plus the one write in flight, when the
kill landed after it took effect), then lets the next child, already forked and waiting,
go on from the next write. See ``reliability_workers``.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Generic, TypeVar

import polars as pl
import pytest
from fixture_markets import fixture_store
from polars.testing import assert_frame_equal
from reliability_tally import Tally
from reliability_workers import (
    CONTEXT,
    JOIN_TIMEOUT_SECONDS,
    LANES,
    MarketState,
    RepositoryState,
    SubmitJob,
    apply_market_op,
    apply_repository_op,
    join,
    kill,
    model_market_op,
    model_repository_op,
    observe_market,
    observe_repositories,
    read_log,
    scaled,
    start,
    submit_until_killed,
    write_until_killed,
)

import hedgeframe as hf
from hedgeframe.models import RunStatus

REPOSITORY_KILLS = scaled(100)
MARKET_KILLS = scaled(40)
SEED = 20_240_611

S = TypeVar("S", RepositoryState, MarketState)


@dataclass
class Child:
    """A started writer, waiting for ``go`` with its first operation index in ``first``."""

    process: BaseProcess
    first: Synchronized[int]
    ready: Event
    go: Event
    joined: bool = False


@dataclass
class Lane(Generic[S]):
    """One kind of writer, its data folder, its log and the model of what it committed."""

    name: str
    data_dir: Path
    log: Path
    model_op: Callable[[S, int], S]
    observe: Callable[[Path], S]
    state: S
    max_delay: float
    committed: int = 0
    records_seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)

    def prestart(self) -> Child:
        first, ready, go = CONTEXT.Value("q", -1), CONTEXT.Event(), CONTEXT.Event()
        process = start(
            write_until_killed, self.name, str(self.data_dir), str(self.log), first, ready, go
        )
        child = Child(process, first, ready, go)
        self.children.append(child)
        return child

    def expected_after(self, k: int) -> S:
        state = self.state
        for i in range(self.committed, k):
            state = self.model_op(state, i)
        return state

    def count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1


def _check_after_kill(lane: Lane[Any], process: BaseProcess) -> None:
    """Compare the lane's files with its model; advance the model to what committed."""
    assert process.exitcode == -signal.SIGKILL, (
        f"{lane.name} writer ended with {process.exitcode} before it was killed"
    )
    begun, done = read_log(lane.log)
    fresh = [i for i in done if i >= lane.committed]
    assert fresh == list(range(lane.committed, lane.committed + len(fresh))), fresh
    logged = lane.committed + len(fresh)
    expected = lane.expected_after(logged)
    in_flight = logged in begun
    observed = lane.observe(lane.data_dir)  # raises if any file is torn
    if observed == expected:
        landed = False
    else:
        after = lane.model_op(expected, logged)
        assert in_flight, (
            f"{lane.name}: no write in flight after {logged} committed writes, yet the files "
            f"differ from the log:\n observed {observed}\n expected {expected}\n"
            f" log tail {lane.log.read_text(encoding='utf-8').splitlines()[-8:]}"
        )
        assert observed == after, (
            f"{lane.name}: after {logged} committed writes (write {logged} in flight) the "
            f"files hold neither state:\n observed {observed}\n expected {expected}"
        )
        landed, expected, logged = True, after, logged + 1
    lane.state, lane.committed = expected, logged
    lane.records_seen = observed.record_count()
    lane.count("random_kills")
    if in_flight:
        lane.count("kills_inside_a_write")
        lane.count("in_flight_write_took_effect" if landed else "in_flight_write_absent")


def _wait_for_writes(lane: Lane[Any], size: int, writes: int) -> None:
    """Wait until the child has begun its first write and then returned from ``writes``."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while lane.log.stat().st_size == size:
        assert time.monotonic() < deadline, f"the {lane.name} writer never began to write"
        time.sleep(0.0005)
    while writes and len([i for i in read_log(lane.log)[1] if i >= lane.committed]) < writes:
        assert time.monotonic() < deadline, f"the {lane.name} writer made no progress"
        time.sleep(0.001)


def _kill_repeatedly(lane: Lane[Any], kills: int, seed: int) -> None:
    """Start a writer, kill it at a random moment, check the files, restart; ``kills`` times.

    The next child is forked in the background while the current one writes, and waits
    for ``go`` with everything imported, so a restart costs no process start.
    """
    rng = random.Random(seed)
    with ThreadPoolExecutor(max_workers=1) as forker:
        spare = lane.prestart()
        try:
            for _ in range(kills):
                child, size = spare, lane.log.stat().st_size
                assert child.ready.wait(JOIN_TIMEOUT_SECONDS), f"{lane.name} writer did not start"
                child.first.value = lane.committed
                child.go.set()
                next_spare = forker.submit(lane.prestart)
                # Let 0-2 writes commit, then kill at a random moment of the ones after.
                _wait_for_writes(lane, size, rng.choice([0, 0, 1, 1, 2]))
                time.sleep(rng.uniform(0.0, lane.max_delay))
                kill(child.process)
                join(child.process)
                child.joined = True
                _check_after_kill(lane, child.process)
                spare = next_spare.result(JOIN_TIMEOUT_SECONDS)
        finally:
            forker.shutdown(wait=True)
            for started in lane.children:
                if not started.joined:
                    kill(started.process)
                    join(started.process)


def test_random_sigkills_during_writes_leave_exactly_the_committed_state(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    repositories: Lane[RepositoryState] = Lane(
        "repositories",
        tmp_path / "repositories",
        tmp_path / "repositories.log",
        model_repository_op,
        observe_repositories,
        RepositoryState(),
        max_delay=0.04,  # a repository write takes ~5-20 ms here
    )
    market: Lane[MarketState] = Lane(
        "market",
        tmp_path / "market",
        tmp_path / "market.log",
        model_market_op,
        observe_market,
        MarketState(),
        max_delay=0.15,  # a market write (two partitions and a journal) takes ~30-100 ms
    )
    lanes: list[Lane[Any]] = [repositories, market]
    kills = {"repositories": REPOSITORY_KILLS, "market": MARKET_KILLS}
    for lane in lanes:
        lane.data_dir.mkdir()
        lane.log.touch()
    # The two lanes run side by side, each killing its own writer at its own pace.
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        runs = [
            pool.submit(_kill_repeatedly, lane, kills[lane.name], SEED + n)
            for n, lane in enumerate(lanes)
        ]
        for run in runs:
            run.result()

    # The folders stay writable (no lock is left held) and one more write of each lane
    # lands on top of the last committed state.
    for lane, apply in zip(lanes, LANES.values(), strict=True):
        apply(lane.data_dir, lane.committed)
        expected = lane.expected_after(lane.committed + 1)
        assert lane.observe(lane.data_dir) == expected
    temporaries = [path for path in tmp_path.rglob("*") if path.name.endswith(".tmp")]
    # A kill can leave a hidden '.<file>.<random>.tmp' beside its target; no reader and no
    # '*.json' / '*.parquet' glob ever opens one.
    assert all(path.name.startswith(".") for path in temporaries), temporaries

    for lane in lanes:
        assert lane.counts["random_kills"] == kills[lane.name]
        for name, count in lane.counts.items():
            tally.add(name, count)
        tally.add(f"writes_committed_{lane.name}", lane.committed)
        tally.add(f"records_checked_{lane.name}", lane.records_seen)
    tally.add("kills", REPOSITORY_KILLS + MARKET_KILLS)
    tally.add("leftover_temporary_files", len(temporaries))
    tally.add("records_lost", 0)


SUBMIT_KILLS = scaled(6)


def _wait_for_submits(log: Path, *, done: int) -> None:
    """Wait until the child's log shows ``done`` finished submits and the next one begun."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while True:
        begun, finished = read_log(log)
        if len(finished) >= done and len(begun) > done:
            return
        assert time.monotonic() < deadline, f"the submitting child made no progress: {log}"
        time.sleep(0.005)


SUBMIT_START, SUBMIT_END = date(2024, 3, 1), date(2024, 4, 15)


def test_killed_submits_leave_loadable_runs_and_only_complete_results(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    store = fixture_store(tmp_path, "v_shape")
    data_dir = tmp_path / "data"
    job = SubmitJob(
        str(data_dir), str(store.root), "FIX", SUBMIT_START, SUBMIT_END, entry_spot=100.0
    )
    service = hf.BacktestService(data_dir)
    for template in hf.seed_templates():
        service.templates.save(template)
    rng = random.Random(SEED + 1)

    def prestart(n: int) -> tuple[BaseProcess, Event, Event, Path]:
        ready, go, log = CONTEXT.Event(), CONTEXT.Event(), tmp_path / f"submits-{n}.log"
        log.touch()
        return start(submit_until_killed, job, str(log), ready, go), ready, go, log

    reference: pl.DataFrame | None = None
    unfinished: set[str] = set()
    checked: set[str] = set()
    children = [prestart(0)]
    try:
        for n in range(SUBMIT_KILLS):
            child, ready, go, log = children[-1]
            assert ready.wait(JOIN_TIMEOUT_SECONDS)
            go.set()
            children.append(prestart(n + 1))  # builds its provider while this one submits
            # One submit finishes, then the kill lands at a random moment of the next one
            # (or just after it): the child's log says when, however slow the machine.
            _wait_for_submits(log, done=1)
            time.sleep(rng.uniform(0.0, 0.3))
            kill(child)
            join(child)
            assert child.exitcode == -signal.SIGKILL

            runs = service.list_runs()  # every record loads
            assert all(run.status is not RunStatus.FAILED for run in runs), runs
            now_unfinished = {r.run_id for r in runs if r.status is not RunStatus.COMPLETED}
            # Only the killed submit's run may be left queued or running.
            assert len(now_unfinished - unfinished) <= 1
            unfinished = now_unfinished
            for run in runs:
                if run.status is RunStatus.COMPLETED and run.run_id not in checked:
                    summary = service.load_result(run.run_id).summary
                    if reference is None:
                        reference = summary
                    assert_frame_equal(summary, reference)
                    checked.add(run.run_id)
    finally:
        for process, _, _, _ in children:
            kill(process)
            join(process)
    completed = [r for r in service.list_runs() if r.status is RunStatus.COMPLETED]
    assert len(completed) >= SUBMIT_KILLS  # each child finished at least one submit
    tally.add("kills", SUBMIT_KILLS)
    tally.add("submit_kills", SUBMIT_KILLS)
    tally.add("submits_completed_under_kills", len(completed))
    tally.add("runs_left_unfinished_by_a_kill", len(unfinished))


# Apply functions are exercised in-process too, so a failure shows a normal traceback.
def test_the_lane_writes_apply_in_process(tmp_path: Path) -> None:
    state_r, state_m = RepositoryState(), MarketState()
    for i in range(2 * 9):
        apply_repository_op(tmp_path, i)
        apply_market_op(tmp_path, i)
        state_r, state_m = model_repository_op(state_r, i), model_market_op(state_m, i)
    assert observe_repositories(tmp_path) == state_r
    assert observe_market(tmp_path) == state_m


def test_a_torn_log_line_neither_counts_nor_swallows_the_next_childs_line(
    tmp_path: Path,
) -> None:
    # A kill stopped "done 12 end\n" after "done 1"; the next child starts on a new line.
    log = tmp_path / "lane.log"
    log.write_text("begin 11 end\ndone 11 end\nbegin 12 end\ndone 1\nbegin 12 end\n")
    assert read_log(log) == ([11, 12, 12], [11])
