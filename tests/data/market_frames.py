"""Frames and helpers shared by the market-data tests (imported as a top-level module).

There is no ``tests/__init__.py``; in pytest's default "prepend" import mode this folder
is on ``sys.path`` while its tests run, so ``from market_frames import ...`` works.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from hedgeframe.data import OPTION_QUOTE_SCHEMA, UNDERLYING_BAR_SCHEMA

RECORDED = Path(__file__).parent / "recorded"


def make_bars(symbol: str, days: list[date], *, start_close: float = 100.0) -> pl.DataFrame:
    """Valid bars in the exact store schema, one per day, closes rising by 1."""
    n = len(days)
    closes = [start_close + i for i in range(n)]
    return pl.DataFrame(
        {
            "symbol": [symbol] * n,
            "date": days,
            "open": [c - 0.5 for c in closes],
            "high": [c + 1.0 for c in closes],
            "low": [c - 1.0 for c in closes],
            "close": closes,
            "volume": [1_000_000.0] * n,
            "source": ["test"] * n,
        },
        schema=UNDERLYING_BAR_SCHEMA,
    )


def make_quotes(
    symbol: str, as_of_date: date, *, strikes: tuple[float, ...] = (90.0, 100.0, 110.0)
) -> pl.DataFrame:
    """A valid chain in the exact store schema and order: calls and puts, two expiries."""
    rows = []
    for option_type in ("call", "put"):  # store order
        for expiry in (date(as_of_date.year + 1, 1, 15), date(as_of_date.year + 1, 6, 18)):
            for strike in strikes:
                bid = round(strike / 20, 2)
                rows.append(
                    {
                        "symbol": symbol,
                        "as_of_date": as_of_date,
                        "option_type": option_type,
                        "expiry": expiry,
                        "strike": strike,
                        "bid": bid,
                        "ask": bid + 0.2,
                        "mid": bid + 0.1,
                        "implied_volatility": 0.2,
                        "delta": -0.4 if option_type == "put" else 0.6,
                        "open_interest": 100,
                        "volume": 7,
                        "underlying_close": 100.0,
                        "source": "test",
                    }
                )
    return pl.DataFrame(rows, schema=OPTION_QUOTE_SCHEMA)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (lock files aside) with its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }
