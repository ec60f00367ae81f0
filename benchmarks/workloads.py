"""What the benchmark cases run: market set-up, the template grid, and the runs themselves.

Everything here is deterministic given the sizes and the seed, so a case can be rebuilt
in a fresh process (``benchmarks/memory.py``) to measure its peak memory alone.

- **Market** (:class:`SampleMarket`): the bundled sample store, ``^GSPC`` 1999-2018
  (5,031 sessions). A scenario of ``years`` years ends on the last bar, 2018-12-31, and
  starts on the first session after the same date ``years`` years earlier, but never
  before the 22nd bar (1999-02-03): the first day with a full 21-return window for
  ``TrailingRealizedVol(21)``. Twenty years therefore give 5,010 trading days.
- **Synthetic provider** (B1, B2): ``TrailingRealizedVol(21)``, rate 2 %, no dividend
  yield, 1 % bid/ask, XNYS (the ``hedgeframe demo`` settings).
- **Portfolio**: 1,000 units, a loan at 60 % of the collateral, margin call at LTV 0.75,
  cash 5 % of the collateral financed at 2 % (so cash accrual is exercised and checked).
- **Template grid** (:func:`template_grid`): single puts at strikes 80-105 % of spot in
  1 % steps (26) and equal-weight ladders of two or three strikes out of 80-105 % in
  2.5 % steps (55 + 165); tenors 30, 45, 60, 91, 122, 152, 182, 273 and 365 days; held to
  expiry or rolled 1, 5, 10 or 21 sessions before expiry (a roll of ``N`` only where the
  tenor leaves at least five sessions before it: no 21-session roll of a 30-day put).
  10,824 templates in all; a case takes a seeded random sample of ``n`` of them (the
  first ``n`` of one seeded shuffle, so smaller samples are prefixes of larger ones).
- **Listed chain** (B3, B5): ``hedgeframe.data.write_synthetic_chain`` over the sample's
  ``^GSPC`` and ``^VIX`` bars, 2014-2018, generated into a scratch store per run.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, write_synthetic_chain
from hedgeframe.events import BUNDLED_SAMPLE_TAG
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    RollPolicy,
    StrategyTemplate,
)
from hedgeframe.pricing import VolatilityRegime
from hedgeframe.providers import HistoricalMarketDataProvider

__all__ = [
    "CHAIN_END",
    "CHAIN_START",
    "SYMBOL",
    "BookSize",
    "EventsRun",
    "GridSpec",
    "PreparedRun",
    "SampleMarket",
    "book_size",
    "build_chain_store",
    "grid_specs",
    "portfolio_for",
    "prepare",
    "prepare_events",
    "snapshot_provider_class",
    "synthetic_provider",
    "template_grid",
    "timed",
    "timed_each",
]

DateArray = npt.NDArray[np.datetime64]

SYMBOL: Final = "^GSPC"
VOL_SYMBOL: Final = "^VIX"
VOL_WINDOW: Final = 21
RATE: Final = 0.02
DIVIDEND_YIELD: Final = 0.0
SPREAD_PCT: Final = 0.01
UNITS: Final = 1_000.0
LOAN_FRACTION: Final = 0.6
MARGIN_CALL_LTV: Final = 0.75
CASH_FRACTION: Final = 0.05
FINANCING_RATE: Final = 0.02
MAX_STALE_DAYS: Final = 5
RUN_MODES: Final[dict[str, dict[str, bool]]] = {
    "daily-path": {"keep_daily_path": True, "keep_trades": True},
    "no-daily-path": {"keep_daily_path": False, "keep_trades": True},
    "summary-only": {"keep_daily_path": False, "keep_trades": False},
}
"""What a sweep's result keeps: everything; no daily table; the summary alone."""
CHAIN_START: Final = date(2014, 1, 2)
CHAIN_END: Final = date(2018, 12, 31)

GRID_SINGLE_STRIKES: Final = tuple(round(0.80 + 0.01 * i, 2) for i in range(26))
GRID_LADDER_STRIKES: Final = tuple(round(0.80 + 0.025 * i, 3) for i in range(11))
GRID_TENORS: Final = (30, 45, 60, 91, 122, 152, 182, 273, 365)
GRID_ROLLS: Final = (None, 1, 5, 10, 21)
MIN_SESSIONS_AFTER_ENTRY: Final = 5
SESSIONS_PER_CALENDAR_DAY: Final = 252 / 365


