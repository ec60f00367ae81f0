"""The roofline: the plain Black-Scholes formula, vectorized, with nothing else around it.

A backtest of ``m`` option marks cannot be faster than pricing ``m`` options once, so the
suite times one plain numpy/scipy Black-Scholes put (``scipy.special.ndtr``, no input
checks, no degenerate-case handling, no bookkeeping) over exactly as many marks as a case
needed, and reports each case's time as a multiple of it.

The marks are priced in chunks of :data:`CHUNK` (the engine's own chunk size,
``hedgeframe.engine._engine.MARK_CHUNK_PAIRS``); one call per chunk is as fast per mark as
one giant call (measured: 112-119 ns per mark at 1e5, 1e6 and 1.3e7 elements on the
2-core benchmark machine) without a gigabyte of temporaries. The inputs of the chunk are
drawn once (untimed) from the case's own market: spots and volatilities of random trading
days, strikes 80-105 % of spot, 1-400 days to expiry.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

__all__ = ["CHUNK", "RooflineInputs", "bs_put", "roofline_inputs", "time_roofline"]

FloatArray = npt.NDArray[np.float64]

CHUNK: Final = 1_000_000
"""Marks per call; the engine marks in chunks of the same size."""


def bs_put(
    spot: FloatArray,
    strike: FloatArray,
    tau: FloatArray,
    sigma: FloatArray,
    rate: float,
    dividend_yield: float,
) -> FloatArray:
    """Black-Scholes-Merton put: ``K e^{-r tau} N(-d2) - S e^{-q tau} N(-d1)``, nothing else."""
    stdev = sigma * np.sqrt(tau)
    d1 = (np.log(spot / strike) + (rate - dividend_yield + 0.5 * sigma * sigma) * tau) / stdev
    d2 = d1 - stdev
    price: FloatArray = strike * np.exp(-rate * tau) * ndtr(-d2) - spot * np.exp(
        -dividend_yield * tau
    ) * ndtr(-d1)
    return price


@dataclass(frozen=True)
class RooflineInputs:
    """One chunk of realistic mark inputs."""

    spot: FloatArray
    strike: FloatArray
    tau: FloatArray
    sigma: FloatArray
    rate: float
    dividend_yield: float

    def head(self, n: int) -> RooflineInputs:
        """The first ``n`` marks."""
        return RooflineInputs(
            self.spot[:n],
            self.strike[:n],
            self.tau[:n],
            self.sigma[:n],
            self.rate,
            self.dividend_yield,
        )


def roofline_inputs(
    closes: FloatArray,
    sigmas: FloatArray,
    *,
    rate: float,
    dividend_yield: float,
    seed: int,
    size: int = CHUNK,
) -> RooflineInputs:
    """Draw ``size`` marks from a market: random days' spot and sigma, strikes 80-105 %."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, closes.size, size)
    spot = closes[day].astype(np.float64)
    return RooflineInputs(
        spot=spot,
        strike=spot * rng.uniform(0.80, 1.05, size),
        tau=rng.integers(1, 401, size).astype(np.float64) / 365.0,
        sigma=sigmas[day].astype(np.float64),
        rate=rate,
        dividend_yield=dividend_yield,
    )


def _price_marks(inputs: RooflineInputs, marks: int) -> float:
    """Price ``marks`` marks in chunks; return the seconds the formula took."""
    full, rest = divmod(marks, inputs.spot.size)
    tail = inputs.head(rest)
    start = time.perf_counter()
    for _ in range(full):
        bs_put(
            inputs.spot,
            inputs.strike,
            inputs.tau,
            inputs.sigma,
            inputs.rate,
            inputs.dividend_yield,
        )
    if rest:
        bs_put(tail.spot, tail.strike, tail.tau, tail.sigma, tail.rate, tail.dividend_yield)
    return time.perf_counter() - start


def time_roofline(inputs: RooflineInputs, marks: int, repeat: int) -> list[float]:
    """Seconds to price exactly ``marks`` marks with :func:`bs_put`, ``repeat`` times."""
    if marks <= 0:
        return [0.0] * repeat
    _price_marks(inputs, min(marks, inputs.spot.size))  # warm-up: page in the inputs
    times = []
    for _ in range(repeat):
        gc.collect()
        times.append(_price_marks(inputs, marks))
    return times
