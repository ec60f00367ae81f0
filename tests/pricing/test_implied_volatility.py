"""Implied volatility: QuantLib's solver agrees, prices round-trip, impossible prices are NaN."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from quantlib_oracle import quantlib_implied_volatility, quantlib_price_and_delta

from hedgeframe.pricing import (
    black_scholes_price_is_call,
    black_scholes_vega,
    implied_volatility,
)


def _one(value: float) -> np.ndarray:
    return np.array([value])


@given(
    is_call=st.booleans(),
    spot=st.floats(5.0, 5000.0),
    moneyness=st.floats(0.5, 1.6),
    days=st.integers(7, 1095),
    sigma=st.floats(0.05, 2.0),
    rate=st.floats(-0.01, 0.08),
    dividend_yield=st.floats(0.0, 0.05),
)
@example(is_call=False, spot=100.0, moneyness=0.9, days=7, sigma=0.05, rate=0.0, dividend_yield=0.0)
@example(
    is_call=True, spot=2700.0, moneyness=1.0, days=1095, sigma=2.0, rate=0.08, dividend_yield=0.05
)
def test_quantlib_finds_the_same_volatility(
    is_call: bool,
    spot: float,
    moneyness: float,
    days: int,
    sigma: float,
    rate: float,
    dividend_yield: float,
) -> None:
    kind = "call" if is_call else "put"
    strike = spot * moneyness
    price, _ = quantlib_price_and_delta(kind, spot, strike, days, sigma, rate, dividend_yield)
    vega = float(black_scholes_vega(spot, strike, days / 365, sigma, rate, dividend_yield))
    if vega < 1e-6 * spot:  # the price hardly moves with the volatility: nothing to recover
        return
    ours = float(
        implied_volatility(
            np.array([is_call]), _one(spot), _one(strike), _one(days / 365), _one(price), rate,
            dividend_yield,
        )[0]
    )  # fmt: skip
    theirs = quantlib_implied_volatility(kind, spot, strike, days, price, rate, dividend_yield)
    # Both reprice within 1e-12 x spot; the volatilities then agree to that over the vega.
    tolerance = 4e-12 * spot / vega + 1e-12
    assert abs(ours - theirs) <= tolerance, f"{kind} K={strike} {days}d: {ours!r} vs {theirs!r}"
    assert abs(ours - sigma) <= tolerance + 1e-10


def test_a_whole_chain_round_trips_in_one_call() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    is_call = rng.random(n) < 0.5
    spot = rng.uniform(50.0, 5000.0, n)
    strike = spot * np.exp(rng.normal(0.0, 0.25, n))
    tau = rng.uniform(7 / 365, 2.0, n)
    sigma = rng.uniform(0.05, 1.5, n)
    price = black_scholes_price_is_call(is_call, spot, strike, tau, sigma, 0.02, 0.01)
    solved = implied_volatility(is_call, spot, strike, tau, price, 0.02, 0.01)
    vega = black_scholes_vega(spot, strike, tau, sigma, 0.02, 0.01)
    identifiable = vega > 1e-4 * spot
    assert identifiable.mean() > 0.9
    assert np.isfinite(solved[identifiable]).all()
    assert np.max(np.abs(solved - sigma)[identifiable]) < 1e-8
    repriced = black_scholes_price_is_call(
        is_call, spot, strike, tau, np.where(np.isnan(solved), 0.1, solved), 0.02, 0.01
    )
    solvable = ~np.isnan(solved)
    assert np.max(np.abs(repriced - price)[solvable] / spot[solvable]) <= 1e-12


def test_prices_no_volatility_gives_are_nan() -> None:
    spot, strike, tau = np.full(5, 100.0), np.array([90.0, 90.0, 110.0, 100.0, 100.0]), np.ones(5)
    is_call = np.array([True, False, False, True, True])
    intrinsic_call = 10.0  # at or below the intrinsic value (rate 0): no volatility
    above_cap = float(black_scholes_price_is_call(True, 100.0, 100.0, 1.0, 5.0)) * 1.01
    price = np.array([intrinsic_call, 0.0, 9.0, above_cap, 8.0])
    solved = implied_volatility(is_call, spot, strike, tau, price)
    assert np.isnan(solved[:4]).all()
    assert math.isclose(float(black_scholes_price_is_call(True, 100.0, 100.0, 1.0, solved[4])), 8.0)


def test_expired_options_have_no_implied_volatility() -> None:
    solved = implied_volatility(np.array([False]), _one(100.0), _one(110.0), _one(0.0), _one(10.0))
    assert np.isnan(solved).all()


def test_vega_is_quantlibs_finite_difference() -> None:
    spot, strike, days, sigma, rate, q = 2700.0, 2500.0, 120, 0.22, 0.03, 0.015
    bump = 1e-6
    up, _ = quantlib_price_and_delta("put", spot, strike, days, sigma + bump, rate, q)
    down, _ = quantlib_price_and_delta("put", spot, strike, days, sigma - bump, rate, q)
    ours = float(black_scholes_vega(spot, strike, days / 365, sigma, rate, q))
    assert abs(ours - (up - down) / (2 * bump)) <= 1e-6 * ours
