"""What the reliability suite's child processes run, and the model the parent checks against.

Kept light (hedgeframe, polars and the standard library only) because every child
process started by the ``forkserver`` context imports it. Children are started through
:func:`start`; their targets are module-level functions here so they pickle by name.

Two *lanes* of writes are defined as pure functions of an operation index ``i``:

- the **repository lane** cycles through template saves, updates and archives, event
  preset saves and deletes, and run creations and transitions;
- the **market lane** upserts underlying bars and option quotes, each write touching two
  partitions (two years, or two months), so a crash between two partition files matters.

Because operation ``i`` depends only on ``i`` (and every earlier operation having
committed), the parent can replay operations ``0..k-1`` into a small model and compare
the files on disk with it after a kill: the state must be exactly "``k`` operations
committed", or "``k + 1``" when the kill landed after the in-flight write took effect but
before the child logged it.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import polars as pl

import hedgeframe as hf
from hedgeframe.data import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA, MarketDataStore
from hedgeframe.errors import DuplicateSlugError
from hedgeframe.models import (
    BacktestRun,
    EventPreset,
    ProviderSnapshot,
    RunStatus,
    StrategyTemplate,
)
from hedgeframe.repositories import (
    DuplicateRecordError,
    EventPresetRepository,
    JsonCollection,
    RunRepository,
    TemplateRepository,
)
from hedgeframe.repositories._templates import TEMPLATES_FORMAT

CONTEXT = multiprocessing.get_context("forkserver")
PRELOAD = [
    "__main__",  # else every child re-imports the main script (pytest: ~0.3 s a child)
    "hedgeframe",
    "hedgeframe.repositories",
    "hedgeframe.data",
    "hedgeframe.engine",
    # What `import hedgeframe` leaves for first use: a child's first price and first
    # result table would otherwise import them inside the kill window.
    "scipy.special",
    "pyarrow",
    "filelock",
    "reliability_workers",
    "reliability_freeze",  # last: freezes everything above (see its docstring)
]
JOIN_TIMEOUT_SECONDS = 60.0
SCALE = float(os.environ.get("HEDGEFRAME_RELIABILITY_SCALE", "1"))
"""Multiplies the suite's kills, writers and fuzz examples (``figures.py --scale 10`` for a
soak run); 1 in the normal test run, which stays within about a minute."""
MARKET_SYMBOL = "KIL"
QUOTE_EXPIRY = date(2021, 6, 18)


def scaled(count: int) -> int:
    """``count`` times :data:`SCALE`, at least 1."""
    return max(1, round(count * SCALE))


_PROCESSES = threading.Lock()
"""Serializes starts and joins: ``Process.start`` polls every other child, and two threads
polling one forkserver child race for its exit status (the loser sees exit code 255)."""


def start(target: Callable[..., None], *args: object) -> BaseProcess:
    """Start ``target(*args)`` in a fresh child forked from the preloaded server."""
    with _PROCESSES:
        CONTEXT.set_forkserver_preload(PRELOAD)  # only takes effect before the first start
        process = CONTEXT.Process(target=target, args=args, daemon=True)
        process.start()
    return process


def kill(process: BaseProcess) -> None:
    """SIGKILL ``process`` unless it has already ended.

    The fork server reports a child's end on its sentinel as soon as it reaps it; a child
    not reported yet still owns its pid, so the signal can only reach that child.
    """
    if process.pid is not None and not multiprocessing.connection.wait([process.sentinel], 0):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)


def join(process: BaseProcess) -> int | None:
    """Wait for ``process`` to end (safe alongside :func:`start` in other threads)."""
    multiprocessing.connection.wait([process.sentinel], JOIN_TIMEOUT_SECONDS)
    with _PROCESSES:
        process.join(JOIN_TIMEOUT_SECONDS)
    return process.exitcode


# -- the repository lane -------------------------------------------------------------------

REPOSITORY_CYCLE = (
    "save_template",
    "update_template",
    "save_preset",
    "create_run",
    "archive_template",
    "start_run",
    "save_extra_preset",
    "delete_extra_preset",
    "finish_run",
)


def repository_op(i: int) -> tuple[str, int]:
    """Operation ``i`` of the repository lane: its kind and its group number."""
    return REPOSITORY_CYCLE[i % len(REPOSITORY_CYCLE)], i // len(REPOSITORY_CYCLE)


def make_preset(preset_id: str) -> EventPreset:
    return EventPreset(
        event_preset_id=preset_id,
        slug=f"ev-{preset_id}",
        symbol=MARKET_SYMBOL,
        window_start=date(2008, 9, 1),
        window_end=date(2008, 10, 31),
    )


def apply_repository_op(data_dir: Path, i: int) -> None:
    """Perform operation ``i`` of the repository lane (every earlier one has committed)."""
    kind, g = repository_op(i)
    templates, presets, runs = (
        TemplateRepository(data_dir),
        EventPresetRepository(data_dir),
        RunRepository(data_dir),
    )
    if kind == "save_template":
        # Slugs repeat every three groups: free again because group g archives its template.
        templates.save(hf.protective_put(f"slug-{g % 3}", template_id=f"t{g}"))
    elif kind == "update_template":
        templates.update(f"t{g}", description=f"d{i}")
    elif kind == "archive_template":
        templates.archive(f"t{g}")
    elif kind == "save_preset":
        presets.save(make_preset(f"e{g}"))
    elif kind == "save_extra_preset":
        presets.save(make_preset(f"x{g}"))
    elif kind == "delete_extra_preset":
        presets.delete(f"x{g}")
    elif kind == "create_run":
        snapshot = ProviderSnapshot(provider_id="synthetic_v1")
        runs.create(BacktestRun(run_id=f"r{g}", scenario_id=f"s{g}", provider_snapshot=snapshot))
    elif kind == "start_run":
        runs.transition(f"r{g}", RunStatus.RUNNING)
    elif g % 2 == 0:
        runs.transition(f"r{g}", RunStatus.COMPLETED, warnings=[f"w{g}"])
    else:
        runs.transition(f"r{g}", RunStatus.FAILED, error=f"error of group {g}")


TemplateRow = tuple[str, int, str, str, str]  # template_id, version, slug, status, description
RunRow = tuple[str, tuple[str, ...], str | None]  # status, warnings, error


@dataclass(frozen=True)
class RepositoryState:
    """What the repository lane's files hold, timestamps aside (they are set by the clock)."""

    templates: frozenset[TemplateRow] = frozenset()
    presets: frozenset[tuple[str, str]] = frozenset()
    runs: tuple[tuple[str, RunRow], ...] = ()

    def record_count(self) -> int:
        """Template versions + presets + runs."""
        return len(self.templates) + len(self.presets) + len(self.runs)


