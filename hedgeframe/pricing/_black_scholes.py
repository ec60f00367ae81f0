"""Vectorized Black-Scholes-Merton prices and spot deltas of European options.

The engine marks every open position of a day with one call, and the synthetic provider
prices whole histories in batches, so every function here broadcasts over numpy arrays
and allocates only a handful of full-size temporaries. Rates and dividend yields are
continuously compounded; ``tau`` is the time to expiry in years (the engine uses
calendar days / 365).

Degenerate inputs have exact limits instead of NaN: at or after expiry (``tau <= 0``) a
price is the intrinsic value ``max(K - S, 0)`` (puts) or ``max(S - K, 0)`` (calls), and
with zero volatility it is the discounted forward intrinsic value
``max(K e^{-r tau} - S e^{-q tau}, 0)`` (puts; calls symmetric). A zero spot or strike is
allowed and priced at its limit.

Oracle: prices and deltas are checked against QuantLib's ``AnalyticEuropeanEngine`` on a
``BlackScholesMertonProcess`` in ``tests/pricing/test_black_scholes.py``; the Polars form
is checked against the numpy form in ``tests/pricing/test_black_scholes_expr.py``.
"""

from __future__ import annotations

import functools
import math
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

__all__ = [
    "black_scholes_delta",
    "black_scholes_delta_is_call",
    "black_scholes_expr",
    "black_scholes_price",
    "black_scholes_price_is_call",
    "black_scholes_vega",
]

_FloatArray = npt.NDArray[np.float64]
_BoolArray = npt.NDArray[np.bool_]

_CALL: Final = "call"
_PUT: Final = "put"
# N(x) = erfc(-x / sqrt(2)) / 2; multiplying by the rounded constant is more accurate in
# the far tail than dividing by a rounded sqrt(2).
_MINUS_SQRT_HALF: Final = -math.sqrt(0.5)


# --- input checks -------------------------------------------------------------------------


def _index_text(arr: npt.NDArray[np.generic], flat_index: int) -> str:
    if arr.ndim == 0:
        return ""
    if arr.ndim == 1:
        return f"[{flat_index}]"
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat_index, arr.shape)) + "]"


def _refuse(name: str, arr: _FloatArray, bad: _BoolArray, bound: str) -> ValueError:
    flat = np.flatnonzero(bad)
    first = int(flat[0])
    value = float(arr.reshape(-1)[first])
    more = f" (first of {flat.size} bad values)" if flat.size > 1 else ""
    msg = f"{name} must be {bound}; {name}{_index_text(arr, first)} is {value!r}{more}"
    return ValueError(msg)


def _non_negative(name: str, value: npt.ArrayLike) -> tuple[_FloatArray, float]:
    """Return ``value`` as float64 and its minimum; refuse negative or non-finite entries."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        lo = hi = float(arr)
    elif arr.size == 0:
        return arr, math.inf
    else:
        # Two reductions, no temporaries; NaN propagates into both.
        lo = float(np.minimum.reduce(arr, axis=None))
        hi = float(np.maximum.reduce(arr, axis=None))
    if not (lo >= 0.0 and hi < math.inf):
        raise _refuse(name, arr, ~(np.isfinite(arr) & (arr >= 0.0)), "finite and >= 0")
    return arr, lo


def _finite(name: str, value: npt.ArrayLike) -> tuple[_FloatArray, float]:
    """Return ``value`` as float64 and its minimum; refuse NaN and infinite entries."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        lo = hi = float(arr)
    elif arr.size == 0:
        return arr, math.inf
    else:
        lo = float(np.minimum.reduce(arr, axis=None))
        hi = float(np.maximum.reduce(arr, axis=None))
    if not (-math.inf < lo and hi < math.inf):
        raise _refuse(name, arr, ~np.isfinite(arr), "finite")
    return arr, lo


