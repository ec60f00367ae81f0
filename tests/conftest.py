"""Shared test set-up: hypothesis profiles that keep the suite within minutes on 2 cores,
and the ``cli`` fixture that runs the command line in-process.

``ci`` (the default, ``make test``): derandomized, so every run tries the same examples.
``random`` (``make test-random``): the same example counts from a new random seed each
run, so repeated rounds reach examples the fixed seed never tries. ``dev``: many more
examples, for a long local run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "random", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``hedgeframe`` through ``main(argv)``; return the exit code, stdout and stderr."""

    from hedgeframe.cli import main  # only for the tests that use it

    def run(*argv: str, **kwargs: Any) -> tuple[int, str, str]:
        code = main(list(argv), **kwargs)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
