"""Run the reliability suite and print what it tried and what held (docs/reliability.md).

Usage::

    .venv/bin/python tests/reliability/figures.py            # the normal suite
    .venv/bin/python tests/reliability/figures.py --scale 5  # a longer soak run

The suite counts as it goes (``tests/reliability/reliability_tally.py``); this script
runs it with ``HEDGEFRAME_RELIABILITY_FIGURES`` pointing at a temporary file, then prints
the counts as the Markdown table the document keeps, with the wall time and the outcome.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

ROWS: list[tuple[str, str, list[str]]] = [
    ("kills", "writing processes killed, in all", ["kills"]),
    ("kills", "... SIGKILL at a random moment of a write loop", ["random_kills"]),
    ("kills", "... ... landing inside a write call", ["kills_inside_a_write"]),
    ("kills", "... ... whose in-flight write had taken effect", ["in_flight_write_took_effect"]),
    ("kills", "... SIGKILL during BacktestService.submit", ["submit_kills"]),
    ("kills", "... os._exit at a chosen step of a write", ["process_deaths_at_a_chosen_step"]),
    ("kills", "in-process crashes at each step of each kind of write", ["crash_points_injected"]),
    ("kills", "I/O errors injected at each step", ["io_errors_injected"]),
    (
        "kills",
        "writes committed between kills",
        ["writes_committed_repositories", "writes_committed_market"],
    ),
    ("writers", "concurrent writer processes", ["concurrent_writer_processes"]),
    ("writers", "concurrent repository writes", ["concurrent_writes"]),
    ("writers", "... refused as designed (lost races)", ["concurrent_writes_refused_as_designed"]),
    ("writers", "concurrent market-data writes", ["concurrent_market_writes"]),
    ("writers", "concurrent submits", ["concurrent_submits"]),
    ("writers", "lock-free reads during the writes", ["concurrent_lock_free_reads"]),
    ("corrupt", "corrupt-file cases (file x corruption)", ["corrupt_file_cases"]),
    ("corrupt", "operations refused on them", ["corrupt_file_operations_refused"]),
    ("corrupt", "hostile values (path traversal, huge strings)", ["hostile_value_cases"]),
    ("market", "bad market data cases", ["bad_market_data_cases"]),
    ("fuzz", "fuzz examples", ["fuzz_examples"]),
    ("fuzz", "... backtests run on generated markets", ["fuzz_backtests_run"]),
    ("lost", "records lost", ["records_lost"]),
    ("lost", "hidden temporary files left by kills", ["leftover_temporary_files"]),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply kills and examples")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "figures.json"
        env = {
            **os.environ,
            "HEDGEFRAME_RELIABILITY_FIGURES": str(target),
            "HEDGEFRAME_RELIABILITY_SCALE": str(args.scale),
        }
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE)]
        started = time.monotonic()
        outcome = subprocess.run(command, cwd=ROOT, env=env, check=False)
        seconds = time.monotonic() - started
        totals: dict[str, int] = json.loads(target.read_text("utf-8"))["totals"]
    print("\n| what | count |\n|---|---:|")
    for _, label, names in ROWS:
        print(f"| {label} | {sum(totals.get(name, 0) for name in names)} |")
    load = os.getloadavg()[0]
    print(f"\nscale {args.scale:g}; pytest exit code {outcome.returncode}; {seconds:.1f} s wall")
    print(f"(1-minute load average at the end: {load:.1f} on {os.cpu_count()} cores)")
    return outcome.returncode


if __name__ == "__main__":
    raise SystemExit(main())
