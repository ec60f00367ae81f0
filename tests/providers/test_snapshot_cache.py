"""The snapshot provider's per-run quote cache, on two months of the synthetic ^GSPC chain.

A run reads each month file once, for selection and marks together (the store's read
count is watched); the cache holds later days than a decision's, so a selection on day
``T`` must come out the same when everything dated after ``T`` is garbage; and the marks,
found by windows of trading days per held contract rather than by a search per pair,
must equal a plain per-pair scan of the documented rule (and their strike bisection a
``searchsorted`` per range).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from engine_helpers import roll
from hypothesis import given
from hypothesis import strategies as st
from snapshot_markets import GSPC, GSPC_END, GSPC_START, gspc_frames, gspc_store, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.providers import (
    ContractArrays,
    ContractRequest,
    DailyOptionsSnapshotProvider,
    MarketTimeline,
    _snapshot,
)
from hedgeframe.providers._snapshot import Fill
from hedgeframe.providers._timeline import as_day

TEMPLATES = [
    hf.put_ladder("ladder", spot_pcts=[1.0, 0.95], weights=[0.5, 0.5], target_expiry_days=20),
    hf.protective_put("rolled", spot_pct=0.97, target_expiry_days=30, roll_policy=roll(5)),
    hf.protective_put("short", spot_pct=1.02, target_expiry_days=10),
]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> MarketDataStore:
    return gspc_store(tmp_path_factory.mktemp("clean"))


def _counting(store: MarketDataStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Record every quote read the store serves, by method and arguments."""
    calls: list[tuple[str, Any]] = []
    for name in ("option_quote_arrays", "option_quotes_between", "option_quotes"):
        method: Callable[..., Any] = getattr(store, name)

        def counted(*args: Any, _name: str = name, _method: Any = method) -> Any:
            calls.append((_name, args))
            return _method(*args)

        monkeypatch.setattr(store, name, counted)
    return calls


@pytest.mark.parametrize(("read_ahead", "read_rows"), [(1, 0), (1, 10**9), (12, 0)])
def test_a_run_reads_each_month_once_for_selection_and_marks(
    clean: MarketDataStore, monkeypatch: pytest.MonkeyPatch, read_ahead: int, read_rows: int
) -> None:
    monkeypatch.setattr(_snapshot, "_READ_AHEAD", read_ahead)
    monkeypatch.setattr(_snapshot, "_READ_ROWS", read_rows)
    calls = _counting(clean, monkeypatch)
    result = run(
        DailyOptionsSnapshotProvider(clean), TEMPLATES, symbol=GSPC, start=GSPC_START, end=GSPC_END
    )
    opened = result.positions.get_column("opened_at").unique()
    assert opened.dt.month().n_unique() == 2  # selection needed both months, and marks too
    assert {name for name, _ in calls} == {"option_quote_arrays"}
    spans = sorted((first, last) for _, (_, first, last, _) in calls)
    assert spans[0][0] == GSPC_START
    assert spans[-1][1] == GSPC_END  # nothing after the run's last day
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end < start  # no day read twice
    months = [(first.year, first.month) for first, _ in spans]
    assert len(calls) == (2 if read_ahead == 1 else 1)
    assert months == sorted(set(months))


def _read_of(rows: int) -> _snapshot._Quotes:
    """Usable quotes of ``rows`` rows (only their count matters to the read sizing)."""
    zeros = np.zeros(rows)
    return _snapshot._Quotes(
        zeros.astype(np.int64),
        zeros.astype(bool),
        zeros.astype("datetime64[D]"),
        zeros.astype(np.int64),
        zeros,
        zeros,
        zeros,
        zeros,
    )


def _months(first: str, count: int) -> list[np.datetime64]:
    return list(np.arange(np.datetime64(first, "M"), np.datetime64(first, "M") + count))


def test_later_reads_are_sized_by_the_quotes_per_month_read_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_snapshot, "_READ_ROWS", 1_000)
    sized = _snapshot._months_to_read
    assert sized({}) == _snapshot._READ_AHEAD  # a run's first read
    year = _read_of(1_200)  # one read that brought 12 months: 100 quotes a month
    assert sized(dict.fromkeys(_months("2014-01", 12), year)) == 10
    # Two reads, each counted once: (1,200 + 3,800) quotes over 13 months, ~385 a month.
    cached = {
        **dict.fromkeys(_months("2014-01", 12), year),
        np.datetime64("2015-01"): _read_of(3_800),
    }
    assert sized(cached) == 2
    assert sized({np.datetime64("2014-01"): _read_of(50_000)}) == 1  # at least a month
    sparse = {np.datetime64("2014-01"): _read_of(0)}
    assert sized(sparse) == _snapshot._MAX_READ_MONTHS  # an empty month: the cap


