"""The arithmetic of a volatility surface: ATM term structure, skew clock, bounded smile.

A :class:`~hedgeframe.pricing.VolSurface` regime turns a run's index closes into one
:class:`SurfaceDays`, which prices any ``(day, log-moneyness, tau)`` with arrays only. The
model (``docs/volatility.md`` derives every bound):

- **ATM total variance** ``theta(tau)`` per day: linear in total variance between index
  tenors and flat in volatility beyond the ends (:class:`NodeTerm`); or, from one index
  of tenor ``tau_a`` with level ``a``, mean-reverting to ``long_run_vol`` at ``speed``
  (:class:`MeanRevertingTerm`), Heston's expected average variance::

      theta(tau) = lr^2 tau + (a^2 - lr^2) tau_a (1 - e^{-k tau}) / (1 - e^{-k tau_a})

  (``a^2 tau`` up to ``tau_a``). Both are non-decreasing in ``tau`` by construction.
- **Smile** ``sigma(x, tau) = sqrt(theta(tau) H(u) / tau)`` with ``x = ln(K / F)`` and
  ``u = beta(tau) x``: ``H(u) = max(1 + u, 0.5)^2`` (volatility linear in ``x`` around the
  money, never below half the ATM volatility) up to ``u = 1`` (twice the ATM volatility),
  then ``H(u) = 4 u`` (total variance linear in ``|x|``, as Lee's moment formula allows).
- **Skew** ``beta = sign(skew) min(|skew| sqrt(tau_0 / T), sqrt(B / (theta (1 + theta))))``
  with ``tau_0`` = 30 days, ``T`` the *skew clock* and ``B`` = :data:`BUTTERFLY_BOUND`:
  the slope ``skew`` (in ATM volatilities per unit of ``ln(K/F)``, the synthetic chain's
  own parameter) at 30 days, falling as ``1 / sqrt(tau)``. The cap keeps Durrleman's
  butterfly condition ``g(x) >= 0.01`` on every slice; the clock ``T`` runs with ``tau``
  except where ``theta`` grows slower than ``sqrt(tau)`` (a steeply inverted term
  structure), where it runs with ``theta^2``, so total variance never falls with the
  tenor at any moneyness (no calendar spread arbitrage).

Checked by ``tests/pricing/test_surface_arbitrage.py`` (convex, decreasing call prices on a
fine strike grid; total variance non-decreasing in tenor) over the calibration's whole
parameter box.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BUTTERFLY_BOUND",
    "DEFAULT_LONG_RUN_VOL",
    "DEFAULT_MEAN_REVERSION",
    "REFERENCE_TENOR",
    "SMILE_FLOOR",
    "MeanRevertingTerm",
    "NodeTerm",
    "SurfaceDays",
    "TermStructure",
    "smile_variance",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REFERENCE_TENOR: Final = 30.0 / 365.0
"""``tau_0``: the tenor at which ``skew`` is the slope (30 days, as the synthetic chain)."""

SMILE_FLOOR: Final = 0.5
"""The smile never goes below half the ATM volatility (the synthetic chain's floor)."""

BUTTERFLY_BOUND: Final = 0.24
"""``theta beta^2 (1 + theta)`` at most this: Durrleman's ``g >= 1/4 - 0.24 > 0``."""

DEFAULT_LONG_RUN_VOL: Final = 0.188
"""Long-run ATM volatility: ``sqrt(0.0354)``, the long-run variance of Gatheral's Heston fit
to S&P 500 options of 2005-09-15 (*The Volatility Surface*, 2006, chapter 3)."""

DEFAULT_MEAN_REVERSION: Final = 1.3253
"""Speed (per year) of the same fit: ATM variance halves its gap to the long run in
about 0.52 years."""

_SPAN_STEPS: Final = 64
"""Bisection steps that locate where a mean-reverting ``theta`` grows slower than
``sqrt(tau)`` (to about 1e-19 relative, below float resolution)."""


def smile_variance(u: FloatArray) -> FloatArray:
    """``H(u)``: total variance as a multiple of ATM total variance at scaled moneyness ``u``.

    ``max(1 + u, 0.5)^2`` up to ``u = 1``, then ``4 u``; continuous with its first
    derivative at ``u = 1``, and convex where the floor starts.

    Examples
    --------
    >>> import numpy as np
    >>> smile_variance(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])).tolist()
    [0.25, 1.0, 2.25, 4.0, 8.0]
    """
    linear = np.maximum(1.0 + u, SMILE_FLOOR)
    result: FloatArray = np.where(u > 1.0, 4.0 * u, linear * linear)
    return result


class TermStructure(ABC):
    """ATM total variance of each day of a run, as a function of the tenor."""

    @abstractmethod
    def total_variance(self, day: IntArray, tau: FloatArray) -> FloatArray:
        """Return ``theta(tau)`` of each pair's day (non-decreasing in ``tau``)."""

    @abstractmethod
    def slow_spans(self) -> tuple[FloatArray, FloatArray]:
        """Tenor spans on or after ``tau_0`` where ``theta`` grows slower than ``sqrt(tau)``.

        Returns ``(starts, ends)``, each ``(days, spans)``; an empty span has
        ``end == start``.
        """


@dataclass(frozen=True)
class NodeTerm(TermStructure):
    """Linear in total variance between index tenors, flat in volatility beyond the ends.

    ``tenors`` (years, increasing) and ``variances`` (``(days, tenors)``, each row
    non-decreasing): each day's ATM total variance at each tenor.
    """

    tenors: FloatArray
    variances: FloatArray

    def total_variance(self, day: IntArray, tau: FloatArray) -> FloatArray:
        """Interpolate each pair's day linearly in ``tau``; ``theta_i tau / tau_i`` outside."""
        n = self.tenors.size
        node = np.searchsorted(self.tenors, tau)  # the first tenor at or above tau
        low, high = np.clip(node - 1, 0, n - 1), np.clip(node, 0, n - 1)
        theta_low, theta_high = self.variances[day, low], self.variances[day, high]
        tau_low, tau_high = self.tenors[low], self.tenors[high]
        edge = np.where(node == 0, theta_high / tau_high, theta_low / tau_low) * tau
        with np.errstate(divide="ignore", invalid="ignore"):  # outside: NaN, not taken
            weight = (tau - tau_low) / (tau_high - tau_low)
            inside = theta_low + weight * (theta_high - theta_low)
        result: FloatArray = np.where((node == 0) | (node == n), edge, inside)
        return result

    def slow_spans(self) -> tuple[FloatArray, FloatArray]:
        """Per piece, the tenors below ``theta_i / s - tau_i`` (``s`` the piece's slope)."""
        left, right = self.tenors[:-1], self.tenors[1:]
        theta_left = self.variances[:, :-1]
        slope = (self.variances[:, 1:] - theta_left) / (right - left)
        with np.errstate(divide="ignore"):
            fast_from = np.where(slope > 0.0, theta_left / slope - left, np.inf)
        starts = np.broadcast_to(np.maximum(left, REFERENCE_TENOR), slope.shape)
        ends = np.maximum(np.minimum(fast_from, right), starts)
        return np.array(starts), ends


@dataclass(frozen=True)
class MeanRevertingTerm(TermStructure):
    """From one index's level at its tenor, reverting to ``long_run_vol`` at ``speed``.

    ``anchor`` is the index's tenor (years) and ``anchor_variance`` each day's ATM total
    variance there.
    """

    anchor: float
    anchor_variance: FloatArray
    long_run_vol: float
    speed: float

    @functools.cached_property
    def _excess(self) -> FloatArray:
        """``(a^2 - lr^2) tau_a / (1 - e^{-k tau_a})`` per day: the reverting part's size."""
        reverting = self.anchor_variance - self.long_run_vol**2 * self.anchor
        result: FloatArray = reverting / -math.expm1(-self.speed * self.anchor)
        return result

    def total_variance(self, day: IntArray, tau: FloatArray) -> FloatArray:
        """``a^2 tau`` up to the anchor, Heston's expected average variance beyond it."""
        flat = self.anchor_variance[day] * (tau / self.anchor)
        beyond = self.long_run_vol**2 * tau - self._excess[day] * np.expm1(-self.speed * tau)
        result: FloatArray = np.where(tau <= self.anchor, flat, beyond)
        return result

    def slow_spans(self) -> tuple[FloatArray, FloatArray]:
        """Where ``2 tau theta' < theta``: one span at most, on days above the long run.

        With ``y = k tau`` that is ``G(y) / y > lr^2 / (C k)``, ``G(y) = 1 - (1 + 2y) e^{-y}``
        and ``C`` the reverting size; ``G(y) / y`` rises to one peak (:func:`_peak`) and
        falls, so each side holds one root, found by bisection.
        """
        days = self.anchor_variance.size
        starts, ends = np.full((days, 1), REFERENCE_TENOR), np.full((days, 1), REFERENCE_TENOR)
        level = np.full(days, np.inf)
        above = self._excess > 0.0
        level[above] = self.long_run_vol**2 / (self._excess[above] * self.speed)
        slow = np.flatnonzero(level < _peak()[1])
        if slow.size:
            target = level[slow]
            peak = np.full(slow.size, _peak()[0])
            rise = _bisect(target, np.full(slow.size, 1e-9), peak, rising=True)
            fall = _bisect(target, peak, 1.0 / target, rising=False)
            starts[slow, 0] = np.maximum(rise / self.speed, max(self.anchor, REFERENCE_TENOR))
            ends[slow, 0] = np.maximum(fall / self.speed, starts[slow, 0])
        return starts, ends


def _growth(y: FloatArray) -> FloatArray:
    """``G(y) / y`` with ``G(y) = 1 - (1 + 2 y) e^{-y}``."""
    result: FloatArray = (-np.expm1(-y) - 2.0 * y * np.exp(-y)) / y
    return result


def _bisect(target: FloatArray, low: FloatArray, high: FloatArray, *, rising: bool) -> FloatArray:
    """Solve ``G(y) / y = target`` on brackets where it is monotonic."""
    for _ in range(_SPAN_STEPS):
        mid = 0.5 * (low + high)
        below = (_growth(mid) < target) == rising
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    return 0.5 * (low + high)


@functools.cache
def _peak() -> tuple[float, float]:
    """Where ``G(y) / y`` peaks (``e^{-y} (2y^2 + y + 1) = 1``, y about 3.2) and its value."""
    low, high = 1.5, 10.0
    for _ in range(_SPAN_STEPS):
        mid = 0.5 * (low + high)
        if math.exp(-mid) * (2.0 * mid * mid + mid + 1.0) > 1.0:
            low = mid
        else:
            high = mid
    y = 0.5 * (low + high)
    return y, float(_growth(np.array([y]))[0])


@dataclass(frozen=True)
class SurfaceDays:
    """A volatility surface on each day of a run: prices any ``(day, x, tau)`` with arrays.

    ``reference`` is each day's ATM volatility at 30 days, the one number a flat regime
    would give. Build with :meth:`of`.
    """

    term: TermStructure
    skew: float
    reference: FloatArray
    span_starts: FloatArray
    span_ends: FloatArray
    span_start_variances: FloatArray

    @classmethod
    def of(cls, term: TermStructure, skew: float) -> SurfaceDays:
        """Evaluate the term structure's slow spans and the reference volatility once."""
        starts, ends = term.slow_spans()
        days = np.arange(starts.shape[0])
        tau_0 = np.full(days.size, REFERENCE_TENOR)
        reference = np.sqrt(term.total_variance(days, tau_0) / REFERENCE_TENOR)
        at_starts = np.empty(starts.shape)
        for j in range(starts.shape[1]):
            at_starts[:, j] = term.total_variance(days, starts[:, j])
        return cls(term, skew, reference, starts, ends, at_starts)

    def skew_clock(self, day: IntArray, tau: FloatArray) -> FloatArray:
        """``T``: ``max(tau, tau_0)``, slowed to ``theta^2`` inside each slow span."""
        clock = np.maximum(tau, REFERENCE_TENOR)
        for j in range(self.span_starts.shape[1]):
            start, end = self.span_starts[day, j], self.span_ends[day, j]
            inside = np.flatnonzero((tau > start) & (end > start))
            if inside.size:
                at = np.minimum(tau[inside], end[inside])
                ratio = (
                    self.term.total_variance(day[inside], at)
                    / self.span_start_variances[day[inside], j]
                )
                clock[inside] *= ratio * ratio * (start[inside] / at)
        return clock

    def total_variance(
        self, day: IntArray, log_moneyness: FloatArray, tau: FloatArray
    ) -> FloatArray:
        """``theta(tau) H(beta(tau) x)`` of each pair (``tau > 0``)."""
        theta = self.term.total_variance(day, tau)
        if self.skew == 0.0:
            return theta
        raw = abs(self.skew) * np.sqrt(REFERENCE_TENOR / self.skew_clock(day, tau))
        cap = np.sqrt(BUTTERFLY_BOUND / (theta * (1.0 + theta)))
        beta = math.copysign(1.0, self.skew) * np.minimum(raw, cap)
        result: FloatArray = theta * smile_variance(beta * log_moneyness)
        return result

    def sigma(self, day: IntArray, log_moneyness: FloatArray, tau: FloatArray) -> FloatArray:
        """Each pair's volatility; at or after expiry (``tau <= 0``) the day's reference."""
        live = tau > 0.0
        if live.all():
            result: FloatArray = np.sqrt(self.total_variance(day, log_moneyness, tau) / tau)
            return result
        sigma = self.reference[day].copy()
        at = np.flatnonzero(live)
        sigma[at] = np.sqrt(self.total_variance(day[at], log_moneyness[at], tau[at]) / tau[at])
        return sigma
