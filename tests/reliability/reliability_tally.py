"""Count what the reliability suite tried, so ``docs/reliability.md`` can report it.

A test takes ``tally = Tally.of(request)`` and adds to named counters
(``tally.add("random_kills", 3)``). When the test ends, its counts are added to a JSON file
(``totals`` and ``per_test``): ``$HEDGEFRAME_RELIABILITY_FIGURES`` when that is set
(``tests/reliability/figures.py`` sets it), else ``reliability-figures.json`` in pytest's
base temporary folder of the session.

Not a conftest: ``tests/conftest.py`` already holds the module name ``conftest`` (for mypy
and for ``from conftest import ...``), and there is no ``__init__.py`` to tell them apart.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

FIGURES_ENV = "HEDGEFRAME_RELIABILITY_FIGURES"


class Tally:
    """Named counters of one test, added to the figures file when the test ends."""

    def __init__(self, path: Path, test: str) -> None:
        self.path = path
        self.test = test
        self.counts: Counter[str] = Counter()

    @classmethod
    def of(cls, request: pytest.FixtureRequest) -> Tally:
        """The tally of the requesting test (one per test, however many examples it runs)."""
        stash: pytest.Stash = request.node.stash
        if _KEY in stash:
            return stash[_KEY]
        target = os.environ.get(FIGURES_ENV)
        if target:
            path = Path(target)
        else:
            factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
            path = factory.getbasetemp() / "reliability-figures.json"
        tally = cls(path, request.node.nodeid)
        request.node.stash[_KEY] = tally
        request.addfinalizer(tally.flush)
        return tally

    def add(self, name: str, count: int = 1) -> None:
        """Add ``count`` to counter ``name``."""
        self.counts[name] += count

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    def flush(self) -> None:
        """Add this test's counts to the figures file."""
        if not self.counts:
            return
        document: dict[str, Any] = {"totals": {}, "per_test": {}}
        if self.path.exists():
            document = json.loads(self.path.read_text(encoding="utf-8"))
        totals: dict[str, int] = document["totals"]
        for name, count in self.counts.items():
            totals[name] = totals.get(name, 0) + count
        document["totals"] = dict(sorted(totals.items()))
        document["per_test"][self.test] = dict(sorted(self.counts.items()))
        self.path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


_KEY = pytest.StashKey[Tally]()
