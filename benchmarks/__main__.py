"""``python -m benchmarks`` (``make bench``): run the benchmark suite and write the results.

Every case checks its result once (against the scalar reference where one exists) and
only then is timed; a disagreement stops the run with exit code 1 and writes nothing.
See ``benchmarks/README.md`` for the cases, the targets and the last measured numbers.

Examples
--------
``python -m benchmarks``                          the whole suite at the issue's sizes
``python -m benchmarks --cases B1 B5 --repeat 3``  two cases, three repetitions
``python -m benchmarks --b2-templates 200 --years 5 --no-memory``   a quicker look
``python -m benchmarks --scaling``                 cost vs templates and years, PNG chart
``python -m benchmarks --cases B9 --import-runs 21``   import time alone, 21 fresh processes
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.cases import CASES, Suite, SuiteConfig
from benchmarks.crosscheck import CrossCheckError
from benchmarks.report import (
    CaseRow,
    TargetCheck,
    format_table,
    format_targets,
    machine_info,
    results_stem,
    write_results,
)
from benchmarks.workloads import CHAIN_END, CHAIN_START
from hedgeframe import tune_malloc

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CHART_PATH = Path(__file__).resolve().parent / "scaling.png"


def _sizes(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        msg = f"expected comma-separated integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from exc
    if not values or min(values) < 1:
        msg = f"expected positive integers, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return values


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be >= 1 (got {value})"
        raise argparse.ArgumentTypeError(msg)
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command line; sizes are parameters, defaults are the issue's sizes."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(
            "Benchmark hedgeframe against the scalar reference and the Black-Scholes roofline."
        ),
    )
    parser.add_argument(
        "--cases", nargs="+", choices=sorted(CASES), default=list(CASES), help="cases to run"
    )
    parser.add_argument("--repeat", type=_positive, default=5, help="timed repetitions per case")
    parser.add_argument("--years", type=_positive, default=20, help="B1/B2 scenario length")
    parser.add_argument("--b2-templates", type=_positive, default=1_000, help="B2 sweep size")
    parser.add_argument("--b3-templates", type=_positive, default=100, help="B3 size")
    parser.add_argument(
        "--reference-templates",
        type=_positive,
        default=20,
        help="B2 templates run (and checked) through the scalar reference",
    )
    parser.add_argument("--seed", type=int, default=0, help="template grid sample seed")
    parser.add_argument(
        "--chain-start", type=date.fromisoformat, default=CHAIN_START, help="chain first day"
    )
    parser.add_argument(
        "--chain-end", type=date.fromisoformat, default=CHAIN_END, help="chain last day"
    )
    parser.add_argument(
        "--chain-store",
        type=Path,
        default=None,
        help="store folder for the generated chain (reused if it holds one; default: temp)",
    )
    parser.add_argument(
        "--ingest-rows", type=_positive, default=1_000_000, help="B8 chain CSV size (rows)"
    )
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the peak-memory subprocesses",
    )
    parser.add_argument(
        "--import-runs", type=_positive, default=15, help="B9: fresh processes per import"
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder")
    scaling = parser.add_argument_group("scaling study (--scaling)")
    scaling.add_argument(
        "--scaling",
        action="store_true",
        help="instead of the cases: time and peak memory vs templates and vs years",
    )
    scaling.add_argument(
        "--scaling-templates",
        type=_sizes,
        default=[1, 10, 100, 1_000, 3_000, 10_000],
        help="template counts (at --years)",
    )
    scaling.add_argument(
        "--scaling-years",
        type=_sizes,
        default=[1, 2, 5, 10, 20],
        help="scenario lengths (at --b2-templates)",
    )
    scaling.add_argument(
        "--scaling-full-max",
        type=_positive,
        default=3_000,
        help="largest template count also run with the full daily path",
    )
    scaling.add_argument("--chart", type=Path, default=CHART_PATH, help="PNG chart path")
    return parser


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_cases(args: argparse.Namespace) -> int:
    """Run the selected cases, print the table and targets, write JSON and Parquet."""
    config = SuiteConfig(
        years=args.years,
        b2_templates=args.b2_templates,
        b3_templates=args.b3_templates,
        reference_templates=args.reference_templates,
        seed=args.seed,
        repeat=args.repeat,
        memory=args.memory,
        chain_start=args.chain_start,
        chain_end=args.chain_end,
        chain_store=args.chain_store,
        ingest_rows=args.ingest_rows,
        import_runs=args.import_runs,
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    machine = machine_info()
    rows: list[CaseRow] = []
    targets: list[TargetCheck] = []
    with tempfile.TemporaryDirectory(prefix="hedgeframe-bench-") as scratch:
        suite = Suite(config, Path(scratch), _log)
        for case in (c for c in CASES if c in args.cases):
            try:
                output = CASES[case](suite)
            except CrossCheckError as error:
                _log(f"\nBENCHMARK FAILED: {case} disagrees with its check; nothing written.")
                _log(f"{type(error).__name__}: {error}")
                return 1
            rows += output.rows
            targets += output.targets
    seconds = time.perf_counter() - clock
    stem = results_stem(machine, started)
    json_path, parquet_path = write_results(
        args.out,
        stem,
        machine=machine,
        config=config.as_json(),
        rows=rows,
        targets=targets,
        started=started,
        seconds=seconds,
    )
    print(
        f"hedgeframe {machine['engine_version']} on {machine['cpu']}, "
        f"{machine['usable_cores']} cores, {machine['ram_gb']} GB RAM, Python "
        f"{machine['python']}, numpy {machine['numpy']}, polars {machine['polars']}; "
        f"load {machine['load_average_1m']}"
    )
    print(format_table(rows))
    print()
    print(format_targets(targets))
    print(f"\n{len(rows)} rows in {seconds:.0f} s; results: {json_path} and {parquet_path.name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the suite (or the scaling study); return the exit code."""
    args = build_parser().parse_args(argv)
    if args.scaling:
        from benchmarks.scaling import run_scaling  # matplotlib only when asked for

        return run_scaling(args, _log)
    return run_cases(args)


if __name__ == "__main__":
    tune_malloc()  # process-wide, so the runner makes it, not the import (docs/decisions.md)
    raise SystemExit(main())
