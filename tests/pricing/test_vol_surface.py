"""VolSurface: the regime's model, its configuration, and its oracle (the synthetic chain).

The synthetic chain (``hedgeframe/data/_synthetic_chain.py``) prices every quote with a
known mean-reverting ATM term structure and a linear skew; a surface with the same
parameters gives each quote's volatility again wherever the chain's smile is inside the
surface's linear part. Zero skew and one tenor is exactly :class:`IndexVol`.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hedgeframe as hf
from hedgeframe.data._synthetic_chain import build_synthetic_chain
from hedgeframe.errors import InvalidModelError, MissingMarketDataError
from hedgeframe.pricing import (
    VOLATILITY_ADAPTER,
    IndexVol,
    TenorIndex,
    VolatilityInputs,
    VolSurface,
)
from hedgeframe.pricing._surface import (
    DEFAULT_LONG_RUN_VOL,
    DEFAULT_MEAN_REVERSION,
    REFERENCE_TENOR,
)


def _inputs(index: dict[str, list[float]], days: int = 5) -> VolatilityInputs:
    dates = np.arange(np.datetime64("2020-03-02"), np.datetime64("2020-03-02") + days)
    closes = np.linspace(100.0, 110.0, days)
    series = {s: (dates, np.array(v, dtype=np.float64)) for s, v in index.items()}
    return VolatilityInputs("^GSPC", dates, dates, closes, series)


@given(
    vix=st.lists(st.floats(5.0, 150.0), min_size=5, max_size=5),
    log_moneyness=st.floats(-3.0, 3.0),
    days=st.integers(1, 3650),
)
def test_zero_skew_and_one_tenor_is_index_vol(
    vix: list[float], log_moneyness: float, days: int
) -> None:
    inputs = _inputs({"^VIX": vix})
    flat = IndexVol("^VIX").sigmas(inputs, [])
    surface = VolSurface(atm=IndexVol("^VIX"), long_run_vol=None).surface(inputs, [])
    day = np.arange(5)
    sigma = surface.sigma(day, np.full(5, log_moneyness), np.full(5, days / 365))
    np.testing.assert_allclose(sigma, flat, rtol=1e-12, atol=0.0)
    np.testing.assert_allclose(surface.reference, flat, rtol=1e-12, atol=0.0)


def test_a_run_priced_with_a_flat_surface_equals_one_priced_with_the_index() -> None:
    store = hf.sample_store()
    templates = hf.seed_templates()
    results = []
    for regime in (IndexVol("^VIX"), VolSurface(atm=IndexVol("^VIX"), long_run_vol=None)):
        provider = hf.SyntheticHistoricalProvider(store, volatility=regime, rate=0.02)
        scenario = hf.make_scenario(
            templates,
            provider,
            symbol="^GSPC",
            start_date=date(2017, 1, 3),
            end_date=date(2018, 12, 31),
            portfolio=hf.BacktestPortfolioState(
                underlying_units=100, entry_spot=2257.83, loan_amount=120_000, margin_call_ltv=0.75
            ),
        )
        results.append(hf.run_backtest(scenario, templates, provider))
    flat, surface = results
    for name in ("daily_path", "trades"):
        left, right = getattr(flat, name), getattr(surface, name)
        for column in ("option_market_value", "price", "cashflow"):
            if column in left.columns:
                np.testing.assert_allclose(right[column], left[column], rtol=1e-12, atol=1e-9)


@pytest.fixture(scope="module")
def chain_and_vix() -> tuple[pl.DataFrame, pl.DataFrame]:
    store = hf.sample_store()
    vix = store.underlying_bars("^VIX", start=date(2016, 1, 4), end=date(2018, 12, 31))
    chain = build_synthetic_chain(
        store.underlying_bars("^GSPC", start=date(2015, 1, 2), end=date(2018, 12, 31)),
        vix,
        start=date(2016, 2, 1),
        end=date(2018, 12, 31),
    ).filter(pl.col("as_of_date").dt.day() <= 3)  # a few days a month, 2016-2018
    return chain, vix


def test_the_synthetic_chains_parameters_give_its_volatilities_back(
    chain_and_vix: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    """Oracle: the chain's own ``implied_volatility`` (long-run 0.18, speed 1.5, skew -3)."""
    chain, vix = chain_and_vix
    days = chain["as_of_date"].unique().sort().to_numpy().astype("datetime64[D]")
    closes = vix.filter(pl.col("date").is_in(chain["as_of_date"].unique().implode()))
    inputs = VolatilityInputs(
        "^GSPC",
        days,
        days,
        np.ones(days.size),
        {"^VIX": (vix["date"].to_numpy().astype("datetime64[D]"), vix["close"].to_numpy())},
    )
    assert closes.height == days.size
    surface = VolSurface(atm=IndexVol("^VIX"), long_run_vol=0.18, mean_reversion=1.5, skew=-3.0)
    smile = surface.surface(inputs, [])
    day = np.searchsorted(days, chain["as_of_date"].to_numpy().astype("datetime64[D]"))
    tau = (chain["expiry"] - chain["as_of_date"]).dt.total_days().to_numpy() / 365
    x = np.log(chain["strike"].to_numpy() / chain["underlying_close"].to_numpy())
    # Inside the surface's linear part: 0.5 < 1 + u <= 2, u = -3 sqrt(30 d / max(tau, 30 d)) x.
    u = -3.0 * np.sqrt(REFERENCE_TENOR / np.maximum(tau, REFERENCE_TENOR)) * x
    inside = (u > -0.5) & (u <= 1.0)
    assert inside.mean() > 0.95
    sigma = smile.sigma(day[inside], x[inside], tau[inside])
    np.testing.assert_allclose(
        sigma, chain["implied_volatility"].to_numpy()[inside], rtol=1e-12, atol=0.0
    )


