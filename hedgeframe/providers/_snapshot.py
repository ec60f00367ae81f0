"""BT-002: option prices from stored daily option-chain snapshots.

The rules, which ``docs/snapshot-provider.md`` explains and ``tests/providers`` check:

- **Trading days** are the days with an underlying bar; the underlying close comes from
  the bars, never from a quote's ``underlying_close``.
- **Usable quote**: a non-null ``mid``, at least one quoted side, and no zero ask. Other
  quotes are neither selected nor used as marks.
- **Selection** on day ``T`` uses that day's chain only (its rows of the run's quote
  cache; outside a run, one store read of one day): per leg, among usable quotes of its
  option type, the earliest expiry on or after ``T + target_expiry_days``, then the strike
  nearest the target; a strike tie (within ``1e-9`` relative) goes to the higher strike
  for puts and the lower for calls. Because the expiry is the *earliest* at or beyond the
  target, two expiries cannot tie. Nothing usable: ``selected=False``.
- **Distance** (``max_strike_distance_pct``, default none): a listed strike farther than
  that fraction from a strike target is not eligible, so the earliest expiry with an
  eligible strike is taken (warned); none at all leaves the leg unselected.
- **Marks** of a held contract use that exact key ``(option_type, expiry, strike)``: the
  day's quote; with ``missing_mark="smile"``, else the day's implied volatility of the
  contract's expiry and type interpolated in total variance between the quoted strikes
  either side, priced with Black-Scholes-Merton (warned); else the last usable quote of the
  same contract at most ``max_stale_days`` trading days earlier (``stale_sessions = k``);
  on and after expiry the intrinsic value at expiry; otherwise no mark
  (``stale_sessions = -1``). A position is never relabelled.
- **Fills**: ``fill="mid"`` trades at the mid; ``fill="bid_ask"`` buys at the ask and
  sells at the bid (a one-sided quote fills its missing side at the mid).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import Field

from hedgeframe.data import MarketDataStore
from hedgeframe.data._validation import ColumnArrays
from hedgeframe.errors import MissingMarketDataError
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
from hedgeframe.models._base import FrozenModel
from hedgeframe.pricing import (
    black_scholes_delta_is_call,
    black_scholes_price_is_call,
    implied_volatility,
)
from hedgeframe.providers._protocol import (
    BoolArray,
    ContractArrays,
    ContractRequest,
    DateArray,
    FloatArray,
    IntArray,
    MarkBatch,
    StrikeTarget,
)
from hedgeframe.providers._store_backed import (
    StoreBackedProvider,
    fingerprint_arrays,
    open_store,
    read_history,
    store_label,
)
from hedgeframe.providers._timeline import MarketTimeline, PointInTimeView, as_date, as_day

__all__ = ["DailyOptionsSnapshotProvider", "Fill", "MissingMark", "SnapshotProviderConfig"]

Fill = Literal["mid", "bid_ask"]
"""How trades fill: at the mid, or buying at the ask and selling at the bid."""

MissingMark = Literal["carry", "smile"]
"""A missing quote's mark: the contract's last one carried, or the same day's smile first."""

DAYS_PER_YEAR: Final = 365.0
_PRICES: Final = ("mid", "buy", "sell")
_QUOTE_COLUMNS: Final = ("as_of_date", "option_type", "expiry", "strike", "bid", "ask", "mid")
"""The columns a run prices with; a month read reads (and the store checks) these only."""
_READ_AHEAD: Final = 12
"""Months a run's first store read fills at most (``DailyOptionsSnapshotProvider._cached_read``)."""
_READ_ROWS: Final = 2_000_000
"""Usable quotes a later store read aims at, at the rate of the months read so far."""
_MAX_READ_MONTHS: Final = 120
"""Months one store read fills at most, however sparse the chain."""
_STRIKE_TIE: Final = 1e-9
"""Two strikes this close (relative to the target) in distance are a tie, so float noise in
``strike_rule.value * S_T`` cannot decide a tie the documented rule settles."""


