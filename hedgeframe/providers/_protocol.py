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
from enum import IntEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hedgeframe.data import TradingCalendar
from hedgeframe.errors import HedgeframeError
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

__all__ = [
    "ContractArrays",
    "ContractRequest",
    "HistoricalMarketDataProvider",
    "MarkBatch",
    "StrikeNotFoundError",
    "StrikeTarget",
]

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


class StrikeTarget(IntEnum):
    """What a leg's ``target`` in a :class:`ContractRequest` is."""

    STRIKE = 0
    """A strike: ``spot_pct`` (already ``value * S_T``) and ``fixed_strike`` rules."""
    DELTA = 1
    """A Black-Scholes delta (``delta_target``)."""
    CALL_PREMIUM = 2
    """A call's mid per unit (``zero_cost``: what the long legs cost, per unit sold)."""


@dataclass(frozen=True)
class ContractRequest:
    """What each leg due on a day asks a provider for, one element per leg (SPEC 6, 9.1)."""

    is_call: BoolArray
    target_expiry_days: IntArray
    kind: npt.NDArray[np.int8]
    target: FloatArray

    @classmethod
    def at_strikes(
        cls, is_call: BoolArray, strikes: FloatArray, target_expiry_days: IntArray
    ) -> ContractRequest:
        """Ask for the contracts nearest these strikes."""
        kind = np.full(is_call.shape, StrikeTarget.STRIKE, dtype=np.int8)
        return cls(is_call, target_expiry_days, kind, strikes)

    @property
    def size(self) -> int:
        """Number of legs asked for."""
        return int(self.is_call.size)

    def take(self, index: IntArray) -> ContractRequest:
        """Return the requests at ``index``."""
        return ContractRequest(
            self.is_call[index],
            self.target_expiry_days[index],
            self.kind[index],
            self.target[index],
        )


class StrikeNotFoundError(HedgeframeError, ValueError):
    """No strike meets a leg's rule (a delta or a premium out of reach, SPEC 9.1).

    ``legs`` are the failing positions in the :class:`ContractRequest`; the engine names
    their templates and legs.
    """

    def __init__(self, legs: IntArray, reason: str) -> None:
        self.legs = legs
        self.reason = reason
        super().__init__(reason)


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

    def select_contracts(self, view: PointInTimeView, request: ContractRequest) -> ContractArrays:
        """Resolve new contracts on the view's day, from that day's data only.

        Raises
        ------
        StrikeNotFoundError
            When no strike meets a leg's delta or premium target (synthetic pricing; a
            listed chain picks the nearest listed contract instead).
        """
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