def _latest(rows: frozenset[TemplateRow], template_id: str) -> TemplateRow:
    return max((row for row in rows if row[0] == template_id), key=lambda row: row[1])


def model_repository_op(state: RepositoryState, i: int) -> RepositoryState:
    """The expected state after operation ``i`` is applied to ``state``."""
    kind, g = repository_op(i)
    runs = dict(state.runs)
    if kind == "save_template":
        row: TemplateRow = (f"t{g}", 1, f"slug-{g % 3}", "active", "")
        return replace(state, templates=state.templates | {row})
    if kind in ("update_template", "archive_template"):
        tid, version, slug, status, description = _latest(state.templates, f"t{g}")
        new: TemplateRow = (
            (tid, version + 1, slug, status, f"d{i}")
            if kind == "update_template"
            else (tid, version + 1, slug, "archived", description)
        )
        return replace(state, templates=state.templates | {new})
    if kind in ("save_preset", "save_extra_preset"):
        preset_id = f"e{g}" if kind == "save_preset" else f"x{g}"
        return replace(state, presets=state.presets | {(preset_id, f"ev-{preset_id}")})
    if kind == "delete_extra_preset":
        return replace(state, presets=state.presets - {(f"x{g}", f"ev-x{g}")})
    if kind == "create_run":
        runs[f"r{g}"] = ("queued", (), None)
    elif kind == "start_run":
        runs[f"r{g}"] = ("running", (), None)
    elif g % 2 == 0:
        runs[f"r{g}"] = ("completed", (f"w{g}",), None)
    else:
        runs[f"r{g}"] = ("failed", (), f"error of group {g}")
    return replace(state, runs=tuple(sorted(runs.items())))


