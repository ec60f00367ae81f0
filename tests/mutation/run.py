"""Mutation testing with mutmut, one module at a time: ``make mutation`` runs this.

Each target module is mutated in its own working folder, ``.mutation/<name>/``, against
only the test files that exercise it, so a mutant runs seconds of tests rather than the
whole suite, and a module's results survive (and resume) across runs. The folder holds
symlinks to the project and a ``pyproject.toml`` that is the project's own plus the
``[tool.mutmut]`` table for that module; mutmut writes its ``mutants/`` copy there.

Usage::

    .venv/bin/python tests/mutation/run.py                  # every module below
    .venv/bin/python tests/mutation/run.py engine metrics   # just these
    .venv/bin/python tests/mutation/run.py --list           # the plan
    .venv/bin/python tests/mutation/run.py engine --sample 60  # 60 mutants drawn at random

A stage-two module joins with one line in :data:`TARGETS`. The scores, the survivors
judged equivalent and the run dates are in ``docs/testing.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / ".mutation"
LINKED = ("hedgeframe", "tests", "fixtures", "datasets", "benchmarks")
"""What a working folder links to: the package, its tests and what the tests read."""
KILLED_TARGET = 0.85
PRELOADED = ("pytest", "numpy", "polars", "pyarrow", "pydantic", "scipy.stats")
"""Imported once by mutmut's fork server: third-party modules only. Mutants run in
children forked from it, and a process forked after Polars has started its thread pool
deadlocks on its first query; importing Polars starts no thread, running tests does.
(Not hypothesis: a pytest plugin imported before pytest starts cannot have its asserts
rewritten, and the warning is an error under the project's pytest settings.)"""


@dataclass(frozen=True)
class Target:
    """A module to mutate and the tests that exercise it."""

    module: str
    tests: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "engine": Target(
        "hedgeframe/engine/_engine.py",
        (
            "tests/engine",
            "tests/providers/test_snapshot_marks.py",
            "tests/providers/test_listed_contracts.py",
        ),
    ),
    "metrics": Target("hedgeframe/engine/_metrics.py", ("tests/engine", "tests/events")),
    "snapshot": Target(
        "hedgeframe/providers/_snapshot.py",
        ("tests/providers", "tests/engine/test_point_in_time.py"),
    ),
    "synthetic": Target(
        # Stage two's strike rules (delta target, zero cost) are tested in tests/engine.
        "hedgeframe/providers/_synthetic.py",
        ("tests/providers", "tests/engine"),
    ),
    "black_scholes": Target(
        "hedgeframe/pricing/_black_scholes.py",
        ("tests/pricing", "tests/providers/test_synthetic_marks.py"),
    ),
    "atomic": Target(
        "hedgeframe/_atomic.py",
        (
            "tests/repositories",
            "tests/reliability/test_crash_points.py",
            "tests/reliability/test_durability.py",
        ),
    ),
    "format": Target("hedgeframe/report/_format.py", ("tests/report", "tests/cli")),
}
"""The modules where a silent bug costs most (issue 21), each with its tests."""


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def prepare(name: str, target: Target) -> Path:
    """Create (or refresh) the module's working folder and return it."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    for entry in LINKED:
        link = folder / entry
        if not link.is_symlink():
            link.symlink_to(ROOT / entry)
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if "[tool.mutmut]" in project:
        msg = "pyproject.toml has a [tool.mutmut] table; tests/mutation/run.py writes its own"
        raise SystemExit(msg)
    table = "\n".join(
        (
            "",
            "[tool.mutmut]",
            'source_paths = ["hedgeframe"]',
            f"only_mutate = {_toml_list([target.module])}",
            f"also_copy = {_toml_list(['fixtures', 'datasets', 'benchmarks'])}",
            f"pytest_add_cli_args_test_selection = {_toml_list(target.tests)}",
            # Warnings are errors in the project's pytest settings; mutmut's trampolines
            # and its forked workers must not turn into failures of their own.
            'pytest_add_cli_args = ["-W", "ignore::DeprecationWarning", "-p", "no:cacheprovider"]',
            "use_git_change_detection = false",
            # A mutant that hangs (a lock never taken, a loop that never ends) is stopped
            # after 4x its tests' clean time plus 4 s, not mutmut's 15x; it counts as killed.
            "timeout_multiplier = 4.0",
            'process_isolation = "forkserver"',
            'forkserver_warmup = "import"',
            'preload_modules_file = "preload.txt"',
            "",
        )
    )
    (folder / "preload.txt").write_text("\n".join(PRELOADED) + "\n", encoding="utf-8")
    (folder / "pyproject.toml").write_text(project + table, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class Score:
    """How one module's mutants ended (``not checked``: left out of a sample)."""

    counts: dict[str, int]

    @property
    def checked(self) -> int:
        return sum(n for status, n in self.counts.items() if status != "not checked")

    @property
    def killed_share(self) -> float:
        killed = self.counts.get("killed", 0) + self.counts.get("timeout", 0)
        return killed / self.checked if self.checked else 0.0


