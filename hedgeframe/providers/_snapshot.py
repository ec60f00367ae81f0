"""BT-002: option prices from stored daily option-chain snapshots.

The rules, which ``docs/snapshot-provider.md`` explains and ``tests/providers`` check:

- **Trading days** are the days with an underlying bar; the underlying close comes from
  the bars, never from a quote's ``underlying_close``.
- **Usable quote**: a non-null ``mid``, at least one quoted side, and no zero ask. Other
  quotes are neither selected nor used as marks.
- **Selection** on day ``T`` reads that day's chain only (one store read of one day):
  per leg, among usable quotes of its option type, the earliest expiry on or after
  ``T + target_expiry_days``, then the strike nearest the target; a strike tie (within
  ``1e-9`` relative) goes to the higher strike for puts and the lower for calls. Because
  the expiry is the *earliest* at or beyond the target, two expiries cannot tie. Nothing
  usable: ``selected=False``.
- **Marks** of a held contract use that exact key ``(option_type, expiry, strike)``: the
  day's quote; else the last usable quote of the same contract at most ``max_stale_days``
  trading days earlier (``stale_sessions = k``); on and after expiry the intrinsic value at
  expiry; otherwise no mark (``stale_sessions = -1``). A position is never relabelled.
- **Fills**: ``fill="mid"`` trades at the mid; ``fill="bid_ask"`` buys at the ask and
  sells at the bid (a one-sided quote fills its missing side at the mid).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, Literal, get_args

import numpy as np
import polars as pl

from hedgeframe.data import MarketDataStore
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
from hedgeframe.providers._protocol import (
    BoolArray,
    ContractArrays,
    DateArray,
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

__all__ = ["DailyOptionsSnapshotProvider", "Fill"]

Fill = Literal["mid", "bid_ask"]
"""How trades fill: at the mid, or buying at the ask and selling at the bid."""

_CONTRACT_KEY: Final = ("option_type", "expiry", "strike")
_STRIKE_TIE: Final = 1e-9
"""Two strikes this close (relative to the target) in distance are a tie, so float noise in
``strike_rule.value * S_T`` cannot decide a tie the documented rule settles."""


@dataclass(frozen=True)
class _Quotes:
    """Usable quotes as arrays, in the order read: contract key, day, prices.

    ``row`` is each quote's row in the frame it came from.
    """

    row: IntArray
    is_call: BoolArray
    expiry: DateArray
    strike: FloatArray
    as_of: DateArray
    mid: FloatArray
    buy: FloatArray
    sell: FloatArray

    @classmethod
    def usable(cls, frame: pl.DataFrame, fill: Fill) -> _Quotes:
        """Keep the quotes with a usable mid, and price their fills.

        Usable: a mid, at least one quoted side, and no zero ask (the store keeps NaN out,
        so NaN here is a null cell). ``fill="bid_ask"`` buys at the ask and sells at the
        bid; a one-sided quote fills its missing side at the mid.
        """
        bid, ask, mid = (frame.get_column(name).to_numpy() for name in ("bid", "ask", "mid"))
        keep = np.flatnonzero(~np.isnan(mid) & ~(np.isnan(bid) & np.isnan(ask)) & ~(ask == 0.0))
        bid, ask, mid = bid[keep], ask[keep], mid[keep]
        if fill == "bid_ask":
            buy, sell = np.where(np.isnan(ask), mid, ask), np.where(np.isnan(bid), mid, bid)
        else:
            buy, sell = mid, mid
        return cls(
            keep,
            (frame.get_column("option_type") == "call").to_numpy()[keep],
            frame.get_column("expiry").to_numpy().astype("datetime64[D]")[keep],
            frame.get_column("strike").to_numpy()[keep],
            frame.get_column("as_of_date").to_numpy().astype("datetime64[D]")[keep],
            mid,
            buy,
            sell,
        )

    def digest(self) -> str:
        """Hash these quotes, for the run's data fingerprint."""
        digest = hashlib.sha256()
        key = (self.is_call, self.expiry, self.strike, self.as_of)
        for array in (*key, self.mid, self.buy, self.sell):
            digest.update(array.tobytes())
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class _SnapshotTimeline(MarketTimeline):
    """A timeline that also records a digest of every option-quote read made for it.

    It holds the month file that entry-day chains are cut from, one month at a time.
    """

    quote_reads: list[str] = field(default_factory=list)
    chain_month: dict[np.datetime64, pl.DataFrame] = field(default_factory=dict)


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


