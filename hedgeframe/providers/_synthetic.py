"""BT-001: option prices from Black-Scholes-Merton over real underlying closes.

Strikes are ``strike_rule.value * S_T``, expiries the calendar session nearest to
``T + target_expiry_days`` (the earlier one on a tie), marks the Black-Scholes-Merton mid
with the day's volatility from a :class:`~hedgeframe.pricing.VolatilityRegime`, and fills
``mid * (1 +/- spread_pct / 2)``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from hedgeframe._blocks import for_each_block
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import InvalidScenarioError, MissingMarketDataError
from hedgeframe.models import (
    HistoricalInstrumentKey,
    HistoricalOptionMark,
    HistoricalOptionPosition,
    HistoricalOptionQuote,
    MarkStatus,
    OptionSnapshot,
    OptionSnapshotQuery,
    OptionType,
    PricingMode,
    ProviderSnapshot,
)
from hedgeframe.pricing import black_scholes_price_is_call
from hedgeframe.pricing._volatility import VolatilityInputs, VolatilityRegime
from hedgeframe.providers._protocol import (
    BoolArray,
    ContractArrays,
    FloatArray,
    IntArray,
    MarkBatch,
)
from hedgeframe.providers._store_backed import (
    StoreBackedProvider,
    fingerprint_arrays,
    read_history,
)
from hedgeframe.providers._timeline import MarketTimeline, PointInTimeView, as_date, as_day

__all__ = ["SyntheticHistoricalProvider"]

DAYS_PER_YEAR = 365.0
_PRICING_BLOCK = 1 << 16
"""Pairs priced per Black-Scholes call: its dozen temporaries then stay in cache, which
prices a million pairs about 1.4x faster than one call over all of them."""


class SyntheticHistoricalProvider(StoreBackedProvider):
    """Black-Scholes-Merton marks over a store's real closes.

    Parameters
    ----------
    store
        Where the underlying (and any volatility index) bars are read.
    volatility
        The volatility regime, e.g. ``ConstantVol(0.16)`` or ``IndexVol("^VIX")``.
    rate, dividend_yield
        Continuously compounded, constant.
    spread_pct
        Full bid/ask width as a fraction of the mid; fills pay half of it.
    calendar
        Exchange calendar name that sets expiries and roll sessions.
    """

    provider_id = "synthetic_v1"
    pricing_mode = PricingMode.SYNTHETIC_BS_MID

    def __init__(
        self,
        store: MarketDataStore,
        *,
        volatility: VolatilityRegime,
        rate: float = 0.0,
        dividend_yield: float = 0.0,
        spread_pct: float = 0.0,
        calendar: str = "XNYS",
    ) -> None:
        for name, value, low, high in (
            ("rate", rate, -0.5, 1.0),
            ("dividend_yield", dividend_yield, -0.5, 1.0),
            ("spread_pct", spread_pct, 0.0, 2.0),
        ):
            if not (np.isfinite(value) and low <= value < high):
                msg = f"{name} must be a finite number in [{low}, {high}) (got {value!r})"
                raise ValueError(msg)
        super().__init__(store, calendar=calendar)
        self.volatility = volatility
        self.rate = float(rate)
        self.dividend_yield = float(dividend_yield)
        self.spread_pct = float(spread_pct)

    # -- the engine's vectorized contract ---------------------------------------------

    def load_timeline(self, symbol: str, start_date: date, end_date: date) -> MarketTimeline:
        """Read the underlying up to ``end_date`` and each trading day's volatility."""
        history_dates, history_closes = read_history(self.store, symbol, end_date)
        lo = int(np.searchsorted(history_dates, as_day(start_date), "left"))
        days, closes = history_dates[lo:], history_closes[lo:]
        index_series = {
            index: read_history(self.store, index, end_date)
            for index in self.volatility.index_symbols
        }
        warnings: list[str] = []
        sigmas = (
            self.volatility.sigmas(
                VolatilityInputs(days, history_dates, history_closes, index_series), warnings
            )
            if days.size
            else np.empty(0)
        )
        fingerprint = fingerprint_arrays(
            history_dates, history_closes, *(a for pair in index_series.values() for a in pair)
        )
        return MarketTimeline(
            symbol, days, closes, history_dates, history_closes, sigmas, warnings, fingerprint
        )

    def select_contracts(
        self,
        view: PointInTimeView,
        is_call: BoolArray,
        strike_targets: FloatArray,
        target_expiry_days: IntArray,
    ) -> ContractArrays:
        """Strike at the target; expiry the session nearest ``T + tenor`` (earlier on tie)."""
        wanted = view.as_of_day + target_expiry_days.astype("timedelta64[D]")
        expiry = self._calendar.nearest_sessions(wanted)
        return ContractArrays(
            is_call.copy(), strike_targets.copy(), expiry, np.ones(is_call.shape, dtype=bool)
        )

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> MarkBatch:
        """Black-Scholes-Merton mid on each pair's own day (spot, sigma and tau of that day)."""
        if timeline.sigmas is None:
            msg = "this timeline was not loaded by a SyntheticHistoricalProvider"
            raise InvalidScenarioError(msg)
        sigmas = timeline.sigmas
        mid, buy, sell = (np.empty(day_index.size) for _ in range(3))
        settles = np.empty(day_index.size, dtype=bool)
        half = self.spread_pct / 2.0

        def price(lo: int) -> None:
            block = slice(lo, lo + _PRICING_BLOCK)
            pairs = day_index[block]
            day, expiry = timeline.days[pairs], contracts.expiry[block]
            np.less_equal(expiry, day, out=settles[block])
            tau = (expiry - day).astype(np.float64)
            mid[block] = black_scholes_price_is_call(
                contracts.is_call[block],
                timeline.closes[pairs],
                contracts.strike[block],
                tau / DAYS_PER_YEAR,
                sigmas[pairs],
                self.rate,
                self.dividend_yield,
            )
            np.multiply(mid[block], 1.0 + half, out=buy[block])
            np.multiply(mid[block], 1.0 - half, out=sell[block])

        for_each_block(price, range(0, day_index.size, _PRICING_BLOCK))
        expired = np.flatnonzero(settles)
        if expired.size:  # settles at intrinsic value, with no spread
            mid[expired] = buy[expired] = sell[expired] = timeline.intrinsic_at_expiry(
                contracts.take(expired)
            )
        return MarkBatch(mid, buy, sell, np.zeros(mid.shape, dtype=np.int64))

    def snapshot(self, timeline: MarketTimeline | None = None) -> ProviderSnapshot:
        """Return the configuration, and a fingerprint of the last timeline's data."""
        config: dict[str, Any] = {
            "volatility": self.volatility.describe(),
            "rate": self.rate,
            "dividend_yield": self.dividend_yield,
            "spread_pct": self.spread_pct,
            "calendar": self._calendar.name,
            "store": str(self.store.root),
        }
        source = timeline.fingerprint if timeline is not None else None
        return ProviderSnapshot(provider_id=self.provider_id, config=config, source_version=source)

    # -- the seed's point-in-time methods ----------------------------------------------

    def _view(self, symbol: str, as_of_date: date) -> PointInTimeView:
        timeline = self.load_timeline(symbol, as_of_date, as_of_date)
        if timeline.n_days == 0:
            msg = f"no {symbol} bar on {as_of_date}; options are priced on trading days only"
            raise MissingMarketDataError(msg)
        return timeline.view(0)

    def get_option_snapshot(self, query: OptionSnapshotQuery) -> OptionSnapshot:
        """Return the synthetic contract a leg opens on ``query.as_of_date``, at its mid."""
        view = self._view(query.symbol, query.as_of_date)
        is_call = np.array([query.option_type is OptionType.CALL])
        contracts = self.select_contracts(
            view,
            is_call,
            np.array([query.strike_rule.value * view.spot]),
            np.array([query.target_expiry_days], dtype=np.int64),
        )
        marks = self.mark_contracts(view.timeline, contracts, np.zeros(1, dtype=np.int64))
        key = HistoricalInstrumentKey(
            symbol=query.symbol,
            option_type=query.option_type,
            expiry=as_date(contracts.expiry[0]),
            strike=float(contracts.strike[0]),
        )
        quote = HistoricalOptionQuote(
            instrument_key=key,
            bid=float(marks.sell[0]),
            ask=float(marks.buy[0]),
            mid=float(marks.mid[0]),
            implied_volatility=view.sigma,
            source=self.provider_id,
        )
        notes = [
            f"strike {query.strike_rule.value:g} x spot {view.spot:g}",
            f"expiry: session nearest {query.as_of_date} + {query.target_expiry_days} days",
        ]
        return OptionSnapshot(
            as_of_date=query.as_of_date,
            symbol=query.symbol,
            underlying_close=view.spot,
            selected_contract=quote,
            selection_notes=notes,
            source=self.provider_id,
        )

    def price_open_position(
        self, position: HistoricalOptionPosition, as_of_date: date
    ) -> HistoricalOptionMark:
        """Reprice the same contract with ``as_of_date``'s spot, volatility and time left."""
        key = position.instrument_key
        view = self._view(key.symbol, as_of_date)
        contracts = ContractArrays(
            np.array([key.option_type is OptionType.CALL]),
            np.array([key.strike]),
            np.array([as_day(key.expiry)]),
            np.ones(1, dtype=bool),
        )
        mid = float(self.mark_contracts(view.timeline, contracts, np.zeros(1, np.int64)).mid[0])
        status = MarkStatus.INTRINSIC if key.expiry <= as_of_date else MarkStatus.FRESH
        return HistoricalOptionMark(
            instrument_key=key, as_of_date=as_of_date, mark=mid, status=status, source="bsm"
        )
