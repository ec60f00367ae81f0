"""The synthetic provider with a VolSurface: each contract at its own strike's and tenor's vol.

Marks are QuantLib's price at the surface's volatility for the contract's ``ln(K / F)``
(``F = S e^{(r - q) tau}``) and tenor; a delta rule's strike has that delta at its own
volatility; a zero-cost call's mid pays for the puts; the quote a snapshot shows carries
the contract's volatility. Point in time: poisoning every close and index value after
``T`` leaves every row dated up to ``T`` unchanged, with the rules that solve strikes too.
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, portfolio, roll
from hypothesis import given, settings
from hypothesis import strategies as st
from quantlib_oracle import quantlib_price_and_delta

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.models import OptionType, StrikeRuleType, TemplateKind
from hedgeframe.pricing import IndexVol, VolatilityInputs, VolSurface
from hedgeframe.providers._timeline import as_date

SESSIONS = get_calendar("XNYS").sessions
RATE, DIVIDEND_YIELD = 0.03, 0.01
SURFACE = VolSurface(atm=IndexVol("VOL"), skew=-3.5, long_run_vol=0.2, mean_reversion=2.0)


def _market(
    root: Path, closes: list[float], index: list[float]
) -> tuple[MarketDataStore, list[date]]:
    first = int(np.searchsorted(SESSIONS, np.datetime64("2019-06-03")))
    days = [as_date(d) for d in SESSIONS[first : first + len(closes)]]
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("SYN", days, closes))
    store.write_underlying_bars(bars("VOL", days, index))
    return store, days


def _provider(
    store: MarketDataStore, regime: hf.pricing.VolatilityRegime = SURFACE
) -> hf.SyntheticHistoricalProvider:
    return hf.SyntheticHistoricalProvider(
        store, volatility=regime, rate=RATE, dividend_yield=DIVIDEND_YIELD
    )


def _templates() -> list[hf.StrategyTemplate]:
    delta_put = hf.TemplateLeg(
        leg_id="put-d25",
        strike_rule=hf.StrikeRule(rule_type=StrikeRuleType.DELTA_TARGET, value=-0.25),
        allocation_weight=1.0,
        target_expiry_days=60,
    )
    return [
        hf.put_ladder("ladder", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], target_expiry_days=90),
        hf.zero_cost_collar("zc", put_pct=0.95, target_expiry_days=45, roll_policy=roll(3)),
        hf.StrategyTemplate(
            slug="delta-put", template_kind=TemplateKind.PROTECTIVE_PUT, legs=[delta_put]
        ),
    ]


TEMPLATES = _templates()


def _run(store: MarketDataStore, days: list[date], end: date | None = None) -> hf.BacktestRunResult:
    templates = TEMPLATES
    provider = _provider(store)
    spot = float(store.underlying_bars("SYN", days[0], days[0])["close"][0])
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol="SYN",
        start_date=days[0],
        end_date=end or days[-1],
        portfolio=portfolio(spot),
    )
    return hf.run_backtest(scenario, templates, provider)


def _path(n: int, seed: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    index = 12.0 + 70.0 * rng.random(n)  # up to 82: inverted term structures included
    return closes.round(4).tolist(), index.round(2).tolist()


def _surface_sigma(
    store: MarketDataStore, days: list[date], day: date, strike: float, expiry: date
) -> float:
    """The surface's volatility of one contract, from the regime alone (no provider)."""
    closes = store.underlying_bars("SYN")
    vol = store.underlying_bars("VOL")
    dates = closes["date"].to_numpy().astype("datetime64[D]")
    vol_dates = vol["date"].to_numpy().astype("datetime64[D]")
    inputs = VolatilityInputs(
        "SYN",
        dates,
        dates,
        closes["close"].to_numpy(),
        {"VOL": (vol_dates, vol["close"].to_numpy())},
    )
    smile = SURFACE.surface(inputs, [])
    i = days.index(day)
    tau = (expiry - day).days / 365
    forward = float(closes["close"][i]) * math.exp((RATE - DIVIDEND_YIELD) * tau)
    x = np.array([math.log(strike / forward)])
    return float(smile.sigma(np.array([i]), x, np.array([tau]))[0])


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[MarketDataStore, list[date]]:
    closes, index = _path(60, 11)
    return _market(tmp_path_factory.mktemp("surface"), closes, index)


