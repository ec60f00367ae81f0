"""calibrate_surface: recovers the synthetic chain's known parameters and prices later days.

The synthetic chain (``build_synthetic_chain``) is priced with a known ATM term structure
(``long_run_vol``, ``mean_reversion``) and skew on the VIX closes: the ground truth. Ten
days of it must give those parameters back to 1e-3, and the fitted surface must price
later days' 90-95 % puts with one to seven months left within 10 % of their mids (median),
at least twice as close as the flat VIX regime.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.data._synthetic_chain import build_synthetic_chain
from hedgeframe.errors import BadInputError, MissingMarketDataError
from hedgeframe.pricing import (
    DAY_FIT_SCHEMA,
    QUOTE_FIT_SCHEMA,
    IndexVol,
    VolSurface,
    calibrate_surface,
    quote_errors,
)

START, END = date(2017, 1, 3), date(2018, 6, 29)


def _store(
    root: Path, *, long_run_vol: float, mean_reversion: float, skew: float
) -> MarketDataStore:
    sample = hf.sample_store()
    store = MarketDataStore(root)
    bars = sample.underlying_bars("^GSPC", start=date(2015, 11, 2), end=END)
    vix = sample.underlying_bars("^VIX", end=END)
    store.write_underlying_bars(bars)
    store.write_underlying_bars(vix)
    chain = build_synthetic_chain(
        bars,
        vix,
        start=START,
        end=END,
        long_run_vol=long_run_vol,
        mean_reversion=mean_reversion,
        skew=skew,
    )
    store.write_option_quotes(chain)
    return store


TRUTHS = {
    "chain-defaults": {"long_run_vol": 0.18, "mean_reversion": 1.5, "skew": -3.0},
    "steeper-slower": {"long_run_vol": 0.22, "mean_reversion": 0.6, "skew": -5.0},
}


@pytest.fixture(scope="module", params=sorted(TRUTHS))
def truth(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MarketDataStore, dict[str, float]]:
    parameters = TRUTHS[request.param]
    store = _store(tmp_path_factory.mktemp(request.param), **parameters)
    return store, parameters


def _days(store: MarketDataStore) -> list[date]:
    return store.option_quote_dates("^GSPC")


def test_ten_days_recover_the_chains_parameters(
    truth: tuple[MarketDataStore, dict[str, float]],
) -> None:
    store, parameters = truth
    result = calibrate_surface(store, "^GSPC", _days(store)[:10])
    expected = {"atm_ratio": 1.0, **parameters}
    assert set(result.parameters) == set(expected)
    for name, value in expected.items():
        assert abs(result.parameters[name] - value) <= 1e-3 * abs(value), (
            f"{name}: fitted {result.parameters[name]!r}, generated with {value!r}"
        )
    assert result.warnings == []
    assert result.regime.skew == result.parameters["skew"]
    assert result.regime.atm == hf.AssetIndexVol()


def test_the_fit_table_has_a_row_per_day_and_beats_the_flat_index(
    truth: tuple[MarketDataStore, dict[str, float]],
) -> None:
    store, _ = truth
    days = _days(store)[:10]
    result = calibrate_surface(store, "^GSPC", days)
    assert result.fit.schema == DAY_FIT_SCHEMA
    assert result.fit["date"].to_list() == days
    assert (result.fit["quotes"] > 100).all()
    assert (result.fit["vol_rmse"] < 1e-3).all()
    assert (result.fit["price_median_abs_error_pct"] < 0.1).all()
    assert (result.fit["flat_price_median_abs_error_pct"] > 10.0).all()
    assert result.quotes.schema == QUOTE_FIT_SCHEMA
    assert result.quotes.height == result.fit["quotes"].sum()
    vix = store.underlying_bars("^VIX", days[0], days[-1])["close"].to_numpy() / 100
    np.testing.assert_allclose(result.fit["atm_vol"], vix * result.parameters["atm_ratio"])


def _hedge_puts(errors: pl.DataFrame) -> pl.DataFrame:
    """Puts at 90-95 % of spot with one to seven months to expiry."""
    return errors.filter(
        (pl.col("option_type") == "put")
        & (pl.col("strike") / pl.col("spot")).is_between(0.90, 0.95)
        & (pl.col("tau") * 365).is_between(30, 215)
    )


def _median_error(frame: pl.DataFrame) -> float:
    return float(((frame["model_price"] - frame["mid"]).abs() / frame["mid"]).median())  # type: ignore[arg-type]


def test_the_fitted_surface_prices_later_hedges_as_the_issue_asks(
    truth: tuple[MarketDataStore, dict[str, float]],
) -> None:
    store, _ = truth
    days = _days(store)
    fitted = calibrate_surface(store, "^GSPC", days[:10]).regime
    later = days[20::10]
    surface = _hedge_puts(quote_errors(store, "^GSPC", later, fitted))
    flat = _hedge_puts(quote_errors(store, "^GSPC", later, IndexVol("^VIX")))
    assert surface.height == flat.height > 500
    assert _median_error(surface) < 0.10
    assert _median_error(surface) <= 0.5 * _median_error(flat)


def test_calibration_reads_nothing_after_its_last_day(tmp_path: Path) -> None:
    """Poison every bar, VIX close and quote after T: a fit on days up to T is unchanged."""
    parameters = TRUTHS["chain-defaults"]
    clean = _store(tmp_path / "clean", **parameters)
    days = _days(clean)
    t = days[9]
    dirty = MarketDataStore(tmp_path / "dirty")
    for symbol in ("^GSPC", "^VIX"):
        bars = clean.underlying_bars(symbol)
        poisoned = pl.when(pl.col("date") > t).then(pl.col("close") * 1e6).otherwise("close")
        dirty.write_underlying_bars(bars.with_columns(close=poisoned))
    quotes = clean.option_quotes_between("^GSPC", START, END)
    after = pl.col("as_of_date") > t
    dirty.write_option_quotes(
        quotes.with_columns(
            *(
                pl.when(after).then(pl.col(c) * 1e6).otherwise(c).alias(c)
                for c in ("bid", "ask", "mid")
            )
        )
    )
    left = calibrate_surface(clean, "^GSPC", days[:10])
    right = calibrate_surface(dirty, "^GSPC", days[:10])
    assert left.parameters == right.parameters
    assert left.fit.equals(right.fit)
    assert left.quotes.equals(right.quotes)


def test_a_starting_surface_keeps_its_structure(
    truth: tuple[MarketDataStore, dict[str, float]],
) -> None:
    store, _ = truth
    flat_term = VolSurface(atm=IndexVol("^VIX"), long_run_vol=None)
    result = calibrate_surface(store, "^GSPC", _days(store)[:5], surface=flat_term)
    assert set(result.parameters) == {"atm_ratio", "skew"}
    assert result.regime.long_run_vol is None
    assert result.regime.atm == IndexVol("^VIX")


def test_bad_days_are_refused_naming_the_problem(
    truth: tuple[MarketDataStore, dict[str, float]],
) -> None:
    store, _ = truth
    with pytest.raises(BadInputError, match="days is empty"):
        calibrate_surface(store, "^GSPC", [])
    with pytest.raises(MissingMarketDataError, match=r"no \^GSPC bar on 2017-01-01"):
        calibrate_surface(store, "^GSPC", [date(2017, 1, 1), date(2017, 1, 3)])
    with pytest.raises(MissingMarketDataError, match="no usable out-of-the-money"):
        calibrate_surface(store, "^GSPC", [date(2016, 12, 30)])  # a bar, no chain yet
