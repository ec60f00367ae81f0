"""Volatility regimes for the synthetic provider: sigma for each day, as known on that day.

Four small classes behind one Protocol (``VolatilityRegime``), composed into a provider as
``volatility=...``. Each computes every day's sigma from inputs dated on or before that day
only, so a regime cannot leak a future path statistic (seed anti-lookahead rule "Synthetic
vol rule").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hedgeframe.errors import MissingMarketDataError

__all__ = [
    "ConstantVol",
    "FirstAvailableVol",
    "IndexVol",
    "StepVol",
    "TrailingRealizedVol",
    "VolatilityInputs",
    "VolatilityRegime",
]

DateArray = npt.NDArray[np.datetime64]
FloatArray = npt.NDArray[np.float64]

TRADING_DAYS_PER_YEAR = 252


def _day(value: np.datetime64) -> date:
    result: date = value.astype("datetime64[D]").item()
    return result


@dataclass(frozen=True)
class VolatilityInputs:
    """What a regime may read: every array ends on or before the run's last day.

    ``days`` are the run's trading days; ``history_dates``/``history_closes`` are every
    underlying bar up to the last day (earlier bars included, for trailing windows);
    ``index_series`` maps an index symbol to its ``(dates, closes)``.
    """

    days: DateArray
    history_dates: DateArray
    history_closes: FloatArray
    index_series: dict[str, tuple[DateArray, FloatArray]] = field(default_factory=dict)


@runtime_checkable
class VolatilityRegime(Protocol):
    """Gives each trading day's annualized volatility, as known at that day's close."""

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """Symbols (besides the underlying) whose closes this regime reads."""
        ...

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return one sigma per ``inputs.days``; append a note to ``warnings`` on fallbacks."""
        ...

    def describe(self) -> dict[str, Any]:
        """Return the regime's configuration, stored with every run."""
        ...


def _positive(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0.0):
        msg = f"{name} must be a finite volatility > 0 (got {value!r})"
        raise ValueError(msg)
    return float(value)


@dataclass(frozen=True)
class ConstantVol:
    """One volatility for every day (e.g. ``ConstantVol(0.16)``)."""

    value: float

    def __post_init__(self) -> None:
        _positive(self.value, "ConstantVol value")

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """None: a constant reads no data."""
        return ()

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return ``value`` for every day."""
        return np.full(inputs.days.shape, self.value, dtype=np.float64)

    def describe(self) -> dict[str, Any]:
        """Return ``{"kind": "constant", "value": ...}``."""
        return {"kind": "constant", "value": self.value}


@dataclass(frozen=True)
class StepVol:
    """A step schedule: each ``(date, sigma)`` applies from its date (inclusive) onward."""

    steps: Sequence[tuple[date, float]]

    def __post_init__(self) -> None:
        if not self.steps:
            msg = "StepVol needs at least one (date, sigma) step"
            raise ValueError(msg)
        dates = [step_date for step_date, _ in self.steps]
        if dates != sorted(set(dates)):
            msg = f"StepVol dates must be strictly increasing (got {dates})"
            raise ValueError(msg)
        for step_date, sigma in self.steps:
            _positive(sigma, f"StepVol sigma on {step_date}")
        object.__setattr__(self, "steps", tuple((d, float(s)) for d, s in self.steps))

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """None: a schedule reads no data."""
        return ()

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return the step in force on each day."""
        starts = np.array([d for d, _ in self.steps], dtype="datetime64[D]")
        values = np.array([s for _, s in self.steps], dtype=np.float64)
        position = np.searchsorted(starts, inputs.days, side="right") - 1
        if inputs.days.size and position[0] < 0:
            msg = (
                f"StepVol has no volatility for {_day(inputs.days[0])}: its first step starts "
                f"{self.steps[0][0]}; add an earlier step"
            )
            raise MissingMarketDataError(msg)
        return values[position]

    def describe(self) -> dict[str, Any]:
        """Return the schedule."""
        return {"kind": "step", "steps": [[d.isoformat(), s] for d, s in self.steps]}