def _is_call_from_option_type(option_type: npt.ArrayLike) -> bool | _BoolArray:
    """Map ``"put"``/``"call"`` (a string or an array of strings) to call flags."""
    if isinstance(option_type, str):
        if option_type == _CALL:
            return True
        if option_type == _PUT:
            return False
        msg = f"option_type must be 'put' or 'call'; got {option_type!r}"
        raise ValueError(msg)
    arr = np.asarray(option_type)
    if arr.dtype.kind not in "UOT":
        msg = (
            f"option_type must be 'put'/'call' strings, got an array of dtype {arr.dtype}; "
            "pass boolean call flags to black_scholes_price_is_call instead"
        )
        raise ValueError(msg)
    is_call: _BoolArray = np.asarray(arr == _CALL, dtype=np.bool_)
    ok = is_call | (arr == _PUT)
    if not ok.all():
        flat = np.flatnonzero(~ok)
        first = int(flat[0])
        more = f" (first of {flat.size} bad values)" if flat.size > 1 else ""
        bad_value = arr.reshape(-1)[first]
        if isinstance(bad_value, np.generic):
            bad_value = bad_value.item()
        msg = (
            "option_type must be 'put' or 'call'; "
            f"option_type{_index_text(arr, first)} is {bad_value!r}{more}"
        )
        raise ValueError(msg)
    return is_call


def _is_call_flags(is_call: npt.ArrayLike) -> bool | _BoolArray:
    arr = np.asarray(is_call)
    if arr.dtype != np.bool_:
        msg = f"is_call must be booleans (True for calls, False for puts); got dtype {arr.dtype}"
        raise ValueError(msg)
    return bool(arr) if arr.ndim == 0 else arr


# --- the kernel ---------------------------------------------------------------------------


def _discount(rate: _FloatArray, t: _FloatArray) -> _FloatArray:
    """``exp(-rate * t)``, skipping the exponential for the common scalar zero rate."""
    if rate.ndim == 0 and float(rate) == 0.0:
        return np.asarray(1.0)
    return np.exp(-(rate * t))


@functools.cache
def _ndtr() -> np.ufunc:
    """Return scipy's standard normal CDF, imported on the first price.

    Importing ``scipy.special`` takes about as long as the rest of ``import hedgeframe``
    (0.1-0.2 s), and only pricing needs it.
    """
    from scipy.special import ndtr

    cdf: np.ufunc = ndtr
    return cdf


class _Setup:
    """Validated, broadcast-ready inputs and the terms price and delta share."""

    __slots__ = ("degenerate_possible", "dq", "fk", "fs", "shape", "sign", "stdev", "x")

    def __init__(
        self,
        is_call: bool | _BoolArray,
        spot: npt.ArrayLike,
        strike: npt.ArrayLike,
        tau: npt.ArrayLike,
        volatility: npt.ArrayLike,
        rate: npt.ArrayLike,
        dividend_yield: npt.ArrayLike,
    ) -> None:
        s, s_min = _non_negative("spot", spot)
        k, k_min = _non_negative("strike", strike)
        v, _ = _non_negative("volatility", volatility)
        t_raw, t_min = _finite("tau", tau)
        r, _ = _finite("rate", rate)
        q, _ = _finite("dividend_yield", dividend_yield)

        sign: float | _FloatArray
        if isinstance(is_call, bool):
            sign = 1.0 if is_call else -1.0
        else:
            # Four times faster than np.where(is_call, 1.0, -1.0).
            sign = np.multiply(is_call, 2.0) - 1.0
        self.sign = sign
        # np.broadcast is a C object, cheaper than np.broadcast_shapes on small inputs.
        self.shape: tuple[int, ...] = np.broadcast(sign, s, k, t_raw, v, r, q).shape

        # Never negative time: expired options price at intrinsic value.
        t = np.maximum(t_raw, 0.0) if t_min < 0.0 else t_raw
        self.stdev = v * np.sqrt(t)
        self.dq = _discount(q, t)
        self.fs = s * self.dq
        self.fk = k * _discount(r, t)
        # Zero spot, strike or standard deviation (expired, zero or underflowing vol): the
        # formula divides by zero there, and the limits are applied afterwards.
        stdev_min = float(np.minimum.reduce(self.stdev, axis=None)) if self.stdev.size else 1.0
        self.degenerate_possible = s_min == 0.0 or k_min == 0.0 or stdev_min == 0.0

        # x = ln(F / K) / (sigma sqrt(tau)), computed in one full-size buffer. It is +-inf
        # where F / K overflows or underflows (a strike of 1e-300, say) and the CDF then
        # gives the right limit; NaN (0 / 0) only at degenerate elements, fixed later.
        x = np.empty(self.shape)
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            np.divide(self.fs, self.fk, out=x)
            np.log(x, out=x)
            np.divide(x, self.stdev, out=x)
        self.x = x

    def degenerate(self) -> _BoolArray:
        """Elements with a zero standard deviation, forward spot or discounted strike."""
        mask = (self.stdev == 0.0) | (self.fs == 0.0) | (self.fk == 0.0)
        return np.broadcast_to(mask, self.shape)

    def cdf_of_signed(self, d: _FloatArray) -> _FloatArray:
        """Overwrite ``d`` with ``N(w d)``, ``w`` = +1 for calls and -1 for puts."""
        if isinstance(self.sign, float):
            if self.sign < 0.0:
                np.negative(d, out=d)
        else:
            np.multiply(d, self.sign, out=d)
        result: _FloatArray = _ndtr()(d, out=d)
        return result


