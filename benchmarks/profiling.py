"""Profile the engine on a benchmark case with py-spy, and summarize where the time goes.

py-spy is a sampling profiler (not a dependency: ``pip install py-spy`` into the venv).
Record a case, then fold the samples under ``run_backtest`` into function shares::

    py-spy record -r 200 -f raw -o b2.txt -- python -m benchmarks.profiling run B2
    python -m benchmarks.profiling summarize b2.txt

``run`` builds the case as the suite does (``benchmarks/workloads.py``), runs it once to
warm up, then ``--repeat`` times; ``summarize`` prints, for the samples inside ``--root``
(default ``run_backtest``), each function's inclusive and self share, and the hottest
lines. Shares are of the samples under the root, so set-up and warm-up are included in
the same proportion as the timed runs.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

__all__ = ["main", "summarize"]

_FRAME: Final = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> tuple[str, str]:
    """``(function (file), function (file:line))`` of a py-spy frame, file names shortened."""
    match = _FRAME.match(frame)
    if match is None:
        return frame, frame
    parts = Path(match["file"]).parts
    where = "/".join(parts[-2:]) if len(parts) > 1 else match["file"]
    function = f"{match['function']} ({where})"
    line = f"{match['function']} ({where}:{match['line']})" if match["line"] else function
    return function, line


def summarize(raw: Path, *, root: str = "run_backtest", top: int = 30) -> str:
    """Function and line shares of the samples under ``root`` in a py-spy raw file."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    lines: collections.Counter[str] = collections.Counter()
    total = 0
    for text in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = text.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        starts = [i for i, frame in enumerate(frames) if frame.startswith(f"{root} (")]
        if not starts:
            continue
        count = int(count_text)
        total += count
        named = [_short(frame) for frame in frames[starts[0] :]]
        for function in {function for function, _ in named}:
            inclusive[function] += count
        own[named[-1][0]] += count
        lines[named[-1][1]] += count
    if total == 0:
        return f"no samples under {root!r} in {raw}"
    out = [f"{total:,} samples under {root}", "", "inclusive  self   function"]
    for function, count in inclusive.most_common(top):
        out.append(f"{100 * count / total:8.1f}%  {100 * own[function] / total:5.1f}%  {function}")
    out += ["", "self   hottest lines"]
    out += [f"{100 * count / total:5.1f}%  {line}" for line, count in lines.most_common(top)]
    return "\n".join(out)


def _run(args: argparse.Namespace) -> int:
    from benchmarks.workloads import (
        RUN_MODES,
        EventsRun,
        PreparedRun,
        SampleMarket,
        build_chain_store,
        prepare_events,
        prepare_snapshot,
        prepare_synthetic,
        template_grid,
    )

    market = SampleMarket.load()
    keep = RUN_MODES[args.mode]
    prepared: PreparedRun | EventsRun
    if args.case == "B3":
        store = build_chain_store(args.chain_store, market.store)
        templates = template_grid(args.templates, args.seed)
        prepared = prepare_snapshot(store, templates, args.chain_start, args.chain_end)
    elif args.case == "B4":
        prepared = prepare_events()
    else:
        templates = template_grid(args.templates, args.seed)
        prepared = prepare_synthetic(market, templates, args.years, f"profile-{args.case.lower()}")
    prepared.run(**keep)
    for _ in range(args.repeat):
        start = time.perf_counter()
        prepared.run(**keep)
        print(f"{args.case}: {time.perf_counter() - start:.3f} s", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``run`` a case (under py-spy) or ``summarize`` a py-spy raw file."""
    from datetime import date

    from benchmarks.workloads import RUN_MODES

    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a case: warm-up, then --repeat runs")
    run.add_argument("case", choices=["B2", "B3", "B4"])
    run.add_argument("--templates", type=int, default=None, help="default: B2 1,000, B3 100")
    run.add_argument("--years", type=int, default=20)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--mode", choices=list(RUN_MODES), default="summary-only")
    run.add_argument("--repeat", type=int, default=3)
    run.add_argument(
        "--chain-store",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "chain-store",
        help="generated on first use (benchmarks/results/ is git-ignored)",
    )
    run.add_argument("--chain-start", type=date.fromisoformat, default=date(2014, 1, 2))
    run.add_argument("--chain-end", type=date.fromisoformat, default=date(2018, 12, 31))
    summary = commands.add_parser("summarize", help="function shares in a py-spy raw file")
    summary.add_argument("raw", type=Path)
    summary.add_argument("--root", default="run_backtest")
    summary.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    if args.command == "summarize":
        print(summarize(args.raw, root=args.root, top=args.top))
        return 0
    if args.templates is None:
        args.templates = 100 if args.case == "B3" else 1_000
    return _run(args)


if __name__ == "__main__":
    from hedgeframe import tune_malloc

    tune_malloc()  # as in the runner, so the profile shows the runs it times
    sys.exit(main())