@dataclass(frozen=True)
class IndexVol:
    """An index's close on the same day times ``scale`` (``IndexVol("^VIX", scale=0.01)``).

    A day without an index close carries the last earlier close forward, with a warning;
    a day before the index's first close is an error naming the date.
    """

    symbol: str
    scale: float = 0.01

    def __post_init__(self) -> None:
        _positive(self.scale, "IndexVol scale")

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """The index symbol."""
        return (self.symbol,)

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return ``scale`` times the latest index close on or before each day."""
        dates, closes = inputs.index_series.get(
            self.symbol, (np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64))
        )
        position = np.searchsorted(dates, inputs.days, side="right") - 1
        missing = np.flatnonzero(position < 0)
        if missing.size:
            first = _day(inputs.days[missing[0]])
            known = f"its first close is {_day(dates[0])}" if dates.size else "it has no closes"
            msg = f"no {self.symbol} close on or before {first} for IndexVol ({known})"
            raise MissingMarketDataError(msg)
        used = dates[position]
        warnings.extend(
            f"{_day(inputs.days[i])}: no {self.symbol} close; used the "
            f"{_day(used[i])} close for volatility"
            for i in np.flatnonzero(used != inputs.days)
        )
        sigma: FloatArray = closes[position] * self.scale
        return sigma

    def describe(self) -> dict[str, Any]:
        """Return the index symbol and scale."""
        return {"kind": "index", "symbol": self.symbol, "scale": self.scale}


@dataclass(frozen=True)
class TrailingRealizedVol:
    """Trailing realized volatility, annualized with sqrt(252).

    The sample stdev (ddof 1) of the last ``window`` daily log returns up to and including
    the day.
    """

    window: int = 21

    def __post_init__(self) -> None:
        if self.window < 2:
            msg = f"TrailingRealizedVol window must be >= 2 returns (got {self.window})"
            raise ValueError(msg)

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """None: it reads the underlying's own closes."""
        return ()

    def available_from(self, history_dates: DateArray) -> np.datetime64 | None:
        """First date with a full window of returns, or None when history is too short."""
        return history_dates[self.window] if history_dates.size > self.window else None

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return the trailing realized volatility of each day."""
        position = np.searchsorted(inputs.history_dates, inputs.days)
        short = np.flatnonzero(position < self.window)
        if short.size:
            first = _day(inputs.days[short[0]])
            msg = (
                f"TrailingRealizedVol({self.window}) needs {self.window} returns before "
                f"{first}, but the store has only {int(position[short[0]])}"
            )
            raise MissingMarketDataError(msg)
        returns = np.diff(np.log(inputs.history_closes))
        windows = np.lib.stride_tricks.sliding_window_view(returns, self.window)
        # windows[k] holds returns k .. k+window-1, i.e. ending at close k+window.
        sigma: FloatArray = windows[position - self.window].std(axis=1, ddof=1)
        return sigma * math.sqrt(TRADING_DAYS_PER_YEAR)

    def describe(self) -> dict[str, Any]:
        """Return the window."""
        return {"kind": "trailing_realized", "window": self.window, "annualization": 252}


@dataclass(frozen=True)
class FirstAvailableVol:
    """The first regime that has a value for the day.

    E.g. VIX where it exists, else trailing realized volatility:
    ``FirstAvailableVol([IndexVol("^VIX"), TrailingRealizedVol(21)])``.

    Only an :class:`IndexVol` can be "not yet available" (before its first close); the
    switch to it happens on its first close and never back.
    """

    regimes: Sequence[VolatilityRegime]

    def __post_init__(self) -> None:
        if len(self.regimes) < 2:
            msg = "FirstAvailableVol needs at least two regimes"
            raise ValueError(msg)
        object.__setattr__(self, "regimes", tuple(self.regimes))

    @property
    def index_symbols(self) -> tuple[str, ...]:
        """Every index symbol any of the regimes reads."""
        return tuple(dict.fromkeys(s for regime in self.regimes for s in regime.index_symbols))

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Fill each day from the first regime whose data starts on or before it."""
        result = np.full(inputs.days.shape, np.nan)
        todo = np.ones(inputs.days.shape, dtype=bool)
        for regime in self.regimes:
            starts = self._first_dates(regime, inputs)
            usable = todo & (inputs.days >= starts) if starts is not None else todo.copy()
            if usable.any():
                sub = VolatilityInputs(
                    inputs.days[usable],
                    inputs.history_dates,
                    inputs.history_closes,
                    inputs.index_series,
                )
                result[usable] = regime.sigmas(sub, warnings)
                todo &= ~usable
        if todo.any():
            first = _day(inputs.days[np.flatnonzero(todo)[0]])
            msg = f"no volatility regime of FirstAvailableVol covers {first}"
            raise MissingMarketDataError(msg)
        return result

    @staticmethod
    def _first_dates(regime: VolatilityRegime, inputs: VolatilityInputs) -> np.datetime64 | None:
        if isinstance(regime, IndexVol):
            dates, _ = inputs.index_series.get(regime.symbol, (np.array([], "datetime64[D]"), None))
            return dates[0] if dates.size else np.datetime64("9999-12-31")
        if isinstance(regime, TrailingRealizedVol):
            start = regime.available_from(inputs.history_dates)
            return start if start is not None else np.datetime64("9999-12-31")
        return None

    def describe(self) -> dict[str, Any]:
        """Return the regimes in order."""
        return {"kind": "first_available", "regimes": [r.describe() for r in self.regimes]}
