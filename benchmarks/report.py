"""Result rows, target checks, machine information, the printed table and the files.

Every benchmark run writes ``<out>/<UTC timestamp>-<git sha>.json`` (machine, versions,
configuration, rows and target checks) and ``.parquet`` (the rows, each with the run's
machine and version columns, so one glob over the folder compares runs over time).
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import polars as pl

from hedgeframe._blocks import thread_count
from hedgeframe.engine import engine_version

__all__ = [
    "FORMAT",
    "ROW_SCHEMA",
    "CaseRow",
    "TargetCheck",
    "format_table",
    "format_targets",
    "machine_info",
    "results_stem",
    "write_results",
]

FORMAT: Final = "hedgeframe-benchmarks"
FORMAT_VERSION: Final = 1
REPO_ROOT: Final = Path(__file__).resolve().parent.parent

STATUS_OK: Final = "ok"
STATUS_NOT_AVAILABLE: Final = "not available"


@dataclass
class CaseRow:
    """One measured case (or a ``not available`` placeholder); seconds, MiB, counts.

    ``speedup_vs_reference`` is reference time / engine time; ``vs_roofline`` is engine
    time / roofline time (both on the row's minimum times).
    """

    case: str
    variant: str
    description: str
    status: str = STATUS_OK
    templates: int | None = None
    legs: int | None = None
    sessions: int | None = None
    positions: int | None = None
    position_days: int | None = None
    marks: int | None = None
    repeat: int | None = None
    time_min_s: float | None = None
    time_median_s: float | None = None
    position_days_per_s: float | None = None
    reference_s: float | None = None
    reference_basis: str | None = None
    speedup_vs_reference: float | None = None
    roofline_s: float | None = None
    vs_roofline: float | None = None
    peak_rss_mb: float | None = None
    setup_rss_mb: float | None = None
    checked: str | None = None
    note: str | None = None

    def fill_rates(self) -> None:
        """Derive throughput and the two ratios from the measured times."""
        t = self.time_min_s
        if t is None or t <= 0:
            return
        if self.position_days is not None:
            self.position_days_per_s = self.position_days / t
        if self.reference_s is not None:
            self.speedup_vs_reference = self.reference_s / t
        if self.roofline_s is not None and self.roofline_s > 0:
            self.vs_roofline = t / self.roofline_s


ROW_SCHEMA: Final = pl.Schema(
    {
        "case": pl.String,
        "variant": pl.String,
        "description": pl.String,
        "status": pl.String,
        "templates": pl.Int64,
        "legs": pl.Int64,
        "sessions": pl.Int64,
        "positions": pl.Int64,
        "position_days": pl.Int64,
        "marks": pl.Int64,
        "repeat": pl.Int64,
        "time_min_s": pl.Float64,
        "time_median_s": pl.Float64,
        "position_days_per_s": pl.Float64,
        "reference_s": pl.Float64,
        "reference_basis": pl.String,
        "speedup_vs_reference": pl.Float64,
        "roofline_s": pl.Float64,
        "vs_roofline": pl.Float64,
        "peak_rss_mb": pl.Float64,
        "setup_rss_mb": pl.Float64,
        "checked": pl.String,
        "note": pl.String,
    }
)
"""Columns of a results row, in order (the Parquet file adds ``run_*`` columns)."""

assert tuple(ROW_SCHEMA.names()) == tuple(f.name for f in fields(CaseRow))


@dataclass(frozen=True)
class TargetCheck:
    """One target of the issue, and whether this run met it."""

    case: str
    variant: str
    target: str
    measured: float | None
    threshold: float
    unit: str
    higher_is_better: bool
    met: bool | None = field(init=False)

    def __post_init__(self) -> None:
        met = None
        if self.measured is not None and math.isfinite(self.measured):
            met = (
                self.measured >= self.threshold
                if self.higher_is_better
                else self.measured <= self.threshold
            )
        object.__setattr__(self, "met", met)


# ---------------------------------------------------------------------------------------
# Machine and versions
# ---------------------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU, cores, RAM, load, Python and library versions, package version and git SHA."""
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    page_size = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 0
    sha = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": thread_count(),  # the cores the engine's threads use
        "ram_gb": round(pages * page_size / 1024**3, 1),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "polars": _version("polars"),
        "scipy": _version("scipy"),
        "pyarrow": _version("pyarrow"),
        "hedgeframe": _version("hedgeframe"),
        "engine_version": engine_version(),
        "git_sha": sha,
        "git_dirty": bool(dirty) if dirty is not None else None,
    }