def _price(setup: _Setup) -> _FloatArray:
    half = 0.5 * setup.stdev
    d1 = setup.x  # reused in place
    d2 = np.subtract(d1, half, out=np.empty(setup.shape))
    np.add(d1, half, out=d1)
    n1 = setup.cdf_of_signed(d1)
    n2 = setup.cdf_of_signed(d2)
    # w (F_s N(w d1) - F_k N(w d2))
    np.multiply(n1, setup.fs, out=n1)
    np.multiply(n2, setup.fk, out=n2)
    np.subtract(n1, n2, out=n1)
    np.multiply(n1, setup.sign, out=n1)
    if setup.degenerate_possible:
        forward_intrinsic = np.multiply(setup.sign, np.subtract(setup.fs, setup.fk))
        np.copyto(n1, forward_intrinsic, where=setup.degenerate())
    # Prices are never negative; this also clears rounding dust and -0.0.
    np.maximum(n1, 0.0, out=n1)
    return n1


def _vega(setup: _Setup, tau: _FloatArray) -> _FloatArray:
    d1 = setup.x
    np.add(d1, 0.5 * setup.stdev, out=d1)
    # phi(d1) = exp(-d1^2 / 2) / sqrt(2 pi); zero where the formula is degenerate.
    np.square(d1, out=d1)
    np.multiply(d1, -0.5, out=d1)
    np.exp(d1, out=d1)
    np.multiply(d1, setup.fs * np.sqrt(np.maximum(tau, 0.0)) / math.sqrt(2.0 * math.pi), out=d1)
    if setup.degenerate_possible:
        np.copyto(d1, 0.0, where=setup.degenerate())
    return d1


def _delta(setup: _Setup) -> _FloatArray:
    d1 = setup.x
    np.add(d1, 0.5 * setup.stdev, out=d1)
    n1 = setup.cdf_of_signed(d1)
    np.multiply(n1, setup.dq, out=n1)
    np.multiply(n1, setup.sign, out=n1)
    if setup.degenerate_possible:
        # Step function of the forward: w e^{-q tau} where the forward is in the money.
        in_the_money = np.multiply(setup.sign, np.subtract(setup.fs, setup.fk)) > 0.0
        step = np.where(in_the_money, np.multiply(setup.sign, setup.dq), 0.0)
        np.copyto(n1, step, where=setup.degenerate())
    return n1


# --- public numpy forms -------------------------------------------------------------------


def black_scholes_price(
    option_type: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    tau: npt.ArrayLike,
    volatility: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend_yield: npt.ArrayLike = 0.0,
) -> _FloatArray:
    """Price European options with Black-Scholes-Merton, broadcasting over all inputs.

    Synthetic marks of the engine and the synthetic provider come from here; every
    argument broadcasts, so one call prices a whole day or a whole history.

    Parameters
    ----------
    option_type
        ``"put"`` or ``"call"``, or an array of those strings.
    spot
        Underlying price, finite and >= 0.
    strike
        Strike, finite and >= 0.
    tau
        Time to expiry in years; ``tau <= 0`` gives the intrinsic value.
    volatility
        Annualized volatility, finite and >= 0; zero gives the discounted forward
        intrinsic value.
    rate
        Continuously compounded risk-free rate.
    dividend_yield
        Continuously compounded dividend yield.

    Returns
    -------
    numpy.ndarray
        Float64 prices per unit of underlying, of the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``option_type`` is not ``"put"``/``"call"``, if ``spot``, ``strike`` or
        ``volatility`` has a negative or non-finite entry, or if ``tau``, ``rate`` or
        ``dividend_yield`` has a non-finite entry; the message names the parameter, the
        first offending index and its value. Also if the shapes do not broadcast.

    Examples
    --------
    >>> round(float(black_scholes_price("call", 42.0, 40.0, 0.5, 0.2, rate=0.1)), 4)
    4.7594
    """
    setup = _Setup(
        _is_call_from_option_type(option_type),
        spot,
        strike,
        tau,
        volatility,
        rate,
        dividend_yield,
    )
    return _price(setup)