STATUS_BY_EXIT_CODE = {
    **dict.fromkeys((1, 3), "killed"),
    0: "survived",
    **dict.fromkeys((5, 33), "no tests"),
    **dict.fromkeys((36, -24, 24, 152, 255, -9, -11), "timeout"),
}
"""mutmut's exit codes per mutant (``mutmut.stats``): a test failed, none did, none ran, or
the tests hung or crashed (counted as killed); anything else counts as its number."""


def _exit_codes(folder: Path, target: Target) -> dict[str, int | None]:
    """Every mutant of the module and its outcome so far (``None``: not run yet)."""
    meta = folder / "mutants" / (target.module + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return codes


def score(codes: dict[str, int | None]) -> tuple[Score, list[str]]:
    """Count mutants by outcome and list the survivors by name."""
    counts: dict[str, int] = {}
    survivors: list[str] = []
    for mutant, code in codes.items():
        status = "not checked" if code is None else STATUS_BY_EXIT_CODE.get(code, f"exit {code}")
        counts[status] = counts.get(status, 0) + 1
        if status in {"survived", "no tests"}:
            survivors.append(mutant)
    return Score(counts), sorted(survivors)


SAMPLE_SEED = 21
"""Seed of the random sample of mutants (issue 21): a rerun draws the same mutants."""


def run(name: str, target: Target, *, max_children: int, sample: int | None) -> Score:
    """Mutate one module, print its score and survivors, and return the score.

    With ``sample``, that many mutants drawn at random (a fixed seed) are run and scored,
    for a score when the whole module does not fit in the time at hand; mutmut first
    generates every mutant and measures the tests (a call that selects no mutant).
    """
    folder = prepare(name, target)
    mutmut = [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children"]
    mutmut.append(str(max_children))
    env = {**os.environ, "HYPOTHESIS_PROFILE": "ci"}
    started = time.monotonic()
    chosen: list[str] = []
    if sample is not None:
        module = target.module.removesuffix(".py").replace("/", ".")
        meta = folder / "mutants" / (target.module + ".meta")
        if not meta.exists():  # generate and measure only: this pattern selects no mutant
            subprocess.run([*mutmut, f"{module}.x_none__mutmut_0"], cwd=folder, env=env)
        every = sorted(_exit_codes(folder, target))
        chosen = random.Random(SAMPLE_SEED).sample(every, min(sample, len(every)))
    subprocess.run([*mutmut, *chosen], cwd=folder, env=env, check=True)
    codes = _exit_codes(folder, target)
    result, survivors = score({m: codes[m] for m in chosen} if chosen else codes)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{target.module}: {result.counts}")
    print(f"killed {result.killed_share:.1%} of {result.checked} mutants in {minutes:.1f} min")
    for mutant in survivors:
        print(f"  survived: {mutant}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the named modules (every one by default); exit 1 if any scores under 85 %."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *TARGETS], metavar="name")
    parser.add_argument("--list", action="store_true", help="print the plan and stop")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--sample", type=int, help="run this many mutants, drawn at random")
    args = parser.parse_args(argv)
    names = args.names or list(TARGETS)
    if args.list:
        for name in names:
            print(f"{name}: {TARGETS[name].module} <- {' '.join(TARGETS[name].tests)}")
        return 0
    scores = {
        name: run(name, TARGETS[name], max_children=args.max_children, sample=args.sample)
        for name in names
    }
    print("\nmodule  killed  mutants run")
    for name, result in scores.items():
        print(f"{name}  {result.killed_share:.1%}  {result.checked}")
    return 0 if all(s.killed_share >= KILLED_TARGET for s in scores.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