def _nearest_listed(
    chain: _Quotes,
    as_of_day: np.datetime64,
    is_call: BoolArray,
    strike_targets: FloatArray,
    target_expiry_days: IntArray,
) -> IntArray:
    """Each leg's chain row under the selection rule (module docstring); -1 if none.

    Sorted by ``(expiry, strike)`` within one option type, a leg's expiry is one
    ``searchsorted`` and its strike a second one on the key ``expiry_rank * scale +
    strike``, which orders the rows exactly as ``(expiry, strike)`` does.
    """
    chosen = np.full(is_call.size, -1, dtype=np.int64)
    wanted = as_of_day + target_expiry_days.astype("timedelta64[D]")
    for call in (False, True):
        legs = np.flatnonzero(is_call == call)
        rows = np.flatnonzero(chain.is_call == call)
        if legs.size == 0 or rows.size == 0:
            continue
        rows = rows[np.lexsort((chain.strike[rows], chain.expiry[rows]))]
        expiry, strike = chain.expiry[rows], chain.strike[rows]
        first = np.searchsorted(expiry, wanted[legs], side="left")
        listed = first < rows.size
        legs, first = legs[listed], first[listed]
        if legs.size == 0:
            continue
        target = strike_targets[legs]
        lo = first
        hi = np.searchsorted(expiry, expiry[first], side="right")
        rank = np.concatenate(([0], np.cumsum(expiry[1:] != expiry[:-1])))
        scale = 2.0 * max(float(strike.max()), float(target.max())) + 1.0
        at_or_above = np.searchsorted(rank * scale + strike, rank[first] * scale + target)
        above = np.minimum(at_or_above, hi - 1)
        below = np.maximum(at_or_above - 1, lo)
        gap_above = np.abs(strike[above] - target)
        gap_below = np.abs(strike[below] - target)
        tie = np.abs(gap_above - gap_below) <= _STRIKE_TIE * np.maximum(target, 1.0)
        take_above = np.where(tie, not call, gap_above < gap_below)
        chosen[legs] = rows[np.where(take_above, above, below)]
    return chosen


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

    Raises
    ------
    ValueError
        If ``max_stale_days`` is negative or ``fill`` is not a known mode.
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
    ) -> None:
        if isinstance(max_stale_days, bool) or not (
            isinstance(max_stale_days, int) and max_stale_days >= 0
        ):
            msg = f"max_stale_days must be an integer >= 0 (got {max_stale_days!r})"
            raise ValueError(msg)
        if fill not in get_args(Fill):
            msg = f"fill must be one of {', '.join(map(repr, get_args(Fill)))} (got {fill!r})"
            raise ValueError(msg)
        super().__init__(store, calendar=calendar)
        self.max_stale_days = max_stale_days
        self.fill: Fill = fill

    # -- the engine's vectorized contract ---------------------------------------------

    def load_timeline(self, symbol: str, start_date: date, end_date: date) -> MarketTimeline:
        """Read the underlying's bars up to ``end_date``; quotes are read as steps need them."""
        dates, closes = read_history(self.store, symbol, end_date)
        return _timeline(symbol, dates, closes, int(np.searchsorted(dates, as_day(start_date))))

    def _chain(self, timeline: MarketTimeline, as_of_date: date) -> tuple[pl.DataFrame, _Quotes]:
        """Return that day's chain and its usable quotes: that day's rows, nothing later.

        In a run, the day is cut from its month file, read once and kept until the run moves
        to the next month (entry days come in date order); the rows of other days are never
        looked at. Outside a run, the store reads the one day.
        """
        if isinstance(timeline, _SnapshotTimeline):
            month = as_day(as_of_date).astype("datetime64[M]")
            if month not in timeline.chain_month:
                timeline.chain_month.clear()
                first = as_date(month.astype("datetime64[D]"))
                last = as_date((month + 1).astype("datetime64[D]") - 1)
                timeline.chain_month[month] = self.store.option_quotes_between(
                    timeline.symbol, first, last
                ).sort(["option_type", "expiry", "strike"], maintain_order=True)
            frame = timeline.chain_month[month].filter(pl.col("as_of_date") == as_of_date)
        else:
            frame = self.store.option_quotes(timeline.symbol, as_of_date)
        quotes = _Quotes.usable(frame, self.fill)
        self._record(timeline, quotes)
        return frame, quotes

    @staticmethod
    def _record(timeline: MarketTimeline, quotes: _Quotes) -> None:
        if isinstance(timeline, _SnapshotTimeline):
            timeline.quote_reads.append(quotes.digest())

    def select_contracts(
        self,
        view: PointInTimeView,
        is_call: BoolArray,
        strike_targets: FloatArray,
        target_expiry_days: IntArray,
    ) -> ContractArrays:
        """Pick each leg's listed contract from the view's day's chain (module docstring)."""
        _, chain = self._chain(view.timeline, view.as_of_date)
        rows = _nearest_listed(chain, view.as_of_day, is_call, strike_targets, target_expiry_days)
        found = rows >= 0
        strike = np.full(rows.size, np.nan)
        expiry = np.full(rows.size, np.datetime64("NaT"), dtype="datetime64[D]")
        strike[found], expiry[found] = chain.strike[rows[found]], chain.expiry[rows[found]]
        return ContractArrays(is_call.copy(), strike, expiry, found)

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> MarkBatch:
        """Mark each contract on its own day (module docstring: fresh, stale, intrinsic, none).

        Quotes are read a month partition at a time, only for the months and contracts the
        batch needs, and each pair looks back only to its own day and earlier.
        """
        n = day_index.size
        mid, buy, sell = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        stale = np.full(n, -1, dtype=np.int64)
        days = timeline.days[day_index]
        expired = contracts.selected & (contracts.expiry <= days)
        live = np.flatnonzero(contracts.selected & ~expired)
        if live.size:
            found = self._quoted_marks(timeline, contracts.take(live), day_index[live])
            mid[live], buy[live], sell[live], stale[live] = found
        settled = np.flatnonzero(expired)
        if settled.size:
            value = timeline.intrinsic_at_expiry(contracts.take(settled))
            mid[settled], buy[settled], sell[settled] = value, value, value
            stale[settled] = 0
        return MarkBatch(mid, buy, sell, stale)

    def _quoted_marks(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, IntArray]:
        """Same-contract marks of live pairs: the last usable quote within the stale limit.

        Quotes are keyed ``contract * n_days + day``, so each pair's last quote on or before
        its own day is one ``searchsorted``; it is used if it is that contract's and at most
        ``max_stale_days`` trading days old.
        """
        contract_id, keys = _contract_ids(contracts)
        first_needed = max(int(day_index.min()) - self.max_stale_days, 0)
        quote_id, quote_day, quotes = self._quotes_for(
            timeline, keys, first_needed, int(day_index.max())
        )
        n = day_index.size
        if quote_id.size == 0:
            return np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), np.full(n, -1)
        n_days = timeline.n_days
        quote_key = quote_id * n_days + quote_day
        order = np.argsort(quote_key)
        last = np.searchsorted(quote_key[order], contract_id * n_days + day_index, "right") - 1
        used = order[np.maximum(last, 0)]
        age = day_index - quote_day[used]
        ok = (last >= 0) & (quote_id[used] == contract_id) & (age <= self.max_stale_days)
        mid, buy, sell = (np.where(ok, price[used], np.nan) for price in quotes)
        return mid, buy, sell, np.where(ok, age, -1)

    def _quotes_for(
        self, timeline: MarketTimeline, keys: pl.DataFrame, first: int, last: int
    ) -> tuple[IntArray, IntArray, tuple[FloatArray, FloatArray, FloatArray]]:
        """Usable quotes of the contracts in ``keys`` on trading days ``first..last``.

        Reads one month partition per store call (never one day at a time) and keeps only
        the held contracts' rows. Returns each quote's contract id, trading-day index and
        ``(mid, buy, sell)``; quotes dated on a day without a bar are dropped.
        """
        days = timeline.days[first : last + 1]
        months = days.astype("datetime64[M]")
        bounds = np.flatnonzero(np.concatenate(([True], months[1:] != months[:-1], [True])))
        ids, found = [], []
        for lo, hi in itertools.pairwise(bounds.tolist()):
            month = self.store.option_quotes_between(
                timeline.symbol, as_date(days[lo]), as_date(days[hi - 1])
            ).join(keys, on=list(_CONTRACT_KEY), how="inner")
            quotes = _Quotes.usable(month, self.fill)
            self._record(timeline, quotes)
            ids.append(month.get_column("contract_id").to_numpy()[quotes.row])
            found.append(quotes)
        as_of = np.concatenate([q.as_of for q in found])
        day = np.searchsorted(timeline.days, as_of)
        trading = timeline.days[np.minimum(day, timeline.n_days - 1)] == as_of
        mid = np.concatenate([q.mid for q in found])[trading]
        buy = np.concatenate([q.buy for q in found])[trading]
        sell = np.concatenate([q.sell for q in found])[trading]
        return np.concatenate(ids)[trading], day[trading], (mid, buy, sell)

    def snapshot(self, timeline: MarketTimeline | None = None) -> ProviderSnapshot:
        """Return the configuration and a fingerprint of the bars and quotes the run read."""
        config: dict[str, Any] = {
            "calendar": self._calendar.name,
            "max_stale_days": self.max_stale_days,
            "fill": self.fill,
            "store": str(self.store.root),
        }
        source = None
        if timeline is not None:
            digest = hashlib.sha256(timeline.fingerprint.encode())
            if isinstance(timeline, _SnapshotTimeline):
                for read in timeline.quote_reads:
                    digest.update(read.encode())
            source = "sha256:" + digest.hexdigest()[:32]
        return ProviderSnapshot(provider_id=self.provider_id, config=config, source_version=source)

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
        frame, chain = self._chain(view.timeline, query.as_of_date)
        is_call = np.array([query.option_type is OptionType.CALL])
        target = query.strike_rule.value * view.spot
        rows = _nearest_listed(
            chain,
            view.as_of_day,
            is_call,
            np.array([target]),
            np.array([query.target_expiry_days], dtype=np.int64),
        )
        if rows[0] < 0:
            msg = (
                f"no usable {query.option_type} quote of {query.symbol} on {query.as_of_date} "
                f"expires on or after {query.as_of_date} + {query.target_expiry_days} days"
            )
            raise MissingMarketDataError(msg)
        row = frame.row(int(chain.row[rows[0]]), named=True)
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
            f"strike: listed strike nearest {query.strike_rule.value:g} x spot {view.spot:g} "
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


