"""The provider contract: what the engine asks a historical data source for.

The seed's four point-in-time methods (``get_trading_days``, ``get_underlying_bars``,
``get_option_snapshot``, ``price_open_position``) serve researchers and the conformance
suite one contract at a time. The engine uses the vectorized forms: it loads one
:class:`~hedgeframe.providers.MarketTimeline` per run, resolves new contracts on a step's
:class:`~hedgeframe.providers.PointInTimeView`, and marks batches of ``(contract, day)``
pairs, each one priced from that day's data only. The engine never knows which provider
it has: BT-002 is a provider swap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hedgeframe.data import TradingCalendar
from hedgeframe.models import (
    HistoricalOptionMark,
    HistoricalOptionPosition,
    OptionSnapshot,
    OptionSnapshotQuery,
    PricingMode,
    ProviderSnapshot,
    UnderlyingBar,
)
from hedgeframe.providers._timeline import MarketTimeline, PointInTimeView

if TYPE_CHECKING:
    from hedgeframe.providers._config import ProviderConfig

__all__ = ["ContractArrays", "HistoricalMarketDataProvider", "MarkBatch"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DateArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class ContractArrays:
    """Contract identities, one per element; ``selected`` is False where none was found."""

    is_call: BoolArray
    strike: FloatArray
    expiry: DateArray
    selected: BoolArray

    @property
    def size(self) -> int:
        """Number of contracts."""
        return int(self.strike.size)

    def take(self, index: IntArray) -> ContractArrays:
        """Return the contracts at ``index``."""
        return ContractArrays(
            self.is_call[index], self.strike[index], self.expiry[index], self.selected[index]
        )


@dataclass(frozen=True)
class MarkBatch:
    """Marks of ``(contract, day)`` pairs.

    ``mid`` is the mark (NaN where none is usable); ``buy``/``sell`` the fill prices a
    trade at that mark gets; ``stale_sessions`` is 0 for a same-day quote, ``k > 0`` when
    the mark was carried forward ``k`` sessions, and -1 when no mark is usable.
    """

    mid: FloatArray
    buy: FloatArray
    sell: FloatArray
    stale_sessions: IntArray


@runtime_checkable
class HistoricalMarketDataProvider(Protocol):
    """A point-in-time source of underlying closes and option prices."""

    provider_id: str
    pricing_mode: PricingMode

    @property
    def config(self) -> ProviderConfig:
        """Everything that sets the provider's prices; stored with every run, rebuilt by rerun."""
        ...

    @property
    def calendar(self) -> TradingCalendar:
        """The exchange calendar that sets expiries and roll dates."""
        ...

    def get_trading_days(self, symbol: str, start_date: date, end_date: date) -> list[date]:
        """Return the dates in ``[start_date, end_date]`` that have an underlying bar."""
        ...

    def get_underlying_bars(
        self, symbol: str, start_date: date, end_date: date
    ) -> list[UnderlyingBar]:
        """Return the underlying's bars dated in ``[start_date, end_date]``."""
        ...

    def get_option_snapshot(self, query: OptionSnapshotQuery) -> OptionSnapshot:
        """Return the contract a leg would open on ``query.as_of_date`` (that day's data only)."""
        ...

    def price_open_position(
        self, position: HistoricalOptionPosition, as_of_date: date
    ) -> HistoricalOptionMark:
        """Return the position's same-contract mark on ``as_of_date``."""
        ...

    def load_timeline(self, symbol: str, start_date: date, end_date: date) -> MarketTimeline:
        """Return everything a run over ``[start_date, end_date]`` may read, nothing after it."""
        ...

    def select_contracts(
        self,
        view: PointInTimeView,
        is_call: BoolArray,
        strike_targets: FloatArray,
        target_expiry_days: IntArray,
    ) -> ContractArrays:
        """Resolve new contracts on the view's day, from that day's data only."""
        ...

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> MarkBatch:
        """Mark each contract on its own day ``timeline.days[day_index]``.

        Each pair is priced from data dated on or before its own day only.
        """
        ...

    def snapshot(self, timeline: MarketTimeline | None = None) -> ProviderSnapshot:
        """Return the provider's frozen configuration (and a fingerprint of the timeline's data)."""
        ...