def observe_repositories(data_dir: Path) -> RepositoryState:
    """Load every repository through its public API (raises if any file is torn)."""
    templates = TemplateRepository(data_dir)
    latest = {t.template_id: t.version for t in templates.list(include_archived=True)}
    every_version = JsonCollection(
        templates.path, StrategyTemplate, format_name=TEMPLATES_FORMAT
    ).load()  # one parse, rather than one versions() call per template
    rows = {
        (t.template_id, t.version, t.slug, t.status.value, t.description) for t in every_version
    }
    assert latest == {tid: max(v for i, v, *_ in rows if i == tid) for tid in latest}
    presets = {(p.event_preset_id, p.slug) for p in EventPresetRepository(data_dir).list()}
    runs = {
        run.run_id: (run.status.value, tuple(run.warnings), run.error)
        for run in RunRepository(data_dir).list()
    }
    return RepositoryState(frozenset(rows), frozenset(presets), tuple(sorted(runs.items())))


# -- the market lane -----------------------------------------------------------------------

_BAR_BASE = date(2000, 1, 3)
_QUOTE_BASE = date(2020, 1, 6)


def _bar_days(i: int) -> tuple[date, date]:
    """Two dates about five years apart: every bar write touches two year partitions."""
    first = (i * 97) % 3650
    return _BAR_BASE + timedelta(days=first), _BAR_BASE + timedelta(days=(first + 1825) % 3650)


def _quote_days(i: int) -> tuple[date, date]:
    """Two as-of dates 90 days apart: every quote write touches two month partitions."""
    first = _QUOTE_BASE + timedelta(days=(i * 37) % 180)
    return first, first + timedelta(days=90)


QUOTE_STRIKES = (90.0, 100.0)


def market_frames(i: int) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Operation ``i`` of the market lane: bars (even ``i``) or quotes (odd ``i``)."""
    if i % 2 == 0:
        days = _bar_days(i)
        close = 1000.0 + i
        bars = pl.DataFrame(
            {
                "symbol": [MARKET_SYMBOL] * 2,
                "date": list(days),
                "close": [close, close + 0.5],
                "source": ["kill-lane"] * 2,
            }
        )
        return bars, None
    rows = [
        {
            "symbol": MARKET_SYMBOL,
            "as_of_date": day,
            "option_type": "put",
            "expiry": QUOTE_EXPIRY,
            "strike": strike,
            "bid": i / 100,
            "ask": i / 100 + 0.1,
            "underlying_close": 100.0,
            "source": "kill-lane",
        }
        for day in _quote_days(i)
        for strike in QUOTE_STRIKES
    ]
    quotes = pl.DataFrame(rows).select(
        pl.col(name).cast(OPTION_QUOTE_SCHEMA[name]) for name in rows[0]
    )
    return None, quotes


def apply_market_op(data_dir: Path, i: int) -> None:
    """Perform operation ``i`` of the market lane."""
    store = MarketDataStore(data_dir / "store")
    bars, quotes = market_frames(i)
    if bars is not None:
        store.write_underlying_bars(bars)
    if quotes is not None:
        store.write_option_quotes(quotes)


@dataclass(frozen=True)
class MarketState:
    """Closes by date and bids by ``(as_of_date, strike)``."""

    closes: tuple[tuple[date, float], ...] = ()
    bids: tuple[tuple[tuple[date, float], float], ...] = ()

    def record_count(self) -> int:
        """Bar rows + quote rows."""
        return len(self.closes) + len(self.bids)


def model_market_op(state: MarketState, i: int) -> MarketState:
    """The expected state after market operation ``i``."""
    bars, quotes = market_frames(i)
    closes, bids = dict(state.closes), dict(state.bids)
    if bars is not None:
        closes.update(zip(bars["date"], bars["close"], strict=True))
    if quotes is not None:
        for day, strike, bid in quotes.select("as_of_date", "strike", "bid").iter_rows():
            bids[day, strike] = bid
    return MarketState(tuple(sorted(closes.items())), tuple(sorted(bids.items())))


def observe_market(data_dir: Path) -> MarketState:
    """Read the lane's store through its public API (raises on a torn partition)."""
    store = MarketDataStore(data_dir / "store")
    bars = store.underlying_bars(MARKET_SYMBOL)
    quotes = store.option_quotes_between(MARKET_SYMBOL, date(2019, 1, 1), date(2021, 1, 1))
    closes = dict(zip(bars["date"], bars["close"], strict=True))
    bids = {
        (day, strike): bid
        for day, strike, bid in quotes.select("as_of_date", "strike", "bid").iter_rows()
    }
    return MarketState(tuple(sorted(closes.items())), tuple(sorted(bids.items())))


