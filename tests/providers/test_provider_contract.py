"""One provider contract, written once and run against every provider (STYLE.md 13).

The seed's Slice 2 list (stable trading days, same-day selection, decreasing time to
expiry, no future data for day-``T`` pricing) and Slice 7's "synthetic and snapshot
providers both satisfy the same provider test suite". A subclass supplies ``make``; every
test then runs on both markets of ``snapshot_markets``: the hand-made listed chain and two
months of the synthetic ^GSPC chain. A third provider gets the whole suite for free.

The seed's anti-lookahead rules checked here, verbatim:

- Contract selection rule: select options using only the entry-day snapshot.
- Daily MTM rule: mark open positions using only same-day data for the same contract.
- Expiry rule: once as_of_date >= expiry, option value becomes intrinsic-at-expiry or zero
  after expiry according to the provider contract; it is not repriced with negative
  time-to-expiry.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import roll
from snapshot_markets import Market, fix_market, gspc_market, run, truncated

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import LookaheadError
from hedgeframe.models import MarkStatus, OptionType, PricingMode, StrikeRule
from hedgeframe.providers import (
    ContractArrays,
    ContractRequest,
    DailyOptionsSnapshotProvider,
    HistoricalMarketDataProvider,
    MarketTimeline,
)
from hedgeframe.providers._timeline import as_date, as_day


@pytest.fixture(scope="module", params=["listed-fixture", "synthetic-chain-2014"])
def market(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Market:
    root = tmp_path_factory.mktemp(request.param)
    return fix_market(root) if request.param == "listed-fixture" else gspc_market(root)


def _query(market: Market, tenor: int, pct: float = 1.0) -> hf.OptionSnapshotQuery:
    return hf.OptionSnapshotQuery(
        symbol=market.symbol,
        as_of_date=market.entry,
        target_expiry_days=tenor,
        strike_rule=StrikeRule(value=pct),
    )


def _position(
    key: hf.HistoricalInstrumentKey, opened: date, price: float
) -> hf.HistoricalOptionPosition:
    return hf.HistoricalOptionPosition(
        position_id="p",
        instrument_key=key,
        opened_at=opened,
        expiry=key.expiry,
        quantity=1.0,
        entry_price=price,
        template_leg_id="put-100",
        source_snapshot_date=opened,
    )


def _index(timeline: MarketTimeline, day: date) -> int:
    return int(np.searchsorted(timeline.days, as_day(day)))


class ProviderContract:
    """Subclass with ``make``; every test below then runs for that provider."""

    def make(self, market: Market, store: MarketDataStore) -> HistoricalMarketDataProvider:
        raise NotImplementedError

    @pytest.fixture
    def provider(self, market: Market) -> HistoricalMarketDataProvider:
        return self.make(market, market.store)

    def _select(
        self, provider: HistoricalMarketDataProvider, market: Market, tenor: int, pct: float
    ) -> tuple[MarketTimeline, ContractArrays]:
        timeline = provider.load_timeline(market.symbol, market.start, market.end)
        view = timeline.view_at(market.entry)
        contracts = provider.select_contracts(
            view,
            ContractRequest.at_strikes(
                np.array([False]), np.array([pct * view.spot]), np.array([tenor], dtype=np.int64)
            ),
        )
        return timeline, contracts

    def test_is_a_historical_market_data_provider(
        self, provider: HistoricalMarketDataProvider
    ) -> None:
        assert isinstance(provider, HistoricalMarketDataProvider)
        assert provider.provider_id
        assert isinstance(provider.pricing_mode, PricingMode)
        assert provider.calendar.name == "XNYS"
        snapshot = provider.snapshot()
        assert snapshot.provider_id == provider.provider_id
        assert snapshot == provider.snapshot()
        assert snapshot.source_version is None

    def test_trading_days_are_stable_and_are_the_bar_days(
        self, provider: HistoricalMarketDataProvider, market: Market
    ) -> None:
        days = provider.get_trading_days(market.symbol, market.start, market.end)
        assert days == provider.get_trading_days(market.symbol, market.start, market.end)
        bars = market.store.underlying_bars(market.symbol, market.start, market.end)
        assert days == bars["date"].to_list()
        assert days[0] == market.start
        assert days[-1] == market.end
        timeline = provider.load_timeline(market.symbol, market.start, market.end)
        assert [as_date(day) for day in timeline.days] == days
        bars_read = provider.get_underlying_bars(market.symbol, market.start, market.end)
        assert [bar.close for bar in bars_read] == timeline.closes.tolist()
        assert timeline.fingerprint.startswith("sha256:")

    @pytest.mark.parametrize(("tenor", "pct"), [(10, 1.0), (45, 0.95)])
    def test_selection_reads_the_entry_day_only(
        self,
        provider: HistoricalMarketDataProvider,
        market: Market,
        tmp_path: Path,
        tenor: int,
        pct: float,
    ) -> None:
        timeline, full = self._select(provider, market, tenor, pct)
        cut_store = truncated(market.store, tmp_path, market.symbol, market.entry)
        cut_provider = self.make(market, cut_store)
        cut_timeline = cut_provider.load_timeline(market.symbol, market.start, market.end)
        assert as_date(cut_timeline.days[-1]) == market.entry
        view = cut_timeline.view_at(market.entry)
        cut = cut_provider.select_contracts(
            view,
            ContractRequest.at_strikes(
                np.array([False]), np.array([pct * view.spot]), np.array([tenor])
            ),
        )
        assert full.selected.tolist() == cut.selected.tolist() == [True]
        assert full.strike.tolist() == cut.strike.tolist()
        assert full.expiry.tolist() == cut.expiry.tolist()
        assert full.expiry[0] > as_day(market.entry)
        later = as_date(timeline.days[_index(timeline, market.entry) + 1])
        with pytest.raises(LookaheadError, match=f"{later} was requested at as_of_date"):
            timeline.view_at(market.entry).close_on_or_before(later)
        with pytest.raises(LookaheadError):
            timeline.view_at(market.entry).require_not_after(later, "an option chain")

    def test_marks_keep_the_contract_as_expiry_nears(
        self, provider: HistoricalMarketDataProvider, market: Market
    ) -> None:
        snapshot = provider.get_option_snapshot(_query(market, 10))
        key = snapshot.selected_contract.instrument_key
        assert key.symbol == market.symbol
        assert key.option_type is OptionType.PUT
        position = _position(key, market.entry, snapshot.selected_contract.mid)
        days = [
            d
            for d in provider.get_trading_days(market.symbol, market.entry, market.end)
            if d < key.expiry
        ]
        marks = [provider.price_open_position(position, day) for day in days]
        assert len(marks) >= 3
        assert {mark.instrument_key for mark in marks} == {key}
        assert [mark.as_of_date for mark in marks] == days
        to_expiry = [(key.expiry - mark.as_of_date).days for mark in marks]
        assert all(a > b > 0 for a, b in itertools.pairwise(to_expiry))
        assert marks[0].mark == snapshot.selected_contract.mid
        assert marks[0].status is MarkStatus.FRESH
        assert {mark.status for mark in marks} <= {MarkStatus.FRESH, MarkStatus.STALE}

    def test_marks_use_no_data_after_their_day(
        self, provider: HistoricalMarketDataProvider, market: Market, tmp_path: Path
    ) -> None:
        timeline, contracts = self._select(provider, market, 45, 1.0)
        first = _index(timeline, market.entry)
        days = np.arange(first, first + 4, dtype=np.int64)
        pairs = contracts.take(np.zeros(days.size, dtype=np.int64))
        full = provider.mark_contracts(timeline, pairs, days)
        cut_day = as_date(timeline.days[days[-1]])
        cut_provider = self.make(market, truncated(market.store, tmp_path, market.symbol, cut_day))
        cut_timeline = cut_provider.load_timeline(market.symbol, market.start, market.end)
        cut = cut_provider.mark_contracts(cut_timeline, pairs, days)
        for name in ("mid", "buy", "sell", "stale_sessions"):
            np.testing.assert_array_equal(getattr(full, name), getattr(cut, name), err_msg=name)
        assert np.isfinite(full.mid).all()
        assert (full.buy >= full.mid).all()
        assert (full.sell <= full.mid).all()

    def test_value_is_intrinsic_on_and_after_expiry(
        self, provider: HistoricalMarketDataProvider, market: Market
    ) -> None:
        timeline, contracts = self._select(provider, market, 10, 1.0)
        expiry = contracts.expiry[0]
        days = np.flatnonzero(timeline.days >= expiry)[:4].astype(np.int64)
        assert days.size == 4, "the market must run past the contract's expiry"
        pairs = contracts.take(np.zeros(days.size, dtype=np.int64))
        marks = provider.mark_contracts(timeline, pairs, days)
        expected = timeline.intrinsic_at_expiry(pairs)
        np.testing.assert_array_equal(marks.mid, expected)
        assert (marks.buy >= marks.mid).all()
        assert (marks.sell <= marks.mid).all()
        assert marks.stale_sessions.tolist() == [0] * days.size
        key = hf.HistoricalInstrumentKey(
            symbol=market.symbol,
            option_type=OptionType.PUT,
            expiry=as_date(expiry),
            strike=float(contracts.strike[0]),
        )
        after = as_date(timeline.days[days[-1]])
        mark = provider.price_open_position(_position(key, market.entry, 1.0), after)
        assert mark.status is MarkStatus.INTRINSIC
        assert mark.mark == expected[-1]

    @pytest.mark.parametrize(("tenor", "pct"), [(10, 1.0), (45, 0.95)])
    def test_scalar_methods_agree_with_the_vectorized_ones(
        self, provider: HistoricalMarketDataProvider, market: Market, tenor: int, pct: float
    ) -> None:
        snapshot = provider.get_option_snapshot(_query(market, tenor, pct))
        timeline, contracts = self._select(provider, market, tenor, pct)
        key = snapshot.selected_contract.instrument_key
        assert (key.strike, key.expiry) == (contracts.strike[0], as_date(contracts.expiry[0]))
        entry = _index(timeline, market.entry)
        assert snapshot.underlying_close == timeline.closes[entry]
        position = _position(key, market.entry, snapshot.selected_contract.mid)
        for day in range(entry, min(entry + 5, timeline.n_days)):
            batch = provider.mark_contracts(timeline, contracts, np.array([day]))
            if day == entry:
                assert snapshot.selected_contract.mid == batch.mid[0]
            mark = provider.price_open_position(position, as_date(timeline.days[day]))
            assert mark.mark == batch.mid[0], as_date(timeline.days[day])
            assert mark.stale_sessions == batch.stale_sessions[0]

    def test_a_backtest_never_relabels_a_position(
        self, provider: HistoricalMarketDataProvider, market: Market
    ) -> None:
        templates = [
            hf.protective_put("rolled", target_expiry_days=20, roll_policy=roll(3)),
            hf.put_ladder("held", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], target_expiry_days=5),
        ]
        result = run(
            provider, templates, symbol=market.symbol, start=market.start, end=market.run_end
        )
        assert set(result.summary["status"]) == {"complete"}
        per_position = result.trades.group_by("position_id").agg(
            pl.col("strike", "expiry", "option_type").n_unique(), pl.len()
        )
        assert per_position.height == result.positions.height
        assert (per_position["len"] == 2).all()
        for column in ("strike", "expiry", "option_type"):
            assert (per_position[column] == 1).all(), column
        opened = result.positions.select("position_id", "strike", "expiry", "opened_at")
        bought = result.trades.filter(action="buy_open").select(
            "position_id", "strike", "expiry", pl.col("date").alias("opened_at")
        )
        assert opened.sort("position_id").equals(bought.sort("position_id"))
        assert result.provider_snapshot.provider_id == provider.provider_id


class TestSyntheticProvider(ProviderContract):
    def make(self, market: Market, store: MarketDataStore) -> HistoricalMarketDataProvider:
        return hf.SyntheticHistoricalProvider(store, volatility=market.volatility, spread_pct=0.02)


class TestSnapshotProvider(ProviderContract):
    def make(self, market: Market, store: MarketDataStore) -> HistoricalMarketDataProvider:
        return DailyOptionsSnapshotProvider(store)


class TestSnapshotProviderAtBidAsk(ProviderContract):
    def make(self, market: Market, store: MarketDataStore) -> HistoricalMarketDataProvider:
        return DailyOptionsSnapshotProvider(store, fill="bid_ask")