def _garbage_after(root: Path, t: date) -> MarketDataStore:
    """The clean store, with every quote dated after ``t`` replaced by garbage the store
    accepts: prices times 1e6, and a contract listed at each day's exact targets."""
    bars, _, chain = gspc_frames()
    after = pl.col("as_of_date") > t
    scaled = chain.with_columns(
        pl.when(after).then(pl.col(name) * 1e6).otherwise(pl.col(name)).alias(name)
        for name in ("bid", "ask", "mid")
    )
    closes = bars.select(as_of_date="date", close="close")
    bait = (
        chain.filter(after)
        .group_by("as_of_date", "option_type")
        .agg(pl.all().first())
        .join(closes, on="as_of_date")
        .with_columns(
            strike=pl.col("close").round(2) + 0.01,
            expiry=pl.col("as_of_date").dt.offset_by("20d"),
        )
        .drop("close")
    )
    return gspc_store(root, pl.concat([scaled, bait.select(scaled.columns)]))


def _selections(store: MarketDataStore, t: date) -> tuple[list[ContractArrays], Any]:
    """Select a grid of legs on every day up to ``t``, the first day of ``t``'s month
    first, so ``t`` is cut from a read that also holds the days after it."""
    provider = DailyOptionsSnapshotProvider(store)
    timeline = provider.load_timeline(GSPC, GSPC_START, GSPC_END)
    days = [d for d in timeline.days.tolist() if d <= t]
    same_month = [d for d in days if d.month == t.month]
    legs = list(itertools.product([False, True], [0.9, 0.97, 1.0, 1.02], [7, 20, 45]))
    is_call = np.array([call for call, _, _ in legs])
    pct = np.array([pct for _, pct, _ in legs])
    tenor = np.array([tenor for _, _, tenor in legs], dtype=np.int64)
    picked = []
    for day in [same_month[0], *days]:
        view = timeline.view_at(day)
        request = ContractRequest.at_strikes(is_call, pct * view.spot, tenor)
        picked.append(provider.select_contracts(view, request))
    return picked, timeline


@pytest.mark.parametrize("t", [date(2014, 3, 12), date(2014, 3, 31), date(2014, 4, 8)])
def test_selection_on_t_is_blind_to_the_cached_days_after_it(
    clean: MarketDataStore, tmp_path: Path, t: date
) -> None:
    dirty = _garbage_after(tmp_path, t)
    picked, _ = _selections(clean, t)
    picked_dirty, timeline = _selections(dirty, t)
    for chosen, chosen_dirty in zip(picked, picked_dirty, strict=True):
        assert chosen.selected.any()
        for name in ("selected", "strike", "expiry"):
            np.testing.assert_array_equal(getattr(chosen_dirty, name), getattr(chosen, name))
    # The garbage was in the cache the selections were cut from.
    cached = timeline.months[as_day(t).astype("datetime64[M]")]
    assert timeline.days[cached.day.max()] > as_day(t)
    assert cached.mid.max() > 1e5


# marks against a plain scan ---------------------------------------------------------------


def _thinned(root: Path, seed: int) -> MarketDataStore:
    """The chain with a third of its quotes deleted and a tenth made unusable (no mid)."""
    _, _, chain = gspc_frames()
    rng = np.random.default_rng(seed)
    draw = rng.random(chain.height)
    kept = chain.filter(pl.Series(draw >= 1 / 3))
    unusable = pl.Series(rng.random(kept.height) < 0.1)
    kept = kept.with_columns(
        pl.when(unusable).then(None).otherwise(pl.col(name)).alias(name)
        for name in ("bid", "ask", "mid")
    )
    return gspc_store(root, kept)


def _pairs(
    store: MarketDataStore, timeline: MarketTimeline, seed: int
) -> tuple[ContractArrays, np.ndarray]:
    """Positions as the engine sends them (runs of days of one contract), some contracts
    never listed, then the pairs shuffled as well."""
    _, _, chain = gspc_frames()
    rng = np.random.default_rng(seed)
    listed = chain.select("option_type", "expiry", "strike").unique().sort(pl.all())
    rows = rng.integers(0, listed.height, 60)
    call = (listed.get_column("option_type") == "call").to_numpy()[rows]
    expiry = listed.get_column("expiry").to_numpy().astype("datetime64[D]")[rows]
    strike = listed.get_column("strike").to_numpy()[rows] + np.where(rng.random(60) < 0.1, 0.5, 0)
    opened = rng.integers(0, timeline.n_days - 1, 60)
    length = rng.integers(1, 15, 60)
    closed = np.minimum(opened + length, timeline.n_days - 1)
    counts = closed - opened + 1
    day = np.concatenate([np.arange(a, b + 1) for a, b in zip(opened, closed, strict=True)])
    grouped = ContractArrays(
        np.repeat(call, counts),
        np.repeat(strike, counts),
        np.repeat(expiry, counts),
        np.ones(day.size, dtype=bool),
    )
    order = rng.permutation(day.size)
    both = ContractArrays(
        np.concatenate([grouped.is_call, grouped.is_call[order]]),
        np.concatenate([grouped.strike, grouped.strike[order]]),
        np.concatenate([grouped.expiry, grouped.expiry[order]]),
        np.ones(2 * day.size, dtype=bool),
    )
    return both, np.concatenate([day, day[order]]).astype(np.int64)