# -- children ------------------------------------------------------------------------------

_LINE_END = "end"
"""The last word of every log line: a line without it was torn by a kill."""

LANES: dict[str, Callable[[Path, int], None]] = {
    "repositories": apply_repository_op,
    "market": apply_market_op,
}


def write_until_killed(
    lane: str, data_dir: str, log_path: str, first: Synchronized[int], ready: Event, go: Event
) -> None:
    """Set ``ready``, wait for ``go``, then apply the lane's writes from ``first`` on, forever.

    The parent starts the next child while the current one writes, and fills ``first``
    in just before ``go``, so a restart costs no process start. ``begin i`` is logged
    (unsynced) before the write, ``done i`` (fsynced) after it returned, so the parent
    knows which writes committed and whether one was in flight.

    A kill can tear a log line: a write that crosses a page boundary of the file stops
    between the pages when the signal arrives. So every line ends with ``end`` (a torn
    one is ignored), and a child starts on a new line, or the previous child's torn last
    line would swallow its first ``begin``.
    """
    apply = LANES[lane]
    folder = Path(data_dir)
    # Yield some CPU to the next child starting up and to the parent's checks: on a busy
    # machine a starting child otherwise waits behind two writers for ~0.1 s.
    os.nice(3)
    with Path(log_path).open("a", encoding="utf-8") as log:
        ready.set()
        go.wait()
        log.write("\n")  # flushed with the first begin
        for i in itertools.count(first.value):
            log.write(f"begin {i} {_LINE_END}\n")
            log.flush()
            apply(folder, i)
            log.write(f"done {i} {_LINE_END}\n")
            log.flush()
            os.fsync(log.fileno())


def read_log(log_path: Path) -> tuple[list[int], list[int]]:
    """Return the ``begin`` and ``done`` indices of a lane log (torn lines are skipped)."""
    begun: list[int] = []
    done: list[int] = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        match line.split(" "):
            case ["begin", number, end] if number.isdigit() and end == _LINE_END:
                begun.append(int(number))
            case ["done", number, end] if number.isdigit() and end == _LINE_END:
                done.append(int(number))
    return begun, done


# -- crashing at one step of a write -------------------------------------------------------


