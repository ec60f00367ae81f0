"""Point-in-time market data records: bars, option quotes, snapshots and marks."""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import Field, model_validator

from hedgeframe.models._base import FrozenModel
from hedgeframe.models._enums import MarkStatus, OptionType, PricingSide
from hedgeframe.models._template import StrikeRule

__all__ = [
    "HistoricalInstrumentKey",
    "HistoricalOptionMark",
    "HistoricalOptionQuote",
    "OptionSnapshot",
    "OptionSnapshotQuery",
    "UnderlyingBar",
]


class UnderlyingBar(FrozenModel):
    """One daily bar of the underlying."""

    symbol: str = Field(min_length=1)
    date: date
    open: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    high: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    low: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    close: float = Field(gt=0.0, allow_inf_nan=False)
    volume: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    source: str = "unknown"


class HistoricalInstrumentKey(FrozenModel):
    """A listed (or synthetic) contract's identity; it never changes after entry."""

    symbol: str = Field(min_length=1)
    option_type: OptionType
    expiry: date
    strike: float = Field(gt=0.0, allow_inf_nan=False)


class HistoricalOptionQuote(FrozenModel):
    """One contract's quote on one day."""

    instrument_key: HistoricalInstrumentKey
    bid: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    ask: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    mid: float = Field(ge=0.0, allow_inf_nan=False)
    implied_volatility: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    delta: float | None = Field(default=None, allow_inf_nan=False)
    open_interest: int | None = Field(default=None, ge=0)
    volume: int | None = Field(default=None, ge=0)
    source: str = "unknown"

    @model_validator(mode="after")
    def _bid_not_above_ask(self) -> Self:
        if self.bid is not None and self.ask is not None and self.bid > self.ask:
            msg = f"bid {self.bid} is above ask {self.ask}"
            raise ValueError(msg)
        return self


class OptionSnapshotQuery(FrozenModel):
    """Which contract a template leg asks for on ``as_of_date``."""

    symbol: str = Field(min_length=1)
    as_of_date: date
    option_type: OptionType = OptionType.PUT
    target_expiry_days: int = Field(ge=1)
    strike_rule: StrikeRule
    pricing_side: PricingSide = PricingSide.MID


class OptionSnapshot(FrozenModel):
    """The contract a query resolved to, as known on ``as_of_date``."""

    as_of_date: date
    symbol: str
    underlying_close: float = Field(gt=0.0, allow_inf_nan=False)
    selected_contract: HistoricalOptionQuote
    selection_notes: list[str] = Field(default_factory=list)
    source: str


class HistoricalOptionMark(FrozenModel):
    """An open position's value per underlying unit on one day, and where it came from."""

    instrument_key: HistoricalInstrumentKey
    as_of_date: date
    mark: float = Field(ge=0.0, allow_inf_nan=False)
    status: MarkStatus = MarkStatus.FRESH
    stale_sessions: int = Field(default=0, ge=0)
    source: str = "unknown"
