"""Whether code runs inside a backtest: tools that read a whole path refuse to run there.

A hindsight tool (say, one that picks a parameter by looking at a scenario's end) is a
comparison tool only; called from inside a backtest's step (a provider, a volatility
regime) it would leak the future into a decision. The engine marks its run with
:func:`backtest_running`; such tools call :func:`refuse_inside_backtest` first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from hedgeframe.errors import LookaheadError

__all__ = ["backtest_running", "refuse_inside_backtest"]

_RUNNING: ContextVar[bool] = ContextVar("hedgeframe_backtest_running", default=False)


@contextmanager
def backtest_running() -> Iterator[None]:
    """Mark the code inside as part of a running backtest."""
    token = _RUNNING.set(True)
    try:
        yield
    finally:
        _RUNNING.reset(token)


def refuse_inside_backtest(tool: str) -> None:
    """Raise :class:`~hedgeframe.errors.LookaheadError` when called from a running backtest."""
    if _RUNNING.get():
        msg = (
            f"{tool} reads the whole path of a scenario (hindsight); it is a comparison "
            "tool and cannot run inside a backtest step"
        )
        raise LookaheadError(msg)