# ---------------------------------------------------------------------------------------
# Market
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleMarket:
    """The bundled sample's ``^GSPC`` history and the XNYS sessions."""

    store: MarketDataStore
    dates: list[date]
    closes: list[float]
    sessions: list[date]

    @classmethod
    def load(cls, store: MarketDataStore | None = None) -> SampleMarket:
        """Read the whole ``^GSPC`` history once."""
        store = store if store is not None else hf.sample_store()
        bars = store.underlying_bars(SYMBOL)
        sessions = hf.get_calendar("XNYS").sessions.astype("datetime64[D]").tolist()
        return cls(store, bars["date"].to_list(), bars["close"].to_list(), sessions)

    @property
    def first_vol_day(self) -> date:
        """The first day with a full window of returns for ``TrailingRealizedVol(21)``."""
        return self.dates[VOL_WINDOW]

    def window(self, years: int) -> tuple[date, date]:
        """The last ``years`` years of the sample (from the first day with a volatility)."""
        if years < 1:
            msg = f"years must be >= 1 (got {years})"
            raise ValueError(msg)
        end = self.dates[-1]
        after = date(end.year - years, end.month, end.day)
        start = max(self.first_vol_day, after + timedelta(days=1))
        return start, end

    def bars(self, start: date, end: date) -> list[tuple[date, float]]:
        """The ``(date, close)`` bars in ``[start, end]``."""
        return [(d, c) for d, c in zip(self.dates, self.closes, strict=True) if start <= d <= end]

    def days(self, start: date, end: date) -> DateArray:
        """The trading days in ``[start, end]`` as ``datetime64[D]``."""
        return np.array([d for d, _ in self.bars(start, end)], dtype="datetime64[D]")


def synthetic_provider(
    store: MarketDataStore, volatility: VolatilityRegime | None = None
) -> hf.SyntheticHistoricalProvider:
    """The B1/B2 provider: the demo's settings (another volatility regime if given)."""
    return hf.SyntheticHistoricalProvider(
        store,
        volatility=volatility or hf.TrailingRealizedVol(VOL_WINDOW),
        rate=RATE,
        dividend_yield=DIVIDEND_YIELD,
        spread_pct=SPREAD_PCT,
        calendar="XNYS",
    )


SURFACE_SKEW: Final = -3.0
"""The B2 surface variant's skew: the synthetic chain's own (a 10 % OTM 30-day put at 1.3x ATM)."""

SURFACE: Final = hf.VolSurface(atm=hf.TrailingRealizedVol(VOL_WINDOW), skew=SURFACE_SKEW)
"""B2's surface variant: the flat run's ATM input, mean-reverting beyond 30 days to the
documented long run, with a skew: each contract at its own strike's and tenor's volatility."""

FLAT_SURFACE: Final = hf.VolSurface(atm=hf.TrailingRealizedVol(VOL_WINDOW), long_run_vol=None)
"""The same surface without skew or term structure: it must price as the flat regime."""


def snapshot_provider_class() -> type | None:
    """``hedgeframe.providers.DailyOptionsSnapshotProvider`` once it exists, else None."""
    providers = importlib.import_module("hedgeframe.providers")
    found = getattr(providers, "DailyOptionsSnapshotProvider", None)
    return found if isinstance(found, type) else None


def portfolio_for(entry_spot: float) -> BacktestPortfolioState:
    """The benchmark portfolio for a scenario starting at ``entry_spot``."""
    collateral = UNITS * entry_spot
    return BacktestPortfolioState(
        underlying_units=UNITS,
        entry_spot=entry_spot,
        loan_amount=LOAN_FRACTION * collateral,
        margin_call_ltv=MARGIN_CALL_LTV,
        cash_balance=CASH_FRACTION * collateral,
        financing_rate=FINANCING_RATE,
    )


def build_chain_store(
    root: Path, source: MarketDataStore, *, start: date = CHAIN_START, end: date = CHAIN_END
) -> MarketDataStore:
    """Copy the sample's ``^GSPC`` and ``^VIX`` bars into ``root`` and generate the chain.

    A store that already holds option quotes is reused as it is.
    """
    store = MarketDataStore(root.resolve())
    if SYMBOL in store.option_symbols():
        return store
    for symbol in (SYMBOL, VOL_SYMBOL):
        store.write_underlying_bars(source.underlying_bars(symbol))
    write_synthetic_chain(store, symbol=SYMBOL, vol_symbol=VOL_SYMBOL, start=start, end=end)
    return store


# ---------------------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridSpec:
    """One point of the template grid."""

    strikes: tuple[float, ...]
    tenor: int
    roll: int | None  # sessions before expiry; None holds to expiry

    @property
    def slug(self) -> str:
        strikes = "-".join(f"{s * 100:g}".replace(".", "_") for s in self.strikes)
        kind = "pp" if len(self.strikes) == 1 else f"ladder{len(self.strikes)}"
        policy = "hold" if self.roll is None else f"roll{self.roll}"
        return f"{kind}-{strikes}-{self.tenor}d-{policy}"

    def build(self, index: int) -> StrategyTemplate:
        policy = (
            RollPolicy.model_validate({"policy_type": "hold_to_expiry"})
            if self.roll is None
            else RollPolicy.model_validate(
                {"policy_type": "roll_n_days_before_expiry", "days_before_expiry": self.roll}
            )
        )
        slug = f"g{index:05d}-{self.slug}"
        n = len(self.strikes)
        return hf.put_ladder(
            slug,
            spot_pcts=list(self.strikes),
            weights=[1.0 / n] * n,
            target_expiry_days=self.tenor,
            roll_policy=policy,
            template_id=slug,
        )


