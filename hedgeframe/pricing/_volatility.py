"""Volatility regimes for the synthetic provider: sigma for each day, as known on that day.

Small frozen models, one per rule, composed into a provider as ``volatility=...``. Each is
its own configuration: it is stored with every run as JSON (a tagged union by ``kind``),
rebuilt from it for a rerun, and reads as a sentence (``str(regime)``) in reports and on the
command line. Each computes every day's sigma from inputs dated on or before that day only,
so a regime cannot leak a future path statistic (seed anti-lookahead rule "Synthetic vol
rule").
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Final, Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field, TypeAdapter, field_validator, model_validator

from hedgeframe.errors import MissingMarketDataError
from hedgeframe.models._base import FrozenModel, check_ratio
from hedgeframe.pricing._surface import (
    DEFAULT_LONG_RUN_VOL,
    DEFAULT_MEAN_REVERSION,
    MeanRevertingTerm,
    NodeTerm,
    SurfaceDays,
    TermStructure,
)

__all__ = [
    "ASSET_VOLATILITY_INDEX",
    "MAX_VOLATILITY",
    "VOLATILITY_ADAPTER",
    "AssetIndexVol",
    "ConstantVol",
    "FirstAvailableVol",
    "FlatVolatilityRegime",
    "IndexVol",
    "StepVol",
    "TenorIndex",
    "TrailingRealizedVol",
    "VolSurface",
    "VolatilityInputs",
    "VolatilityRegime",
    "index_warnings",
]

DateArray = npt.NDArray[np.datetime64]
FloatArray = npt.NDArray[np.float64]

TRADING_DAYS_PER_YEAR: Final = 252

MAX_VOLATILITY: Final = 5.0
"""The highest volatility a regime may give (500 %): above it, a percent was almost surely
typed as a ratio (``ConstantVol(16)``, or an index in percent without ``scale=0.01``)."""

ASSET_VOLATILITY_INDEX: Final[dict[str, str]] = {
    "^GSPC": "^VIX",
    "^SPX": "^VIX",
    "SPY": "^VIX",
    "^IXIC": "^VXN",
    "^NDX": "^VXN",
    "QQQ": "^VXN",
    "GLD": "^GVZ",
}
"""Each asset's own volatility index (SPEC 9.4): Cboe's VIX (S&P 500), VXN (Nasdaq-100) and
GVZ (gold, from GLD options)."""


def _day(value: np.datetime64) -> date:
    result: date = value.astype("datetime64[D]").item()
    return result


def _span(days: DateArray) -> str:
    first, last = _day(days[0]), _day(days[-1])
    return f"{first}" if first == last else f"{first}..{last}"


@dataclass(frozen=True)
class VolatilityInputs:
    """What a regime may read: every array ends on or before the run's last day.

    ``symbol`` is the underlying; ``days`` are the run's trading days;
    ``history_dates``/``history_closes`` are every underlying bar up to the last day
    (earlier bars included, for trailing windows); ``index_series`` maps an index symbol to
    its ``(dates, closes)``.
    """

    symbol: str
    days: DateArray
    history_dates: DateArray
    history_closes: FloatArray
    index_series: dict[str, tuple[DateArray, FloatArray]] = field(default_factory=dict)

    def on(self, days: DateArray) -> VolatilityInputs:
        """Return the same inputs for a subset of the days."""
        return VolatilityInputs(
            self.symbol, days, self.history_dates, self.history_closes, self.index_series
        )

    def index(self, symbol: str) -> tuple[DateArray, FloatArray]:
        """Return the closes of an index (empty when the store has none)."""
        empty = (np.array([], dtype="datetime64[D]"), np.array([], dtype=np.float64))
        return self.index_series.get(symbol, empty)


def _check_volatility(value: float, what: str) -> float:
    if not (math.isfinite(value) and value > 0.0):
        msg = f"{what} must be a finite volatility > 0 (got {value!r})"
        raise ValueError(msg)
    return check_ratio(float(value), what, high=MAX_VOLATILITY)


class _Regime(FrozenModel, ABC):
    """What every volatility regime does; the concrete kinds are listed in ``VolatilityRegime``."""

    @abstractmethod
    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """Symbols (besides the underlying ``symbol``) whose closes this regime reads."""

    @abstractmethod
    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return one sigma per ``inputs.days``; append a note to ``warnings`` on fallbacks."""

    def first_available(self, inputs: VolatilityInputs) -> np.datetime64 | None:
        """Return the first day this regime has a value for (None: every day)."""
        return None

    def surface(self, inputs: VolatilityInputs, warnings: list[str]) -> SurfaceDays | None:
        """Return each day's volatility surface, or None: one sigma per day prices every option."""
        return None


