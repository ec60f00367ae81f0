"""Asset-aware volatility (SPEC 9.4): a GLD event is priced with GVZ, and says so.

A test store holds made-up GLD closes, a made-up ``^GVZ`` series and a ``^VIX`` series at a
different level. The default provider prices GLD with GVZ (not the S&P's VIX), with no
warning; where GVZ has no close yet it falls back to realized volatility, and another
asset's index is a warning; the event report lists those warnings and says which
regime priced the run.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.pricing import black_scholes_price
from hedgeframe.providers._timeline import as_date

GOLD_CRASH = next(p for p in hf.builtin_event_presets() if p.slug == "gold-crash-2013")
SESSIONS = get_calendar("XNYS").sessions


def _store(root: Path, *, gvz_from: date) -> MarketDataStore:
    first = int(np.searchsorted(SESSIONS, np.datetime64("2012-01-03")))
    last = int(np.searchsorted(SESSIONS, np.datetime64("2013-12-31")))
    days = [as_date(d) for d in SESSIONS[first : last + 1]]
    rng = np.random.default_rng(5)
    gold = 160.0 * np.exp(np.cumsum(rng.normal(-0.0005, 0.012, len(days))))
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("GLD", days, gold.round(4).tolist()))
    gvz_days = [d for d in days if d >= gvz_from]
    store.write_underlying_bars(
        bars("^GVZ", gvz_days, [18.0 + (i % 7) for i in range(len(gvz_days))])
    )
    store.write_underlying_bars(bars("^VIX", days, [40.0] * len(days)))
    return store


def _compare(
    store: MarketDataStore, provider: hf.SyntheticHistoricalProvider
) -> hf.EventComparison:
    put = hf.protective_put("gld-put", target_expiry_days=90, underlying_symbol="GLD")
    return hf.compare_events([GOLD_CRASH], [put], provider)


def _html(comparison: hf.EventComparison, tmp_path: Path) -> str:
    return comparison.write_html(tmp_path / "report" / "events.html").read_text()


def test_a_gld_event_is_priced_with_gvz_without_a_warning(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", gvz_from=date(2012, 1, 3))
    comparison = _compare(store, hf.DEFAULT_PROVIDER.build(store))
    run = comparison.runs[0]
    entry = run.trades.filter(pl.col("action") == "buy_open").row(0, named=True)
    day = entry["date"]
    spot = store.underlying_bars("GLD", day, day)["close"][0]
    gvz = store.underlying_bars("^GVZ", day, day)["close"][0]
    mid = float(
        black_scholes_price(
            "put", spot, entry["strike"], (entry["expiry"] - day).days / 365, gvz / 100, rate=0.02
        )
    )
    assert entry["price"] == pytest.approx(mid * 1.005, rel=1e-12)  # GVZ, not VIX 40
    assert not [w for w in comparison.warnings if "volatility" in w or "^VIX" in w]
    html = _html(comparison, tmp_path)
    assert "^GVZ for GLD" in html
    assert "<b>Volatility.</b> Priced with one volatility a day for every strike and tenor" in html


def test_days_before_gvz_fall_back_to_realized_volatility_and_the_report_lists_it(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path / "store", gvz_from=date(2013, 5, 1))
    comparison = _compare(store, hf.DEFAULT_PROVIDER.build(store))
    fallback = [w for w in comparison.warnings if "21-day trailing realized volatility" in w]
    assert len(fallback) == 1
    assert "^GVZ close x 0.01 on the same day not available" in fallback[0]
    html = _html(comparison, tmp_path)
    assert "Warnings: none" not in html
    assert "not available; volatility from 21-day trailing realized" in html


def test_another_assets_index_is_a_warning_the_report_shows(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", gvz_from=date(2012, 1, 3))
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.IndexVol("^VIX"))
    comparison = _compare(store, provider)
    foreign = [w for w in comparison.warnings if "GLD is priced with ^VIX" in w]
    assert len(foreign) == 1
    assert "the volatility index of ^GSPC/^SPX/SPY; GLD's own is ^GVZ" in foreign[0]
    assert "GLD is priced with ^VIX" in _html(comparison, tmp_path)


def test_a_surface_priced_event_says_so(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", gvz_from=date(2012, 1, 3))
    surface = hf.VolSurface(skew=-2.0)
    comparison = _compare(store, hf.SyntheticHistoricalProvider(store, volatility=surface))
    html = _html(comparison, tmp_path)
    assert "<b>Volatility.</b> Priced with a volatility surface, each strike and tenor" in html
    assert not [w for w in comparison.warnings if "volatility" in w]
    entry = comparison.runs[0].trades.filter(pl.col("action") == "buy_open").row(0, named=True)
    day = entry["date"]
    gvz = store.underlying_bars("^GVZ", day, day)["close"][0] / 100
    flat = float(
        black_scholes_price(
            "put",
            store.underlying_bars("GLD", day, day)["close"][0],
            entry["strike"],
            (entry["expiry"] - day).days / 365,
            gvz,
        )
    )
    assert not math.isclose(entry["price"], flat, rel_tol=1e-3)  # term structure and skew


def test_a_gld_run_report_lists_the_fall_back_instead_of_no_warnings(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", gvz_from=date(2013, 5, 1))
    provider = hf.DEFAULT_PROVIDER.build(store)
    put = hf.protective_put("gld-put", target_expiry_days=90, underlying_symbol="GLD")
    spot = store.underlying_bars("GLD", date(2013, 4, 1), date(2013, 4, 1))["close"][0]
    scenario = hf.make_scenario(
        [put],
        provider,
        symbol="GLD",
        start_date=date(2013, 4, 1),
        end_date=date(2013, 6, 28),
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100, entry_spot=spot, loan_amount=60 * spot, margin_call_ltv=0.75
        ),
    )
    result = hf.run_backtest(scenario, [put], provider)
    html = result.write_html(tmp_path / "run.html").read_text()
    assert "Warnings:</b> none" not in html
    assert "^GVZ close x 0.01 on the same day not available" in html
