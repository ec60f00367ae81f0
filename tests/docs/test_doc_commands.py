"""Every command in the README and the docs runs as written, and prints what they show.

The Markdown files are the project's README.md files and ``docs/*.md``. Their fenced blocks
are read by language:

- ``sh``, ``bash``, ``shell``, ``console``: one command a line (``\\`` continues a line,
  ``#`` starts a comment, a ``$ `` prompt is dropped, ``&&`` and ``;`` chain commands).
  A command that starts with ``hedgeframe`` runs through ``hedgeframe.cli.main`` and must
  exit 0; ``data fetch`` gets a stand-in for Yahoo Finance (below), so nothing touches the
  network. Any other command must be listed in :data:`NOT_RUN` with the reason.
- ``python``: run with ``exec``; a page's blocks share one namespace, like a notebook.
- ``sql``: run by DuckDB, which must return rows.
- ``text`` right after a block that ran (blank lines between at most): what that block
  printed. It must match line for line (trailing spaces aside; ``...`` matches anything, as
  in doctest).
- Any block whose info string names a file (``json title="scenario.json"``): a file the
  reader saves; it is written into the working folder where it appears.

Other blocks (JSON examples, signatures) are not commands. Each page runs top to bottom in
its own working folder, empty but for links to the repository's ``fixtures`` and ``tests``
folders (the recorded files a page imports "from the repository's folder"), so a command
finds what the page's earlier commands and files made, and nothing else. New commands in
the docs are picked up without touching this file.

Not run, and why (:data:`NOT_RUN_COMMANDS`, :data:`NOT_RUN_PYTHON`; an entry that matches
nothing fails the test, so the list stays true):

- ``make demo``, ``make test``, ``make bench``: they build the venv and run this suite and
  the benchmark suite; what ``make demo`` runs, ``hedgeframe demo``, is the README's next
  block, and ``tests/benchmarks`` runs the benchmarks at a tiny size.
- ``sha256sum -c datasets/checksums.sha256``: ``tests/sample/test_sample_store.py`` checks
  the same checksums.
- ``.venv/bin/python datasets/build_sample.py``: it rebuilds the committed sample store;
  ``tests/sample/test_sample_store.py`` runs the same build into a temporary folder.
- ``.venv/bin/python tests/reliability/figures.py``: minutes of killed writers; the same
  tests run in ``tests/reliability`` at test size.
- ``py-spy record ...`` and ``python -m benchmarks.profiling summarize ...``: py-spy is not
  a dependency; profiling is a manual step.
- Python: the first and third blocks of ``docs/snapshot-provider.md`` are fragments of the
  page's last block (which runs them: a store with a generated chain, the snapshot
  provider, ``compare_providers``); the block in ``benchmarks/README.md`` reads the files a
  benchmark run writes into ``benchmarks/results/``, which are not committed.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
import traceback
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb
import numpy as np
import polars as pl
import pytest

from hedgeframe.cli import main
from hedgeframe.data import get_calendar
from hedgeframe.sample import SAMPLE_STORE_ENV

REPO = Path(__file__).resolve().parents[2]
PAGES: Final = sorted(
    {
        *REPO.glob("*.md"),
        *REPO.glob("*/README.md"),
        *REPO.glob("docs/*.md"),
        *REPO.glob("tests/*/recorded/README.md"),
    }
)
SHELLS: Final = {"sh", "bash", "shell", "console"}
REPO_FILES: Final = ("fixtures", "tests")
"""Folders of the repository a page's commands may read (linked into its working folder,
read-only by convention): the recorded files and fixtures the docs import from."""

NOT_RUN_COMMANDS: Final = {
    "make demo": "builds the venv, then runs `hedgeframe demo` (the README's next block)",
    "make test": "this test suite",
    "make bench": "the benchmark suite (tests/benchmarks runs it at a tiny size)",
    "sha256sum -c datasets/checksums.sha256": "tests/sample/test_sample_store.py checks it",
    ".venv/bin/python datasets/build_sample.py": "test_sample_store.py rebuilds into a tmp dir",
    ".venv/bin/python tests/reliability/figures.py": "minutes; tests/reliability runs it small",
    "py-spy record": "py-spy is not a dependency; profiling is manual",
    "python -m benchmarks.profiling summarize": "reads the py-spy output of the line before",
}
"""Command prefixes not run, with the reason (the module docstring says more)."""

NOT_RUN_PYTHON: Final = {
    ("docs/snapshot-provider.md", 'MarketDataStore("data/market")'): "fragment of the last block",
    ("docs/snapshot-provider.md", "table = compare_providers("): "fragment of the last block",
    ("benchmarks/README.md", "benchmarks/results/"): "reads a benchmark run's uncommitted files",
}
"""(page, text in the block) of Python blocks not run, with the reason."""

_FENCE = re.compile(r"^ {0,3}(```+)\s*(\S*)(.*)$")
_TITLE = re.compile(r'title="([^"]+)"')


@dataclass
class Block:
    """One fenced block of a page."""

    page: str
    line: int  # of the opening fence, 1-based
    language: str
    info: str
    text: str
    output: Block | None = None  # the text block right after it, if any

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def file_name(self) -> str | None:
        found = _TITLE.search(self.info)
        return found.group(1) if found else None


def read_blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path``, each ``text`` block tied to the block before it."""
    page = path.relative_to(REPO).as_posix()
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    last_end = -1  # the closing fence of the block before
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, language, info = opening.groups()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        block = Block(page, index + 1, language.lower(), info, "\n".join(lines[index + 1 : end]))
        between = lines[last_end + 1 : index]
        if block.language == "text" and blocks and not any(s.strip() for s in between):
            blocks[-1].output = block
        blocks.append(block)
        last_end = end
        index = end + 1
    return blocks