class ConstantVol(_Regime):
    """One volatility for every day (e.g. ``ConstantVol(0.16)``)."""

    kind: Literal["constant"] = "constant"
    value: float

    def __init__(self, value: float | None = None, /, **data: Any) -> None:
        super().__init__(**({"value": value} if value is not None else {}), **data)

    @field_validator("value")
    @classmethod
    def _volatility(cls, value: float) -> float:
        return _check_volatility(value, "ConstantVol value")

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """None: a constant reads no data."""
        return ()

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return ``value`` for every day."""
        return np.full(inputs.days.shape, self.value, dtype=np.float64)

    def __str__(self) -> str:
        return f"constant {self.value:.1%}"


class StepVol(_Regime):
    """A step schedule: each ``(date, sigma)`` applies from its date (inclusive) onward."""

    kind: Literal["step"] = "step"
    steps: tuple[tuple[date, float], ...] = Field(min_length=1)

    def __init__(self, steps: Sequence[tuple[date, float]] | None = None, /, **data: Any) -> None:
        super().__init__(**({"steps": tuple(steps)} if steps is not None else {}), **data)

    @field_validator("steps")
    @classmethod
    def _increasing(cls, steps: tuple[tuple[date, float], ...]) -> tuple[tuple[date, float], ...]:
        dates = [step_date for step_date, _ in steps]
        if dates != sorted(set(dates)):
            msg = f"StepVol dates must be strictly increasing (got {dates})"
            raise ValueError(msg)
        for step_date, sigma in steps:
            _check_volatility(sigma, f"StepVol sigma on {step_date}")
        return steps

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
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
        result: FloatArray = values[position]
        return result

    def __str__(self) -> str:
        steps = ", ".join(f"{d}: {s:.1%}" for d, s in self.steps)
        return f"step schedule ({steps})"


class IndexVol(_Regime):
    """An index's close on the same day times ``scale`` (``IndexVol("^VIX", scale=0.01)``).

    A day without an index close carries the last earlier close forward, with a warning;
    a day before the index's first close is an error naming the date.
    """

    kind: Literal["index"] = "index"
    symbol: str = Field(min_length=1, max_length=50)
    scale: float = Field(default=0.01, gt=0.0, allow_inf_nan=False)

    def __init__(self, symbol: str | None = None, /, **data: Any) -> None:
        super().__init__(**({"symbol": symbol} if symbol is not None else {}), **data)

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """Return the index symbol."""
        return (self.symbol,)

    def first_available(self, inputs: VolatilityInputs) -> np.datetime64 | None:
        """Return the index's first close (never, when the store has none)."""
        dates, _ = inputs.index(self.symbol)
        return dates[0] if dates.size else np.datetime64("9999-12-31")

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return ``scale`` times the latest index close on or before each day."""
        dates, closes = inputs.index(self.symbol)
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

    def __str__(self) -> str:
        return f"{self.symbol} close x {self.scale:g} on the same day"


class TrailingRealizedVol(_Regime):
    """Trailing realized volatility, annualized with sqrt(252).

    The sample stdev (ddof 1) of the last ``window`` daily log returns up to and including
    the day.
    """

    kind: Literal["trailing_realized"] = "trailing_realized"
    window: int = Field(default=21, ge=2, le=2520)

    def __init__(self, window: int | None = None, /, **data: Any) -> None:
        super().__init__(**({"window": window} if window is not None else {}), **data)

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """None: it reads the underlying's own closes."""
        return ()

    def first_available(self, inputs: VolatilityInputs) -> np.datetime64 | None:
        """Return the first date with a full window of returns (never: history too short)."""
        dates = inputs.history_dates
        return dates[self.window] if dates.size > self.window else np.datetime64("9999-12-31")

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

    def __str__(self) -> str:
        return (
            f"{self.window}-day trailing realized volatility of the underlying (sample stdev "
            f"of daily log returns up to the day, x sqrt({TRADING_DAYS_PER_YEAR}))"
        )


