"""A backtest priced from real-format CBOE DataShop end-of-day files.

``tests/data/recorded/cboe_eod_sample.csv``: ``^SPX`` on 2020-01-02/03/06, SPXW weeklies
(2020-01-10) and SPX monthlies (01-17, 02-21); the 1500 put has a zero bid, the 4500 call a
zero bid and a zero ask. The file has no underlying bars, so the tests write the 15:45
active underlying price of each day as that day's close.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from snapshot_markets import run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, read_cboe_chain_csv
from hedgeframe.providers import ContractRequest, DailyOptionsSnapshotProvider
from hedgeframe.providers._timeline import as_date

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "recorded" / "cboe_eod_sample.csv"
DAYS = [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)]
SPX = "^SPX"


@pytest.fixture
def store(tmp_path: Path) -> MarketDataStore:
    quotes = read_cboe_chain_csv(SAMPLE).rows
    store = MarketDataStore(tmp_path / "store")
    store.write_option_quotes(quotes)
    closes = (
        quotes.group_by("as_of_date").agg(pl.col("underlying_close").first()).sort("as_of_date")
    )
    store.write_underlying_bars(
        closes.select(
            pl.lit(SPX).alias("symbol"),
            pl.col("as_of_date").alias("date"),
            pl.col("underlying_close").alias("close"),
            pl.lit("cboe_datashop:active_underlying_price_1545").alias("source"),
        )
    )
    return store


def test_cboe_chain_prices_a_small_backtest(store: MarketDataStore) -> None:
    templates = [
        hf.protective_put("atm-10d", target_expiry_days=10),  # -> SPX 3250 put, 2020-01-17
        hf.protective_put("otm-45d", spot_pct=0.95, target_expiry_days=45),  # -> 3000, 02-21
    ]
    result = run(
        DailyOptionsSnapshotProvider(store), templates, symbol=SPX, start=DAYS[0], end=DAYS[-1]
    )
    assert result.warnings == []
    assert set(result.summary["status"]) == {"complete"}
    positions = result.positions.sort("strike", descending=True)
    assert positions.select("strike", "expiry").rows() == [
        (3250.0, date(2020, 1, 17)),
        (3000.0, date(2020, 2, 21)),
    ]
    atm = result.daily_path.filter(template_slug="atm-10d")
    # Mids of the 15:45 quotes: (29.60 + 30.00) / 2, (37.10 + 37.60) / 2; sold on 01-06 at 29.20.
    assert atm["option_market_value"].to_list() == pytest.approx([100 * 29.8, 100 * 37.35, 0.0])
    sold = result.trades.filter(template_id=templates[0].template_id, action="sell_close")
    assert sold["price"].to_list() == [pytest.approx(29.2)]
    assert result.daily_path["spot_close"].to_list()[:3] == [3252.41, 3236.08, 3244.93]


def test_bid_ask_fills_on_the_cboe_chain(store: MarketDataStore) -> None:
    template = hf.protective_put("atm-10d", target_expiry_days=10)
    provider = DailyOptionsSnapshotProvider(store, fill="bid_ask")
    result = run(provider, [template], symbol=SPX, start=DAYS[0], end=DAYS[-1])
    prices = result.trades.sort("date").select("action", "price").rows()
    assert prices == [("buy_open", 30.0), ("sell_close", 29.0)]


def test_weeklies_count_as_listed_expiries_and_zero_asks_do_not(store: MarketDataStore) -> None:
    provider = DailyOptionsSnapshotProvider(store)
    view = provider.load_timeline(SPX, DAYS[0], DAYS[-1]).view(0)
    # Put 5 days -> the SPXW weekly 2020-01-10; put ~1500 at 45 days -> the zero-bid put
    # (ask 0.05, mid 0.025) is usable; call at 45 days -> only the zero-ask 4500 call is
    # listed on 02-21, so nothing is eligible.
    chosen = provider.select_contracts(
        view,
        ContractRequest.at_strikes(
            np.array([False, False, True]),
            np.array([3250.0, 1500.0, 4500.0]),
            np.array([5, 45, 45]),
        ),
    )
    assert chosen.selected.tolist() == [True, True, False]
    assert chosen.strike[:2].tolist() == [3200.0, 1500.0]
    assert [as_date(d) for d in chosen.expiry[:2]] == [date(2020, 1, 10), date(2020, 2, 21)]
    marks = provider.mark_contracts(view.timeline, chosen.take(np.array([1])), np.array([0]))
    assert marks.mid.tolist() == [0.025]