@dataclass(frozen=True)
class _Quotes:
    """Usable quotes as arrays, in the store's order.

    That is by day, then option type (calls first), expiry and strike. ``day`` is each
    quote's index in the timeline's trading days; ``series`` codes its
    ``(option_type, expiry)`` (:func:`_series`).
    """

    day: IntArray
    is_call: BoolArray
    expiry: DateArray
    series: IntArray
    strike: FloatArray
    mid: FloatArray
    buy: FloatArray
    sell: FloatArray

    @classmethod
    def usable(cls, read: ColumnArrays, fill: Fill, days: DateArray) -> tuple[_Quotes, IntArray]:
        """Keep the usable quotes dated on one of ``days``, price their fills; and their rows.

        ``read`` is sorted by ``as_of_date`` (as the store returns it). Usable: a mid, at
        least one quoted side, and no zero ask (the store keeps NaN out, so NaN here is a
        null cell). ``fill="bid_ask"`` buys at the ask and sells at the bid; a one-sided
        quote fills its missing side at the mid.
        """
        bid, ask, mid = (read.values(name) for name in ("bid", "ask", "mid"))
        as_of, day_numbers = read.values("as_of_date"), days.view(np.int64)
        starts, lengths = _runs(as_of)
        run_day = np.searchsorted(day_numbers, as_of[starts])
        trading = day_numbers[np.minimum(run_day, days.size - 1)] == as_of[starts]
        usable = np.repeat(trading, lengths)
        usable &= ~np.isnan(mid) & ~(np.isnan(bid) & np.isnan(ask)) & (ask != 0.0)
        rows = np.flatnonzero(usable)
        take = slice(None) if rows.size == usable.size else rows
        bid, ask, mid = bid[take], ask[take], mid[take]
        if fill == "bid_ask":
            buy, sell = np.where(np.isnan(ask), mid, ask), np.where(np.isnan(bid), mid, bid)
        else:
            buy, sell = mid, mid
        is_call = read.equals("option_type", "call")[take]
        expiry = read.values("expiry")[take].view("datetime64[D]")
        quotes = cls(
            np.repeat(run_day, lengths)[take],
            is_call,
            expiry,
            _series(is_call, expiry),
            read.values("strike")[take],
            mid,
            buy,
            sell,
        )
        return quotes, rows

    def on_day(self, day: int) -> _Quotes:
        """Return the quotes of trading day ``day`` (a contiguous run: sorted by day)."""
        lo, hi = np.searchsorted(self.day, [day, day + 1])
        return _Quotes(*(getattr(self, name)[lo:hi] for name in _QUOTE_FIELDS))

    def digest(self, days: DateArray, fill: Fill) -> str:
        """Hash these quotes with their dates, for the run's data fingerprint.

        Days and series come in runs and are hashed as runs; the fills are hashed when they
        are not the mid.
        """
        digest = hashlib.sha256()
        day_starts, day_lengths = _runs(self.day)
        series_starts, series_lengths = _runs(self.series)
        dates = days.view(np.int64)[self.day[day_starts]]
        runs = (dates, day_lengths, self.series[series_starts], series_lengths)
        prices = (self.mid,) if fill == "mid" else (self.mid, self.buy, self.sell)
        for array in (*runs, self.strike, *prices):
            digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()[:32]


_QUOTE_FIELDS: Final = tuple(f.name for f in fields(_Quotes))


