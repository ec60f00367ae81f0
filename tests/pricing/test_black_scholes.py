"""Tests of the numpy Black-Scholes-Merton functions in ``hedgeframe.pricing``.

Oracles, in order of authority:

* QuantLib's ``AnalyticEuropeanEngine`` on a ``BlackScholesMertonProcess`` with flat
  continuously compounded rate and dividend curves and a flat ``BlackConstantVol``, all on
  ``Actual365Fixed``. The expiry is a whole number ``days`` of calendar days after the
  evaluation date and our ``tau`` is ``days / 365``, so QuantLib's year fraction is the
  same double as ``tau``. See ``quantlib_price_and_delta``.
* Published values: Hull's BSM example and E. G. Haug's tables (as tabulated in
  QuantLib's own ``test-suite/europeanoption.cpp``), each with its source and tolerance.
* High-precision values (mpmath, 60 digits) for the far tails, where QuantLib's normal
  CDF is the weaker party.
* Model-free properties: put-call parity, monotonicity, the expiry and zero-volatility
  limits, broadcasting.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import pytest
from hypothesis import example, given, note
from hypothesis import strategies as st
from quantlib_oracle import QL_CDF_ABS_ERROR, quantlib_price_and_delta

from hedgeframe.pricing import (
    black_scholes_delta,
    black_scholes_delta_is_call,
    black_scholes_price,
    black_scholes_price_is_call,
)

EPS = float(np.finfo(np.float64).eps)

# --- QuantLib oracle --------------------------------------------------------------------


def describe(**inputs: object) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in inputs.items())


option_types = st.sampled_from(["put", "call"])
spots = st.floats(1.0, 1e5)
moneyness = st.floats(0.2, 3.0)  # strike / spot
days_to_expiry = st.integers(1, 5 * 365)
volatilities = st.floats(0.01, 2.0)
rates = st.floats(-0.02, 0.15)
dividend_yields = st.floats(0.0, 0.1)


@given(
    option_type=option_types,
    spot=spots,
    strike_over_spot=moneyness,
    days=days_to_expiry,
    volatility=volatilities,
    rate=rates,
    dividend_yield=dividend_yields,
)
@example("put", 100.0, 1.0, 1, 0.01, 0.0, 0.0).via("one day, at the money, 1% vol")
@example("put", 100.0, 3.0, 1825, 0.01, 0.15, 0.0).via("deep in the money put")
@example("put", 100.0, 0.2, 30, 0.2, 0.0, 0.0).via("deep out of the money put")
@example("call", 1e5, 3.0, 1825, 2.0, -0.02, 0.1).via("far out of the money call, 200% vol")
@example("call", 1333.2, 2.4334, 1057, 0.10708, -0.0105, 0.0301).via("QuantLib tail branch")
def test_price_and_delta_match_quantlib(
    option_type: str,
    spot: float,
    strike_over_spot: float,
    days: int,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> None:
    strike = spot * strike_over_spot
    tau = days / 365
    ref_price, ref_delta = quantlib_price_and_delta(
        option_type, spot, strike, days, volatility, rate, dividend_yield
    )
    price = float(
        black_scholes_price(option_type, spot, strike, tau, volatility, rate, dividend_yield)
    )
    delta = float(
        black_scholes_delta(option_type, spot, strike, tau, volatility, rate, dividend_yield)
    )

    inputs = describe(
        option_type=option_type,
        spot=spot,
        strike=strike,
        tau=tau,
        volatility=volatility,
        rate=rate,
        dividend_yield=dividend_yield,
    )
    forwards = spot * math.exp(-dividend_yield * tau) + strike * math.exp(-rate * tau)
    if ref_price > 1e-6 * spot:
        tolerance = 1e-10 * ref_price + QL_CDF_ABS_ERROR * forwards
    else:  # deep out of the money: an absolute error, tiny against the spot
        tolerance = QL_CDF_ABS_ERROR * forwards
    note(f"relative error {abs(price - ref_price) / ref_price if ref_price else 0.0:.2e}")
    assert abs(price - ref_price) <= tolerance, (
        f"{inputs}: price {price!r}, QuantLib {ref_price!r}, tolerance {tolerance:.3e}"
    )
    assert abs(delta - ref_delta) <= 1e-12, f"{inputs}: delta {delta!r}, QuantLib {ref_delta!r}"


# --- published values -------------------------------------------------------------------

HULL = "Hull, Options, Futures, and Other Derivatives, 9th ed., Example 15.6"
HAUG = "Haug, Option Pricing Formulas (1998), via QuantLib test-suite/europeanoption.cpp"

# (id, source, option_type, spot, strike, tau, volatility, rate, dividend_yield, value, tol)
PUBLISHED_PRICES = [
    ("hull-15.6-call", HULL, "call", 42.0, 40.0, 0.5, 0.2, 0.1, 0.0, 4.76, 5e-3),
    ("hull-15.6-put", HULL, "put", 42.0, 40.0, 0.5, 0.2, 0.1, 0.0, 0.81, 5e-3),
    ("haug-p2-call-60-65", HAUG, "call", 60.0, 65.0, 0.25, 0.30, 0.08, 0.00, 2.1334, 1e-4),
    ("haug-p2-put-100-95-q5", HAUG, "put", 100.0, 95.0, 0.50, 0.20, 0.10, 0.05, 2.4648, 1e-4),
    ("haug-p2-put-19-atm", HAUG, "put", 19.0, 19.0, 0.75, 0.28, 0.10, 0.10, 1.7011, 1e-4),
    ("haug-p2-call-19-atm", HAUG, "call", 19.0, 19.0, 0.75, 0.28, 0.10, 0.10, 1.7011, 1e-4),
    ("haug-p2-call-fx-1.56", HAUG, "call", 1.56, 1.60, 0.50, 0.12, 0.06, 0.08, 0.0291, 1e-4),
    ("haug-p2-put-75-70", HAUG, "put", 75.0, 70.0, 0.50, 0.35, 0.10, 0.05, 4.0870, 1e-4),
    ("haug-p24-call-90-100", HAUG, "call", 90.0, 100.0, 0.10, 0.15, 0.10, 0.10, 0.0205, 1e-4),
    ("haug-p24-call-110-100", HAUG, "call", 110.0, 100.0, 0.50, 0.35, 0.10, 0.10, 15.3086, 1e-4),
    ("haug-p24-put-90-100", HAUG, "put", 90.0, 100.0, 0.50, 0.35, 0.10, 0.10, 14.4452, 1e-4),
    ("haug-p24-put-110-100", HAUG, "put", 110.0, 100.0, 0.10, 0.15, 0.10, 0.10, 0.0408, 1e-4),
    ("haug-p27-call-42-40", HAUG, "call", 42.0, 40.0, 0.75, 0.35, 0.04, 0.08, 5.0975, 1e-4),
]

# Haug pp. 11-16, same source; spot 105, strike 100, q = r = 10%, half a year, 36% vol.
PUBLISHED_DELTAS = [
    ("haug-p11-call-delta", HAUG, "call", 105.0, 100.0, 0.5, 0.36, 0.10, 0.10, 0.5946, 1e-4),
    ("haug-p11-put-delta", HAUG, "put", 105.0, 100.0, 0.5, 0.36, 0.10, 0.10, -0.3566, 1e-4),
]


def _cases(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [pytest.param(*row[1:], id=row[0]) for row in rows]


@pytest.mark.parametrize(
    ("source", "option_type", "spot", "strike", "tau", "vol", "rate", "q", "value", "tol"),
    _cases(PUBLISHED_PRICES),
)
def test_published_prices(
    source: str,
    option_type: str,
    spot: float,
    strike: float,
    tau: float,
    vol: float,
    rate: float,
    q: float,
    value: float,
    tol: float,
) -> None:
    price = float(black_scholes_price(option_type, spot, strike, tau, vol, rate, q))
    assert abs(price - value) <= tol, f"{source}: {price!r} vs published {value}"


@pytest.mark.parametrize(
    ("source", "option_type", "spot", "strike", "tau", "vol", "rate", "q", "value", "tol"),
    _cases(PUBLISHED_DELTAS),
)
def test_published_deltas(
    source: str,
    option_type: str,
    spot: float,
    strike: float,
    tau: float,
    vol: float,
    rate: float,
    q: float,
    value: float,
    tol: float,
) -> None:
    delta = float(black_scholes_delta(option_type, spot, strike, tau, vol, rate, q))
    assert abs(delta - value) <= tol, f"{source}: {delta!r} vs published {value}"


# Computed with mpmath 1.4 at 60 significant digits from the same double inputs:
#   t = mpf(tau); sd = vol * sqrt(t); fs = S exp(-q t); fk = K exp(-r t)
#   d1 = log(fs / fk) / sd + sd / 2; d2 = d1 - sd; price = w (fs ncdf(w d1) - fk ncdf(w d2))
# In the two far-tail puts (prices ~1e-131 and ~1e-186) the formula's two terms agree to 3
# digits, so double precision can only promise about 1e-10 there.
HIGH_PRECISION_PRICES = [
    # (id, option_type, spot, strike, tau, volatility, rate, dividend_yield, value, rel tol)
    ("atm-call-1d", "call", 4000.0, 4000.0, 1 / 365, 0.2, 0.04, 0.015, 16.84127333979289, 1e-12),
    ("otm-put-75pct-1y", "put", 100.0, 75.0, 1.0, 0.15, 0.03, 0.0, 0.07859936981212125, 1e-12),
    ("deep-itm-put-2y", "put", 50.0, 100.0, 2.0, 0.05, 0.05, 0.02, 42.4442698459798, 1e-12),
    (
        "deep-otm-call-5y-200pct-vol",
        "call",
        10.0,
        30.0,
        5.0,
        2.0,
        0.15,
        0.1,
        5.833578103606673,
        1e-12,
    ),
    ("far-otm-call-3m", "call", 100.0, 300.0, 0.25, 0.3, 0.05, 0.0, 7.656666890022157e-13, 1e-12),
    (
        "otm-call-quantlib-tail-branch",
        "call",
        1333.2,
        3244.24,
        1057 / 365,
        0.10708,
        -0.0105,
        0.0301,
        1.028666945353413e-06,
        1e-12,
    ),
    (
        "far-tail-put-1m",
        "put",
        100.0,
        50.0,
        30 / 365,
        0.1,
        0.02,
        0.01,
        7.985193998471265e-131,
        1e-9,
    ),
    ("far-tail-put-d29", "put", 100.0, 40.0, 0.1, 0.1, 0.0, 0.0, 4.590954924534331e-186, 1e-9),
]


@pytest.mark.parametrize(
    ("option_type", "spot", "strike", "tau", "vol", "rate", "q", "value", "rel_tol"),
    [pytest.param(*row[1:], id=row[0]) for row in HIGH_PRECISION_PRICES],
)
def test_tail_prices_match_high_precision_values(
    option_type: str,
    spot: float,
    strike: float,
    tau: float,
    vol: float,
    rate: float,
    q: float,
    value: float,
    rel_tol: float,
) -> None:
    price = float(black_scholes_price(option_type, spot, strike, tau, vol, rate, q))
    assert abs(price - value) <= rel_tol * value, f"{price!r} vs mpmath {value!r}"


# --- model-free properties --------------------------------------------------------------


@given(
    spot=spots,
    strike_over_spot=moneyness,
    tau=st.floats(-1.0, 5.0),
    volatility=st.floats(0.0, 2.0),
    rate=rates,
    dividend_yield=dividend_yields,
)
@example(100.0, 1.0, 0.0, 0.2, 0.05, 0.01).via("expiry today")
@example(100.0, 1.2, 1.0, 0.0, 0.05, 0.01).via("zero volatility")
@example(100.0, 3.0, 5.0, 0.01, 0.15, 0.0).via("deep in the money put")
@example(100.0, 0.2, 5.0, 2.0, 0.0, 0.1).via("deep in the money call")
def test_put_call_parity(
    spot: float,
    strike_over_spot: float,
    tau: float,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> None:
    strike = spot * strike_over_spot
    args = (spot, strike, tau, volatility, rate, dividend_yield)
    call = float(black_scholes_price("call", *args))
    put = float(black_scholes_price("put", *args))
    t = max(tau, 0.0)
    forward_spot = spot * math.exp(-dividend_yield * t)
    discounted_strike = strike * math.exp(-rate * t)
    tolerance = 1e-14 * (forward_spot + discounted_strike)
    assert abs((call - put) - (forward_spot - discounted_strike)) <= tolerance, describe(
        call=call, put=put, spot=spot, strike=strike, tau=tau, volatility=volatility
    )
    # Call delta minus put delta is e^{-q tau}, away from the step at zero sigma sqrt(tau).
    if volatility * math.sqrt(t) > 0.0:
        call_delta = float(black_scholes_delta("call", *args))
        put_delta = float(black_scholes_delta("put", *args))
        assert call_delta - put_delta == pytest.approx(math.exp(-dividend_yield * t), abs=1e-15)


def _non_increasing(values: npt.NDArray[np.float64], scale: float) -> bool:
    """Non-increasing up to rounding: a few ulps of the largest magnitude in play."""
    return bool(np.all(np.diff(values) <= 8 * EPS * scale))


market = st.fixed_dictionaries(
    {
        "spot": spots,
        "strike_over_spot": moneyness,
        "tau": st.floats(0.0, 5.0),
        "volatility": st.floats(0.0, 2.0),
        "rate": rates,
        "dividend_yield": dividend_yields,
    }
)


@given(market)
@example(
    {
        "spot": 100.0,
        "strike_over_spot": 1.0,
        "tau": 0.0,
        "volatility": 0.2,
        "rate": 0.0,
        "dividend_yield": 0.0,
    }
).via("expiry today")
def test_put_price_is_monotone(m: dict[str, float]) -> None:
    """Put prices fall with spot and rise with strike and volatility (on 64-point grids)."""
    spot, tau, vol = m["spot"], m["tau"], m["volatility"]
    strike = spot * m["strike_over_spot"]
    r, q = m["rate"], m["dividend_yield"]

    spot_grid = np.geomspace(0.1 * spot, 10.0 * spot, 64)
    by_spot = black_scholes_price("put", spot_grid, strike, tau, vol, r, q)
    assert _non_increasing(by_spot, 10.0 * spot + strike), by_spot

    strike_grid = np.geomspace(0.1 * strike, 10.0 * strike, 64)
    by_strike = black_scholes_price("put", spot, strike_grid, tau, vol, r, q)
    assert _non_increasing(-by_strike, spot + 10.0 * strike), by_strike

    vol_grid = np.linspace(0.0, 2.0, 64)
    by_vol = black_scholes_price("put", spot, strike, tau, vol_grid, r, q)
    assert _non_increasing(-by_vol, spot + strike), by_vol


# --- expiry and zero-volatility limits --------------------------------------------------


@given(
    option_type=option_types,
    spot=st.floats(0.0, 1e5),
    strike=st.floats(0.0, 1e5),
    tau=st.floats(-10.0, 0.0),
    volatility=st.floats(0.0, 2.0),
    rate=rates,
    dividend_yield=dividend_yields,
)
@example("put", 90.0, 100.0, 0.0, 0.2, 0.05, 0.01).via("expiry today, in the money")
@example("put", 100.0, 100.0, 0.0, 0.2, 0.05, 0.01).via("expiry today, at the money")
@example("call", 110.0, 100.0, -1 / 365, 0.2, 0.05, 0.01).via("one day past expiry")
@example("put", 0.0, 100.0, 0.0, 0.0, 0.0, 0.0).via("worthless underlying")
def test_expired_options_are_worth_intrinsic_value(
    option_type: str,
    spot: float,
    strike: float,
    tau: float,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> None:
    args = (option_type, spot, strike, tau, volatility, rate, dividend_yield)
    price = float(black_scholes_price(*args))
    delta = float(black_scholes_delta(*args))
    if option_type == "put":
        assert price == max(strike - spot, 0.0)
        assert delta == (-1.0 if spot < strike else 0.0)
    else:
        assert price == max(spot - strike, 0.0)
        assert delta == (1.0 if spot > strike else 0.0)
    assert math.copysign(1.0, price) == 1.0  # never -0.0


@given(
    option_type=option_types,
    spot=st.floats(0.0, 1e5),
    strike=st.floats(0.0, 1e5),
    tau=st.floats(1e-6, 5.0),
    rate=rates,
    dividend_yield=dividend_yields,
)
@example("put", 100.0, 110.0, 1.0, 0.05, 0.0).via("in the money forward")
@example("put", 100.0, 100.0, 1.0, 0.0, 0.0).via("at the money forward")
@example("call", 100.0, 90.0, 2.0, 0.03, 0.02).via("call in the money forward")
def test_zero_volatility_gives_discounted_forward_intrinsic(
    option_type: str,
    spot: float,
    strike: float,
    tau: float,
    rate: float,
    dividend_yield: float,
) -> None:
    args = (option_type, spot, strike, tau, 0.0, rate, dividend_yield)
    forward_spot = spot * math.exp(-dividend_yield * tau)
    discounted_strike = strike * math.exp(-rate * tau)
    sign = 1.0 if option_type == "call" else -1.0
    expected = max(sign * (forward_spot - discounted_strike), 0.0)
    # math.exp and np.exp may round differently by an ulp.
    rounding = 4 * EPS * (forward_spot + discounted_strike)
    assert abs(float(black_scholes_price(*args)) - expected) <= rounding
    if abs(forward_spot - discounted_strike) > rounding:  # off the step
        expected_delta = sign * math.exp(-dividend_yield * tau) if expected > 0.0 else 0.0
        assert float(black_scholes_delta(*args)) == pytest.approx(expected_delta, rel=1e-15)


@pytest.mark.parametrize(
    ("option_type", "spot", "strike", "expected"),
    [
        pytest.param("put", 0.0, 100.0, 100.0 * math.exp(-0.05), id="put-zero-spot"),
        pytest.param("call", 0.0, 100.0, 0.0, id="call-zero-spot"),
        pytest.param("put", 100.0, 0.0, 0.0, id="put-zero-strike"),
        pytest.param("call", 100.0, 0.0, 100.0 * math.exp(-0.01), id="call-zero-strike"),
        pytest.param("put", 0.0, 0.0, 0.0, id="put-zero-both"),
    ],
)
def test_zero_spot_or_strike_gives_its_limit(
    option_type: str, spot: float, strike: float, expected: float
) -> None:
    price = float(black_scholes_price(option_type, spot, strike, 1.0, 0.2, 0.05, 0.01))
    assert price == pytest.approx(expected, rel=1e-15)


# --- shapes, types and the boolean fast path --------------------------------------------


def test_broadcasts_like_numpy() -> None:
    spot = np.array([[80.0], [100.0], [120.0]])  # (3, 1)
    strike = np.array([90.0, 100.0, 110.0, 120.0])  # (4,)
    tau = np.array([[0.0, 0.25, 1.0, 2.0]])  # (1, 4): every input may have any shape
    prices = black_scholes_price("put", spot, strike, tau, 0.2, 0.03, 0.01)
    assert prices.shape == (3, 4)
    assert prices.dtype == np.float64
    for i in range(3):
        for j in range(4):
            one = black_scholes_price("put", spot[i, 0], strike[j], tau[0, j], 0.2, 0.03, 0.01)
            assert prices[i, j] == one


def test_string_array_option_types_match_scalar_calls() -> None:
    kinds = np.array(["put", "call", "call", "put"])
    spot = np.array([90.0, 90.0, 110.0, 110.0])
    prices = black_scholes_price(kinds, spot, 100.0, 0.5, 0.25, 0.02)
    deltas = black_scholes_delta(kinds, spot, 100.0, 0.5, 0.25, 0.02)
    for kind, s, price, delta in zip(kinds, spot, prices, deltas, strict=True):
        assert price == black_scholes_price(str(kind), s, 100.0, 0.5, 0.25, 0.02)
        assert delta == black_scholes_delta(str(kind), s, 100.0, 0.5, 0.25, 0.02)


class _OptionType(StrEnum):
    PUT = "put"
    CALL = "call"


@pytest.mark.parametrize(
    "kinds",
    [
        pytest.param(["put", "call"], id="list"),
        pytest.param(np.array(["put", "call"], dtype=object), id="object-array"),
        pytest.param(np.array(["put", "call"], dtype=np.dtypes.StringDType()), id="stringdtype"),
        pytest.param(pl.Series(["put", "call"]), id="polars-series"),
        pytest.param([_OptionType.PUT, _OptionType.CALL], id="str-enum"),
    ],
)
def test_option_type_containers(kinds: object) -> None:
    expected = [
        float(black_scholes_price("put", 100.0, 105.0, 1.0, 0.2)),
        float(black_scholes_price("call", 100.0, 105.0, 1.0, 0.2)),
    ]
    prices = black_scholes_price(kinds, 100.0, 105.0, 1.0, 0.2)  # type: ignore[arg-type]
    assert prices.tolist() == expected


def test_scalar_inputs_give_a_zero_dimensional_array() -> None:
    price = black_scholes_price("put", 100, 100, 1, 0.2)
    assert isinstance(price, np.ndarray)
    assert price.shape == ()
    assert price.dtype == np.float64


def test_empty_inputs_give_an_empty_array() -> None:
    assert black_scholes_price("put", np.array([]), 100.0, 1.0, 0.2).shape == (0,)


def test_inputs_are_not_modified() -> None:
    arrays = [np.array([90.0, 100.0]), np.array([100.0, 0.0]), np.array([0.5, -0.1])]
    copies = [a.copy() for a in arrays]
    black_scholes_price("put", arrays[0], arrays[1], arrays[2], 0.2)
    black_scholes_delta("put", arrays[0], arrays[1], arrays[2], 0.2)
    for a, c in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, c)


@given(
    is_call=st.lists(st.booleans(), min_size=1, max_size=16),
    spot=spots,
    tau=st.floats(-0.1, 5.0),
    volatility=st.floats(0.0, 2.0),
    rate=rates,
    dividend_yield=dividend_yields,
)
def test_boolean_fast_path_matches_string_form(
    is_call: list[bool],
    spot: float,
    tau: float,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> None:
    flags = np.array(is_call)
    kinds = np.where(flags, "call", "put")
    strike = spot * np.linspace(0.5, 1.5, flags.size)
    args = (spot, strike, tau, volatility, rate, dividend_yield)
    np.testing.assert_array_equal(
        black_scholes_price_is_call(flags, *args), black_scholes_price(kinds, *args)
    )
    np.testing.assert_array_equal(
        black_scholes_delta_is_call(flags, *args), black_scholes_delta(kinds, *args)
    )
    # A scalar flag is the same as the scalar string.
    np.testing.assert_array_equal(
        black_scholes_price_is_call(False, *args), black_scholes_price("put", *args)
    )


# --- refused inputs ---------------------------------------------------------------------

GOOD: dict[str, Any] = {
    "spot": 100.0,
    "strike": 100.0,
    "tau": 1.0,
    "volatility": 0.2,
    "rate": 0.01,
    "dividend_yield": 0.0,
}


@pytest.mark.parametrize(
    ("parameter", "bad", "message"),
    [
        pytest.param("spot", [100.0, -1.0], r"spot must be finite and >= 0; spot\[1\] is -1.0"),
        pytest.param("spot", math.nan, r"spot must be finite and >= 0; spot is nan"),
        pytest.param(
            "strike", [1.0, math.inf, -2.0], r"strike\[1\] is inf \(first of 2 bad values\)"
        ),
        pytest.param("volatility", -0.2, r"volatility must be finite and >= 0; volatility is"),
        pytest.param("volatility", [[0.2, 0.2], [0.2, math.nan]], r"volatility\[1,1\] is nan"),
        pytest.param("tau", [1.0, math.nan], r"tau must be finite; tau\[1\] is nan"),
        pytest.param("rate", math.inf, r"rate must be finite; rate is inf"),
        pytest.param("dividend_yield", [math.nan], r"dividend_yield\[0\] is nan"),
    ],
)
def test_bad_numbers_are_refused_by_name(parameter: str, bad: object, message: str) -> None:
    inputs = {**GOOD, parameter: bad}
    with pytest.raises(ValueError, match=message):
        black_scholes_price("put", **inputs)
    with pytest.raises(ValueError, match=message):
        black_scholes_delta("call", **inputs)
    with pytest.raises(ValueError, match=message):
        black_scholes_price_is_call(True, **inputs)


@pytest.mark.parametrize(
    ("option_type", "message"),
    [
        pytest.param("Put", r"option_type must be 'put' or 'call'; got 'Put'", id="case"),
        pytest.param("P", r"got 'P'", id="short"),
        pytest.param(["put", "cal"], r"option_type\[1\] is 'cal'", id="array-typo"),
        pytest.param(["put", None], r"option_type\[1\] is None", id="array-none"),
        pytest.param(
            [["put", "call"], ["cal", "put"]], r"option_type\[1,0\] is 'cal'", id="grid-typo"
        ),
        pytest.param(np.array([True]), r"black_scholes_price_is_call", id="booleans"),
        pytest.param(1.0, r"got an array of dtype float64", id="number"),
    ],
)
def test_bad_option_types_are_refused(option_type: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        black_scholes_price(option_type, **GOOD)


def test_fast_path_refuses_non_boolean_flags() -> None:
    with pytest.raises(ValueError, match="is_call must be booleans"):
        black_scholes_price_is_call(np.array([1, 0]), **GOOD)


def test_mismatched_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        black_scholes_price("put", np.ones(3), np.ones(4), 1.0, 0.2)