def test_mean_reversion_is_hestons_expected_average_variance() -> None:
    """``theta / tau = lr^2 + (a^2 - lr^2) g(tau) / g(30 d)``, ``g(t) = (1 - e^{-kt}) / kt``."""
    lr, k, a = 0.2, 2.0, 0.45
    surface = VolSurface(atm=IndexVol("^VIX"), long_run_vol=lr, mean_reversion=k)
    smile = surface.surface(_inputs({"^VIX": [a * 100] * 5}), [])
    for tau in (1 / 365, 30 / 365, 0.25, 1.0, 5.0):

        def g(t: float) -> float:
            return (1 - math.exp(-k * t)) / (k * t)

        expected = (
            a if tau <= 30 / 365 else math.sqrt(lr**2 + (a**2 - lr**2) * g(tau) / g(30 / 365))
        )
        got = float(smile.sigma(np.zeros(1, np.int64), np.zeros(1), np.full(1, tau))[0])
        assert math.isclose(got, expected, rel_tol=1e-12), tau


def test_several_indexes_interpolate_total_variance_and_stay_flat_beyond() -> None:
    surface = VolSurface(
        atm=IndexVol("^VIX"), term=(TenorIndex("^VIX3M", 93), TenorIndex("^VIX6M", 182))
    )
    smile = surface.surface(
        _inputs({"^VIX": [20.0] * 5, "^VIX3M": [22.0] * 5, "^VIX6M": [23.0] * 5}), []
    )
    day = np.zeros(1, np.int64)

    def sigma(days: float) -> float:
        return float(smile.sigma(day, np.zeros(1), np.full(1, days / 365))[0])

    theta_30, theta_93 = 0.2**2 * 30 / 365, 0.22**2 * 93 / 365
    mid = theta_30 + (60 - 30) / (93 - 30) * (theta_93 - theta_30)
    assert math.isclose(sigma(60), math.sqrt(mid / (60 / 365)), rel_tol=1e-12)
    assert math.isclose(sigma(10), 0.2, rel_tol=1e-12)  # flat before the first tenor
    assert math.isclose(sigma(93), 0.22, rel_tol=1e-12)
    assert math.isclose(sigma(400), 0.23, rel_tol=1e-12)  # flat beyond the last


def test_an_inverted_term_structure_is_raised_to_no_calendar_arbitrage_with_a_warning() -> None:
    # VIX 40 at 30 days, VIX3M 20 at 93 days: 3-month total variance 0.0102 < 0.0132.
    surface = VolSurface(atm=IndexVol("^VIX"), term=(TenorIndex("^VIX3M", 93),))
    warnings: list[str] = []
    smile = surface.surface(_inputs({"^VIX": [40.0] * 5, "^VIX3M": [20.0] * 5}), warnings)
    theta = smile.term.total_variance(np.zeros(3, np.int64), np.array([30, 60, 93]) / 365)
    assert np.all(np.diff(theta) >= 0.0)
    assert math.isclose(theta[2], 0.4**2 * 30 / 365, rel_tol=1e-12)
    assert warnings == [
        "2020-03-02..2020-03-06 (5 day(s)): a longer tenor's ATM total variance was below a "
        "shorter one's; raised to it, so no calendar spread is free"
    ]


def test_skew_is_the_smile_slope_at_30_days_falling_as_one_over_sqrt_tau() -> None:
    surface = VolSurface(atm=IndexVol("^VIX"), long_run_vol=None, skew=-4.0)
    smile = surface.surface(_inputs({"^VIX": [15.0] * 5}), [])
    day, h = np.zeros(2, np.int64), 1e-6
    for days in (30, 120, 365):
        tau = np.full(2, days / 365)
        up, down = smile.sigma(day, np.array([h, -h]), tau)
        slope = (up - down) / (2 * h)
        expected = -4.0 * 0.15 * math.sqrt(30 / days)
        assert math.isclose(slope, expected, rel_tol=1e-6), days