class Steps:
    """Number the steps of every atomic write in this process, and act on one of them.

    Wraps the primitives ``hedgeframe._atomic`` uses (``tempfile.mkstemp``,
    ``os.fdopen``, ``os.fsync``, ``Path.replace``) and reports named steps, in order:
    ``before-temp``, ``temp-created``, ``mid-write`` (half the bytes written), ``before-fsync``,
    ``after-fsync``, ``before-rename``, ``after-rename``, ``before-dir-fsync`` and
    ``after-dir-fsync``. ``action(label)`` runs at step number ``at`` (0-based).

    With ``freeze_after_action`` every ``Path.unlink`` after the action does nothing, so
    an exception raised by the action unwinds without the cleanup a real crash never
    runs: the files stay exactly as they were at that step. ``sync=False`` skips the real
    fsyncs (durability across power loss is not what an in-process test checks).
    """

    def __init__(
        self,
        at: int | None = None,
        action: Callable[[str], None] | None = None,
        *,
        freeze_after_action: bool = False,
        sync: bool = True,
    ) -> None:
        self.at = at
        self.action = action
        self.freeze_after_action = freeze_after_action
        self.sync = sync
        self.labels: list[str] = []
        self.acted = False

    def hit(self, label: str) -> None:
        """Record a step; run the action when it is the chosen one."""
        self.labels.append(label)
        if self.action is not None and len(self.labels) - 1 == self.at:
            self.acted = True
            self.action(label)

    @contextlib.contextmanager
    def installed(self) -> Iterator[Steps]:
        """Patch the primitives for the duration of the block."""
        real_mkstemp, real_fdopen, real_fsync = tempfile.mkstemp, os.fdopen, os.fsync
        real_replace, real_unlink = Path.replace, Path.unlink
        steps = self

        def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
            steps.hit("before-temp")
            result = real_mkstemp(*args, **kwargs)
            steps.hit("temp-created")  # an I/O error here is an artefact: crash only
            return result

        class HalfWriter:
            def __init__(self, handle: Any) -> None:
                self.handle = handle

            def write(self, data: bytes) -> int:
                half = len(data) // 2
                self.handle.write(data[:half])
                self.handle.flush()
                steps.hit("mid-write")
                return int(self.handle.write(data[half:]))

            def __getattr__(self, name: str) -> Any:
                return getattr(self.handle, name)

            def __enter__(self) -> HalfWriter:
                self.handle.__enter__()
                return self

            def __exit__(self, *exc: object) -> None:
                self.handle.__exit__(*exc)

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            return HalfWriter(real_fdopen(fd, *args, **kwargs))

        def fsync(fd: Any) -> None:
            kind = "dir-fsync" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync"
            steps.hit(f"before-{kind}")
            if steps.sync:
                real_fsync(fd)
            steps.hit(f"after-{kind}")

        def path_replace(self: Path, target: Any) -> Path:
            steps.hit("before-rename")
            result = real_replace(self, target)
            steps.hit("after-rename")
            return result

        def path_unlink(self: Path, missing_ok: bool = False) -> None:
            if not (steps.acted and steps.freeze_after_action):
                real_unlink(self, missing_ok=missing_ok)

        tempfile.mkstemp = mkstemp  # type: ignore[assignment]
        os.fdopen = fdopen
        os.fsync = fsync
        Path.replace = path_replace  # type: ignore[method-assign,assignment]
        Path.unlink = path_unlink  # type: ignore[method-assign]
        try:
            yield self
        finally:
            tempfile.mkstemp = real_mkstemp
            os.fdopen = real_fdopen
            os.fsync = real_fsync
            Path.replace = real_replace  # type: ignore[method-assign]
            Path.unlink = real_unlink  # type: ignore[method-assign]


CRASH_EXIT_CODE = 86


# -- one write of each kind, for crashing at each of its steps ----------------------------


