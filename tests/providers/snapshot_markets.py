"""Markets for the provider tests: the hand-made listed chain, and two months of the
synthetic ^GSPC chain (March-April 2014, built once per session from the sample store).

Tests import it as ``from snapshot_markets import ...`` (pytest's "prepend" import mode
puts ``tests/providers`` on ``sys.path``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl
from fixture_markets import fixture_store

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, build_synthetic_chain
from hedgeframe.models import BacktestPortfolioState, ExecutionModel
from hedgeframe.pricing import VolatilityRegime
from hedgeframe.providers import HistoricalMarketDataProvider
from hedgeframe.sample import sample_store

GSPC: Final = "^GSPC"
GSPC_START: Final = date(2014, 3, 3)
GSPC_END: Final = date(2014, 4, 30)
FIX_START: Final = date(2024, 3, 1)
FIX_END: Final = date(2024, 4, 15)


@dataclass(frozen=True)
class Market:
    """A store, the window the tests run over, and the volatility the synthetic provider uses."""

    name: str
    store: MarketDataStore
    symbol: str
    start: date
    end: date
    entry: date
    """A day with a chain, some sessions into the window, where the tests select."""
    run_end: date
    """Last day of the backtests run on this market (the last day with a chain)."""
    volatility: VolatilityRegime


@functools.cache
def gspc_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Bars, VIX bars and the synthetic chain of ^GSPC for March-April 2014."""
    source = sample_store()
    listing = source.underlying_bars(GSPC, date(2012, 12, 1), GSPC_END)
    vix = source.underlying_bars("^VIX", None, GSPC_END)
    chain = build_synthetic_chain(listing, vix, start=GSPC_START, end=GSPC_END)
    bars = listing.filter(pl.col("date") >= date(2014, 1, 2))
    return bars, vix, chain


def gspc_store(root: Path, chain: pl.DataFrame | None = None) -> MarketDataStore:
    """A store with ^GSPC and ^VIX bars of early 2014 and the synthetic chain (or ``chain``)."""
    bars, vix, built = gspc_frames()
    store = MarketDataStore(root)
    store.write_underlying_bars(bars)
    store.write_underlying_bars(vix)
    store.write_option_quotes(built if chain is None else chain)
    return store


def fix_market(root: Path) -> Market:
    """The hand-made listed chain on the ``monotonic_selloff`` closes (fixtures/README.md)."""
    store = fixture_store(root, chain=True)
    return Market(
        "listed-fixture",
        store,
        "FIX",
        FIX_START,
        FIX_END,
        date(2024, 3, 5),
        date(2024, 3, 8),
        hf.ConstantVol(0.2),
    )


def gspc_market(root: Path) -> Market:
    """Two months of the synthetic ^GSPC chain; the synthetic provider uses VIX / 100."""
    return Market(
        "synthetic-chain-2014",
        gspc_store(root),
        GSPC,
        GSPC_START,
        GSPC_END,
        date(2014, 3, 5),
        GSPC_END,
        hf.IndexVol("^VIX", scale=0.01),
    )


def truncated(store: MarketDataStore, root: Path, symbol: str, last: date) -> MarketDataStore:
    """A copy of ``store`` holding only what is dated on or before ``last``."""
    copy = MarketDataStore(root)
    for name in store.symbols():
        copy.write_underlying_bars(store.underlying_bars(name, None, last))
    quotes = store.option_quotes_between(symbol, date(1970, 1, 1), last)
    if quotes.height:
        copy.write_option_quotes(quotes)
    return copy


def portfolio(
    spot: float, *, units: float = 100.0, loan_ratio: float = 0.6
) -> BacktestPortfolioState:
    """A loan of ``loan_ratio`` of the collateral at ``spot``, margin call at 75 % LTV."""
    return BacktestPortfolioState(
        underlying_units=units,
        entry_spot=spot,
        loan_amount=loan_ratio * units * spot,
        margin_call_ltv=0.75,
    )


def run(
    provider: HistoricalMarketDataProvider,
    templates: Sequence[hf.StrategyTemplate],
    *,
    symbol: str,
    start: date,
    end: date,
    units: float = 100.0,
    execution_model: ExecutionModel | None = None,
) -> hf.BacktestRunResult:
    """Run ``templates`` with ``provider`` over ``start..end`` (spot: the first close)."""
    spot = provider.get_underlying_bars(symbol, start, end)[0].close
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol=symbol,
        start_date=start,
        end_date=end,
        portfolio=portfolio(spot, units=units),
        execution_model=execution_model,
    )
    return hf.run_backtest(scenario, templates, provider)
