"""The ``hedgeframe`` command line: a thin layer that parses and calls the public API.

``main(argv)`` returns an exit code, so tests call it directly. Exit codes scripts can
trust: 0 done; 2 bad input or usage (printed as one line, no traceback); 1 unexpected (a
bug: the traceback is printed); 130 interrupted. Progress bars go to stderr, and only when
it is a terminal. ``docs/cli.md`` describes every command.

One module per command group; importing them registers their commands on ``app``.
"""

from hedgeframe.cli import _data, _events, _runs, _templates  # noqa: F401 (registers commands)
from hedgeframe.cli._common import CliContext, app
from hedgeframe.cli._main import console_main, main

__all__ = ["CliContext", "app", "console_main", "main"]
