"""A VolSurface admits no static arbitrage, for every parameter set the calibration returns.

Two checks on each surface (the model's bounds are derived in ``docs/volatility.md``):

- **Butterflies and verticals**: on a strike grid 0.1 % apart in ``ln K`` from ``e^-4`` to
  ``e^3`` times the forward, call prices (puts by parity below the forward) are
  decreasing and convex in the strike, for tenors from one day to ten years.
- **Calendar spreads**: total variance ``sigma^2 tau`` at each fixed ``ln(K / F)`` is
  non-decreasing in the tenor, on 400 tenors from one day to 30 years.

Parameters: every corner of ``CALIBRATION_BOUNDS`` and hypothesis draws inside it, with
ATM index levels from 5 to 150 (the VIX closed at 82.7 on 2020-03-16), and index term
structures in contango and inverted.
"""

from __future__ import annotations

import itertools
from typing import Protocol

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgeframe.pricing import black_scholes_price_is_call
from hedgeframe.pricing._calibration import CALIBRATION_BOUNDS
from hedgeframe.pricing._surface import (
    MeanRevertingTerm,
    NodeTerm,
    SurfaceDays,
    TermStructure,
)

LOG_STRIKES = np.linspace(-4.0, 3.0, 7001)
STRIKES = np.exp(LOG_STRIKES)
BUTTERFLY_TENORS = (1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 3.0, 10.0)
CALENDAR_TENORS = np.geomspace(1 / 365, 30.0, 400)
CALENDAR_LOG_STRIKES = np.linspace(-4.0, 3.0, 141)
TOLERANCE = 1e-12
"""Price rounding (1e-16 of the forward) over strike steps of about 1e-3."""
ATM_LEVELS = (0.05, 0.15, 0.4, 0.8, 1.5)


def _assert_shape(prices: np.ndarray, strikes: np.ndarray, low: float, high: float) -> str:
    """Slopes within ``[low, high]`` and never falling (convex): what fails, or ''."""
    slope = np.diff(prices) / np.diff(strikes)
    if slope.min() < low - TOLERANCE or slope.max() > high + TOLERANCE:
        return f"a slope outside [{low}, {high}]: {slope.min()!r}..{slope.max()!r}"
    if np.diff(slope).min() < -TOLERANCE:
        return f"not convex at K = {strikes[1 + int(np.argmin(np.diff(slope)))]!r}"
    return ""


class _Smile(Protocol):
    def sigma(self, day: np.ndarray, log_moneyness: np.ndarray, tau: np.ndarray) -> np.ndarray: ...


def _assert_no_butterfly(surface: _Smile, what: str) -> None:
    """Puts below the forward, calls above it, and calls by parity across it (forward 1)."""
    day = np.zeros(STRIKES.size, dtype=np.int64)
    above = STRIKES >= 1.0
    near = np.abs(LOG_STRIKES) <= 0.1
    for tau in BUTTERFLY_TENORS:
        sigma = surface.sigma(day, LOG_STRIKES, np.full(STRIKES.size, tau))
        # Out-of-the-money prices (rate 0) stay small, so their rounding stays small.
        otm = black_scholes_price_is_call(above, 1.0, STRIKES, tau, sigma)
        calls = np.where(above, otm, otm + 1.0 - STRIKES)
        failures = {
            "puts": _assert_shape(otm[~above], STRIKES[~above], 0.0, 1.0),
            "calls": _assert_shape(otm[above], STRIKES[above], -1.0, 0.0),
            "calls near the forward": _assert_shape(calls[near], STRIKES[near], -1.0, 0.0),
        }
        failed = {side: why for side, why in failures.items() if why}
        assert not failed, f"{what}, tau {tau}: {failed}"