def _fill_in_order(
    regimes: Sequence[_Regime], inputs: VolatilityInputs, warnings: list[str]
) -> FloatArray:
    """Fill each day from the first regime whose data starts on or before it.

    Days a later regime fills are a warning (a fall-back), one per regime and span.
    """
    result = np.full(inputs.days.shape, np.nan)
    todo = np.ones(inputs.days.shape, dtype=bool)
    for rank, regime in enumerate(regimes):
        starts = regime.first_available(inputs)
        usable = todo & (inputs.days >= starts) if starts is not None else todo.copy()
        if usable.any():
            days = inputs.days[usable]
            result[usable] = regime.sigmas(inputs.on(days), warnings)
            todo &= ~usable
            if rank:
                warnings.append(
                    f"{_span(days)} ({days.size} day(s)): {regimes[0]} not available; "
                    f"volatility from {regime}"
                )
    if todo.any():
        first = _day(inputs.days[np.flatnonzero(todo)[0]])
        shown = "; ".join(str(regime) for regime in regimes)
        msg = f"no volatility regime covers {first} (tried: {shown})"
        raise MissingMarketDataError(msg)
    return result


class AssetIndexVol(_Regime):
    """The underlying's own volatility index (SPEC 9.4), else ``fallback``, with a warning.

    ``^VIX`` for ``^GSPC``/``SPY``, ``^VXN`` for ``^IXIC``/``QQQ``, ``^GVZ`` for ``GLD``
    (:data:`ASSET_VOLATILITY_INDEX`), times ``scale``; on days before the index's first close
    in the store, or for an asset without an index of its own, the fallback.
    """

    kind: Literal["asset_index"] = "asset_index"
    scale: float = Field(default=0.01, gt=0.0, allow_inf_nan=False)
    fallback: TrailingRealizedVol | ConstantVol | None = Field(
        default_factory=lambda: TrailingRealizedVol(21)
    )

    def _index(self, symbol: str) -> IndexVol | None:
        index = ASSET_VOLATILITY_INDEX.get(symbol)
        return IndexVol(index, scale=self.scale) if index is not None else None

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """Return the asset's index, if it has one."""
        index = self._index(symbol)
        return index.index_symbols(symbol) if index is not None else ()

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return the asset's index where it has closes, else the fallback (warned)."""
        index = self._index(inputs.symbol)
        regimes = [r for r in (index, self.fallback) if r is not None]
        if index is None:
            if self.fallback is None:
                msg = (
                    f"{inputs.symbol} has no volatility index of its own "
                    f"({', '.join(sorted(ASSET_VOLATILITY_INDEX))} have) and AssetIndexVol "
                    "has no fallback; give the provider a volatility regime"
                )
                raise MissingMarketDataError(msg)
            warnings.append(
                f"{_span(inputs.days)}: {inputs.symbol} has no volatility index of its own; "
                f"used {self.fallback}"
            )
            return self.fallback.sigmas(inputs, warnings)
        return _fill_in_order(regimes, inputs, warnings)

    def __str__(self) -> str:
        assets: dict[str, list[str]] = {}
        for asset, index in ASSET_VOLATILITY_INDEX.items():
            assets.setdefault(index, []).append(asset)
        own = ", ".join(f"{index} for {'/'.join(names)}" for index, names in assets.items())
        fallback = f"; where none: {self.fallback}" if self.fallback is not None else ""
        return f"the underlying's own volatility index x {self.scale:g} ({own}){fallback}"


