"""How long ``import hedgeframe`` takes in a fresh Python process (B9).

Each measurement is a new interpreter (``python -c``) that times the import statement
itself with ``perf_counter`` and reports which of the optional heavy packages it loaded;
the parent times the whole process too (interpreter start-up included). The processes
run with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed), as after ``pip
install``, from a temporary folder; one unmeasured run first writes any missing bytecode
and warms the file cache. The same processes time the imports hedgeframe cannot avoid
(Polars, numpy and pydantic) as the floor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Final

__all__ = ["FLOOR_STATEMENT", "LAZY_PACKAGES", "STATEMENT", "ImportTiming", "time_imports"]

STATEMENT: Final = "import hedgeframe"
FLOOR_STATEMENT: Final = "import polars, numpy, pydantic"
"""What every ``import hedgeframe`` must load: its array, frame and model libraries."""
LAZY_PACKAGES: Final = (
    "scipy",
    "matplotlib",
    "pyarrow",
    "exchange_calendars",
    "yfinance",
    "typer",
    "rich",
    "filelock",
)
"""Imported only when first used (pricing, reports, runs, calendars, downloads, the CLI)."""

_CHILD: Final = """
import json, sys, time
start = time.perf_counter()
{statement}
seconds = time.perf_counter() - start
lazy = {lazy!r}
print(json.dumps({{"seconds": seconds, "loaded": [m for m in lazy if m in sys.modules]}}))
"""


@dataclass(frozen=True)
class ImportTiming:
    """Seconds of one statement in ``runs`` fresh processes."""

    statement: str
    import_s: list[float]
    process_s: list[float]
    loaded: list[str]
    """The :data:`LAZY_PACKAGES` some run found imported (none expected)."""


def _one(statement: str, cwd: str) -> tuple[float, float, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = _CHILD.format(statement=statement, lazy=LAZY_PACKAGES)
    start = time.perf_counter()
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    process = time.perf_counter() - start
    payload = json.loads(ran.stdout)
    return float(payload["seconds"]), process, list(payload["loaded"])


def time_imports(
    runs: int, statements: tuple[str, ...] = (STATEMENT, FLOOR_STATEMENT)
) -> list[ImportTiming]:
    """Time each statement in ``runs`` fresh processes, the statements taking turns.

    Taking turns puts both statements through the same spells of a shared machine.
    """
    timings: dict[str, tuple[list[float], list[float], set[str]]] = {
        s: ([], [], set()) for s in statements
    }
    with tempfile.TemporaryDirectory(prefix="hedgeframe-import-") as cwd:
        for statement in statements:
            _one(statement, cwd)  # writes missing bytecode, warms the file cache
        for _ in range(runs):
            for statement in statements:
                seconds, process, loaded = _one(statement, cwd)
                imports, processes, seen = timings[statement]
                imports.append(seconds)
                processes.append(process)
                seen.update(loaded)
    return [
        ImportTiming(s, imports, processes, sorted(seen))
        for s, (imports, processes, seen) in timings.items()
    ]
