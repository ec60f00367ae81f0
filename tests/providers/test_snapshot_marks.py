"""Marks, the missing-mark fallback and fills of the snapshot provider (SPEC section 6).

Seed Slice 7: "later MTM uses same contract key" and "missing mark generates warning and
applies documented fallback", on the hand-made chain of ``fixtures/listed_chain.csv``
(quoted 2024-03-01..03-08; the put 95 expiring 2024-04-19 has no quote on 2024-03-06).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fixture_markets import MISSING_QUOTE, fixture_store, load_fixture_chain
from snapshot_markets import FIX_START, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.models import MarkStatus, OptionType
from hedgeframe.providers import ContractArrays, DailyOptionsSnapshotProvider
from hedgeframe.providers._snapshot import Fill
from hedgeframe.providers._timeline import as_day

CHAIN_END = date(2024, 3, 8)
APR = date(2024, 4, 19)
MISSING_DAY = date.fromisoformat(str(MISSING_QUOTE["as_of_date"]))


@pytest.fixture
def store(tmp_path: Path) -> MarketDataStore:
    return fixture_store(tmp_path, chain=True)


def _put_95() -> hf.StrategyTemplate:
    """Selects the contract with the missing quote: 0.95 x 100 = 95, first expiry after 04-15."""
    return hf.protective_put("put-95", spot_pct=0.95, target_expiry_days=45)


def _values(result: hf.BacktestRunResult) -> dict[date, float]:
    return dict(result.daily_path.select("date", "option_market_value").iter_rows())


def _mids(strike: float) -> dict[date, float]:
    chain = load_fixture_chain().filter(option_type="put", expiry=APR, strike=strike)
    return dict(chain.select("as_of_date", "mid").iter_rows())


def test_missing_mark_carries_the_previous_mark_with_a_warning(store: MarketDataStore) -> None:
    assert MISSING_QUOTE == {
        "as_of_date": "2024-03-06",
        "option_type": "put",
        "expiry": "2024-04-19",
        "strike": 95.0,
    }
    result = run(
        DailyOptionsSnapshotProvider(store),
        [_put_95()],
        symbol="FIX",
        start=FIX_START,
        end=CHAIN_END,
    )
    position = result.positions.row(0, named=True)
    assert (position["option_type"], position["strike"], position["expiry"]) == ("put", 95.0, APR)
    values = _values(result)
    assert values[date(2024, 3, 5)] == 100 * 3.25
    assert values[MISSING_DAY] == 100 * 3.25  # the 03-05 mark, carried one session
    assert values[date(2024, 3, 7)] == 100 * 3.75
    message = (
        "2024-03-06 put-95 v1: no quote for P 95 2024-04-19; used the 2024-03-05 mark "
        "(1 session stale)"
    )
    assert result.warnings == [message]
    template = result.template_snapshots[0]
    assert result.validation_notes[f"{template.template_id}@v1"] == [message]
    assert result.summary["status"].to_list() == ["complete"]


def test_without_carry_the_template_is_incomplete_from_the_missing_day(
    store: MarketDataStore,
) -> None:
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=0)
    template = _put_95()
    result = run(provider, [template], symbol="FIX", start=FIX_START, end=CHAIN_END)
    assert result.summary["status"].to_list() == ["incomplete"]
    assert result.daily_path["date"].max() == date(2024, 3, 5)
    assert result.warnings[0] == (
        "2024-03-06 put-95 v1: no usable quote for P 95 2024-04-19; result incomplete"
    )
    # Deterministic: the same inputs give the same cut and the same tables.
    again = run(provider, [template], symbol="FIX", start=FIX_START, end=CHAIN_END)
    for name, frame in result.tables().items():
        if name not in {"summary", "comparison"}:
            assert frame.equals(again.tables()[name]), name


@pytest.mark.parametrize(
    ("max_stale_days", "last_valid", "first_missing"),
    [(5, date(2024, 3, 15), date(2024, 3, 18)), (2, date(2024, 3, 12), date(2024, 3, 13))],
)
def test_a_mark_is_carried_at_most_max_stale_days_sessions(
    store: MarketDataStore, max_stale_days: int, last_valid: date, first_missing: date
) -> None:
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=max_stale_days)
    atm = hf.protective_put("atm", target_expiry_days=45)
    result = run(provider, [atm], symbol="FIX", start=FIX_START, end=date(2024, 3, 20))
    assert result.summary["status"].to_list() == ["incomplete"]
    values = _values(result)
    assert max(values) == last_valid
    after_chain = [day for day in values if day > CHAIN_END]
    assert all(values[day] == 100 * 7.75 for day in after_chain)  # the 03-08 mid
    stale = [w for w in result.warnings if "stale)" in w]
    assert len(stale) == max_stale_days
    sessions = "1 session" if max_stale_days == 1 else f"{max_stale_days} sessions"
    assert stale[-1].endswith(f"used the 2024-03-08 mark ({sessions} stale)")
    missing = [w for w in result.warnings if w.endswith("result incomplete")]
    assert (
        missing[0]
        == f"{first_missing} atm v1: no usable quote for P 100 2024-04-19; result incomplete"
    )


def test_value_is_intrinsic_at_expiry_however_stale_the_quotes(store: MarketDataStore) -> None:
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=0)
    timeline = provider.load_timeline("FIX", FIX_START, date(2024, 4, 15))
    days = np.flatnonzero(timeline.days >= as_day(date(2024, 3, 15)))[:3].astype(np.int64)
    contracts = ContractArrays(
        np.array([False, True, False]),
        np.array([100.0, 90.0, 95.0]),
        np.array(["2024-03-15"] * 3, dtype="datetime64[D]"),
        np.ones(3, dtype=bool),
    )
    marks = provider.mark_contracts(timeline, contracts, days)
    # The 2024-03-15 close is 90: put 100 -> 10, call 90 -> 0, put 95 -> 5, on every later day.
    assert marks.mid.tolist() == [10.0, 0.0, 5.0]
    assert marks.stale_sessions.tolist() == [0, 0, 0]
    key = hf.HistoricalInstrumentKey(
        symbol="FIX", option_type=OptionType.PUT, expiry=date(2024, 3, 15), strike=100.0
    )
    position = hf.HistoricalOptionPosition(
        position_id="p",
        instrument_key=key,
        opened_at=FIX_START,
        expiry=key.expiry,
        quantity=1.0,
        entry_price=2.0,
        template_leg_id="put-100",
        source_snapshot_date=FIX_START,
    )
    mark = provider.price_open_position(position, date(2024, 4, 1))
    assert (mark.mark, mark.status, mark.stale_sessions) == (10.0, MarkStatus.INTRINSIC, 0)


def test_later_marks_use_the_same_contract_key_as_spot_moves(store: MarketDataStore) -> None:
    ladder = hf.put_ladder(
        "ladder", spot_pcts=[1.0, 0.95], weights=[0.5, 0.5], target_expiry_days=45
    )
    result = run(
        DailyOptionsSnapshotProvider(store), [ladder], symbol="FIX", start=FIX_START, end=CHAIN_END
    )
    assert sorted(result.positions["strike"].to_list()) == [95.0, 100.0]
    # Spot falls from 100 to 95; the ATM leg keeps strike 100 (never relabelled to 95).
    atm, otm = _mids(100.0), _mids(95.0)
    otm[MISSING_DAY] = otm[date(2024, 3, 5)]
    values = _values(result)
    for day, value in values.items():
        expected = 0.0 if day == CHAIN_END else 50 * atm[day] + 50 * otm[day]
        assert value == expected, day
    sold = result.trades.filter(action="sell_close").sort("strike")
    assert sold["price"].to_list() == [otm[CHAIN_END], atm[CHAIN_END]]


@pytest.mark.parametrize(("fill", "bought", "sold"), [("mid", 4.00, 7.75), ("bid_ask", 4.25, 7.50)])
def test_fills_at_the_mid_or_across_the_spread(
    store: MarketDataStore, fill: Fill, bought: float, sold: float
) -> None:
    provider = DailyOptionsSnapshotProvider(store, fill=fill)
    atm = hf.protective_put("atm", target_expiry_days=45)
    result = run(provider, [atm], symbol="FIX", start=FIX_START, end=CHAIN_END)
    buy, sell = result.trades.sort("date").iter_rows(named=True)
    assert (buy["action"], buy["price"], buy["cashflow"]) == ("buy_open", bought, -100 * bought)
    assert (sell["action"], sell["price"], sell["cashflow"]) == ("sell_close", sold, 100 * sold)
    assert _values(result)[FIX_START] == 100 * 4.00  # marks are always the mid
    assert result.provider_snapshot.config["fill"] == fill


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_stale_days": -1}, "max_stale_days = -1: Input should be greater than or"),
        ({"max_stale_days": True}, "max_stale_days = True: Input should be a valid integer"),
        ({"fill": "last"}, "fill = 'last': Input should be 'mid' or 'bid_ask'"),
    ],
)
def test_settings_are_checked(
    store: MarketDataStore, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        DailyOptionsSnapshotProvider(store, **settings)  # type: ignore[arg-type]


def test_price_open_position_refuses_a_contract_with_no_usable_mark(store: MarketDataStore) -> None:
    key = hf.HistoricalInstrumentKey(
        symbol="FIX", option_type=OptionType.PUT, expiry=APR, strike=95.0
    )
    position = hf.HistoricalOptionPosition(
        position_id="p",
        instrument_key=key,
        opened_at=FIX_START,
        expiry=APR,
        quantity=1.0,
        entry_price=2.75,
        template_leg_id="put-95",
        source_snapshot_date=FIX_START,
    )
    provider = DailyOptionsSnapshotProvider(store)
    stale = provider.price_open_position(position, MISSING_DAY)
    assert (stale.mark, stale.status, stale.stale_sessions) == (3.25, MarkStatus.STALE, 1)
    with pytest.raises(
        MissingMarketDataError,
        match="no usable quote for put 95 2024-04-19 on 2024-03-18 or in the 5 trading days",
    ):
        provider.price_open_position(position, date(2024, 3, 18))


def test_quotes_dated_on_a_day_without_a_bar_are_ignored(store: MarketDataStore) -> None:
    saturday = (
        load_fixture_chain()
        .filter(as_of_date=CHAIN_END, option_type="put", expiry=APR, strike=100.0)
        .with_columns(as_of_date=pl.lit(date(2024, 3, 9)), bid=99.0, ask=101.0, mid=100.0)
    )
    store.write_option_quotes(saturday)
    result = run(
        DailyOptionsSnapshotProvider(store),
        [hf.protective_put("atm", target_expiry_days=45)],
        symbol="FIX",
        start=FIX_START,
        end=date(2024, 3, 12),
    )
    assert _values(result)[date(2024, 3, 11)] == 100 * 7.75  # the Friday mark, not Saturday's
    assert "used the 2024-03-08 mark (1 session stale)" in result.warnings[0]


def test_the_run_records_the_configuration_and_what_it_read(
    store: MarketDataStore, tmp_path: Path
) -> None:
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=3)
    atm = hf.protective_put("atm", target_expiry_days=45)
    first = run(provider, [atm], symbol="FIX", start=FIX_START, end=CHAIN_END).provider_snapshot
    assert first.provider_id == "daily_snapshots_v1"
    assert first.config == {
        "kind": "snapshot",
        "calendar": "XNYS",
        "max_stale_days": 3,
        "fill": "mid",
        "rate": 0.0,
        "dividend_yield": 0.0,
        "fee_per_contract": 0.0,
        "fee_per_unit": 0.0,
        "missing_mark": "carry",
        "max_strike_distance_pct": None,
        "store": str(store.root),
    }
    assert first.source_version is not None
    assert first.source_version.startswith("sha256:")
    again = run(provider, [atm], symbol="FIX", start=FIX_START, end=CHAIN_END).provider_snapshot
    assert again.source_version == first.source_version
    # A quote of the held contract changes the fingerprint ...
    held = load_fixture_chain().filter(
        as_of_date=date(2024, 3, 4), option_type="put", expiry=APR, strike=100.0
    )
    changed = fixture_store(tmp_path / "changed", chain=True)
    changed.write_option_quotes(
        held.with_columns(mid=pl.col("mid") + 0.25, ask=pl.col("ask") + 0.25)
    )
    moved = run(
        DailyOptionsSnapshotProvider(changed, max_stale_days=3),
        [atm],
        symbol="FIX",
        start=FIX_START,
        end=CHAIN_END,
    )
    assert moved.provider_snapshot.source_version != first.source_version
