"""What every command shares: the typer apps, options, JSON and table output, progress."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hedgeframe.data import BarDownloader
from hedgeframe.errors import BadInputError
from hedgeframe.report import NUMERIC_FORMATS, Column

EXIT_BAD_INPUT: Final = 2
EXIT_UNEXPECTED: Final = 1


app = typer.Typer(
    help="Backtest option hedges on Lombard-loan collateral, point in time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Market data: the bundled sample, downloads and CSV imports.")
templates_app = typer.Typer(help="Strategy templates in a data folder (JSON in, JSON out).")
events_app = typer.Typer(help="Selloff event presets and the event comparison report.")
runs_app = typer.Typer(help="Stored backtest runs and their results.")
for _sub, _name in (
    (data_app, "data"),
    (templates_app, "templates"),
    (events_app, "events"),
    (runs_app, "runs"),
):
    _sub.info.no_args_is_help = True
    app.add_typer(_sub, name=_name)


@dataclass(frozen=True)
class CliContext:
    """What ``main`` hands every command: injectable dependencies (tests, offline work)."""

    downloader: BarDownloader | None = None


DataOption = Annotated[
    Path, typer.Option("--data", help="Data folder of templates, event presets and runs.")
]
StoreOption = Annotated[
    Path, typer.Option("--store", help="Market data store folder (hive-partitioned Parquet).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AppendFlag = Annotated[
    bool,
    typer.Option(
        "--append", help="Keep the Parquet of earlier runs in the folder (default: replace it)."
    ),
]


def read_json(source: str, what: str) -> Any:
    """Read JSON from a file, ``-`` (stdin) or an inline ``{...}``/``[...]`` string."""
    text = source
    if source == "-":
        text = sys.stdin.read()
    elif not source.lstrip().startswith(("{", "[")):
        path = Path(source)
        if not path.is_file():
            msg = f"{what} file {source!r} does not exist"
            raise BadInputError(msg)
        text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        msg = f"{what} {source!r} is not valid JSON ({exc.msg} at {where})"
        raise BadInputError(msg) from None


def stdout() -> Console:
    """Return a console on stdout, wide enough for tables when it is not a terminal."""
    console = Console(highlight=False, markup=False, soft_wrap=True)
    if console.is_terminal:
        return console
    return Console(highlight=False, markup=False, soft_wrap=True, width=200)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def print_table(frame: pl.DataFrame, columns: Sequence[Column], title: str | None = None) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    cells = [[fmt(row[name]) for name, _, fmt in columns] for row in frame.iter_rows(named=True)]
    for index, (_, header, fmt) in enumerate(columns):
        if fmt in NUMERIC_FORMATS:
            table.add_column(header, justify="right")
        else:  # names and dates are never cut or wrapped: numbers' headers wrap instead
            width = max((len(row[index]) for row in cells), default=0)
            table.add_column(header, no_wrap=True, min_width=width)
    for row in cells:
        table.add_row(*row)
    stdout().print(table)


def text_columns(*names: str) -> list[Column]:
    return [(name, name.replace("_", " "), lambda v: "" if v is None else str(v)) for name in names]


@contextmanager
def progress(description: str, total: int) -> Iterator[Callable[[], None]]:
    """Show a progress bar on stderr (only on a terminal); yield the function that advances it."""
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


def drop_older_partitions(written: Iterable[Path]) -> int:
    """Remove the hive partitions beside those just written; return how many went.

    ``written`` are ``<out>/<table>/<key>=<value>/part-0.parquet`` files: every other
    ``<key>=<value>`` folder of those tables is an earlier run's, which a glob over the
    folder would otherwise count again. Nothing else in the folder is touched, and the old
    partitions go only after the new ones are written.
    """
    keep = {path.parent for path in written}
    removed = 0
    for table in sorted({partition.parent for partition in keep}):
        for partition in sorted(table.iterdir()):
            if partition.is_dir() and "=" in partition.name and partition not in keep:
                shutil.rmtree(partition)
                removed += 1
    return removed
