"""Several processes and a hard kill: no record is lost, no file is left torn.

Workers are module-level functions started with the ``forkserver`` context: each one is
forked from a clean server process (never from the test process), so it shares nothing
with the test but the data folder. The server preloads hedgeframe once, which keeps each
worker's start cheap.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path

import hedgeframe as hf
from hedgeframe.repositories import RunRepository, TemplateRepository

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["hedgeframe", "hedgeframe.repositories"])
JOIN_TIMEOUT_SECONDS = 60.0


def _save_many(data_dir: str, start: Event, worker: int, count: int) -> None:
    repo = TemplateRepository(data_dir)
    start.wait(JOIN_TIMEOUT_SECONDS)
    for i in range(count):
        template_id = f"w{worker}-{i}"
        repo.save(hf.protective_put(template_id, template_id=template_id))


def _update_many(data_dir: str, start: Event, template_id: str, worker: int, count: int) -> None:
    repo = TemplateRepository(data_dir)
    start.wait(JOIN_TIMEOUT_SECONDS)
    for i in range(count):
        repo.update(template_id, description=f"w{worker}-{i}")


def _save_until_killed(data_dir: str, log_path: str) -> None:
    """Save templates forever; log each id only after its save has returned."""
    repo = TemplateRepository(data_dir)
    with Path(log_path).open("a", encoding="utf-8") as log:
        for i in itertools.count():
            template_id = f"k{os.getpid()}-{i}"
            repo.save(hf.protective_put(template_id, template_id=template_id))
            log.write(template_id + "\n")
            log.flush()
            os.fsync(log.fileno())


def _start(target: Callable[..., None], *args: object) -> multiprocessing.process.BaseProcess:
    process = CONTEXT.Process(target=target, args=args)
    process.start()
    return process


def _join_all(processes: list[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT_SECONDS)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_processes_saving_concurrently_lose_nothing(tmp_path: Path) -> None:
    workers, saves = 3, 20
    start = CONTEXT.Event()
    processes = [_start(_save_many, str(tmp_path), start, w, saves) for w in range(workers)]
    repo = TemplateRepository(tmp_path)
    start.set()
    reads = 0
    while any(process.is_alive() for process in processes):
        repo.list()  # a reader never sees a half-written file
        reads += 1
        time.sleep(0.001)
    _join_all(processes)

    stored = repo.list()
    expected = {f"w{w}-{i}" for w in range(workers) for i in range(saves)}
    assert {t.template_id for t in stored} == expected
    assert len(stored) == workers * saves
    assert reads > 0


def test_processes_updating_one_template_write_gapless_versions(tmp_path: Path) -> None:
    workers, updates = 2, 15
    repo = TemplateRepository(tmp_path)
    template = repo.save(hf.protective_put("shared"))
    start = CONTEXT.Event()
    processes = [
        _start(_update_many, str(tmp_path), start, template.template_id, w, updates)
        for w in range(workers)
    ]
    start.set()
    _join_all(processes)

    versions = repo.versions(template.template_id)
    assert [t.version for t in versions] == list(range(1, workers * updates + 2))
    descriptions = sorted(t.description for t in versions[1:])
    assert descriptions == sorted(f"w{w}-{i}" for w in range(workers) for i in range(updates))
    assert versions[0] == template


def test_a_writer_killed_mid_write_leaves_a_valid_file_with_every_committed_record(
    tmp_path: Path,
) -> None:
    data, log = tmp_path / "data", tmp_path / "committed.txt"
    log.touch()
    repo = TemplateRepository(data)
    rng = random.Random(20_240_102)
    kills = 5
    for kill in range(kills):
        committed_before = len(log.read_text(encoding="utf-8").split())
        wanted = committed_before + rng.randint(1, 15)
        pause = rng.uniform(0.0, 0.02)
        process = _start(_save_until_killed, str(data), str(log))
        deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
        while len(log.read_text(encoding="utf-8").split()) < wanted:
            assert process.is_alive(), "the writer died before it was killed"
            assert time.monotonic() < deadline, "the writer made no progress"
            time.sleep(0.002)
        time.sleep(pause)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(JOIN_TIMEOUT_SECONDS)
        assert process.exitcode == -signal.SIGKILL

        committed = set(log.read_text(encoding="utf-8").split())
        stored = {t.template_id for t in repo.list()}  # raises if the file were torn
        context = f"kill {kill} after {wanted} commits + {pause:.4f} s"
        assert committed <= stored, context
        # Only a save that returned but was not yet logged may be stored unlogged.
        assert len(stored - committed) <= kill + 1, context

    after = repo.save(hf.protective_put("after-the-kills"))
    assert repo.get(after.template_id) == after


def test_a_run_advanced_from_another_process_is_seen_here(tmp_path: Path) -> None:
    repo = RunRepository(tmp_path)
    run = repo.create(
        hf.models.BacktestRun(
            run_id="run-1",
            scenario_id="s",
            provider_snapshot=hf.models.ProviderSnapshot(provider_id="synthetic_v1"),
        )
    )
    process = _start(_advance_run, str(tmp_path), run.run_id)
    _join_all([process])
    assert repo.get("run-1").status.value == "completed"


def _advance_run(data_dir: str, run_id: str) -> None:
    repo = RunRepository(data_dir)
    repo.transition(run_id, "running")
    repo.transition(run_id, "completed")