def grid_specs() -> list[GridSpec]:
    """Every point of the grid (see the module docstring), in a fixed order."""
    structures: list[tuple[float, ...]] = [(s,) for s in GRID_SINGLE_STRIKES]
    for n_legs in (2, 3):
        structures += [
            tuple(sorted(c, reverse=True))
            for c in itertools.combinations(GRID_LADDER_STRIKES, n_legs)
        ]
    return [
        GridSpec(strikes, tenor, roll)
        for strikes in structures
        for tenor in GRID_TENORS
        for roll in GRID_ROLLS
        if roll is None or roll <= tenor * SESSIONS_PER_CALENDAR_DAY - MIN_SESSIONS_AFTER_ENTRY
    ]


def template_grid(n: int, seed: int) -> list[StrategyTemplate]:
    """A seeded random sample of ``n`` grid templates (a prefix of one seeded shuffle)."""
    specs = grid_specs()
    if not 1 <= n <= len(specs):
        msg = f"the template grid has {len(specs)} templates; asked for {n}"
        raise ValueError(msg)
    random.Random(seed).shuffle(specs)
    return [spec.build(i) for i, spec in enumerate(specs[:n])]


# ---------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedRun:
    """A scenario, its templates and its provider: everything ``run_backtest`` needs."""

    scenario: BacktestScenario
    templates: list[StrategyTemplate]
    provider: HistoricalMarketDataProvider
    days: DateArray  # the scenario's trading days

    def run(
        self, *, keep_daily_path: bool = True, keep_trades: bool = True
    ) -> hf.BacktestRunResult:
        """One end-to-end ``hf.run_backtest`` call (the provider reads the store)."""
        return hf.run_backtest(
            self.scenario,
            self.templates,
            self.provider,
            keep_daily_path=keep_daily_path,
            keep_trades=keep_trades,
        )

    def size(self, result: hf.BacktestRunResult) -> BookSize:
        """How much work ``result`` (a run of this scenario) did."""
        return book_size(result.positions, self.days)

    def subset(self, count: int) -> PreparedRun:
        """The same scenario with only the first ``count`` templates."""
        templates = self.templates[:count]
        scenario = hf.make_scenario(
            templates,
            self.provider,
            symbol=self.scenario.symbol,
            start_date=self.scenario.start_date,
            end_date=self.scenario.end_date,
            portfolio=self.scenario.initial_portfolio,
            slug=f"{self.scenario.slug}-first-{count}",
        )
        return PreparedRun(scenario, templates, self.provider, self.days)


def _prepared(
    templates: list[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    store: MarketDataStore,
    start: date,
    end: date,
    slug: str,
) -> PreparedRun:
    bars = store.underlying_bars(SYMBOL, start, end)
    days = bars["date"].to_numpy().astype("datetime64[D]")
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol=SYMBOL,
        start_date=start,
        end_date=end,
        portfolio=portfolio_for(float(bars["close"][0])),
        slug=slug,
    )
    return PreparedRun(scenario, templates, provider, days)


def prepare_synthetic(
    market: SampleMarket, templates: list[StrategyTemplate], years: int, slug: str
) -> PreparedRun:
    """A run of ``templates`` over the last ``years`` years with the synthetic provider."""
    start, end = market.window(years)
    return _prepared(templates, synthetic_provider(market.store), market.store, start, end, slug)


def prepare_snapshot(
    chain_store: MarketDataStore, templates: list[StrategyTemplate], start: date, end: date
) -> PreparedRun:
    """A run of ``templates`` over the listed chain with the snapshot provider.

    The scenario is ``[start, end]`` clipped to the days that have a chain (the generated
    chain starts on 2014-01-03, the first VIX close of the sample).

    Raises
    ------
    LookupError
        While ``hedgeframe.providers`` does not export ``DailyOptionsSnapshotProvider``.
    """
    provider_class = snapshot_provider_class()
    if provider_class is None:
        msg = "hedgeframe.providers does not export DailyOptionsSnapshotProvider yet"
        raise LookupError(msg)
    quote_days = chain_store.option_quote_dates(SYMBOL)
    if not quote_days:
        msg = f"the store at {chain_store.root} has no {SYMBOL} option chain"
        raise LookupError(msg)
    start, end = max(start, quote_days[0]), min(end, quote_days[-1])
    provider = provider_class(chain_store, calendar="XNYS", max_stale_days=MAX_STALE_DAYS)
    return _prepared(templates, provider, chain_store, start, end, "bench-b3-snapshot")


