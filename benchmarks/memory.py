"""Peak memory of one case, measured in a fresh Python process.

The parent (:func:`measure`) starts ``python -m benchmarks.memory '<spec json>'``; the
child rebuilds the case from the spec (:func:`benchmarks.workloads.prepare`), notes its
resident set size once set up (imports, market data, templates built), runs the case
``repeat`` times and prints one JSON line: its peak resident set size (``VmHWM`` from
``/proc/self/status``, the high-water mark of the whole process, imports included), the
set-up RSS, the run times and the size of the book. A fresh process per case keeps one
case's allocations (or the allocator's retained pages) out of another's number.

Why not ``getrusage(...).ru_maxrss``: on Linux a process started by fork/vfork + exec
inherits its parent's high-water mark at exec (``signal->maxrss``), so after a large case
every later child would report at least the parent's peak. ``VmHWM`` belongs to the
process's own address space and starts afresh at exec; ``ru_maxrss`` is only the fallback
where ``/proc`` is missing.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["MemoryReading", "current_rss_mb", "measure", "peak_rss_mb"]

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
_MARKER: Final = "BENCHMARK-MEMORY "


@dataclass(frozen=True)
class MemoryReading:
    """What one fresh process measured."""

    peak_rss_mb: float
    setup_rss_mb: float | None
    times: list[float]
    positions: int
    position_days: int
    marks: int


def _proc_status_mb(field: str) -> float | None:
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (``VmHWM``, else ru_maxrss)."""
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return peak / scale


def current_rss_mb() -> float | None:
    """This process's resident set size now, in MiB, where ``/proc`` tells it."""
    return _proc_status_mb("VmRSS")


def measure(spec: dict[str, Any], *, timeout: float = 1800.0) -> MemoryReading:
    """Run one case in a fresh interpreter and return what it measured.

    Raises
    ------
    RuntimeError
        When the child fails; the message carries its stderr.
    """
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", json.dumps(spec)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [ln for ln in completed.stdout.splitlines() if ln.startswith(_MARKER)]
    if completed.returncode != 0 or not lines:
        msg = (
            f"memory subprocess for {spec} failed with exit code {completed.returncode}:\n"
            f"{completed.stderr[-4000:]}"
        )
        raise RuntimeError(msg)
    payload = json.loads(lines[-1].removeprefix(_MARKER))
    return MemoryReading(
        peak_rss_mb=float(payload["peak_rss_mb"]),
        setup_rss_mb=payload["setup_rss_mb"],
        times=[float(t) for t in payload["times"]],
        positions=int(payload["positions"]),
        position_days=int(payload["position_days"]),
        marks=int(payload["marks"]),
    )


def child_main(argv: list[str]) -> int:
    """The child: rebuild the case, run it, print the measurements as one JSON line."""
    from benchmarks.workloads import RUN_MODES, SampleMarket, prepare

    spec = json.loads(argv[0])
    market = SampleMarket.load()
    prepared = prepare(spec, market)
    keep = RUN_MODES[spec.get("mode", "daily-path")]
    setup_rss = current_rss_mb()
    if spec.get("warmup", False):
        prepared.run(**keep)
    times = []
    result = None
    for _ in range(int(spec.get("repeat", 1))):
        result = None  # freed before the next run
        start = time.perf_counter()
        result = prepared.run(**keep)
        times.append(time.perf_counter() - start)
    peak = peak_rss_mb()
    if not keep["keep_trades"]:
        # A summary-only result has no positions to size the work by: size one more run
        # that keeps them, after the peak is read.
        result = prepared.run(keep_daily_path=False)
    size = prepared.size(result) if result is not None else None
    payload = {
        "peak_rss_mb": peak,
        "setup_rss_mb": setup_rss,
        "times": times,
        "positions": size.positions if size else 0,
        "position_days": size.position_days if size else 0,
        "marks": size.marks if size else 0,
    }
    print(_MARKER + json.dumps(payload), flush=True)
    return 0


if __name__ == "__main__":
    from hedgeframe import tune_malloc

    tune_malloc()  # as in the runner, so a case's memory is measured as it runs there
    raise SystemExit(child_main(sys.argv[1:]))