class FirstAvailableVol(_Regime):
    """The first regime that has a value for the day, with a warning where it falls back.

    E.g. VIX where it exists, else trailing realized volatility:
    ``FirstAvailableVol([IndexVol("^VIX"), TrailingRealizedVol(21)])``. Only a regime that
    reads data can be "not yet available" (before its first index close, or before a full
    window of returns); the switch happens on that day and never back.
    """

    kind: Literal["first_available"] = "first_available"
    regimes: tuple[FlatVolatilityRegime, ...] = Field(min_length=2)

    def __init__(
        self, regimes: Sequence[FlatVolatilityRegime] | None = None, /, **data: Any
    ) -> None:
        super().__init__(**({"regimes": tuple(regimes)} if regimes is not None else {}), **data)

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """Every index symbol any of the regimes reads."""
        return tuple(dict.fromkeys(s for r in self.regimes for s in r.index_symbols(symbol)))

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Fill each day from the first regime whose data starts on or before it."""
        return _fill_in_order(self.regimes, inputs, warnings)

    def __str__(self) -> str:
        return "; where not yet available: ".join(str(regime) for regime in self.regimes)


FlatVolatilityRegime = Annotated[
    ConstantVol | StepVol | IndexVol | TrailingRealizedVol | AssetIndexVol | FirstAvailableVol,
    Field(discriminator="kind"),
]
"""A regime that gives one volatility per day, for every strike and tenor (by ``kind``)."""

FirstAvailableVol.model_rebuild()


class TenorIndex(FrozenModel):
    """A volatility index and the tenor it measures: ``TenorIndex("^VIX3M", 93)``."""

    symbol: str = Field(min_length=1, max_length=50)
    tenor_days: int = Field(ge=1, le=3650)
    scale: float = Field(default=0.01, gt=0.0, allow_inf_nan=False)

    def __init__(
        self, symbol: str | None = None, tenor_days: int | None = None, /, **data: Any
    ) -> None:
        given = {"symbol": symbol, "tenor_days": tenor_days}
        super().__init__(**{k: v for k, v in given.items() if v is not None}, **data)

    def __str__(self) -> str:
        return f"{self.symbol} x {self.scale:g} at {self.tenor_days} days"


class VolSurface(_Regime):
    """A volatility surface: an ATM term structure and a bounded skew (SPEC 9.4).

    The ATM volatility at ``atm_tenor_days`` is ``atm_ratio`` times the ``atm`` regime
    (by default the underlying's own volatility index, e.g. the VIX, with realized
    volatility where it has none). Longer tenors come from ``term`` indexes (linear in
    total variance between tenors, flat volatility beyond the ends), or else revert to
    ``long_run_vol`` at speed ``mean_reversion`` (Heston's expected average variance;
    ``long_run_vol=None``: flat). ``skew`` is the slope of the smile at 30 days, in ATM
    volatilities per unit of ``ln(K / F)``, falling as ``1 / sqrt(tau)``; the smile and its
    bounds (no butterfly or calendar arbitrage) are in :mod:`hedgeframe.pricing._surface`
    and ``docs/volatility.md``. ``calibrate_surface`` fits ``atm_ratio``, ``skew`` and the
    mean reversion to a stored chain.

    Examples
    --------
    >>> print(VolSurface(atm=IndexVol("^VIX"), skew=-3.0))  # doctest: +NORMALIZE_WHITESPACE
    volatility surface: ATM at 30 days = 1 x ^VIX close x 0.01 on the same day; beyond 30 days
    reverting to 18.8% at speed 1.3253 a year; skew -3 ATM vols per unit ln(K/F) at 30 days,
    x sqrt(30 days / tau) (bounded: no butterfly or calendar arbitrage)
    """

    kind: Literal["surface"] = "surface"
    atm: FlatVolatilityRegime = Field(default_factory=AssetIndexVol)
    atm_tenor_days: int = Field(default=30, ge=1, le=3650)
    term: tuple[TenorIndex, ...] = ()
    atm_ratio: float = Field(default=1.0, gt=0.0, le=5.0, allow_inf_nan=False)
    long_run_vol: float | None = None
    mean_reversion: float = Field(
        default=DEFAULT_MEAN_REVERSION, gt=0.0, le=100.0, allow_inf_nan=False
    )
    skew: float = Field(default=0.0, ge=-100.0, le=100.0, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _default_long_run(cls, data: Any) -> Any:
        """Mean-revert beyond one index by default; with ``term`` indexes stay flat (SPEC 9.4)."""
        if isinstance(data, dict) and "long_run_vol" not in data:
            return {**data, "long_run_vol": None if data.get("term") else DEFAULT_LONG_RUN_VOL}
        return data

    @field_validator("long_run_vol")
    @classmethod
    def _long_run(cls, value: float | None) -> float | None:
        return None if value is None else _check_volatility(value, "VolSurface long_run_vol")

    @model_validator(mode="after")
    def _tenors(self) -> VolSurface:
        tenors = [self.atm_tenor_days, *(index.tenor_days for index in self.term)]
        if tenors != sorted(set(tenors)):
            msg = (
                f"VolSurface tenors must increase from atm_tenor_days through the term "
                f"indexes (got {tenors} days)"
            )
            raise ValueError(msg)
        if self.term and self.long_run_vol is not None:
            msg = (
                "a VolSurface with term indexes is flat beyond its last tenor (SPEC 9.4); "
                "give long_run_vol=None or drop the term indexes"
            )
            raise ValueError(msg)
        return self

    def _term_indexes(self) -> list[IndexVol]:
        return [IndexVol(index.symbol, scale=index.scale) for index in self.term]

    def index_symbols(self, symbol: str) -> tuple[str, ...]:
        """Return the ATM regime's indexes, then the term indexes."""
        term = (index.symbol for index in self.term)
        return tuple(dict.fromkeys((*self.atm.index_symbols(symbol), *term)))

    def first_available(self, inputs: VolatilityInputs) -> np.datetime64 | None:
        """Return the first day the ATM regime and every term index have a value."""
        starts = [self.atm.first_available(inputs)]
        starts += [index.first_available(inputs) for index in self._term_indexes()]
        known = [start for start in starts if start is not None]
        return max(known) if known else None

    def levels(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Each day's volatility at each tenor before ``atm_ratio``: ``(days, 1 + term)``.

        The ATM regime, then each term index (its latest close on or before the day).
        """
        columns = [self.atm.sigmas(inputs, warnings)]
        columns += [index.sigmas(inputs, warnings) for index in self._term_indexes()]
        return np.column_stack(columns).reshape(inputs.days.size, len(columns))

    def term_structure(self, levels: FloatArray) -> tuple[TermStructure, npt.NDArray[np.bool_]]:
        """Build each day's ATM term structure from :meth:`levels`.

        Returns it with the days on which a longer tenor's total variance was below a
        shorter one's and was raised to it (a calendar spread would be free otherwise).
        """
        variance = (self.atm_ratio * levels) ** 2
        tenors = np.array(
            [self.atm_tenor_days, *(index.tenor_days for index in self.term)], dtype=np.float64
        )
        tenors /= 365.0
        if self.long_run_vol is not None:
            anchor = float(tenors[0])
            term = MeanRevertingTerm(
                anchor, variance[:, 0] * anchor, self.long_run_vol, self.mean_reversion
            )
            return term, np.zeros(levels.shape[0], dtype=bool)
        total = variance * tenors
        raised = np.maximum.accumulate(total, axis=1)
        return NodeTerm(tenors, raised), (raised != total).any(axis=1)

    def surface(self, inputs: VolatilityInputs, warnings: list[str]) -> SurfaceDays:
        """Return each day's surface, from inputs dated on or before that day only."""
        term, raised = self.term_structure(self.levels(inputs, warnings))
        if raised.any():
            days = inputs.days[raised]
            warnings.append(
                f"{_span(days)} ({days.size} day(s)): a longer tenor's ATM total variance "
                "was below a shorter one's; raised to it, so no calendar spread is free"
            )
        return SurfaceDays.of(term, self.skew)

    def sigmas(self, inputs: VolatilityInputs, warnings: list[str]) -> FloatArray:
        """Return each day's ATM volatility at 30 days (the surface's one-number summary)."""
        return self.surface(inputs, warnings).reference

    def __str__(self) -> str:
        atm = f"ATM at {self.atm_tenor_days} days = {self.atm_ratio:.4g} x {self.atm}"
        if self.term:
            tenors = ", ".join(str(index) for index in self.term)
            term = f"then {tenors}, linear in total variance, flat beyond the ends"
        elif self.long_run_vol is not None:
            term = (
                f"beyond {self.atm_tenor_days} days reverting to {self.long_run_vol:.1%} at "
                f"speed {self.mean_reversion:.5g} a year"
            )
        else:
            term = "flat in tenor"
        skew = (
            f"skew {self.skew:.4g} ATM vols per unit ln(K/F) at 30 days, x sqrt(30 days / "
            "tau) (bounded: no butterfly or calendar arbitrage)"
            if self.skew
            else "no skew"
        )
        return f"volatility surface: {atm}; {term}; {skew}"


VolatilityRegime = Annotated[
    ConstantVol
    | StepVol
    | IndexVol
    | TrailingRealizedVol
    | AssetIndexVol
    | FirstAvailableVol
    | VolSurface,
    Field(discriminator="kind"),
]
"""Any volatility regime, read from JSON by its ``kind``."""

VOLATILITY_ADAPTER: Final = TypeAdapter(VolatilityRegime)
"""Reads a volatility regime from JSON-like data (``VOLATILITY_ADAPTER.validate_python``)."""


def index_warnings(symbol: str, indexes: Sequence[str]) -> list[str]:
    """Warn when ``symbol`` is priced with another asset's volatility index (SPEC 9.4)."""
    own = ASSET_VOLATILITY_INDEX.get(symbol)
    notes = []
    for index in indexes:
        assets = [a for a, i in ASSET_VOLATILITY_INDEX.items() if i == index]
        if assets and index != own:
            theirs = f"{symbol}'s own is {own}" if own else f"{symbol} has none of its own here"
            notes.append(
                f"{symbol} is priced with {index}, the volatility index of {'/'.join(assets)}; "
                f"{theirs}"
            )
    return notes