def _scan(
    store: MarketDataStore,
    timeline: MarketTimeline,
    contracts: ContractArrays,
    day_index: np.ndarray,
    max_stale_days: int,
    fill: Fill,
) -> list[tuple[float, float, float, int]]:
    """The documented rule, pair by pair: intrinsic at and after expiry, else the day's
    usable quote, else the last one at most ``max_stale_days`` trading days back."""
    quotes = store.option_quotes_between(GSPC, GSPC_START, GSPC_END)
    usable = quotes.filter(
        pl.col("mid").is_not_null()
        & (pl.col("bid").is_not_null() | pl.col("ask").is_not_null())
        & (pl.col("ask").is_null() | (pl.col("ask") != 0))
    )
    book = {
        (row["as_of_date"], row["option_type"] == "call", row["expiry"], row["strike"]): row
        for row in usable.iter_rows(named=True)
    }
    days = timeline.days.tolist()
    intrinsic = timeline.intrinsic_at_expiry(contracts)
    out = []
    for i, (call, strike, expiry, d) in enumerate(
        zip(
            contracts.is_call.tolist(),
            contracts.strike.tolist(),
            contracts.expiry.tolist(),
            day_index.tolist(),
            strict=True,
        )
    ):
        if expiry <= days[d]:
            value = float(intrinsic[i])
            out.append((value, value, value, 0))
            continue
        mark = (np.nan, np.nan, np.nan, -1)
        for k in range(min(max_stale_days, d) + 1):
            row = book.get((days[d - k], call, expiry, strike))
            if row is not None:
                mid, bid, ask = row["mid"], row["bid"], row["ask"]
                if fill == "bid_ask":
                    buy, sell = (mid if ask is None else ask), (mid if bid is None else bid)
                else:
                    buy, sell = mid, mid
                mark = (mid, buy, sell, k)
                break
        out.append(mark)
    return out


@pytest.mark.parametrize(
    ("max_stale_days", "fill"), [(0, "mid"), (2, "bid_ask"), (5, "mid"), (60, "mid")]
)
@pytest.mark.parametrize("seed", [1, 2])
def test_marks_equal_a_plain_scan_of_the_rule(
    tmp_path: Path, max_stale_days: int, fill: Fill, seed: int
) -> None:
    store = _thinned(tmp_path, seed)
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=max_stale_days, fill=fill)
    timeline = provider.load_timeline(GSPC, GSPC_START, GSPC_END)
    contracts, day_index = _pairs(store, timeline, seed)
    marks = provider.mark_contracts(timeline, contracts, day_index)
    got = list(
        zip(
            marks.mid.tolist(),
            marks.buy.tolist(),
            marks.sell.tolist(),
            marks.stale_sessions.tolist(),
            strict=True,
        )
    )
    want = _scan(store, timeline, contracts, day_index, max_stale_days, fill)
    np.testing.assert_array_equal(np.array(got), np.array(want))
    stale = marks.stale_sessions  # carried (where allowed) and missing marks were tested
    assert (stale > 0).any() == (max_stale_days > 0)
    assert (stale < 0).any()


@given(
    ranges=st.lists(
        st.lists(st.integers(0, 40).map(float), max_size=12).map(sorted), min_size=1, max_size=8
    ),
    targets=st.lists(st.integers(-1, 41).map(float), min_size=1, max_size=8),
)
def test_lower_bounds_equal_a_searchsorted_per_range(
    ranges: list[list[float]], targets: list[float]
) -> None:
    """The marks' strike lookup: one bisection over many ranges of one array at once."""
    values = np.array([value for chunk in ranges for value in chunk])
    ends = np.cumsum([len(chunk) for chunk in ranges])
    pairs = list(itertools.product(range(len(ranges)), targets))
    lo = np.array([ends[r] - len(ranges[r]) for r, _ in pairs], dtype=np.int64)
    hi = np.array([ends[r] for r, _ in pairs], dtype=np.int64)
    wanted = np.array([target for _, target in pairs])
    got = _snapshot._lower_bounds(values, lo, hi, wanted)
    expected = [
        lo[i] + np.searchsorted(np.array(ranges[r]), target) for i, (r, target) in enumerate(pairs)
    ]
    assert got.tolist() == expected