def black_scholes_delta(
    option_type: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    tau: npt.ArrayLike,
    volatility: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend_yield: npt.ArrayLike = 0.0,
) -> _FloatArray:
    """Spot delta of European options under Black-Scholes-Merton, broadcasting.

    ``e^{-q tau} N(d1)`` for calls and ``-e^{-q tau} N(-d1)`` for puts, the hedge ratio
    a synthetic option quote carries. At expiry it is the step function (puts -1 where
    ``S < K``, calls 1 where ``S > K``, else 0); with zero volatility, the same step of
    the forward, scaled by ``e^{-q tau}``.

    Parameters
    ----------
    option_type
        ``"put"`` or ``"call"``, or an array of those strings.
    spot
        Underlying price, finite and >= 0.
    strike
        Strike, finite and >= 0.
    tau
        Time to expiry in years.
    volatility
        Annualized volatility, finite and >= 0.
    rate
        Continuously compounded risk-free rate.
    dividend_yield
        Continuously compounded dividend yield.

    Returns
    -------
    numpy.ndarray
        Float64 deltas, of the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        On the same inputs as :func:`black_scholes_price`.
    """
    setup = _Setup(
        _is_call_from_option_type(option_type),
        spot,
        strike,
        tau,
        volatility,
        rate,
        dividend_yield,
    )
    return _delta(setup)


def black_scholes_price_is_call(
    is_call: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    tau: npt.ArrayLike,
    volatility: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend_yield: npt.ArrayLike = 0.0,
) -> _FloatArray:
    """Price like :func:`black_scholes_price`, with boolean call flags for the option type.

    The engine keeps option types as a boolean array; this skips the string comparison.

    Parameters
    ----------
    is_call
        Booleans: ``True`` for calls, ``False`` for puts.
    spot, strike, tau, volatility, rate, dividend_yield
        As in :func:`black_scholes_price`.

    Returns
    -------
    numpy.ndarray
        Float64 prices, of the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``is_call`` is not boolean, or on the inputs :func:`black_scholes_price`
        refuses.
    """
    setup = _Setup(_is_call_flags(is_call), spot, strike, tau, volatility, rate, dividend_yield)
    return _price(setup)


def black_scholes_delta_is_call(
    is_call: npt.ArrayLike,
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    tau: npt.ArrayLike,
    volatility: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend_yield: npt.ArrayLike = 0.0,
) -> _FloatArray:
    """Spot delta like :func:`black_scholes_delta`, with boolean call flags.

    The engine keeps option types as a boolean array; this skips the string comparison.

    Parameters
    ----------
    is_call
        Booleans: ``True`` for calls, ``False`` for puts.
    spot, strike, tau, volatility, rate, dividend_yield
        As in :func:`black_scholes_delta`.

    Returns
    -------
    numpy.ndarray
        Float64 deltas, of the broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If ``is_call`` is not boolean, or on the inputs :func:`black_scholes_price`
        refuses.
    """
    setup = _Setup(_is_call_flags(is_call), spot, strike, tau, volatility, rate, dividend_yield)
    return _delta(setup)


def black_scholes_vega(
    spot: npt.ArrayLike,
    strike: npt.ArrayLike,
    tau: npt.ArrayLike,
    volatility: npt.ArrayLike,
    rate: npt.ArrayLike = 0.0,
    dividend_yield: npt.ArrayLike = 0.0,
) -> _FloatArray:
    """Vega ``dPrice / dVolatility`` of European options (the same for puts and calls).

    ``S e^{-q tau} phi(d1) sqrt(tau)``: the weight that turns a volatility error into a
    price error, used by the implied-volatility solver and the surface calibration. Zero
    at expiry, with zero volatility, and for a zero spot or strike.

    Parameters
    ----------
    spot, strike, tau, volatility, rate, dividend_yield
        As in :func:`black_scholes_price`.

    Returns
    -------
    numpy.ndarray
        Float64 vegas per unit of volatility (0.01 of it is "per vol point").

    Raises
    ------
    ValueError
        On the same inputs as :func:`black_scholes_price`.

    Examples
    --------
    >>> round(float(black_scholes_vega(100.0, 100.0, 1.0, 0.2)), 6)
    39.695255
    """
    setup = _Setup(True, spot, strike, tau, volatility, rate, dividend_yield)
    return _vega(setup, np.asarray(tau, dtype=np.float64))