def test_every_trade_is_quantlibs_price_at_the_surface_volatility(
    market: tuple[MarketDataStore, list[date]],
) -> None:
    store, days = market
    result = _run(store, days)
    trades = result.trades.filter(
        pl.col("action").is_in(["buy_open", "sell_open", "sell_close", "buy_close"])
    )
    closes = dict(store.underlying_bars("SYN").select("date", "close").rows())
    assert trades.height >= 15
    for row in trades.iter_rows(named=True):
        sigma = _surface_sigma(store, days, row["date"], row["strike"], row["expiry"])
        kind = "call" if row["option_type"] == "call" else "put"
        price, _ = quantlib_price_and_delta(
            kind, closes[row["date"]], row["strike"], (row["expiry"] - row["date"]).days, sigma,
            RATE, DIVIDEND_YIELD,
        )  # fmt: skip
        assert row["price"] == pytest.approx(price, rel=1e-9, abs=1e-12), row


def test_a_delta_rule_has_its_delta_at_its_own_volatility(
    market: tuple[MarketDataStore, list[date]],
) -> None:
    store, days = market
    opened = _run(store, days).trades.filter(
        (pl.col("action") == "buy_open") & (pl.col("leg_id") == "put-d25")
    )
    closes = dict(store.underlying_bars("SYN").select("date", "close").rows())
    assert opened.height >= 1
    for row in opened.iter_rows(named=True):
        sigma = _surface_sigma(store, days, row["date"], row["strike"], row["expiry"])
        _, delta = quantlib_price_and_delta(
            "put", closes[row["date"]], row["strike"], (row["expiry"] - row["date"]).days, sigma,
            RATE, DIVIDEND_YIELD,
        )  # fmt: skip
        assert delta == pytest.approx(-0.25, abs=1e-9)
        index = store.underlying_bars("VOL", row["date"], row["date"])["close"][0] / 100
        assert sigma > index  # a 25-delta put sits up the skew, above the ATM level


def test_a_zero_cost_call_pays_for_the_put_under_the_smile(
    market: tuple[MarketDataStore, list[date]],
) -> None:
    store, days = market
    result = _run(store, days)
    zc = result.summary.filter(pl.col("template_slug") == "zc")
    opening = result.trades.filter(
        pl.col("action").is_in(["buy_open", "sell_open"])
        & pl.col("template_id").is_in(zc["template_id"].implode())
    )
    per_day = opening.group_by("date").agg(
        pl.col("cashflow").sum(), pl.col("cashflow").abs().max().alias("size")
    )
    assert per_day.height >= 2
    for net, size in per_day.select("cashflow", "size").rows():
        assert abs(net) <= 1e-9 * size


def test_a_snapshot_quote_carries_the_contracts_volatility(
    market: tuple[MarketDataStore, list[date]],
) -> None:
    store, days = market
    day = days[10]
    snapshot = _provider(store).get_option_snapshot(
        hf.OptionSnapshotQuery(
            symbol="SYN",
            as_of_date=day,
            option_type=OptionType.PUT,
            strike_rule=hf.StrikeRule(value=0.9),
            target_expiry_days=120,
        )
    )
    quote = snapshot.selected_contract
    key = quote.instrument_key
    expected = _surface_sigma(store, days, day, key.strike, key.expiry)
    assert quote.implied_volatility == pytest.approx(expected, rel=1e-12)
    atm = _surface_sigma(store, days, day, snapshot.underlying_close, key.expiry)
    assert quote.implied_volatility is not None
    assert quote.implied_volatility > atm  # a 90 % put sits up the skew


@settings(max_examples=12)
@given(seed=st.integers(0, 2**16), cut=st.integers(5, 40), poison=st.sampled_from([1e6, 0.2, 3.0]))
def test_poisoning_the_future_leaves_every_row_up_to_t_unchanged(
    seed: int, cut: int, poison: float
) -> None:
    closes, index = _path(50, seed)
    dirty_closes = closes[: cut + 1] + [c * poison for c in closes[cut + 1 :]]
    dirty_index = index[: cut + 1] + [min(v * poison, 400.0) for v in index[cut + 1 :]]
    runs = []
    for path, vol in ((closes, index), (dirty_closes, dirty_index)):
        with tempfile.TemporaryDirectory() as tmp:
            store, days = _market(Path(tmp), path, vol)
            runs.append(_run(store, days))
    t = days[cut]
    for name in ("daily_path", "trades"):
        before, after = (r.tables()[name].filter(pl.col("date") <= t) for r in runs)
        assert before.height > 0
        assert before.equals(after), name
