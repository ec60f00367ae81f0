"""The run's market timeline and the point-in-time view each engine step gets.

A :class:`MarketTimeline` holds, sorted once, every input a run may read, and never
anything dated after the scenario's last day. A :class:`PointInTimeView` is the timeline
cut at one step's ``as_of_date``: it hands out zero-copy slices ending at that day
(``searchsorted(..., side="right")``), so future rows are unreachable rather than filtered
by care, and any request for a later date raises :class:`~hedgeframe.errors.LookaheadError`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hedgeframe.errors import LookaheadError, MissingMarketDataError
from hedgeframe.pricing._surface import SurfaceDays

__all__ = ["MarketTimeline", "PointInTimeView", "as_date", "as_day"]

DateArray = npt.NDArray[np.datetime64]
FloatArray = npt.NDArray[np.float64]


class ContractArraysLike(Protocol):
    """Anything with per-contract ``is_call``, ``strike`` and ``expiry`` arrays."""

    @property
    def is_call(self) -> npt.NDArray[np.bool_]:
        """Call flags."""
        ...

    @property
    def strike(self) -> FloatArray:
        """Strikes."""
        ...

    @property
    def expiry(self) -> DateArray:
        """Expiry dates."""
        ...


def as_day(value: date | np.datetime64) -> np.datetime64:
    """Convert a date to numpy ``datetime64[D]``."""
    return np.datetime64(value, "D")  # type: ignore[call-overload,no-any-return]


def as_date(value: np.datetime64) -> date:
    """Convert a numpy ``datetime64`` to a ``datetime.date``."""
    result: date = value.astype("datetime64[D]").item()
    return result


@dataclass(frozen=True)
class MarketTimeline:
    """Every input one run may read, aligned and sorted.

    ``history_dates``/``history_closes`` are the underlying's bars up to the last trading
    day (earlier bars included: settlement of a contract whose expiry has no bar, trailing
    windows). ``days`` are the scenario's trading days and ``closes``/``sigmas`` their
    closes and volatilities; ``day_positions`` maps each day to its row in the history.
    ``surface`` (a :class:`~hedgeframe.pricing.VolSurface` regime) prices each strike and
    tenor of a day; without one, ``sigmas`` prices every option of the day.
    """

    symbol: str
    days: DateArray
    closes: FloatArray
    history_dates: DateArray
    history_closes: FloatArray
    sigmas: FloatArray | None = None
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""
    surface: SurfaceDays | None = None

    def __post_init__(self) -> None:
        for array in (self.days, self.closes, self.history_dates, self.history_closes):
            array.flags.writeable = False
        if self.sigmas is not None:
            self.sigmas.flags.writeable = False

    @property
    def n_days(self) -> int:
        """Number of trading days."""
        return int(self.days.size)

    @functools.cached_property
    def history_ends(self) -> npt.NDArray[np.intp]:
        """For each trading day, how many history bars are dated on or before it."""
        ends: npt.NDArray[np.intp] = np.searchsorted(self.history_dates, self.days, side="right")
        ends.flags.writeable = False
        return ends

    def settlement_closes(self, expiries: DateArray) -> tuple[DateArray, FloatArray]:
        """Return each expiry's settlement close: the bar on the expiry date, else the last before.

        Returns the dates those closes are from, so callers can warn when they differ.
        """
        position = np.searchsorted(self.history_dates, expiries, side="right") - 1
        if position.size and position.min() < 0:
            first = as_date(expiries[np.flatnonzero(position < 0)[0]])
            msg = f"no {self.symbol} close on or before the expiry {first} to settle at"
            raise MissingMarketDataError(msg)
        return self.history_dates[position], self.history_closes[position]

    def intrinsic_at_expiry(self, contracts: ContractArraysLike) -> FloatArray:
        """Intrinsic value at each contract's expiry: ``max(K - S, 0)`` puts, calls mirrored."""
        _, spot = self.settlement_closes(contracts.expiry)
        payoff = np.where(contracts.is_call, spot - contracts.strike, contracts.strike - spot)
        return np.maximum(payoff, 0.0)

    def view(self, index: int) -> PointInTimeView:
        """Return the view as of trading day ``index``."""
        return PointInTimeView(self, index)

    def view_at(self, as_of_date: date) -> PointInTimeView:
        """Return the view as of ``as_of_date``, which must be one of the trading days."""
        index = int(np.searchsorted(self.days, as_day(as_of_date)))
        if index >= self.days.size or self.days[index] != as_day(as_of_date):
            msg = f"{as_of_date} is not a trading day of this {self.symbol} run"
            raise MissingMarketDataError(msg)
        return self.view(index)


class PointInTimeView:
    """The timeline as known at one trading day's close."""

    __slots__ = ("_end", "_history_end", "as_of_day", "index", "timeline")

    def __init__(self, timeline: MarketTimeline, index: int) -> None:
        self.timeline = timeline
        self.index = index
        self.as_of_day = timeline.days[index]
        self._end = index + 1
        self._history_end = int(timeline.history_ends[index])

    @property
    def as_of_date(self) -> date:
        """The step's day, as a ``datetime.date``."""
        return as_date(self.as_of_day)

    def _guard(self, day: np.datetime64, what: str) -> None:
        if day > self.as_of_day:
            msg = (
                f"{what} dated {as_date(day)} was requested at as_of_date {self.as_of_date}; "
                "a step may read only data dated on or before its as_of_date"
            )
            raise LookaheadError(msg)

    @property
    def days(self) -> DateArray:
        """Trading days up to and including ``as_of_date``."""
        return self.timeline.days[: self._end]

    @property
    def closes(self) -> FloatArray:
        """Closes of those trading days."""
        return self.timeline.closes[: self._end]

    @property
    def spot(self) -> float:
        """The close on ``as_of_date``."""
        return float(self.timeline.closes[self.index])

    @property
    def sigma(self) -> float:
        """The ATM volatility known on ``as_of_date`` (synthetic provider only)."""
        if self.timeline.sigmas is None:
            msg = "this timeline carries no volatility"
            raise MissingMarketDataError(msg)
        return float(self.timeline.sigmas[self.index])

    def close_on_or_before(self, day: date | np.datetime64) -> tuple[date, float]:
        """Return the last close dated on or before ``day`` (which must not be in the future)."""
        wanted = as_day(day)
        self._guard(wanted, "an underlying close")
        end = int(
            np.searchsorted(self.timeline.history_dates[: self._history_end], wanted, "right")
        )
        if end == 0:
            msg = f"no {self.timeline.symbol} close on or before {as_date(wanted)}"
            raise MissingMarketDataError(msg)
        return as_date(self.timeline.history_dates[end - 1]), float(
            self.timeline.history_closes[end - 1]
        )

    def history(self, start: date, end: date) -> tuple[DateArray, FloatArray]:
        """Underlying bars dated in ``[start, end]``; ``end`` must not be in the future."""
        self._guard(as_day(end), "an underlying bar")
        dates = self.timeline.history_dates[: self._history_end]
        lo = int(np.searchsorted(dates, as_day(start), "left"))
        hi = int(np.searchsorted(dates, as_day(end), "right"))
        return dates[lo:hi], self.timeline.history_closes[lo:hi]

    def require_not_after(self, day: date | np.datetime64, what: str) -> None:
        """Raise :class:`LookaheadError` when ``day`` is after ``as_of_date``."""
        self._guard(as_day(day), what)