def test_the_smile_is_bounded_below_and_grows_like_lees_wing() -> None:
    surface = VolSurface(atm=IndexVol("^VIX"), long_run_vol=None, skew=-3.0)
    smile = surface.surface(_inputs({"^VIX": [20.0] * 5}), [])
    day, tau = np.zeros(3, np.int64), np.full(3, 30 / 365)
    high = smile.sigma(day, np.array([1.0, 2.0, 3.0]), tau)
    np.testing.assert_allclose(high, 0.1, rtol=1e-12)  # never below half the ATM volatility
    low = smile.sigma(day, np.array([-1.0, -4.0, -16.0]), tau)
    # Beyond twice the ATM volatility total variance is linear in |x|: sigma ~ sqrt(|x|).
    np.testing.assert_allclose(low[1:] / low[:-1], 2.0, rtol=1e-12)


def test_default_surface_uses_the_assets_index_and_the_documented_long_run() -> None:
    surface = VolSurface()
    assert surface.index_symbols("^GSPC") == ("^VIX",)
    assert surface.index_symbols("GLD") == ("^GVZ",)
    assert (surface.long_run_vol, surface.mean_reversion) == (
        DEFAULT_LONG_RUN_VOL,
        DEFAULT_MEAN_REVERSION,
    )
    assert math.isclose(DEFAULT_LONG_RUN_VOL, math.sqrt(0.0354), abs_tol=5e-4)
    assert VolSurface(term=(TenorIndex("^VIX3M", 93),)).long_run_vol is None


@pytest.mark.parametrize(
    "surface",
    [
        VolSurface(),
        VolSurface(atm=IndexVol("^VIX"), skew=-3.5, atm_ratio=0.9, long_run_vol=0.2),
        VolSurface(atm=hf.TrailingRealizedVol(21), long_run_vol=None, skew=2.0),
        VolSurface(
            atm=IndexVol("^VIX"),
            term=(
                TenorIndex(symbol="^VIX3M", tenor_days=93, scale=0.01),
                TenorIndex("^VIX6M", 182),
            ),
            skew=-1.0,
        ),
    ],
    ids=["default", "fitted", "realized", "term"],
)
def test_json_round_trip_is_exact_and_the_words_name_the_parts(surface: VolSurface) -> None:
    again = VOLATILITY_ADAPTER.validate_json(VOLATILITY_ADAPTER.dump_json(surface))
    assert again == surface
    config = hf.SyntheticProviderConfig(volatility=surface)
    assert hf.SyntheticProviderConfig.model_validate_json(config.model_dump_json()) == config
    words = str(surface)
    assert words.startswith("volatility surface: ATM at 30 days = ")
    assert str(surface.atm) in words
    assert ("no skew" in words) == (surface.skew == 0.0)
    if surface.term:
        assert "^VIX6M x 0.01 at 182 days" in words
        assert "flat beyond the ends" in words


def test_the_words_of_a_fitted_surface() -> None:
    words = str(VolSurface(atm=IndexVol("^VIX"), skew=-3.0, atm_ratio=0.92))
    assert words == (
        "volatility surface: ATM at 30 days = 0.92 x ^VIX close x 0.01 on the same day; "
        "beyond 30 days reverting to 18.8% at speed 1.3253 a year; skew -3 ATM vols per "
        "unit ln(K/F) at 30 days, x sqrt(30 days / tau) (bounded: no butterfly or calendar "
        "arbitrage)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"term": [{"symbol": "^VIX3M", "tenor_days": 93}], "long_run_vol": 0.2},
            "flat beyond its last tenor",
        ),
        ({"term": [{"symbol": "^VIX3M", "tenor_days": 20}]}, "tenors must increase"),
        (
            {
                "term": [
                    {"symbol": "^VIX6M", "tenor_days": 182},
                    {"symbol": "^VIX3M", "tenor_days": 93},
                ]
            },
            "tenors must increase",
        ),
        ({"long_run_vol": 18.0}, "18 looks like a percent"),
        ({"atm": {"kind": "surface"}}, "atm"),
        ({"skew": math.nan}, "skew"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidModelError, match=message):
        VolSurface.model_validate(data)


def test_a_term_index_without_a_close_yet_is_an_error_naming_the_date() -> None:
    surface = VolSurface(atm=IndexVol("^VIX"), term=(TenorIndex("^VIX3M", 93),))
    inputs = _inputs({"^VIX": [20.0] * 5})
    with pytest.raises(MissingMarketDataError, match=r"no \^VIX3M close on or before 2020-03-02"):
        surface.surface(inputs, [])
