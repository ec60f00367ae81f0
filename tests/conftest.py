"""Shared test set-up: hypothesis profiles that keep the suite within minutes on 2 cores.

``ci`` (the default, ``make test``): derandomized, so every run tries the same examples.
``random`` (``make test-random``): the same example counts from a new random seed each
run, so repeated rounds reach examples the fixed seed never tries. ``dev``: many more
examples, for a long local run.
"""

from __future__ import annotations

import os

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