@dataclass(frozen=True)
class EventsRun:
    """``hf.compare_events`` with the inputs ``hedgeframe demo`` gives it."""

    presets: list[Any]
    templates: list[StrategyTemplate]
    provider: HistoricalMarketDataProvider
    portfolio: Any
    compare: Callable[..., Any]

    def run(self, *, keep_daily_path: bool = True, keep_trades: bool = True) -> Any:
        """One comparison over every preset (what a run keeps does not apply)."""
        del keep_daily_path, keep_trades
        return self.compare(self.presets, self.templates, self.provider, self.portfolio)

    def size(self, comparison: Any) -> BookSize:
        """The work of every event's run, added up."""
        total = BookSize(0, 0, 0)
        for run in comparison.runs:
            days = run.daily_path["date"].unique().sort().to_numpy().astype("datetime64[D]")
            one = book_size(run.positions, days)
            total = BookSize(
                total.positions + one.positions,
                total.position_days + one.position_days,
                total.marks + one.marks,
            )
        return total

    def sessions(self, comparison: Any) -> int:
        """Trading days over all events."""
        return sum(run.daily_path["date"].n_unique() for run in comparison.runs)


def prepare_events() -> EventsRun:
    """The demo's comparison: bundled-sample presets, seed templates, the default provider.

    Built exactly as the ``demo`` command builds them (``hf.DEFAULT_PROVIDER``, the
    ``bundled-sample`` presets, ``EventPortfolio()``), so the case follows the demo.
    """
    presets = [p for p in hf.builtin_event_presets() if BUNDLED_SAMPLE_TAG in p.tags]
    provider = hf.DEFAULT_PROVIDER.build()
    return EventsRun(presets, hf.seed_templates(), provider, hf.EventPortfolio(), hf.compare_events)


def prepare(spec: dict[str, Any], market: SampleMarket) -> PreparedRun | EventsRun:
    """Rebuild a case's run from a JSON-able spec (used by fresh memory subprocesses)."""
    case = spec["case"]
    if case == "B1":
        return prepare_synthetic(market, hf.seed_templates(), int(spec["years"]), "bench-b1")
    if case == "B2":
        templates = template_grid(int(spec["templates"]), int(spec["seed"]))
        return prepare_synthetic(market, templates, int(spec["years"]), "bench-b2-sweep")
    if case == "B3":
        templates = template_grid(int(spec["templates"]), int(spec["seed"]))
        return prepare_snapshot(
            MarketDataStore(spec["chain_store"]),
            templates,
            date.fromisoformat(spec["chain_start"]),
            date.fromisoformat(spec["chain_end"]),
        )
    if case == "B4":
        return prepare_events()
    msg = f"no prepared run for case {case!r}"
    raise ValueError(msg)


# ---------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookSize:
    """How much work a run did.

    ``position_days``: for every position, the trading days it is held at the close
    (closing day minus opening day, in trading days; a hedge rolled every 21 sessions
    over 5,010 days is 5,009 position-days, as a hedge held throughout). ``marks``: the
    Black-Scholes values the run needs, one per position per trading day from its opening
    day to its closing day inclusive, except that an expiry settles at intrinsic value.
    """

    positions: int
    position_days: int
    marks: int


def book_size(positions: pl.DataFrame, days: DateArray) -> BookSize:
    """Count positions, position-days and marks from a run's ``positions`` table."""
    if positions.height == 0:
        return BookSize(0, 0, 0)
    opened = positions["opened_at"].to_numpy().astype("datetime64[D]")
    closed_at = positions["closed_at"].fill_null(days[-1].item())
    closed = closed_at.to_numpy().astype("datetime64[D]")
    first = np.searchsorted(days, opened)
    last = np.searchsorted(days, closed)
    held = int((last - first).sum())
    expired = int((positions["close_reason"] == "expiry").sum())
    return BookSize(positions.height, held, held + positions.height - expired)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Seconds of ``repeat`` calls of ``fn``, each after a garbage collection."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def timed_each(calls: Sequence[Callable[[], object]], rounds: int) -> list[float]:
    """Seconds of each call, ``rounds`` times over; one garbage collection before all.

    For calls of a few milliseconds, where a full collection (tens of milliseconds with
    the calendar and the market loaded) would cost more than the call itself.
    """
    gc.collect()
    times = []
    for _ in range(rounds):
        for call in calls:
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return times


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def spread_days(days: Sequence[date], count: int) -> list[date]:
    """``count`` days spread evenly over ``days`` (all of them when there are fewer)."""
    if len(days) <= count:
        return list(days)
    step = (len(days) - 1) / (count - 1)
    return [days[math.floor(i * step)] for i in range(count)]