def _bars(*rows: tuple[date, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": ["PTS"] * len(rows), "date": [d for d, _ in rows], "close": [c for _, c in rows]}
    )


def _quotes(*rows: tuple[date, float]) -> pl.DataFrame:
    n = len(rows)
    return pl.DataFrame(
        {
            "symbol": ["PTS"] * n,
            "as_of_date": [d for d, _ in rows],
            "option_type": ["put"] * n,
            "expiry": [date(2021, 1, 15)] * n,
            "strike": [100.0] * n,
            "bid": [b for _, b in rows],
            "ask": [b + 0.5 for _, b in rows],
        }
    )


def _run(run_id: str) -> BacktestRun:
    return BacktestRun(
        run_id=run_id, scenario_id="s", provider_snapshot=ProviderSnapshot(provider_id="x")
    )


def _templates(root: Path) -> TemplateRepository:
    return TemplateRepository(root / "data")


def _presets(root: Path) -> EventPresetRepository:
    return EventPresetRepository(root / "data")


def _runs(root: Path) -> RunRepository:
    return RunRepository(root / "data")


def crash_store(root: Path) -> MarketDataStore:
    return MarketDataStore(root / "store")


def build_crash_base(root: Path) -> None:
    _templates(root).save(hf.protective_put("base", template_id="t-base"))
    _presets(root).save(make_preset("e-base"))
    _runs(root).create(_run("r-base"))
    crash_store(root).write_underlying_bars(
        _bars((date(2019, 12, 30), 10.0), (date(2020, 1, 2), 11.0))
    )
    crash_store(root).write_option_quotes(_quotes((date(2020, 1, 6), 1.0), (date(2020, 2, 3), 2.0)))


CRASH_OPERATIONS: dict[str, Callable[[Path], object]] = {
    "template save": lambda r: _templates(r).save(hf.protective_put("new", template_id="t-new")),
    "template update": lambda r: _templates(r).update("t-base", description="changed"),
    "template archive": lambda r: _templates(r).archive("t-base"),
    "preset save": lambda r: _presets(r).save(make_preset("e-new")),
    "preset delete": lambda r: _presets(r).delete("e-base"),
    "run create": lambda r: _runs(r).create(_run("r-new")),
    "run transition": lambda r: _runs(r).transition("r-base", RunStatus.RUNNING),
    "bars, one partition": lambda r: crash_store(r).write_underlying_bars(
        _bars((date(2020, 1, 2), 12.0), (date(2020, 1, 3), 13.0))
    ),
    "bars, new partition": lambda r: crash_store(r).write_underlying_bars(
        _bars((date(2021, 1, 4), 14.0))
    ),
    "bars, two partitions": lambda r: crash_store(r).write_underlying_bars(
        _bars((date(2019, 12, 31), 15.0), (date(2020, 1, 3), 16.0))
    ),
    "quotes, two partitions": lambda r: crash_store(r).write_option_quotes(
        _quotes((date(2020, 1, 6), 3.0), (date(2020, 2, 4), 4.0))
    ),
}


def crash_follow_up(root: Path) -> None:
    """Another write of every kind: no lock is left held, nothing refuses to load."""
    _templates(root).save(hf.protective_put("later", template_id="t-later"))
    _presets(root).save(make_preset("e-later"))
    _runs(root).create(_run("r-later"))
    crash_store(root).write_underlying_bars(
        _bars((date(2019, 6, 3), 20.0), (date(2020, 6, 1), 21.0))
    )


def crash_at_step(name: str, root: str, at: int) -> None:
    """Run ``CRASH_OPERATIONS[name]`` on ``root`` and ``os._exit`` at step ``at``.

    ``os._exit`` runs no ``finally``, ``except`` or ``atexit`` code, so whatever the write
    had on disk at that instant stays exactly as a SIGKILL would leave it.
    """

    def die(label: str) -> None:
        os._exit(CRASH_EXIT_CODE)

    with Steps(at, die, sync=False).installed():
        CRASH_OPERATIONS[name](Path(root))
    os._exit(0)  # the step was never reached


# -- a submit that is killed ----------------------------------------------------------------


@dataclass
class SubmitJob:
    """What a child needs to submit runs over a store (picklable)."""

    data_dir: str
    store_root: str
    symbol: str
    start_date: date
    end_date: date
    entry_spot: float


def submit_until_killed(job: SubmitJob, ready: Event, go: Event) -> None:
    """Build the scenario, set ``ready``, wait for ``go``, then submit it until killed."""
    service = hf.BacktestService(job.data_dir)
    provider = hf.SyntheticHistoricalProvider(
        MarketDataStore(job.store_root), volatility=hf.ConstantVol(0.25)
    )
    scenario = hf.make_scenario(
        hf.seed_templates(),
        provider,
        symbol=job.symbol,
        start_date=job.start_date,
        end_date=job.end_date,
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100.0,
            entry_spot=job.entry_spot,
            loan_amount=0.6 * 100.0 * job.entry_spot,
            margin_call_ltv=0.7,
        ),
    )
    ready.set()
    go.wait()
    while True:
        service.submit(scenario, provider=provider)
        time.sleep(0)


# -- concurrent writers ---------------------------------------------------------------------


