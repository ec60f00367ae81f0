"""Several processes writing into one data folder, and into one market-data store, at once.

Every worker logs what its writes returned; the parent then checks that each returned
write is stored (no record lost), that the versions of a template written by everyone
are gapless and each is exactly the write that got that number, that a contested slug is
held by one active template at most, and that every upserted market row survived.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import date, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from fixture_markets import fixture_store
from polars.testing import assert_frame_equal
from reliability_tally import Tally
from reliability_workers import (
    CONTEXT,
    JOIN_TIMEOUT_SECONDS,
    SubmitJob,
    concurrent_market_writer,
    concurrent_repository_writer,
    concurrent_submit,
    scaled,
    start,
)

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.models import RunStatus, TemplateStatus
from hedgeframe.repositories import EventPresetRepository, RunRepository, TemplateRepository

WORKERS = 4
ROUNDS = 2 * scaled(2)  # even: the rounds alternate between the two shared templates
SHARED_TEMPLATES = ("shared-a", "shared-b")


def _join(processes: list[BaseProcess]) -> None:
    for process in processes:
        process.join(JOIN_TIMEOUT_SECONDS)
    assert [p.exitcode for p in processes] == [0] * len(processes)


def test_processes_writing_templates_presets_and_runs_at_once_lose_nothing(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    data = tmp_path / "data"
    templates = TemplateRepository(data)
    for template_id in SHARED_TEMPLATES:
        templates.save(hf.protective_put(template_id, template_id=template_id))
    go = CONTEXT.Event()
    workers = [
        start(concurrent_repository_writer, str(data), w, ROUNDS, list(SHARED_TEMPLATES), go)
        for w in range(WORKERS)
    ]
    go.set()
    reads = 0
    while any(worker.is_alive() for worker in workers):
        # Lock-free readers never see a torn file while the writers run.
        templates.list(include_archived=True)
        EventPresetRepository(data).list()
        RunRepository(data).list()
        reads += 1
        time.sleep(0.005)
    _join(workers)

    outcomes = [
        line.split()
        for w in range(WORKERS)
        for line in (tmp_path / f"worker-{w}.log").read_text("utf-8").splitlines()
    ]
    stored = {
        (t.template_id, t.version): t
        for latest in templates.list(include_archived=True)
        for t in templates.versions(latest.template_id)
    }
    # Every returned save, update and archive is stored, each under the number it got.
    returned_templates = {(o[1], int(o[2])) for o in outcomes if o[0] == "template"}
    assert returned_templates <= stored.keys()
    for _, template_id, version, worker, round_ in (o for o in outcomes if o[0] == "version"):
        assert stored[template_id, int(version)].description == f"{worker} {round_}"
    for template_id in SHARED_TEMPLATES:
        versions = [t.version for t in templates.versions(template_id)]
        assert versions == list(range(1, 1 + WORKERS * ROUNDS // len(SHARED_TEMPLATES) + 1))
    refused = {o[2] for o in outcomes if o[:2] == ["refused", "slug"]}
    assert not {template_id for template_id, _ in stored} & refused
    # Slugs stay unique among active templates.
    active = [t for t in templates.list() if t.status is TemplateStatus.ACTIVE]
    slug_counts = Counter(t.slug for t in active)
    assert max(slug_counts.values()) == 1, slug_counts

    presets = {p.event_preset_id for p in EventPresetRepository(data).list()}
    returned_presets = {o[1] for o in outcomes if o[0] == "preset"}
    assert returned_presets <= presets
    assert {f"shared-p{r}" for r in range(ROUNDS)} <= presets  # one racer won each
    assert sum(o[:2] == ["refused", "preset"] for o in outcomes) == (WORKERS - 1) * ROUNDS

    runs = {run.run_id: run for run in RunRepository(data).list()}
    for _, run_id in (o for o in outcomes if o[0] == "run"):
        assert runs[run_id].status is RunStatus.COMPLETED
        worker, round_ = run_id.split("-")
        assert runs[run_id].warnings == [f"{worker} {round_}"]

    # Exactly the returned writes are stored: nothing lost, nothing extra.
    expected_versions = (
        len(SHARED_TEMPLATES)
        + len(returned_templates)
        + sum(o[0] in ("version", "archived") for o in outcomes)
    )
    expected = expected_versions + len(returned_presets) + WORKERS * ROUNDS
    found = len(stored) + len(presets) + len(runs)
    # Each run is one write to create it and two to advance it.
    writes = sum(o[0] != "refused" for o in outcomes) + 2 * WORKERS * ROUNDS
    tally.add("concurrent_writer_processes", WORKERS)
    tally.add("concurrent_writes", writes)
    tally.add("concurrent_writes_refused_as_designed", sum(o[0] == "refused" for o in outcomes))
    tally.add("concurrent_lock_free_reads", reads)
    tally.add("records_lost", max(expected - found, 0))
    assert found == expected
    assert len(presets) == len(returned_presets)
    assert len(runs) == WORKERS * ROUNDS


MARKET_WORKERS = 3
MARKET_WRITES = min(scaled(6), 60)  # below 66, no "day + 200" meets another written day


def test_processes_writing_one_store_at_once_lose_no_row(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    root = tmp_path / "store"
    go = CONTEXT.Event()
    workers = [
        start(concurrent_market_writer, str(root), w, MARKET_WORKERS, MARKET_WRITES, go)
        for w in range(MARKET_WORKERS)
    ]
    go.set()
    _join(workers)

    store = MarketDataStore(root)
    shared = dict(store.underlying_bars("SHR").select("date", "close").iter_rows())
    expected: dict[date, float] = {}
    for w in range(MARKET_WORKERS):
        for n in range(MARKET_WRITES):
            day = date(2010, 12, 1) + timedelta(days=w + MARKET_WORKERS * n)
            expected[day] = 100.0 + w
            expected[day + timedelta(days=200)] = 200.0 + w
        own = store.underlying_bars(f"OWN{w}")["close"].to_list()
        assert own == [1.0 + n for n in range(MARKET_WRITES)]
    assert shared == expected
    hot = store.underlying_bars("HOT")["close"].to_list()
    assert len(hot) == 1
    assert hot[0] in {50.0 + w for w in range(MARKET_WORKERS)}  # some writer's whole row won
    quotes = store.option_quotes_between("SHR", date(2010, 1, 1), date(2012, 1, 1))
    by_strike: defaultdict[float, int] = defaultdict(int)
    for strike in quotes["strike"]:
        by_strike[strike] += 1
    assert by_strike == {float(90 + w): MARKET_WRITES for w in range(MARKET_WORKERS)}
    assert not (root / ".store.journal").exists()

    rows = len(shared) + sum(len(store.underlying_bars(f"OWN{w}")) for w in range(3)) + 1
    tally.add("concurrent_writer_processes", MARKET_WORKERS)
    tally.add("concurrent_market_writes", 3 * MARKET_WORKERS * MARKET_WRITES)
    tally.add("market_rows_checked", rows + quotes.height)
    tally.add("records_lost", len(expected.keys() - shared.keys()))


SUBMITTERS = 3


def test_processes_submitting_runs_at_once_complete_them_all(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    store = fixture_store(tmp_path, "monotonic_selloff")
    service = hf.BacktestService(tmp_path / "data")
    for template in hf.seed_templates():
        service.templates.save(template)
    job = SubmitJob(
        str(tmp_path / "data"), str(store.root), "FIX", date(2024, 3, 1), date(2024, 4, 15), 100.0
    )
    go = CONTEXT.Event()
    workers = [start(concurrent_submit, job, go) for _ in range(SUBMITTERS)]
    go.set()
    _join(workers)

    runs = service.list_runs()
    assert [run.status for run in runs] == [RunStatus.COMPLETED] * SUBMITTERS
    summaries = [service.load_result(run.run_id).summary for run in runs]
    for summary in summaries[1:]:
        assert_frame_equal(summary, summaries[0])
    tally.add("concurrent_writer_processes", SUBMITTERS)
    tally.add("concurrent_submits", SUBMITTERS)
