"""QuantLib as the pricing oracle: European prices and deltas on flat term structures.

Shared by the pricing tests (``tests/pricing/``); QuantLib shares no code with hedgeframe.
The evaluation date is fixed (``QL_TODAY``) inside each call and restored after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import QuantLib as ql  # noqa: N813 -- the alias QuantLib documents

QL_TODAY = ql.Date(15, ql.January, 2024)
# QuantLib's CumulativeNormalDistribution computes N(x) as (1 + erf(x / sqrt 2)) / 2 and, for
# N(x) <= 1e-8, switches to a truncated asymptotic series (Abramowitz & Stegun 26.2.12).
# Against mpmath its absolute error peaks at 1.3e-15 near x = -5.6, where the series takes
# over. A QuantLib price therefore carries up to about 1.3e-15 * (S e^{-q tau} +
# K e^{-r tau}) absolute error of its own; the tolerance below allows 2e-15 for it on top
# of the 1e-10 relative requirement. For prices above 1e-6 * spot the relative gap stayed
# below 1e-10 over 1e5 random draws; our own tail accuracy is pinned against mpmath in
# test_tail_prices_match_high_precision_values.
QL_CDF_ABS_ERROR = 2e-15


def _european(
    option_type: str,
    spot: float,
    strike: float,
    days: int,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> tuple[ql.BlackScholesMertonProcess, ql.VanillaOption]:
    """A European option on flat Actual365Fixed curves, expiring ``days`` after ``QL_TODAY``."""
    day_count = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(
            ql.FlatForward(QL_TODAY, dividend_yield, day_count, ql.Continuous)
        ),
        ql.YieldTermStructureHandle(ql.FlatForward(QL_TODAY, rate, day_count, ql.Continuous)),
        ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(QL_TODAY, ql.NullCalendar(), volatility, day_count)
        ),
    )
    kind = ql.Option.Call if option_type == "call" else ql.Option.Put
    option = ql.VanillaOption(
        ql.PlainVanillaPayoff(kind, strike), ql.EuropeanExercise(QL_TODAY + days)
    )
    option.setPricingEngine(ql.AnalyticEuropeanEngine(process))
    return process, option


@contextmanager
def _on_ql_today() -> Iterator[None]:
    """QuantLib's evaluation date is ``QL_TODAY`` inside, restored after."""
    settings = ql.Settings.instance()
    saved = settings.evaluationDate
    settings.evaluationDate = QL_TODAY
    try:
        yield
    finally:
        settings.evaluationDate = saved


def quantlib_price_and_delta(
    option_type: str,
    spot: float,
    strike: float,
    days: int,
    volatility: float,
    rate: float,
    dividend_yield: float,
) -> tuple[float, float]:
    """NPV and delta of a European option from QuantLib's AnalyticEuropeanEngine.

    Flat term structures on Actual365Fixed, expiry ``days`` calendar days after
    ``QL_TODAY``: QuantLib's time to expiry is ``days / 365``.
    """
    _, option = _european(option_type, spot, strike, days, volatility, rate, dividend_yield)
    with _on_ql_today():
        return float(option.NPV()), float(option.delta())


def quantlib_implied_volatility(
    option_type: str,
    spot: float,
    strike: float,
    days: int,
    price: float,
    rate: float,
    dividend_yield: float,
) -> float:
    """QuantLib's ``VanillaOption.impliedVolatility`` of ``price`` (accuracy 1e-12)."""
    process, option = _european(option_type, spot, strike, days, 0.2, rate, dividend_yield)
    with _on_ql_today():
        return float(option.impliedVolatility(price, process, 1e-12, 1000, 1e-4, 5.0))
