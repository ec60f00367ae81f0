"""Implied volatility: the Black-Scholes-Merton volatility that reprices a quote.

The surface calibration fits volatilities, not prices, and the snapshot provider's
``missing_mark="smile"`` interpolates the same day's implied volatilities across strikes;
both invert whole chains at once, so the solver is vectorized: a Newton step on the
volatility where it stays inside the bracket that still holds the root, else a bisection
step, for every quote at once. The price is increasing in the volatility, so the bracket
only shrinks and every quote with a solution converges.

Checked against QuantLib's ``VanillaOption.impliedVolatility`` and by round trips in
``tests/pricing/test_implied_volatility.py``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from hedgeframe.pricing._black_scholes import black_scholes_price_is_call, black_scholes_vega

__all__ = ["IMPLIED_VOLATILITY_BOUNDS", "implied_volatility"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

IMPLIED_VOLATILITY_BOUNDS: Final = (1e-4, 5.0)
"""The volatilities searched: 0.01 % to 500 % (the highest any regime may give)."""

_PRICE_TOLERANCE: Final = 1e-12
"""Stop when the price is within this fraction of the spot of the quote."""
_MAX_STEPS: Final = 100


def implied_volatility(
    is_call: BoolArray,
    spot: FloatArray,
    strike: FloatArray,
    tau: FloatArray,
    price: FloatArray,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
) -> FloatArray:
    """Return the volatility at which each option's Black-Scholes-Merton price is ``price``.

    Parameters
    ----------
    is_call
        Booleans: ``True`` for calls, ``False`` for puts.
    spot, strike, tau
        The underlying close, the strike and the time to expiry in years (all > 0).
    price
        The quote to reprice, per unit of underlying (usually the mid).
    rate, dividend_yield
        Continuously compounded.

    Returns
    -------
    numpy.ndarray
        The implied volatility, within 1e-12 x spot in price; NaN where no volatility in
        :data:`IMPLIED_VOLATILITY_BOUNDS` gives the price (at or below the discounted
        intrinsic value, above the price at 500 %, or at expiry).

    Examples
    --------
    >>> import numpy as np
    >>> from hedgeframe.pricing import black_scholes_price_is_call
    >>> args = (np.array([False]), np.array([100.0]), np.array([90.0]), np.array([0.5]))
    >>> quote = black_scholes_price_is_call(*args, 0.3)
    >>> float(np.round(implied_volatility(*args, quote), 12)[0])
    0.3
    """
    shape = np.broadcast(is_call, spot, strike, tau, price).shape
    is_call = np.broadcast_to(is_call, shape).ravel()
    spot, strike, tau, price = (
        np.broadcast_to(a, shape).astype(np.float64).ravel() for a in (spot, strike, tau, price)
    )
    low, high = (np.full(price.size, bound) for bound in IMPLIED_VOLATILITY_BOUNDS)
    with np.errstate(invalid="ignore"):
        at_low = black_scholes_price_is_call(is_call, spot, strike, tau, low, rate, dividend_yield)
        at_high = black_scholes_price_is_call(
            is_call, spot, strike, tau, high, rate, dividend_yield
        )
        solvable = (tau > 0.0) & (price > at_low) & (price < at_high)
    result = np.full(price.size, np.nan)
    todo = np.flatnonzero(solvable)
    # Start where the at-the-money approximation price = 0.4 S sigma sqrt(tau) points.
    start = price[todo] / (0.4 * spot[todo] * np.sqrt(tau[todo]))
    sigma = np.clip(start, *IMPLIED_VOLATILITY_BOUNDS)
    low, high = low[todo], high[todo]
    for _ in range(_MAX_STEPS):
        if todo.size == 0:
            break
        args = (spot[todo], strike[todo], tau[todo])
        error = (
            black_scholes_price_is_call(is_call[todo], *args, sigma, rate, dividend_yield)
            - price[todo]
        )
        done = np.abs(error) <= _PRICE_TOLERANCE * spot[todo]
        result[todo[done]] = sigma[done]
        above = error > 0.0
        high = np.where(above, sigma, high)
        low = np.where(above, low, sigma)
        vega = black_scholes_vega(*args, sigma, rate, dividend_yield)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            newton = sigma - error / vega
        inside = (newton > low) & (newton < high)
        sigma = np.where(inside, newton, 0.5 * (low + high))
        keep = ~done & (high - low > 1e-15 * high)
        result[todo[~done & ~keep]] = sigma[~done & ~keep]
        todo, sigma, low, high = todo[keep], sigma[keep], low[keep], high[keep]
    result[todo] = sigma
    reshaped: FloatArray = result.reshape(shape)
    return reshaped