def shell_commands(block: Block) -> list[list[str]]:
    """The commands of a shell block, as argument lists."""
    commands: list[list[str]] = []
    for logical in block.text.replace("\\\n", " ").splitlines():
        line = logical.strip().removeprefix("$ ")
        words: list[str] = []
        for word in shlex.split(line, comments=True):
            if word in ("&&", ";"):
                commands.append(words)
                words = []
            else:
                words.append(word)
        if words:
            commands.append(words)
    return commands


def not_run_reason(words: list[str]) -> str | None:
    text = " ".join(words)
    return next((why for prefix, why in NOT_RUN_COMMANDS.items() if text.startswith(prefix)), None)


def skipped_python(block: Block) -> str | None:
    return next(
        (
            why
            for (page, marker), why in NOT_RUN_PYTHON.items()
            if page == block.page and marker in block.text
        ),
        None,
    )


ALL_BLOCKS: Final = {path.relative_to(REPO).as_posix(): read_blocks(path) for path in PAGES}


class StandInDownloader:
    """Stands in for Yahoo Finance in ``data fetch``: made-up bars, one per XNYS session.

    A deterministic random walk per symbol (about 3,000 for an index, 20 for a ``VIX``),
    in the frame yfinance returns. Its values are not checked: only that the commands
    that use them run.
    """

    def __call__(self, symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        days = get_calendar("XNYS").sessions_in_range(start, end)
        days = days[days < np.datetime64(end)]  # yfinance's end is exclusive
        rng = np.random.default_rng(zlib.crc32(symbol.encode()))
        level, step = (20.0, 0.05) if "VIX" in symbol else (3000.0, 0.012)
        close = level * np.exp(np.cumsum(rng.normal(0.0, step, days.size)))
        return pl.DataFrame(
            {
                "Date": days.astype("datetime64[D]"),
                "Open": close,
                "High": close * 1.005,
                "Low": close * 0.995,
                "Close": close,
                "Volume": np.full(days.size, 1e6),
            }
        )


@contextlib.contextmanager
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def check_output(block: Block, printed: str) -> None:
    """``printed`` must match the text block after ``block`` (doctest's ``...`` rules)."""
    assert block.output is not None
    want = "\n".join(line.rstrip() for line in block.output.text.splitlines()) + "\n"
    got = "\n".join(line.rstrip() for line in printed.splitlines()) + "\n"
    checker = doctest.OutputChecker()
    if not checker.check_output(want, got, doctest.ELLIPSIS):
        example = doctest.Example(source="", want=want)
        diff = checker.output_difference(example, got, doctest.ELLIPSIS | doctest.REPORT_UDIFF)
        pytest.fail(
            f"{block.output.where}: the output shown is not what {block.where} prints\n{diff}"
        )


def run_shell(block: Block) -> str:
    printed = []
    for words in shell_commands(block):
        if words[0] != "hedgeframe":
            assert not_run_reason(words), f"{block.where}: {shlex.join(words)!r} has no runner"
            continue
        with captured() as (out, err):
            code = main(words[1:], downloader=StandInDownloader())
        assert code == 0, f"{block.where}: {shlex.join(words)} exited {code}\n{err.getvalue()}"
        printed.append(out.getvalue())
    return "".join(printed)


def run_python(block: Block, namespace: dict[str, Any]) -> str:
    code = compile(block.text, f"{block.where} (python block)", "exec")
    with captured() as (out, _):
        try:
            exec(code, namespace)  # the docs' own examples
        except Exception:
            pytest.fail(f"{block.where}: the Python block fails\n{traceback.format_exc()}")
    return out.getvalue()


def run_sql(block: Block) -> None:
    relation = duckdb.sql(block.text)
    assert relation is not None
    assert relation.fetchall(), f"{block.where}: the query returns no rows"


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p, blocks in ALL_BLOCKS.items() if blocks])
def test_every_command_of_the_page_runs(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(SAMPLE_STORE_ENV, raising=False)
    for shared in REPO_FILES:  # what a page runs "from the repository's folder" reads
        (tmp_path / shared).symlink_to(REPO / shared, target_is_directory=True)
    with pl.Config():  # what a page sets (the README's table format) ends with it
        run_page(ALL_BLOCKS[page], tmp_path)


def run_page(blocks: list[Block], folder: Path) -> None:
    """Run a page's blocks in order in ``folder`` (the working folder)."""
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for block in blocks:
        if block.file_name:
            (folder / block.file_name).write_text(block.text + "\n", encoding="utf-8")
        elif block.language in SHELLS:
            printed = run_shell(block)
            if block.output is not None:
                check_output(block, printed)
        elif block.language == "python" and not skipped_python(block):
            printed = run_python(block, namespace)
            if block.output is not None:
                check_output(block, printed)
        elif block.language == "sql":
            run_sql(block)


def _commands() -> list[tuple[Block, list[str]]]:
    return [
        (block, words)
        for blocks in ALL_BLOCKS.values()
        for block in blocks
        if block.language in SHELLS
        for words in shell_commands(block)
    ]


def test_every_command_has_a_runner_or_a_reason() -> None:
    missing = [
        f"{block.where}: {shlex.join(words)}"
        for block, words in _commands()
        if words[0] != "hedgeframe" and not not_run_reason(words)
    ]
    assert missing == []


def test_every_not_run_entry_still_matches_the_docs() -> None:
    commands = [" ".join(words) for _, words in _commands()]
    stale = [p for p in NOT_RUN_COMMANDS if not any(c.startswith(p) for c in commands)]
    python = [b for blocks in ALL_BLOCKS.values() for b in blocks if b.language == "python"]
    stale += [
        f"{page}: {marker}"
        for page, marker in NOT_RUN_PYTHON
        if sum(b.page == page and marker in b.text for b in python) != 1
    ]
    assert stale == []


def test_the_docs_are_read() -> None:
    """The extractor finds what the pages hold (so the run test cannot pass on nothing)."""
    assert {"README.md", "docs/cli.md"} <= set(ALL_BLOCKS)
    run = {words[1] for _, words in _commands() if words[0] == "hedgeframe"}
    assert {"demo", "templates", "events", "data", "run", "runs"} <= run
    readme = ALL_BLOCKS["README.md"]
    shown = [b for b in readme if b.output is not None]
    assert [b.language for b in shown] == ["sh", "python"]  # the demo and the quickstart
    assert any(b.file_name == "scenario.json" for b in ALL_BLOCKS["docs/cli.md"])