def _contract_ids(contracts: ContractArrays) -> tuple[IntArray, pl.DataFrame]:
    """Give each distinct contract of a batch an id: each pair's id, and the ``keys`` frame.

    The engine sends pairs grouped by position, so only the first pair of each run of
    equal contracts enters the (sorting) ``np.unique``: any order is right, that one fast.
    """
    strike, expiry, is_call = contracts.strike, contracts.expiry, contracts.is_call
    new_run = np.ones(strike.size, dtype=bool)
    new_run[1:] = (
        (strike[1:] != strike[:-1]) | (expiry[1:] != expiry[:-1]) | (is_call[1:] != is_call[:-1])
    )
    heads = np.flatnonzero(new_run)
    record = np.empty(heads.size, dtype=[("call", bool), ("expiry", "datetime64[D]"), ("k", float)])
    record["call"], record["expiry"], record["k"] = is_call[heads], expiry[heads], strike[heads]
    distinct, run_id = np.unique(record, return_inverse=True)
    keys = pl.DataFrame(
        {
            "option_type": np.where(distinct["call"], "call", "put"),
            "expiry": distinct["expiry"],
            "strike": distinct["k"],
            "contract_id": np.arange(distinct.size, dtype=np.int64),
        },
        schema={
            "option_type": pl.String,
            "expiry": pl.Date,
            "strike": pl.Float64,
            "contract_id": pl.Int64,
        },
    )
    return run_id.astype(np.int64)[np.cumsum(new_run) - 1], keys
