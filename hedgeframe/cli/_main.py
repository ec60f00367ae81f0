"""The entry points: ``main(argv)`` returns an exit code; ``console_main`` exits with it."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import typer
from pydantic import ValidationError
from rich.console import Console
from typer._click.exceptions import NoArgsIsHelpError

from hedgeframe._memory import tune_malloc
from hedgeframe.cli._common import EXIT_BAD_INPUT, EXIT_UNEXPECTED, CliContext, app
from hedgeframe.data import BarDownloader
from hedgeframe.engine import engine_version
from hedgeframe.errors import HedgeframeError, InvalidModelError


@app.command()
def version() -> None:
    """Print the package and engine versions."""
    typer.echo(f"hedgeframe {engine_version()}")


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):  # every refused field, named (and its value)
        exc = InvalidModelError.of(exc)
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None, *, downloader: BarDownloader | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv
        The arguments after the program name.
    downloader
        Replaces the yfinance download of ``data fetch`` (tests, recorded data).
    """
    command = typer.main.get_command(app)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="hedgeframe",
            standalone_mode=False,
            obj=CliContext(downloader=downloader),
        )
    except NoArgsIsHelpError as exc:  # the help was printed (typer prints it with rich)
        if exc.format_message().strip():
            err.print(exc.format_message(), markup=False)
        return EXIT_BAD_INPUT
    except typer.TyperException as exc:  # usage errors: unknown command, bad option...
        err.print(f"error: {_one_line(exc)} (see `hedgeframe --help`)", markup=False)
        return EXIT_BAD_INPUT
    except (HedgeframeError, ValueError, FileNotFoundError, PermissionError) as exc:
        err.print(f"error: {_one_line(exc)}", markup=False)
        return EXIT_BAD_INPUT
    except typer.Abort:
        err.print("aborted", markup=False)
        return EXIT_UNEXPECTED
    except Exception as exc:  # a bug: show where
        traceback.print_exc()
        err.print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)}", markup=False)
        return EXIT_UNEXPECTED
    return result if isinstance(result, int) else 0


def console_main() -> None:
    """Entry point of the ``hedgeframe`` script: tune glibc's malloc, then run :func:`main`.

    The tuning (:func:`hedgeframe.tune_malloc`; off with ``HEDGEFRAME_MALLOC_TUNING=0``) is
    process-wide, so it is made here, where the script owns its process, and never on
    import.
    """
    tune_malloc()
    sys.exit(main())