def _runs(values: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """Return the starts and lengths of the runs of equal values in ``values``."""
    changed = np.ones(values.size, dtype=bool)
    changed[1:] = values[1:] != values[:-1]
    starts = np.flatnonzero(changed)
    return starts, np.diff(np.append(starts, values.size))


@dataclass(frozen=True)
class _SnapshotTimeline(MarketTimeline):
    """A timeline that also caches the run's quotes and records what was read.

    ``months`` maps each calendar month to the usable quotes (within the run's days) of the
    store read that brought it: read the first time selection or marks need the month, and
    shared by both, so each month file is read once per run. ``quote_reads`` is a digest of
    each read, in order.
    """

    quote_reads: list[str] = field(default_factory=list)
    months: dict[np.datetime64, _Quotes] = field(default_factory=dict)
    warned: set[str] = field(default_factory=set)

    def warn(self, warning: str) -> None:
        """Add a provider warning to the run's once (marks and picks may be asked again)."""
        if warning not in self.warned:
            self.warned.add(warning)
            self.warnings.append(warning)


def _months_to_read(cached: dict[np.datetime64, _Quotes]) -> int:
    """How many months the next store read of a run asks for (see ``_cached_read``)."""
    if not cached:
        return _READ_AHEAD
    reads = {id(quotes): quotes for quotes in cached.values()}
    per_month = sum(quotes.day.size for quotes in reads.values()) / len(cached)
    return max(1, min(int(_READ_ROWS / max(per_month, 1.0)), _MAX_READ_MONTHS))


def _timeline(symbol: str, dates: DateArray, closes: FloatArray, first: int) -> MarketTimeline:
    """Build the timeline whose trading days are the bars from ``dates[first]`` on."""
    return _SnapshotTimeline(
        symbol,
        dates[first:],
        closes[first:],
        dates,
        closes,
        fingerprint=fingerprint_arrays(dates, closes),
    )


def _nearest_value(
    chain: _Quotes, values: FloatArray, as_of_day: np.datetime64, asked: ContractRequest
) -> IntArray:
    """Each leg's chain row whose ``values`` (a delta, a mid) is nearest its target; -1 if none.

    Among quotes of the leg's option type with a value, the earliest expiry on or after
    ``T + tenor``, then the nearest value; a tie (within ``1e-9`` relative) goes to the
    higher strike for puts and the lower for calls, as for strikes. Few legs ask by value
    on a day, so each is one pass over the chain.
    """
    rows = np.full(asked.size, -1, dtype=np.int64)
    has_value = ~np.isnan(values)
    wanted = _series(asked.is_call, as_of_day + asked.target_expiry_days.astype("timedelta64[D]"))
    for leg in range(asked.size):
        is_call = bool(asked.is_call[leg])
        eligible = np.flatnonzero(
            has_value & (chain.is_call == is_call) & (chain.series >= wanted[leg])
        )
        if eligible.size == 0:
            continue
        series = eligible[chain.series[eligible] == chain.series[eligible].min()]
        target = float(asked.target[leg])
        gap = np.abs(values[series] - target)
        tied = series[gap <= gap.min() + _STRIKE_TIE * max(abs(target), 1.0)]
        rows[leg] = tied.min() if is_call else tied.max()  # by strike within a series
    return rows


def _nearest_listed(
    chain: _Quotes,
    as_of_day: np.datetime64,
    is_call: BoolArray,
    strike_targets: FloatArray,
    target_expiry_days: IntArray,
) -> IntArray:
    """Each leg's chain row under the selection rule (module docstring); -1 if none.

    ``chain`` is one day's quotes, so it is sorted by ``(series, strike)``
    (:func:`_series`): a leg's series (its option type, and the first expiry on or after
    its target) is one ``searchsorted``, and its strike a second one on the key
    ``series_rank * scale + strike``, which orders the rows exactly as
    ``(series, strike)`` does.
    """
    series, strike = chain.series, chain.strike
    if series.size == 0 or is_call.size == 0:
        return np.full(is_call.size, -1, dtype=np.int64)
    wanted = _series(is_call, as_of_day + target_expiry_days.astype("timedelta64[D]"))
    found = np.searchsorted(series, wanted)
    first = np.minimum(found, series.size - 1)
    listed = (found < series.size) & (chain.is_call[first] == is_call)  # else: past its type
    last = np.searchsorted(series, series[first], side="right") - 1
    rank = np.zeros(series.size)
    np.cumsum(series[1:] != series[:-1], out=rank[1:])
    scale = 2.0 * max(float(strike.max()), float(strike_targets.max())) + 1.0
    at_or_above = np.searchsorted(rank * scale + strike, rank[first] * scale + strike_targets)
    above = np.minimum(at_or_above, last)
    below = np.maximum(at_or_above - 1, first)
    gap_above = np.abs(strike[above] - strike_targets)
    gap_below = np.abs(strike[below] - strike_targets)
    tie = np.abs(gap_above - gap_below) <= _STRIKE_TIE * np.maximum(strike_targets, 1.0)
    take_above = np.where(tie, ~is_call, gap_above < gap_below)
    return np.where(listed, np.where(take_above, above, below), -1)


class SnapshotProviderConfig(FrozenModel):
    """Everything that sets a :class:`DailyOptionsSnapshotProvider`'s prices, stored with a run.

    ``store`` is the market data folder holding the bars and option quotes (``None``: the
    bundled sample store); :meth:`build` makes the provider again, e.g. to rerun a run.
    ``rate`` and ``dividend_yield`` serve only to compute a quote's delta from its implied
    volatility where the chain has none (``delta_target`` strikes). ``fee_per_contract``
    (listed contracts) and ``fee_per_unit`` (continuous units) are paid on every opening
    and closing trade, not at expiry (SPEC 9.1).
    """

    kind: Literal["snapshot"] = "snapshot"
    store: str | None = None
    calendar: str = "XNYS"
    max_stale_days: int = Field(default=5, ge=0, le=250, strict=True)
    fill: Fill = "mid"
    rate: float = Field(default=0.0, ge=-0.5, lt=1.0, allow_inf_nan=False)
    dividend_yield: float = Field(default=0.0, ge=-0.5, lt=1.0, allow_inf_nan=False)
    fee_per_contract: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    fee_per_unit: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    missing_mark: MissingMark = "carry"
    max_strike_distance_pct: float | None = Field(default=None, gt=0.0, le=1.0, allow_inf_nan=False)

    def build(self, store: MarketDataStore | None = None) -> DailyOptionsSnapshotProvider:
        """Return the provider, on ``store`` or else the recorded one."""
        return DailyOptionsSnapshotProvider(
            store or open_store(self.store),
            calendar=self.calendar,
            max_stale_days=self.max_stale_days,
            fill=self.fill,
            rate=self.rate,
            dividend_yield=self.dividend_yield,
            fee_per_contract=self.fee_per_contract,
            fee_per_unit=self.fee_per_unit,
            missing_mark=self.missing_mark,
            max_strike_distance_pct=self.max_strike_distance_pct,
        )

    def describe(self) -> list[str]:
        """Return one readable line per setting (reports, the command line)."""
        fills = "at the mid" if self.fill == "mid" else "buys at the ask, sales at the bid"
        return [
            f"provider {DailyOptionsSnapshotProvider.provider_id} "
            f"({DailyOptionsSnapshotProvider.pricing_mode.value}): stored daily option chains",
            f"fills: {fills}; marks at the mid",
            f"missing quotes: {self._missing_words()}",
            f"strike distance: {self._distance_words()}",
            f"fees: {self.fee_per_contract:g} per listed contract, {self.fee_per_unit:g} per "
            "unit in continuous mode (opening and closing trades; none at expiry)",
            f"deltas: the chain's, else from its implied volatility at rate "
            f"{self.rate:.2%}, dividend yield {self.dividend_yield:.2%}",
            f"calendar: {self.calendar}",
            f"store: {self.store or 'the bundled sample'}",
        ]

    def _missing_words(self) -> str:
        carry = (
            f"the contract's last mark carried at most {self.max_stale_days} session(s), then "
            "the result is incomplete"
        )
        if self.missing_mark == "carry":
            return carry
        return (
            "the same day's implied volatility of the contract's expiry, interpolated in total "
            "variance between the quoted strikes either side (warned); where none bracket it, "
            + carry
        )

    def _distance_words(self) -> str:
        if self.max_strike_distance_pct is None:
            return "no limit: the nearest listed strike is taken however far from its target"
        return (
            f"a listed strike more than {self.max_strike_distance_pct:.2%} from its target is "
            "not eligible; the earliest expiry with one that is is taken (warned)"
        )

    def __str__(self) -> str:
        return "\n".join(self.describe())


class DailyOptionsSnapshotProvider(StoreBackedProvider):
    """Listed contracts and their end-of-day quotes, read from a :class:`MarketDataStore`.

    The same contract as :class:`~hedgeframe.SyntheticHistoricalProvider`, so a backtest
    switches between Black-Scholes marks and stored chains by swapping the provider. The
    selection, mark and fill rules are in this module's docstring and
    ``docs/snapshot-provider.md``.

    Parameters
    ----------
    store
        Holds the underlying's bars (the trading days and closes) and its option quotes.
    calendar
        Exchange calendar name that sets roll sessions.
    max_stale_days
        How many trading days a contract's last quote may be carried forward when a day
        has none (0: never).
    fill
        ``"mid"``, or ``"bid_ask"`` to buy at the ask and sell at the bid.
    rate, dividend_yield
        For deltas computed from implied volatility (``delta_target`` strikes) and for the
        implied volatilities of ``missing_mark="smile"``.
    fee_per_contract, fee_per_unit
        Paid on opening and closing trades (listed contracts, continuous units).
    missing_mark
        ``"carry"`` (SPEC section 6), or ``"smile"``: a missing quote is marked first from the
        same day's smile of its expiry (SPEC 9.4).
    max_strike_distance_pct
        A listed strike farther than this fraction from its target is not eligible (None:
        no limit).

    Raises
    ------
    InvalidModelError
        If ``max_stale_days`` is not an integer in [0, 250] or ``fill`` is not a known mode
        (see :class:`SnapshotProviderConfig`).
    """

    provider_id = "daily_snapshots_v1"
    pricing_mode = PricingMode.SNAPSHOT_MID

    def __init__(
        self,
        store: MarketDataStore,
        *,
        calendar: str = "XNYS",
        max_stale_days: int = 5,
        fill: Fill = "mid",
        rate: float = 0.0,
        dividend_yield: float = 0.0,
        fee_per_contract: float = 0.0,
        fee_per_unit: float = 0.0,
        missing_mark: MissingMark = "carry",
        max_strike_distance_pct: float | None = None,
    ) -> None:
        self.config = SnapshotProviderConfig(
            store=store_label(store),
            calendar=calendar,
            max_stale_days=max_stale_days,
            fill=fill,
            rate=rate,
            dividend_yield=dividend_yield,
            fee_per_contract=fee_per_contract,
            fee_per_unit=fee_per_unit,
            missing_mark=missing_mark,
            max_strike_distance_pct=max_strike_distance_pct,
        )
        super().__init__(store, calendar=calendar)
        self.max_stale_days = self.config.max_stale_days
        self.fill: Fill = self.config.fill

    # -- the engine's vectorized contract ---------------------------------------------

    def load_timeline(self, symbol: str, start_date: date, end_date: date) -> MarketTimeline:
        """Read the scenario's bars; quotes are read as steps need them.

        Stored chains need no history before the start (unlike a volatility model), so no
        earlier bar is read.

        Raises
        ------
        MissingMarketDataError
            When the store has no option quotes for ``symbol`` at all (a wrong store, or a
            chain not imported yet): every template would otherwise end on its first day.
        """
        if symbol not in self.store.option_symbols():
            msg = (
                f"the store {self.store.root} holds no option quotes for {symbol}; import a "
                "chain (`hedgeframe data import-chain`) or price with the synthetic provider"
            )
            raise MissingMarketDataError(msg)
        dates, closes = read_history(self.store, symbol, end_date, start=start_date)
        return _timeline(symbol, dates, closes, 0)

    def _cached_read(self, timeline: MarketTimeline, month: np.datetime64) -> _Quotes:
        """Return the quotes of the store read that holds ``month``: once a run, no later.

        A month not yet cached is read with the ones after it (stopping at a cached month
        and at the run's last day): a store call costs a few milliseconds whatever its
        size, and marks need every month of the run anyway. A run's first read asks for
        ``_READ_AHEAD`` months, later ones for about ``_READ_ROWS`` quotes at the rate
        of the months read so far, so a sparse chain is read in a few calls and a dense
        one in bounded pieces (:func:`_months_to_read`). Each month file is read (and its
        rows checked by the store) at most once per run, and nothing dated after the run's
        last day is read. Selection and marks cut what they need from the arrays, by day.
        """
        if not isinstance(timeline, _SnapshotTimeline):
            msg = "the timeline must come from this provider's load_timeline"
            raise TypeError(msg)
        if month not in timeline.months:
            days = timeline.days
            stop = min(
                [month + _months_to_read(timeline.months), days[-1].astype("datetime64[M]") + 1]
                + [cached for cached in timeline.months if cached > month]
            )
            first = max(month.astype("datetime64[D]"), days[0])
            last = min(stop.astype("datetime64[D]") - 1, days[-1])
            read = self.store.option_quote_arrays(
                timeline.symbol, as_date(first), as_date(last), _QUOTE_COLUMNS
            )
            quotes, _ = _Quotes.usable(read, self.fill, days)
            timeline.quote_reads.append(quotes.digest(days, self.fill))
            timeline.months.update(dict.fromkeys(np.arange(month, stop), quotes))
        return timeline.months[month]

    def select_contracts(self, view: PointInTimeView, request: ContractRequest) -> ContractArrays:
        """Pick each leg's listed contract from the view's day's chain (module docstring).

        A strike target takes the nearest listed strike; a delta target the listed contract
        whose delta is nearest (the chain's delta, else computed from its implied
        volatility); a call-premium target the listed call whose mid is nearest. The
        expiry is the earliest at or beyond ``T + tenor`` among the eligible quotes. The
        chain is that day's rows, nothing later.
        """
        read = self._cached_read(view.timeline, view.as_of_day.astype("datetime64[M]"))
        strike = np.full(request.size, np.nan)
        expiry = np.full(request.size, np.datetime64("NaT"), dtype="datetime64[D]")
        found = np.zeros(request.size, dtype=bool)
        for kind in np.unique(request.kind).tolist():
            legs = np.flatnonzero(request.kind == kind)
            asked = request.take(legs)
            if kind == StrikeTarget.STRIKE:
                chain = read.on_day(view.index)
                rows = self._nearest_eligible(view, chain, asked)
            elif kind == StrikeTarget.DELTA:
                chain, deltas = self._day_deltas(view)
                rows = _nearest_value(chain, deltas, view.as_of_day, asked)
            else:
                chain = read.on_day(view.index)
                rows = _nearest_value(chain, chain.mid, view.as_of_day, asked)
            hit = rows >= 0
            found[legs] = hit
            strike[legs[hit]] = chain.strike[rows[hit]]
            expiry[legs[hit]] = chain.expiry[rows[hit]]
        return ContractArrays(request.is_call.copy(), strike, expiry, found)

    def _nearest_eligible(
        self, view: PointInTimeView, chain: _Quotes, asked: ContractRequest
    ) -> IntArray:
        """Each leg's row by the selection rule among strikes within the distance limit.

        A leg whose nearest strike is too far tries the next expiry, until one has an
        eligible strike or none is left; each such leg is a warning.
        """
        rows = _nearest_listed(
            chain, view.as_of_day, asked.is_call, asked.target, asked.target_expiry_days
        )
        limit = self.config.max_strike_distance_pct
        if limit is None:
            return rows
        tenor = asked.target_expiry_days.copy()
        first = rows.copy()
        far = _too_far(chain, rows, asked.target, limit)
        while far.size:
            tenor[far] = (chain.expiry[rows[far]] - view.as_of_day).astype(np.int64) + 1
            rows[far] = _nearest_listed(
                chain, view.as_of_day, asked.is_call[far], asked.target[far], tenor[far]
            )
            far = far[_too_far(chain, rows[far], asked.target[far], limit)]
        for leg in np.flatnonzero(rows != first).tolist():
            self._warn_distance(view, chain, asked, leg, int(first[leg]), int(rows[leg]), limit)
        return rows

    @staticmethod
    def _warn_distance(
        view: PointInTimeView,
        chain: _Quotes,
        asked: ContractRequest,
        leg: int,
        nearest: int,
        taken: int,
        limit: float,
    ) -> None:
        kind = "C" if asked.is_call[leg] else "P"
        target = float(asked.target[leg])
        gap = abs(chain.strike[nearest] - target) / target
        outcome = (
            f"took {kind} {chain.strike[taken]:g} {as_date(chain.expiry[taken])}"
            if taken >= 0
            else "no later expiry has one"
        )
        timeline = view.timeline
        if isinstance(timeline, _SnapshotTimeline):
            timeline.warn(
                f"{view.as_of_date}: the nearest listed {kind} strike to {target:g} expiring "
                f"{as_date(chain.expiry[nearest])} is {chain.strike[nearest]:g}, {gap:.1%} away "
                f"(max_strike_distance_pct {limit:.1%}); {outcome}"
            )

    def _day_deltas(self, view: PointInTimeView) -> tuple[_Quotes, FloatArray]:
        """Read the view's day's usable quotes with each one's delta (NaN: none known).

        The chain's ``delta`` where it has one, else the Black-Scholes-Merton delta at the
        quote's ``implied_volatility`` with the day's close, the provider's rate and
        dividend yield and ``tau = (expiry - T) / 365``. One day's read, nothing later.
        """
        frame = self.store.option_quotes(view.timeline.symbol, view.as_of_date)
        chain, rows = _Quotes.usable(ColumnArrays(frame), self.fill, view.timeline.days)
        delta = frame["delta"].cast(pl.Float64).fill_null(np.nan).to_numpy()[rows]
        vol = frame["implied_volatility"].cast(pl.Float64).fill_null(np.nan).to_numpy()[rows]
        computed = np.isnan(delta) & (vol > 0.0)
        if computed.any():
            tau = (chain.expiry[computed] - view.as_of_day).astype(np.float64) / DAYS_PER_YEAR
            delta[computed] = black_scholes_delta_is_call(
                chain.is_call[computed],
                view.spot,
                chain.strike[computed],
                tau,
                vol[computed],
                self.config.rate,
                self.config.dividend_yield,
            )
        return chain, delta

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> MarkBatch:
        """Mark each contract on its own day (module docstring: fresh, stale, intrinsic, none).

        Quotes come from the run's month cache, only for the months the batch needs, and
        each pair looks back only to its own day and earlier.
        """
        n = day_index.size
        mid, buy, sell = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        stale = np.full(n, -1, dtype=np.int64)
        rows = np.flatnonzero(contracts.selected)  # usually all: then nothing is copied
        if rows.size:
            whole = rows.size == n
            pairs = contracts if whole else contracts.take(rows)
            found, age, price = self._quoted_marks(
                timeline, pairs, day_index if whole else day_index[rows]
            )
            found = rows[found]
            for name, out in zip(_PRICES, (mid, buy, sell), strict=True):
                out[found] = price.get(name, price["mid"])
            stale[found] = age
        if self.config.missing_mark == "smile":
            self._smile_marks(timeline, contracts, day_index, (mid, buy, sell), stale)
        # Expired pairs were quoted like the rest (the same contracts); they settle instead.
        expired = contracts.selected & (contracts.expiry <= timeline.days[day_index])
        settled = np.flatnonzero(expired)
        if settled.size:
            value = timeline.intrinsic_at_expiry(contracts.take(settled))
            mid[settled], buy[settled], sell[settled] = value, value, value
            stale[settled] = 0
        return MarkBatch(mid, buy, sell, stale)

    def _smile_marks(
        self,
        timeline: MarketTimeline,
        contracts: ContractArrays,
        day_index: IntArray,
        prices: tuple[FloatArray, FloatArray, FloatArray],
        stale: IntArray,
    ) -> None:
        """Mark the live pairs without a same-day quote from that day's smile, in place.

        Per day, the usable quotes of each pair's expiry and option type on that day give
        implied volatilities (the day's close as spot, the provider's rate and dividend
        yield); the quoted strikes either side of the pair's give its total variance by
        linear interpolation in ``ln K``. The mark is the Black-Scholes-Merton price there,
        traded at the mark both ways (a model price has no bid or ask). A pair with no
        quoted strike on one side, or a neighbour without an implied volatility, keeps its
        carried mark or none.
        """
        need = contracts.selected & (stale != 0) & (contracts.expiry > timeline.days[day_index])
        pairs = np.flatnonzero(need)
        for day in np.unique(day_index[pairs]).tolist():
            on_day = pairs[day_index[pairs] == day]
            as_of = timeline.days[day]
            chain = self._cached_read(timeline, as_of.astype("datetime64[M]")).on_day(day)
            wanted = contracts.take(on_day)
            spot = float(timeline.closes[day])
            sigma, below, above = _smile_volatility(
                chain, wanted, as_of, spot, self.config.rate, self.config.dividend_yield
            )
            marked = np.flatnonzero(~np.isnan(sigma))
            if marked.size == 0:
                continue
            tau = (wanted.expiry[marked] - as_of).astype(np.float64) / DAYS_PER_YEAR
            value = black_scholes_price_is_call(
                wanted.is_call[marked],
                spot,
                wanted.strike[marked],
                tau,
                sigma[marked],
                self.config.rate,
                self.config.dividend_yield,
            )
            for out in prices:
                out[on_day[marked]] = value
            stale[on_day[marked]] = 0
            if isinstance(timeline, _SnapshotTimeline):
                for i in marked.tolist():
                    kind = "C" if wanted.is_call[i] else "P"
                    timeline.warn(
                        f"{as_date(as_of)}: no quote for {kind} {wanted.strike[i]:g} "
                        f"{as_date(wanted.expiry[i])}; marked at {sigma[i]:.1%} implied "
                        "volatility, interpolated in total variance between the "
                        f"{below[i]:g} and {above[i]:g} quotes of the day (missing_mark='smile')"
                    )

    def _quoted_marks(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> tuple[IntArray, IntArray, dict[str, FloatArray]]:
        """Same-contract marks of the pairs: the last usable quote within the stale limit.

        Returns the pairs that have a mark, its age in trading days, and its prices (``mid``,
        and with ``fill="bid_ask"`` ``buy`` and ``sell``).

        Each held contract's quotes are put in its window of slots (:class:`_HeldContracts`),
        a store read at a time, and a running maximum carries each quote forward to the later
        slots: a pair reads, at its own slot, its contract's last quote on or before its day
        and how many trading days old it is. Nothing dated after a pair's day can reach it.
        """
        held = _HeldContracts.of(contracts, day_index, self.max_stale_days)
        needed = timeline.days[held.slot_day.min() : day_index.max() + 1]
        months = np.unique(needed.astype("datetime64[M]"))
        names = _PRICES if self.fill == "bid_ask" else ("mid",)
        quoted = np.full(held.slots, -1)
        price = {name: np.empty(held.slots) for name in names}
        reads = {id(quotes): quotes for quotes in (self._cached_read(timeline, m) for m in months)}
        for quotes in reads.values():
            rows, slot = held.slots_of(quotes)
            quoted[slot] = slot
            for name in names:
                price[name][slot] = getattr(quotes, name)[rows]
        latest = np.maximum.accumulate(quoted)[held.pair_slot]
        age = held.pair_slot - latest
        found = np.flatnonzero((latest >= held.pair_window) & (age <= self.max_stale_days))
        at = latest[found]
        return found, age[found], {name: values[at] for name, values in price.items()}

    def snapshot(self, timeline: MarketTimeline | None = None) -> ProviderSnapshot:
        """Return the configuration and a fingerprint of the bars and quotes the run read."""
        source = None
        if timeline is not None:
            digest = hashlib.sha256(timeline.fingerprint.encode())
            if isinstance(timeline, _SnapshotTimeline):
                for read in timeline.quote_reads:
                    digest.update(read.encode())
            source = "sha256:" + digest.hexdigest()[:32]
        return ProviderSnapshot(
            provider_id=self.provider_id,
            config=self.config.model_dump(mode="json"),
            source_version=source,
        )

    # -- the seed's point-in-time methods ----------------------------------------------

    def _timeline_ending(self, symbol: str, as_of_date: date, sessions: int) -> MarketTimeline:
        """Build a timeline of the last ``sessions`` bars up to ``as_of_date`` (a bar day)."""
        dates, closes = read_history(self.store, symbol, as_of_date)
        if dates.size == 0 or dates[-1] != as_day(as_of_date):
            msg = f"no {symbol} bar on {as_of_date}; options are priced on trading days only"
            raise MissingMarketDataError(msg)
        return _timeline(symbol, dates, closes, max(dates.size - sessions, 0))

    def get_option_snapshot(self, query: OptionSnapshotQuery) -> OptionSnapshot:
        """Return the listed contract a leg opens on ``query.as_of_date``, with its quote.

        Raises
        ------
        MissingMarketDataError
            If the day has no bar, or no usable quote fits the query.
        """
        view = self._timeline_ending(query.symbol, query.as_of_date, 1).view(0)
        frame = self.store.option_quotes(query.symbol, query.as_of_date)
        chain, frame_rows = _Quotes.usable(ColumnArrays(frame), self.fill, view.timeline.days)
        is_call = np.array([query.option_type is OptionType.CALL])
        target = query.strike_rule.number * view.spot
        rows = self._nearest_eligible(
            view,
            chain,
            ContractRequest.at_strikes(
                is_call, np.array([target]), np.array([query.target_expiry_days], dtype=np.int64)
            ),
        )
        if rows[0] < 0:
            msg = (
                f"no usable {query.option_type} quote of {query.symbol} on {query.as_of_date} "
                f"expires on or after {query.as_of_date} + {query.target_expiry_days} days"
            )
            raise MissingMarketDataError(msg)
        row = frame.row(int(frame_rows[rows[0]]), named=True)
        key = HistoricalInstrumentKey(
            symbol=query.symbol,
            option_type=query.option_type,
            expiry=row["expiry"],
            strike=row["strike"],
        )
        quote = HistoricalOptionQuote(
            instrument_key=key,
            bid=row["bid"],
            ask=row["ask"],
            mid=row["mid"],
            implied_volatility=row["implied_volatility"],
            delta=row["delta"],
            open_interest=row["open_interest"],
            volume=row["volume"],
            source=row["source"],
        )
        notes = [
            f"expiry: earliest listed on or after {query.as_of_date} + "
            f"{query.target_expiry_days} days",
            f"strike: listed strike nearest {query.strike_rule.number:g} x spot {view.spot:g} "
            f"= {target:g} (ties: {'lower' if is_call[0] else 'higher'})",
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
        """Mark the position's contract on ``as_of_date`` by the same rules as a run.

        Raises
        ------
        MissingMarketDataError
            If the day has no bar, or the contract has no usable mark (no quote within
            ``max_stale_days`` trading days and not expired).
        """
        key = position.instrument_key
        timeline = self._timeline_ending(key.symbol, as_of_date, self.max_stale_days + 1)
        contracts = ContractArrays(
            np.array([key.option_type is OptionType.CALL]),
            np.array([key.strike]),
            np.array([as_day(key.expiry)]),
            np.ones(1, dtype=bool),
        )
        day = np.array([timeline.n_days - 1], dtype=np.int64)
        marks = self.mark_contracts(timeline, contracts, day)
        stale = int(marks.stale_sessions[0])
        if stale < 0:
            msg = (
                f"no usable quote for {key.option_type} {key.strike:g} {key.expiry} on "
                f"{as_of_date} or in the {self.max_stale_days} trading days before"
            )
            raise MissingMarketDataError(msg)
        if key.expiry <= as_of_date:
            status = MarkStatus.INTRINSIC
        else:
            status = MarkStatus.STALE if stale else MarkStatus.FRESH
        return HistoricalOptionMark(
            instrument_key=key,
            as_of_date=as_of_date,
            mark=float(marks.mid[0]),
            status=status,
            stale_sessions=stale,
            source=self.provider_id,
        )


@dataclass(frozen=True)
class _HeldContracts:
    """The distinct contracts of a batch of ``(contract, day)`` pairs, and their windows.

    A contract's window is the trading days from its first pair's day less
    ``max_stale_days`` (not before the run's first day) to its last pair's day. Windows
    are laid end to end as ``slots``; slot ``s`` is the contract ``slot_series[s]``,
    ``slot_strike[s]`` (``series``: :func:`_series`) on trading day ``slot_day[s]``. A
    pair sits at ``pair_slot``, and its contract's window starts at ``pair_window``.
    """

    slots: int
    slot_day: IntArray
    slot_series: IntArray
    slot_strike: FloatArray
    pair_slot: IntArray
    pair_window: IntArray

    @classmethod
    def of(
        cls, contracts: ContractArrays, day_index: IntArray, max_stale_days: int
    ) -> _HeldContracts:
        """Find each pair's contract and slot.

        The engine sends pairs grouped by position, so only the first pair of each run of
        equal contracts enters the (sorting) ``np.unique``: any order is right, that one fast.
        """
        is_call, expiry, strike = contracts.is_call, contracts.expiry, contracts.strike
        new_run = np.ones(strike.size, dtype=bool)
        new_run[1:] = (strike[1:] != strike[:-1]) | (expiry[1:] != expiry[:-1])
        new_run[1:] |= is_call[1:] != is_call[:-1]
        heads = np.flatnonzero(new_run)
        distinct_series, series_rank = np.unique(
            _series(is_call[heads], expiry[heads]), return_inverse=True
        )
        distinct_strikes, strike_rank = np.unique(strike[heads], return_inverse=True)
        held, run_contract = np.unique(
            series_rank * distinct_strikes.size + strike_rank, return_inverse=True
        )
        first = np.full(held.size, np.iinfo(np.int64).max)
        last = np.full(held.size, -1)
        np.minimum.at(first, run_contract, np.minimum.reduceat(day_index, heads))
        np.maximum.at(last, run_contract, np.maximum.reduceat(day_index, heads))
        first = np.maximum(first - max_stale_days, 0)
        length = last - first + 1
        offset = np.cumsum(length) - length
        slots = int(length.sum())
        run_length = np.diff(np.append(heads, strike.size))
        return cls(
            slots,
            np.arange(slots) - np.repeat(offset - first, length),
            np.repeat(distinct_series[held // distinct_strikes.size], length),
            np.repeat(distinct_strikes[held % distinct_strikes.size], length),
            np.repeat((offset - first)[run_contract], run_length) + day_index,
            np.repeat(offset[run_contract], run_length),
        )

    def slots_of(self, quotes: _Quotes) -> tuple[IntArray, IntArray]:
        """Return the rows of ``quotes`` that quote a held contract in its window, and slots.

        Each slot on a day of ``quotes`` looks its contract up: its day's run of the series
        (the quotes are in the store's order: by day, series, then strike) by one
        ``searchsorted``, then its strike within that run by a binary search of all such
        slots at once (:func:`_lower_bounds`).
        """
        if quotes.day.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        day_series = _day_series(quotes.day, quotes.series)
        starts, lengths = _runs(day_series)
        slot = np.flatnonzero((self.slot_day >= quotes.day[0]) & (self.slot_day <= quotes.day[-1]))
        wanted = _day_series(self.slot_day[slot], self.slot_series[slot])
        run = np.minimum(np.searchsorted(day_series[starts], wanted), starts.size - 1)
        listed = day_series[starts[run]] == wanted
        slot, run = slot[listed], run[listed]
        strike = self.slot_strike[slot]
        ends = starts[run] + lengths[run]
        rows = _lower_bounds(quotes.strike, starts[run], ends, strike)
        quoted = rows < ends
        quoted[quoted] = quotes.strike[rows[quoted]] == strike[quoted]
        return rows[quoted], slot[quoted]


def _too_far(chain: _Quotes, rows: IntArray, targets: FloatArray, limit: float) -> IntArray:
    """Return the legs whose row is more than ``limit`` (a fraction) from their target."""
    found = rows >= 0
    gap = np.abs(chain.strike[np.where(found, rows, 0)] - targets)
    return np.flatnonzero(found & (gap > limit * np.abs(targets)))


def _smile_volatility(
    chain: _Quotes,
    wanted: ContractArrays,
    as_of_day: np.datetime64,
    spot: float,
    rate: float,
    dividend_yield: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each wanted contract's volatility from one day's quotes of its series.

    The quoted strikes just below and above it (``chain`` is one day's quotes, sorted by
    series and strike) give implied volatilities, and total variance is interpolated
    linearly in ``ln K`` between them. Returns the volatility (NaN where a side is missing
    or has no implied volatility) and the two strikes used.
    """
    series = _series(wanted.is_call, wanted.expiry)
    lo = np.searchsorted(chain.series, series, side="left")
    hi = np.searchsorted(chain.series, series, side="right")
    at = _lower_bounds(chain.strike, lo, hi, wanted.strike)
    bracketed = (at > lo) & (at < hi)
    below, above = np.where(bracketed, at - 1, 0), np.where(bracketed, at, 0)
    tau = (wanted.expiry - as_of_day).astype(np.float64) / DAYS_PER_YEAR
    both = np.concatenate([below, above])
    vol = implied_volatility(
        np.concatenate([wanted.is_call, wanted.is_call]),
        np.full(both.size, spot),
        chain.strike[both],
        np.concatenate([tau, tau]),
        chain.mid[both],
        rate,
        dividend_yield,
    ).reshape(2, -1)
    k_low, k_high = chain.strike[below], chain.strike[above]
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.log(wanted.strike / k_low) / np.log(k_high / k_low)
        variance = vol[0] ** 2 + weight * (vol[1] ** 2 - vol[0] ** 2)
    sigma = np.where(bracketed, np.sqrt(variance), np.nan)
    return sigma, k_low, k_high


def _lower_bounds(values: FloatArray, lo: IntArray, hi: IntArray, targets: FloatArray) -> IntArray:
    """Per target, the first index in ``lo..hi-1`` whose value is at least it (``hi``: none).

    ``values`` is ascending within each range; one vectorized bisection step halves every
    range at once, so ranges of up to ``n`` rows take ``n.bit_length()`` steps.
    """
    lo, hi = lo.copy(), hi.copy()
    for _ in range(int((hi - lo).max(initial=0)).bit_length()):
        mid = (lo + hi) >> 1
        right = (lo < hi) & (values[np.minimum(mid, values.size - 1)] < targets)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(right, hi, mid)
    return lo


_PUT_SERIES: Final = 1 << 40
"""Added to a put's expiry day number, so series codes sort calls first, as the store sorts
``option_type`` text; day numbers are far below it."""
_DAY_SHIFT: Final = 42
"""A trading-day index shifted this far left leaves room below for any series code (day
numbers of years 1000-9999 and ``_PUT_SERIES`` are below ``1 << 41`` in size)."""


def _series(is_call: BoolArray, expiry: DateArray) -> IntArray:
    """``(option_type, expiry)`` as one integer that sorts as the store sorts them."""
    code: IntArray = np.where(is_call, 0, _PUT_SERIES) + expiry.view(np.int64)
    return code


def _day_series(day: IntArray, series: IntArray) -> IntArray:
    """``(trading day index, series)`` as one integer that sorts as the pairs do."""
    code: IntArray = (day << _DAY_SHIFT) + series
    return code