# --- Polars expression form ---------------------------------------------------------------


def _float_expr(value: str | pl.Expr | float) -> pl.Expr:
    if isinstance(value, pl.Expr):
        return value.cast(pl.Float64)
    if isinstance(value, str):
        return pl.col(value).cast(pl.Float64)
    return pl.lit(float(value), dtype=pl.Float64)


def _option_type_expr(option_type: str | pl.Expr) -> pl.Expr:
    if isinstance(option_type, pl.Expr):
        return option_type
    if option_type in (_PUT, _CALL):
        return pl.lit(option_type, dtype=pl.String)
    return pl.col(option_type)


def _norm_cdf_expr(x: pl.Expr) -> pl.Expr:
    return (x * _MINUS_SQRT_HALF).erfc() * 0.5


def black_scholes_expr(
    option_type: str | pl.Expr,
    spot: str | pl.Expr | float,
    strike: str | pl.Expr | float,
    tau: str | pl.Expr | float,
    volatility: str | pl.Expr | float,
    rate: str | pl.Expr | float = 0.0,
    dividend_yield: str | pl.Expr | float = 0.0,
) -> pl.Expr:
    """Black-Scholes-Merton price as a Polars expression, the same formula as the numpy form.

    Lets a researcher price a quote table inside a lazy query, with no trip through numpy;
    the normal CDF is ``erfc``-based and agrees with :func:`black_scholes_price` to about
    1e-13 relative.

    Parameters
    ----------
    option_type
        A column name or expression of ``"put"``/``"call"`` strings, or the literal
        ``"put"`` or ``"call"`` (these two strings are never read as column names; use
        ``pl.col("put")`` for a column so named).
    spot, strike, tau, volatility, rate, dividend_yield
        Each a column name, an expression or a number, with the meaning they have in
        :func:`black_scholes_price`; cast to ``Float64``.

    Returns
    -------
    polars.Expr
        A ``Float64`` expression named ``"price"``. A null input gives a null price. The
        expression does not raise: a row that :func:`black_scholes_price` would refuse
        (negative or non-finite spot, strike or volatility; non-finite tau, rate or
        dividend yield; an option type other than ``"put"``/``"call"``) gives NaN.

    Examples
    --------
    >>> frame = pl.DataFrame({"spot": [42.0], "strike": [40.0]})
    >>> price = black_scholes_expr("put", "spot", "strike", 0.5, 0.2, rate=0.1)
    >>> round(frame.select(price).item(), 4)
    0.8086
    """
    kind = _option_type_expr(option_type)
    s = _float_expr(spot)
    k = _float_expr(strike)
    tau_raw = _float_expr(tau)
    v = _float_expr(volatility)
    r = _float_expr(rate)
    q = _float_expr(dividend_yield)

    sign = pl.when(kind == _CALL).then(1.0).when(kind == _PUT).then(-1.0).otherwise(None)
    t = tau_raw.clip(lower_bound=0.0)
    stdev = v * t.sqrt()
    fs = s * (-(q * t)).exp()
    fk = k * (-(r * t)).exp()
    x = (fs / fk).log() / stdev
    half = stdev * 0.5
    n1 = _norm_cdf_expr((x + half) * sign)
    n2 = _norm_cdf_expr((x - half) * sign)
    formula = sign * (fs * n1 - fk * n2)
    forward_intrinsic = sign * (fs - fk)
    degenerate = (stdev == 0.0) | (fs == 0.0) | (fk == 0.0)
    price = pl.when(degenerate).then(forward_intrinsic).otherwise(formula).clip(lower_bound=0.0)

    valid = (
        kind.is_in([_PUT, _CALL])
        & s.is_finite()
        & (s >= 0.0)
        & k.is_finite()
        & (k >= 0.0)
        & v.is_finite()
        & (v >= 0.0)
        & tau_raw.is_finite()
        & r.is_finite()
        & q.is_finite()
    )
    # A null `valid` (some input null) falls through to `price`, which is then null too.
    return pl.when(~valid).then(float("nan")).otherwise(price).alias("price")
