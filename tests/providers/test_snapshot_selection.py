"""Selection rules of the snapshot provider (SPEC section 6), one rule per test.

Seed Slice 7: "entry picks nearest valid listed contract from snapshot". Each test writes
a tiny hand-made chain for symbol ``OPT`` (close 100 on every day), so the expected
contract can be read off the rows.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars
from fixture_markets import fixture_store
from snapshot_markets import FIX_START, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.models import OptionType, StrikeRule
from hedgeframe.providers import ContractArrays, ContractRequest, DailyOptionsSnapshotProvider
from hedgeframe.providers._timeline import as_date

T = date(2024, 3, 1)
DAYS = [T, date(2024, 3, 4), date(2024, 3, 5)]
MAR, APR, MAY = date(2024, 3, 15), date(2024, 4, 19), date(2024, 5, 17)
Quote = tuple[str, date, float, float | None, float | None, float | None]
"""``(option_type, expiry, strike, bid, ask, mid)``; a null mid is filled from both sides."""


def _grid(kind: str, expiry: date, strikes: tuple[float, ...] = (90, 95, 100, 105)) -> list[Quote]:
    return [(kind, expiry, strike, 1.0, 2.0, None) for strike in strikes]


def _store(tmp_path: Path, quotes: list[Quote], day: date = T) -> MarketDataStore:
    store = MarketDataStore(tmp_path / "store")
    store.write_underlying_bars(bars("OPT", DAYS, [100.0] * len(DAYS)))
    if quotes:
        store.write_option_quotes(
            pl.DataFrame(
                [
                    {
                        "symbol": "OPT",
                        "as_of_date": day,
                        "option_type": kind,
                        "expiry": expiry,
                        "strike": float(strike),
                        "bid": bid,
                        "ask": ask,
                        "mid": mid,
                    }
                    for kind, expiry, strike, bid, ask, mid in quotes
                ],
                schema_overrides={"bid": pl.Float64, "ask": pl.Float64, "mid": pl.Float64},
            )
        )
    return store


def _select(
    store: MarketDataStore,
    legs: list[tuple[str, float, int]],
    day: date = T,
) -> ContractArrays:
    """Select ``(option_type, strike target, tenor days)`` legs on ``day``."""
    provider = DailyOptionsSnapshotProvider(store)
    view = provider.load_timeline("OPT", DAYS[0], DAYS[-1]).view_at(day)
    return provider.select_contracts(
        view,
        ContractRequest.at_strikes(
            np.array([kind == "call" for kind, _, _ in legs]),
            np.array([target for _, target, _ in legs], dtype=np.float64),
            np.array([tenor for _, _, tenor in legs], dtype=np.int64),
        ),
    )


def _picked(contracts: ContractArrays) -> list[tuple[float, date] | None]:
    return [
        (float(strike), as_date(expiry)) if selected else None
        for strike, expiry, selected in zip(
            contracts.strike, contracts.expiry, contracts.selected, strict=True
        )
    ]


def test_expiry_is_the_earliest_on_or_after_entry_plus_tenor(tmp_path: Path) -> None:
    store = _store(tmp_path, _grid("put", MAR) + _grid("put", APR) + _grid("put", MAY))
    # T + 30 = 03-31: 03-15 is nearer (16 days) but before it; 04-19 is the first after.
    # T + 14 = 03-15 exactly: "at or beyond" includes it. T + 48 = 04-18 -> 04-19.
    picked = _select(store, [("put", 100.0, 30), ("put", 100.0, 14), ("put", 100.0, 48)])
    assert _picked(picked) == [(100.0, APR), (100.0, MAR), (100.0, APR)]


def test_strike_is_the_listed_strike_nearest_the_target(tmp_path: Path) -> None:
    store = _store(tmp_path, _grid("put", APR) + _grid("call", APR))
    legs = [("put", 97.0, 30), ("put", 101.0, 30), ("put", 80.0, 30), ("call", 111.0, 30)]
    assert _picked(_select(store, legs)) == [(95.0, APR), (100.0, APR), (90.0, APR), (105.0, APR)]


def test_a_strike_tie_goes_higher_for_puts_and_lower_for_calls(tmp_path: Path) -> None:
    store = _store(tmp_path, _grid("put", APR) + _grid("call", APR))
    # 97.5 is 2.5 from both 95 and 100; float noise in pct * spot must not break the tie.
    noisy = np.nextafter(97.5, 0.0)
    legs = [("put", 97.5, 30), ("call", 97.5, 30), ("put", noisy, 30), ("call", noisy, 30)]
    assert _picked(_select(store, legs)) == [(100.0, APR), (95.0, APR)] * 2


def test_unusable_quotes_are_not_eligible(tmp_path: Path) -> None:
    quotes: list[Quote] = [
        ("put", APR, 100.0, None, None, None),  # no bid and no ask
        ("put", APR, 95.0, 0.0, 0.0, None),  # zero ask
        ("put", APR, 105.0, None, 1.0, None),  # one side and no mid: null mid
        ("put", APR, 90.0, None, 2.0, 1.5),  # one side with a mid: usable
        ("put", APR, 110.0, 0.0, 0.05, None),  # zero bid, positive ask: usable (mid 0.025)
    ]
    store = _store(tmp_path, quotes)
    stored = store.option_quotes("OPT", T).sort("strike")
    assert stored["mid"].to_list() == [1.5, None, None, None, 0.025]
    picked = _select(store, [("put", 99.0, 30), ("put", 104.0, 30), ("put", 50.0, 30)])
    assert _picked(picked) == [(90.0, APR), (110.0, APR), (90.0, APR)]


def test_an_expiry_with_no_usable_quote_of_the_type_is_skipped(tmp_path: Path) -> None:
    dead_april: list[Quote] = [("put", APR, k, None, None, None) for k in (95.0, 100.0)]
    store = _store(tmp_path, dead_april + _grid("call", APR) + _grid("put", MAY, (80.0, 125.0)))
    # The April calls are usable but a put leg reads puts only: next put expiry, May.
    picked = _select(store, [("put", 100.0, 30), ("call", 100.0, 30)])
    assert _picked(picked) == [(80.0, MAY), (100.0, APR)]


def test_nothing_eligible_leaves_the_leg_unselected(tmp_path: Path) -> None:
    store = _store(tmp_path, _grid("put", MAR) + _grid("put", APR))
    # T + 60 is after the last listed expiry; no calls are listed at all.
    legs = [("put", 100.0, 60), ("put", 100.0, 30), ("call", 100.0, 30)]
    picked = _select(store, legs)
    assert _picked(picked) == [None, (100.0, APR), None]
    assert np.isnan(picked.strike[~picked.selected]).all()
    assert np.isnat(picked.expiry[~picked.selected]).all()
    # A day without any chain: nothing is selected.
    assert _picked(_select(store, legs, day=DAYS[1])) == [None, None, None]


def test_selection_reads_only_the_entry_days_chain(tmp_path: Path) -> None:
    store = _store(tmp_path, _grid("put", APR, (95.0, 100.0)))
    # A later day lists a strike nearer the target; day T must not see it.
    later: list[Quote] = [("put", APR, 98.0, 1.0, 2.0, None)]
    store.write_option_quotes(_store(tmp_path / "b", later, DAYS[1]).option_quotes("OPT", DAYS[1]))
    assert _picked(_select(store, [("put", 98.0, 30)])) == [(100.0, APR)]
    assert _picked(_select(store, [("put", 98.0, 30)], day=DAYS[1])) == [(98.0, APR)]


def test_option_snapshot_returns_the_stored_quote_and_the_rules_used(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, chain=True)
    provider = DailyOptionsSnapshotProvider(store)
    query = hf.OptionSnapshotQuery(
        symbol="FIX",
        as_of_date=FIX_START,
        target_expiry_days=30,
        strike_rule=StrikeRule(value=0.95),
    )
    snapshot = provider.get_option_snapshot(query)
    quote = snapshot.selected_contract
    assert quote.instrument_key == hf.HistoricalInstrumentKey(
        symbol="FIX", option_type=OptionType.PUT, expiry=APR, strike=95.0
    )
    assert (quote.bid, quote.ask, quote.mid) == (2.5, 3.0, 2.75)
    assert (quote.open_interest, quote.volume, quote.source) == (1000, 100, "fixture:hand-made")
    assert snapshot.underlying_close == 100.0
    assert snapshot.source == "daily_snapshots_v1"
    assert snapshot.selection_notes == [
        "expiry: earliest listed on or after 2024-03-01 + 30 days",
        "strike: listed strike nearest 0.95 x spot 100 = 95 (ties: higher)",
    ]
    too_long = query.model_copy(update={"target_expiry_days": 200})
    with pytest.raises(MissingMarketDataError, match="no usable put quote of FIX on 2024-03-01"):
        provider.get_option_snapshot(too_long)
    saturday = query.model_copy(update={"as_of_date": date(2024, 3, 2)})
    with pytest.raises(MissingMarketDataError, match="no FIX bar on 2024-03-02"):
        provider.get_option_snapshot(saturday)


def test_an_unselected_leg_makes_its_template_incomplete_end_to_end(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, chain=True)
    provider = DailyOptionsSnapshotProvider(store)
    templates = [
        hf.protective_put("listed", target_expiry_days=45),
        # From 2024-03-01, 120 days is after the last listed expiry (2024-06-21).
        hf.protective_put("too-long", target_expiry_days=120),
        # Expires 2024-03-15, after the chain ends (03-08): no replacement can be selected.
        hf.protective_put("short", target_expiry_days=3),
    ]
    result = run(provider, templates, symbol="FIX", start=FIX_START, end=date(2024, 3, 20))
    status = dict(result.summary.select("template_slug", "status").iter_rows())
    assert status == {"listed": "incomplete", "too-long": "incomplete", "short": "incomplete"}
    assert "2024-03-01 too-long v1: no eligible contract for leg 'put-100'" in result.warnings
    assert "2024-03-15 short v1: no eligible contract for leg 'put-100'" in result.warnings
    last_day = result.daily_path.group_by("template_slug").agg(pl.col("date").max())
    assert dict(last_day.iter_rows()) == {"listed": date(2024, 3, 15), "short": date(2024, 3, 14)}
    # Per-day columns are shared by templates cut at different days: each row still
    # carries its own day's values.
    closes = dict(store.underlying_bars("FIX").select("date", "close").iter_rows())
    for day, close in result.daily_path.select("date", "spot_close").iter_rows():
        assert close == closes[day], day
    per_day = result.daily_path.group_by("date").agg(
        pl.col("spot_close", "underlying_value", "ltv_unhedged", "loan_amount").n_unique()
    )
    assert per_day.select(pl.exclude("date").max()).row(0) == (1, 1, 1, 1)
    notes = result.validation_notes
    too_long = templates[1]
    assert notes[f"{too_long.template_id}@v1"] == [
        "2024-03-01 too-long v1: no eligible contract for leg 'put-100'"
    ]
