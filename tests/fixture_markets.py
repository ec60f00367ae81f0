"""Load the hand-made markets of ``fixtures/`` (see ``fixtures/README.md``) for tests.

Tests import it as ``from fixture_markets import ...``: pytest puts ``tests/`` on
``sys.path`` (rootdir-relative, "prepend" import mode) because test files live below it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from hedgeframe.data import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA, MarketDataStore

__all__ = [
    "CHAIN_UNDERLYING",
    "FIXTURES",
    "FIXTURE_SYMBOL",
    "MARKETS",
    "MISSING_QUOTE",
    "fixture_store",
    "load_fixture_bars",
    "load_fixture_chain",
]

FIXTURES: Final = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_SYMBOL: Final = "FIX"
MARKETS: Final = ("monotonic_selloff", "v_shape", "flat", "gap_day")
CHAIN_UNDERLYING: Final = "monotonic_selloff"
"""The market whose closes ``listed_chain.csv`` is quoted on."""
MISSING_QUOTE: Final = {
    "as_of_date": "2024-03-06",
    "option_type": "put",
    "expiry": "2024-04-19",
    "strike": 95.0,
}
"""The one contract ``listed_chain.csv`` leaves unquoted on one day (quoted on the others)."""

_BAR_CSV: Final = {"symbol": pl.String(), "date": pl.Date(), "close": pl.Float64()}


def load_fixture_bars(name: str) -> pl.DataFrame:
    """Bars of fixture market ``name`` in the store schema, ``source = "fixture:<name>"``."""
    if name not in MARKETS:
        msg = f"unknown fixture market {name!r}; known: {', '.join(MARKETS)}"
        raise ValueError(msg)
    bars = pl.read_csv(FIXTURES / f"{name}.csv", schema=_BAR_CSV)
    return bars.with_columns(
        open=pl.lit(None, pl.Float64),
        high=pl.lit(None, pl.Float64),
        low=pl.lit(None, pl.Float64),
        volume=pl.lit(None, pl.Float64),
        source=pl.lit(f"fixture:{name}"),
    ).select(UNDERLYING_BAR_SCHEMA.names())


def load_fixture_chain() -> pl.DataFrame:
    """The hand-set option chain ``listed_chain.csv`` in the store schema."""
    return pl.read_csv(FIXTURES / "listed_chain.csv", schema=OPTION_QUOTE_SCHEMA)


def fixture_store(tmp_path: Path, *names: str, chain: bool = False) -> MarketDataStore:
    """A fresh store under ``tmp_path`` holding the named markets (and the listed chain).

    Every market trades as ``FIX`` on the same sessions, so a store holds one of them;
    ``chain=True`` with no name writes the chain's own underlying, ``monotonic_selloff``.
    """
    if chain and not names:
        names = (CHAIN_UNDERLYING,)
    if len(names) > 1:
        msg = f"fixture markets {names} all trade as {FIXTURE_SYMBOL}; put one in a store"
        raise ValueError(msg)
    store = MarketDataStore(tmp_path / "fixture-store")
    for name in names:
        store.write_underlying_bars(load_fixture_bars(name))
    if chain:
        store.write_option_quotes(load_fixture_chain())
    return store