def results_stem(machine: dict[str, Any], now: datetime | None = None) -> str:
    """``<UTC timestamp>-<12-character git sha>`` (``nogit`` outside a checkout)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    sha = machine.get("git_sha") or "nogit"
    dirty = "-dirty" if machine.get("git_dirty") else ""
    return f"{stamp}-{sha[:12]}{dirty}"


# ---------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} us"
    if value < 1.0:
        return f"{value * 1e3:.1f} ms"
    return f"{value:.2f} s"


def _count(value: float | None) -> str:
    if value is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{suffix}"
    return f"{value:.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f} MB"


_COLUMNS: Final[tuple[tuple[str, str, Callable[[Any], str]], ...]] = (
    ("case", "case", str),
    ("variant", "variant", str),
    ("status", "status", str),
    ("templates", "templates", _count),
    ("sessions", "days", _count),
    ("positions", "positions", _count),
    ("position_days", "pos-days", _count),
    ("time_min_s", "time min", _seconds),
    ("time_median_s", "median", _seconds),
    ("position_days_per_s", "pos-days/s", _count),
    ("reference_s", "reference", _seconds),
    ("speedup_vs_reference", "ref/engine", _ratio),
    ("roofline_s", "roofline", _seconds),
    ("vs_roofline", "engine/roof", _ratio),
    ("peak_rss_mb", "peak RSS", _mb),
)


def format_table(rows: list[CaseRow]) -> str:
    """A fixed-width text table of the rows, then their notes."""
    header = [title for _, title, _ in _COLUMNS]
    body = [
        [
            fmt(getattr(row, name)) if getattr(row, name) is not None else "-"
            for name, _, fmt in _COLUMNS
        ]
        for row in rows
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *body, strict=True)]
    lines = [
        "  ".join(
            cell.ljust(w) if i < 3 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )
        for cells in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [
        f"{row.case} {row.variant}: {text}"
        for row in rows
        for text in (
            row.reference_basis and f"reference {row.reference_basis}",
            row.checked and f"checked: {row.checked}",
            row.note,
        )
        if text
    ]
    return "\n".join([*lines, "", *notes])


def format_targets(targets: list[TargetCheck]) -> str:
    """One line per target: met / NOT MET / n/a, the target and the measured value."""
    lines = []
    for check in targets:
        verdict = "n/a    " if check.met is None else "met    " if check.met else "NOT MET"
        measured = "-" if check.measured is None else f"{check.measured:,.3g} {check.unit}"
        lines.append(
            f"[{verdict}] {check.case} {check.variant}: {check.target} (measured {measured})"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON cannot hold inf/NaN portably: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_results(
    out_dir: Path,
    stem: str,
    *,
    machine: dict[str, Any],
    config: dict[str, Any],
    rows: list[CaseRow],
    targets: list[TargetCheck],
    started: datetime,
    seconds: float,
) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.parquet`` under ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run = {
        "run_id": stem,
        "started_at": started.isoformat(),
        "seconds": round(seconds, 3),
        **machine,
    }
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "run": run,
        "config": config,
        "rows": [{k: _clean(v) for k, v in asdict(row).items()} for row in rows],
        "targets": [{k: _clean(v) for k, v in asdict(check).items()} for check in targets],
    }
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    frame = pl.DataFrame([asdict(row) for row in rows], schema=ROW_SCHEMA, orient="row")
    run_columns = {
        f"run_{key}": value
        for key, value in run.items()
        if isinstance(value, str | int | float | bool) or value is None
    }
    frame = frame.with_columns(
        pl.lit(value, dtype=pl.String if value is None else None).alias(key)
        for key, value in run_columns.items()
    )
    parquet_path = out_dir / f"{stem}.parquet"
    frame.write_parquet(parquet_path)
    return json_path, parquet_path