def _assert_no_calendar(surface: SurfaceDays, what: str) -> None:
    x, tau = np.meshgrid(CALENDAR_LOG_STRIKES, CALENDAR_TENORS)
    day = np.zeros(x.size, dtype=np.int64)
    total = surface.total_variance(day, x.ravel(), tau.ravel()).reshape(x.shape)
    fall = np.diff(total, axis=0) / total[1:]
    assert fall.min() >= -TOLERANCE, f"{what}: total variance falls with the tenor"


def _check(term: TermStructure, skew: float, what: str) -> None:
    surface = SurfaceDays.of(term, skew)
    _assert_no_butterfly(surface, what)
    _assert_no_calendar(surface, what)


def _mean_reverting(atm: float, long_run: float, speed: float) -> MeanRevertingTerm:
    anchor = 30 / 365
    return MeanRevertingTerm(anchor, np.array([atm * atm * anchor]), long_run, speed)


CORNERS = list(
    itertools.product(
        ATM_LEVELS,
        CALIBRATION_BOUNDS["skew"],
        CALIBRATION_BOUNDS["long_run_vol"],
        CALIBRATION_BOUNDS["mean_reversion"],
    )
)


@pytest.mark.parametrize(("atm", "skew", "long_run", "speed"), CORNERS)
def test_corners_of_the_calibration_box(
    atm: float, skew: float, long_run: float, speed: float
) -> None:
    _check(_mean_reverting(atm, long_run, speed), skew, f"{atm=} {skew=} {long_run=} {speed=}")


@given(
    atm=st.floats(0.05, 1.5),
    skew=st.floats(*CALIBRATION_BOUNDS["skew"]),
    long_run=st.floats(*CALIBRATION_BOUNDS["long_run_vol"]),
    speed=st.floats(*CALIBRATION_BOUNDS["mean_reversion"]),
)
def test_inside_the_calibration_box(atm: float, skew: float, long_run: float, speed: float) -> None:
    _check(_mean_reverting(atm, long_run, speed), skew, f"{atm=} {skew=} {long_run=} {speed=}")


@given(
    levels=st.lists(st.floats(0.05, 1.5), min_size=2, max_size=4),
    skew=st.floats(*CALIBRATION_BOUNDS["skew"]),
)
def test_index_term_structures_contango_or_inverted(levels: list[float], skew: float) -> None:
    tenors = np.array([9, 30, 93, 182][: len(levels)], dtype=np.float64) / 365
    total = np.maximum.accumulate(np.array(levels) ** 2 * tenors)  # as VolSurface raises it
    _check(NodeTerm(tenors, total[None, :]), skew, f"{levels=} {skew=}")


def test_the_check_finds_arbitrage_where_there_is_some() -> None:
    """A surface whose total variance falls with the tenor fails the calendar check."""
    tenors = np.array([30, 93], dtype=np.float64) / 365
    falling = NodeTerm(tenors, np.array([[0.4**2 * tenors[0], 0.1**2 * tenors[1]]]))
    with pytest.raises(AssertionError, match="total variance falls"):
        _assert_no_calendar(SurfaceDays.of(falling, 0.0), "falling")


class _ClippedLinearSmile:
    """The synthetic chain's smile, ``clip(1 + skew x, 0.5, 3)`` times ATM, at 30 days."""

    def __init__(self, atm: float, skew: float) -> None:
        self.atm, self.skew = atm, skew

    def sigma(self, day: np.ndarray, log_moneyness: np.ndarray, tau: np.ndarray) -> np.ndarray:
        scale = np.sqrt((30 / 365) / np.maximum(tau, 30 / 365))
        sigma: np.ndarray = self.atm * np.clip(1.0 + self.skew * scale * log_moneyness, 0.5, 3.0)
        return sigma


def test_the_check_finds_a_butterfly_where_there_is_one() -> None:
    """A hard cap on a linear smile is a concave kink: a butterfly there costs less than 0."""
    with pytest.raises(AssertionError, match="not convex"):
        _assert_no_butterfly(_ClippedLinearSmile(0.8, -3.0), "clipped")
