"""Strikes solved from a delta or a call price (SPEC 9.1), checked with QuantLib.

QuantLib's ``AnalyticEuropeanEngine`` delta at the solved strike equals the target delta
to 1e-9; its price at the solved call strike equals the target price to 1e-9 of spot.
Targets the bracket cannot reach come back NaN (the engine refuses them, naming the leg).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from quantlib_oracle import quantlib_price_and_delta

from hedgeframe.pricing._strikes import call_strike_for_price, strike_for_delta


def _one(value: float) -> np.ndarray:
    return np.array([value])


@given(
    is_call=st.booleans(),
    spot=st.floats(5.0, 5000.0),
    days=st.integers(7, 730),
    sigma=st.floats(0.05, 1.2),
    rate=st.floats(-0.01, 0.08),
    dividend_yield=st.floats(0.0, 0.05),
    size=st.floats(0.02, 0.95),
)
@example(is_call=False, spot=100.0, days=7, sigma=0.05, rate=0.0, dividend_yield=0.0, size=0.25)
@example(is_call=True, spot=4000.0, days=730, sigma=1.2, rate=0.08, dividend_yield=0.05, size=0.9)
def test_quantlibs_delta_at_the_solved_strike_is_the_target(
    is_call: bool,
    spot: float,
    days: int,
    sigma: float,
    rate: float,
    dividend_yield: float,
    size: float,
) -> None:
    tau = days / 365
    # A target inside what the bracket can reach: |delta| < e^{-q tau}.
    target = size * math.exp(-dividend_yield * tau) * (1.0 if is_call else -1.0)
    strike = float(
        strike_for_delta(
            np.array([is_call]), _one(spot), _one(target), _one(tau), _one(sigma), rate,
            dividend_yield,
        )[0]
    )  # fmt: skip
    width = 10.0 * sigma * math.sqrt(tau)
    assert spot * math.exp(-width) <= strike <= spot * math.exp(width)
    _, delta = quantlib_price_and_delta(
        "call" if is_call else "put", spot, strike, days, sigma, rate, dividend_yield
    )
    assert abs(delta - target) <= 1e-9, (
        f"{is_call=} {spot=} {days=} {sigma=} {rate=} {dividend_yield=}: "
        f"strike {strike!r} has QuantLib delta {delta!r}, target {target!r}"
    )


def test_a_delta_beyond_the_bracket_has_no_strike() -> None:
    # A call's delta never exceeds e^{-q tau}; a put's never goes below -e^{-q tau}.
    strikes = strike_for_delta(
        np.array([True, False, True]),
        np.full(3, 100.0),
        np.array([0.995, -0.995, 0.5]),
        np.full(3, 1.0),
        np.full(3, 0.2),
        0.0,
        0.02,
    )
    assert np.isnan(strikes[:2]).all()
    assert np.isfinite(strikes[2])


@given(
    spot=st.floats(5.0, 5000.0),
    days=st.integers(7, 730),
    sigma=st.floats(0.05, 1.0),
    rate=st.floats(0.0, 0.06),
    moneyness=st.floats(1.0, 2.5),
)
def test_quantlibs_price_at_the_solved_call_strike_is_the_target(
    spot: float, days: int, sigma: float, rate: float, moneyness: float
) -> None:
    tau = days / 365
    target, _ = quantlib_price_and_delta("call", spot, spot * moneyness, days, sigma, rate, 0.0)
    strike = float(call_strike_for_price(_one(spot), _one(target), _one(tau), _one(sigma), rate)[0])
    if not math.isfinite(strike):  # the target price is too small for any strike to tell
        assert target <= 1e-9 * spot
        return
    price, _ = quantlib_price_and_delta("call", spot, strike, days, sigma, rate, 0.0)
    assert abs(price - target) <= 1e-9 * spot, f"strike {strike!r}: {price!r} vs {target!r}"


def test_a_price_outside_the_bracket_has_no_strike() -> None:
    spot, tau, sigma = np.full(3, 100.0), np.full(3, 1.0), np.full(3, 0.2)
    atm = quantlib_price_and_delta("call", 100.0, 100.0, 365, 0.2, 0.0, 0.0)[0]
    strikes = call_strike_for_price(spot, np.array([atm * 1.01, 1e-12, atm * 0.5]), tau, sigma)
    assert np.isnan(strikes[:2]).all()  # dearer than at the money; cheaper than at 3x spot
    assert 100.0 < strikes[2] < 300.0