def concurrent_repository_writer(
    data_dir: str, worker: int, rounds: int, shared_ids: list[str], go: Event
) -> None:
    """Save, update, archive, preset and run writes, racing other workers on shared keys.

    Every ``DuplicateSlugError`` and ``DuplicateRecordError`` is an expected refusal of a
    race lost; the outcomes are appended to ``<data_dir>/../worker-<n>.log`` for the parent.
    """
    folder = Path(data_dir)
    templates = TemplateRepository(folder)
    presets = EventPresetRepository(folder)
    runs = RunRepository(folder)
    log_lines: list[str] = []
    go.wait(JOIN_TIMEOUT_SECONDS)
    for r in range(rounds):
        own = f"w{worker}-t{r}"
        templates.save(hf.protective_put(f"own-{worker}-{r}", template_id=own))
        log_lines.append(f"template {own} 1")
        # Everyone appends a version to the same shared templates: versions must be gapless.
        shared = shared_ids[r % len(shared_ids)]
        version = templates.update(shared, description=f"w{worker} r{r}").version
        log_lines.append(f"version {shared} {version} w{worker} r{r}")
        # Everyone races for the same active slug: exactly one template may hold it.
        contested = f"w{worker}-c{r}"
        try:
            templates.save(hf.protective_put(f"contested-{r % 3}", template_id=contested))
        except DuplicateSlugError:
            log_lines.append(f"refused slug {contested}")
        else:
            log_lines.append(f"template {contested} 1")
            if r % 2 == 0:  # free the slug again for a later round
                templates.archive(contested)
                log_lines.append(f"archived {contested}")
        # Presets: own ones, and a race on one shared id.
        presets.save(make_preset(f"w{worker}-p{r}"))
        log_lines.append(f"preset w{worker}-p{r}")
        try:
            presets.save(make_preset(f"shared-p{r}"))
        except DuplicateRecordError:
            log_lines.append(f"refused preset shared-p{r}")
        else:
            log_lines.append(f"preset shared-p{r}")
        # Runs: own run through its lifecycle.
        run_id = f"w{worker}-r{r}"
        runs.create(
            BacktestRun(
                run_id=run_id,
                scenario_id=f"w{worker}",
                provider_snapshot=ProviderSnapshot(provider_id="synthetic_v1"),
            )
        )
        runs.transition(run_id, RunStatus.RUNNING)
        runs.transition(run_id, RunStatus.COMPLETED, warnings=[f"w{worker} r{r}"])
        log_lines.append(f"run {run_id}")
    (folder.parent / f"worker-{worker}.log").write_text("\n".join(log_lines) + "\n", "utf-8")


def concurrent_market_writer(
    store_root: str, worker: int, workers: int, writes: int, go: Event
) -> None:
    """Upsert bars and quotes: own rows, rows in partitions shared with other workers."""
    store = MarketDataStore(store_root)
    go.wait(JOIN_TIMEOUT_SECONDS)
    for n in range(writes):
        # Worker w owns the days w, w + W, w + 2W, ... of a shared 2010-2011 range, so
        # every partition is written by every worker, and two years are touched at once.
        day = date(2010, 12, 1) + timedelta(days=worker + workers * n)
        frame = pl.DataFrame(
            {
                "symbol": ["SHR", "SHR", f"OWN{worker}"],
                "date": [day, day + timedelta(days=200), day],
                "close": [100.0 + worker, 200.0 + worker, 1.0 + n],
            }
        ).with_columns(pl.col("date").cast(UNDERLYING_BAR_SCHEMA["date"]))
        store.write_underlying_bars(frame)
        # Overlapping keys: every worker rewrites the same row; some worker's value wins.
        store.write_underlying_bars(
            pl.DataFrame({"symbol": ["HOT"], "date": [date(2011, 1, 3)], "close": [50.0 + worker]})
        )
        quotes = pl.DataFrame(
            {
                "symbol": ["SHR"],
                "as_of_date": [day],
                "option_type": ["put"],
                "expiry": [date(2012, 1, 20)],
                "strike": [float(90 + worker)],
                "bid": [1.0],
                "ask": [1.5],
            }
        )
        store.write_option_quotes(quotes)


def concurrent_submit(job: SubmitJob, go: Event) -> None:
    """Submit the seed templates once, racing other processes into the same data folder."""
    service = hf.BacktestService(job.data_dir)
    provider = hf.SyntheticHistoricalProvider(
        MarketDataStore(job.store_root), volatility=hf.ConstantVol(0.25)
    )
    scenario = hf.make_scenario(
        hf.seed_templates(),
        provider,
        symbol=job.symbol,
        start_date=job.start_date,
        end_date=job.end_date,
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100.0,
            entry_spot=job.entry_spot,
            loan_amount=0.6 * 100.0 * job.entry_spot,
            margin_call_ltv=0.7,
        ),
    )
    go.wait(JOIN_TIMEOUT_SECONDS)
    run = service.submit(scenario, provider=provider)
    if run.status is not RunStatus.COMPLETED:
        msg = f"run {run.run_id} ended {run.status.value}: {run.error}"
        raise RuntimeError(msg)
