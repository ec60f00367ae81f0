"""Bad market data: refused with an error that names it, or handled by the documented
fallback with a warning -- never a silently wrong number.

- NaN / inf / zero / negative / missing close, duplicate or missing dates: the write is
  refused, ``failures`` names row, column and reason, the store is unchanged;
- unsorted dates: stored sorted; the backtest equals the one over sorted input;
- no bar on an expiry date: settled on the last close before, with a warning kept in the
  run record;
- bid > ask, negative or NaN prices, expiry before as_of_date: the write is refused;
- a chain day missing (snapshot provider): the last mark carried forward, with a warning;
- no chain on the entry day: no position, a warning, a result marked incomplete;
- a volatility index day missing: the last index close carried forward, with a warning.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, portfolio
from fixture_markets import FIXTURE_SYMBOL, fixture_store, load_fixture_bars, load_fixture_chain
from polars.testing import assert_frame_equal
from reliability_tally import Tally

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import InvalidMarketDataError
from hedgeframe.models import RunStatus, TemplateResultStatus
from hedgeframe.providers import DailyOptionsSnapshotProvider

START, END = date(2024, 3, 1), date(2024, 4, 15)


def _snapshot(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def _set_close(row: int, value: float | None) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        close = pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, pl.Float64))
        return frame.with_columns(close.otherwise(pl.col("close")).alias("close"))

    return change


BAD_BARS: dict[str, tuple[Callable[[pl.DataFrame], pl.DataFrame], str, str]] = {
    "NaN close": (_set_close(3, float("nan")), "close", "not_finite"),
    "inf close": (_set_close(3, float("inf")), "close", "not_finite"),
    "-inf close": (_set_close(3, float("-inf")), "close", "not_finite"),
    "zero close": (_set_close(3, 0.0), "close", "not_positive"),
    "negative close": (_set_close(3, -97.0), "close", "not_positive"),
    "missing close": (_set_close(3, None), "close", "missing"),
    "duplicate date": (lambda f: pl.concat([f, f.slice(3, 1)]), "symbol, date", "duplicate_key"),
    "missing date": (
        lambda f: f.with_columns(
            pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("date")).alias("date")
        ),
        "date",
        "missing",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BARS))
def test_bad_bars_are_refused_by_row_and_reason_and_change_nothing(
    tmp_path: Path, case: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    store = fixture_store(tmp_path, "flat")  # an existing store the refused write must not touch
    before = _snapshot(store.root)
    change, column, reason = BAD_BARS[case]
    frame = change(load_fixture_bars("monotonic_selloff"))
    with pytest.raises(InvalidMarketDataError) as refused:
        store.write_underlying_bars(frame)
    failures = refused.value.failures
    assert (column, reason) in set(failures.select("column", "reason").iter_rows()), failures
    assert 3 in failures["row"].to_list()
    assert str(refused.value).split("\n")[0].endswith("nothing was written")
    assert _snapshot(store.root) == before
    tally.add("bad_market_data_cases")


def test_unsorted_dates_are_stored_sorted_and_give_the_same_backtest(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    sorted_bars = load_fixture_bars("v_shape")
    shuffled = sorted_bars.sample(fraction=1.0, shuffle=True, seed=7)
    assert shuffled["date"].to_list() != sorted_bars["date"].to_list()
    results = []
    for name, frame in (("sorted", sorted_bars), ("shuffled", shuffled)):
        store = MarketDataStore(tmp_path / name)
        store.write_underlying_bars(frame)
        assert store.underlying_bars(FIXTURE_SYMBOL)["date"].is_sorted()
        provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.25))
        scenario = hf.make_scenario(
            hf.seed_templates(),
            provider,
            symbol=FIXTURE_SYMBOL,
            start_date=START,
            end_date=END,
            portfolio=portfolio(),
        )
        results.append(hf.run_backtest(scenario, hf.seed_templates(), provider, run_id="same"))
    for table in ("daily_path", "trades", "summary"):
        assert_frame_equal(getattr(results[0], table), getattr(results[1], table))
    tally.add("bad_market_data_cases")


def test_a_gap_across_an_expiry_settles_on_the_last_close_and_the_run_keeps_the_warning(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    store = fixture_store(tmp_path, "gap_day")  # no bar on 2024-03-15, a March expiry
    service = hf.BacktestService(tmp_path / "data")
    template = service.templates.save(hf.protective_put("pp-2w", target_expiry_days=14))
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.25))
    scenario = hf.make_scenario(
        [template],
        provider,
        symbol=FIXTURE_SYMBOL,
        start_date=START,
        end_date=END,
        portfolio=portfolio(),
    )
    run = service.submit(scenario, provider=provider)
    assert run.status is RunStatus.COMPLETED
    warning = "no FIX bar on the expiry 2024-03-15 of P 100 2024-03-15; settled at the 2024-03-14"
    assert any(warning in text for text in run.warnings), run.warnings
    assert any(warning in text for notes in run.validation_notes.values() for text in notes)
    settled = service.load_result(run.run_id).trades.filter(action="expire").row(0, named=True)
    assert settled["price"] == pytest.approx(100.0 - 91.0)  # the 03-14 close, never NaN
    tally.add("bad_market_data_cases")


def _quotes(**changes: object) -> pl.DataFrame:
    chain = load_fixture_chain().head(4)
    return chain.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(value, chain.schema[name]))
        .otherwise(pl.col(name))
        .alias(name)
        for name, value in changes.items()
    )


BAD_QUOTES: dict[str, tuple[dict[str, object], str, str]] = {
    "bid above ask": ({"bid": 9.0, "mid": None}, "bid", "bid_above_ask"),
    "negative bid": ({"bid": -0.5}, "bid", "negative"),
    "NaN ask": ({"ask": float("nan")}, "ask", "not_finite"),
    "NaN mid": ({"mid": float("nan")}, "mid", "not_finite"),
    "zero strike": ({"strike": 0.0}, "strike", "not_positive"),
    "expiry before as_of_date": (
        {"expiry": date(2024, 2, 16)},
        "expiry",
        "expiry_before_as_of_date",
    ),
    "unknown option type": ({"option_type": "straddle"}, "option_type", "bad_value"),
}


@pytest.mark.parametrize("case", list(BAD_QUOTES))
def test_bad_quotes_are_refused_by_row_and_reason_and_change_nothing(
    tmp_path: Path, case: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    store = fixture_store(tmp_path, chain=True)
    before = _snapshot(store.root)
    changes, column, reason = BAD_QUOTES[case]
    with pytest.raises(InvalidMarketDataError) as refused:
        store.write_option_quotes(_quotes(**changes))
    failures = refused.value.failures
    assert (2, column, reason) in set(failures.select("row", "column", "reason").iter_rows())
    assert _snapshot(store.root) == before
    tally.add("bad_market_data_cases")


CHAIN_END = date(2024, 3, 8)


def _snapshot_run(
    tmp_path: Path, drop_days: list[date], *, max_stale_days: int = 5
) -> hf.BacktestRunResult:
    store = MarketDataStore(tmp_path / "chain-store")
    store.write_underlying_bars(load_fixture_bars("monotonic_selloff"))
    chain = load_fixture_chain().filter(~pl.col("as_of_date").is_in(drop_days))
    store.write_option_quotes(chain)
    for day in drop_days:  # the day is really missing: an empty chain, not an error
        assert store.option_quotes(FIXTURE_SYMBOL, day).is_empty()
        assert day not in store.option_quote_dates(FIXTURE_SYMBOL)
    provider = DailyOptionsSnapshotProvider(store, max_stale_days=max_stale_days)
    template = hf.protective_put("pp-6w", target_expiry_days=40)
    scenario = hf.make_scenario(
        [template],
        provider,
        symbol=FIXTURE_SYMBOL,
        start_date=START,
        end_date=CHAIN_END,
        portfolio=portfolio(),
    )
    return hf.run_backtest(scenario, [template], provider)


def test_a_missing_chain_day_carries_the_last_mark_forward_with_a_warning(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    gap = date(2024, 3, 5)
    full = _snapshot_run(tmp_path / "full", [])
    holed = _snapshot_run(tmp_path / "holed", [gap])
    stale = [w for w in holed.warnings if w.startswith(f"{gap} pp-6w v1: no quote for P")]
    assert stale, holed.warnings
    assert "used the 2024-03-04 mark (1 session stale)" in stale[0]
    assert holed.summary["status"].to_list() == [TemplateResultStatus.COMPLETE.value]
    path = holed.daily_path.select("date", "option_market_value")
    values = dict(path.iter_rows())
    assert values[gap] == values[date(2024, 3, 4)]  # carried forward, not NaN, not zero
    assert np.isfinite(path["option_market_value"].to_numpy()).all()
    full_values = dict(full.daily_path.select("date", "option_market_value").iter_rows())
    assert {d: v for d, v in values.items() if d != gap} == {
        d: v for d, v in full_values.items() if d != gap
    }
    tally.add("bad_market_data_cases")


def test_no_chain_on_the_entry_day_is_a_warning_and_an_incomplete_result(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    result = _snapshot_run(tmp_path, [START])
    assert any(w.startswith(f"{START} pp-6w v1: no eligible contract") for w in result.warnings), (
        result.warnings
    )
    assert result.summary["status"].to_list() == [TemplateResultStatus.INCOMPLETE.value]
    tally.add("bad_market_data_cases")


def test_a_missing_volatility_index_day_carries_the_last_close_forward_with_a_warning(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    underlying = load_fixture_bars("v_shape")
    days = underlying["date"].to_list()
    store = MarketDataStore(tmp_path / "store")
    store.write_underlying_bars(underlying)
    index_days = [d for d in days if d != days[5]]
    store.write_underlying_bars(bars("VOLX", index_days, [20.0] * len(index_days)))
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.IndexVol("VOLX"))
    scenario = hf.make_scenario(
        hf.seed_templates(),
        provider,
        symbol=FIXTURE_SYMBOL,
        start_date=START,
        end_date=END,
        portfolio=portfolio(),
    )
    result = hf.run_backtest(scenario, hf.seed_templates(), provider)
    assert f"{days[5]}: no VOLX close; used the {days[4]} close for volatility" in result.warnings
    numbers = result.summary.select(pl.selectors.float())
    assert all(np.isfinite(numbers[c].to_numpy()).all() for c in numbers.columns)
    tally.add("bad_market_data_cases")


def test_a_random_mix_of_bad_cells_is_refused_whole_and_every_bad_row_named(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    rng = random.Random(11)
    good = load_fixture_bars("monotonic_selloff")
    store = MarketDataStore(tmp_path / "store")
    poison = [float("nan"), float("inf"), 0.0, -1.0, None]
    for _ in range(20):
        rows = sorted(rng.sample(range(good.height), rng.randint(1, 6)))
        closes = good["close"].to_list()
        for row in rows:
            closes[row] = rng.choice(poison)
        with pytest.raises(InvalidMarketDataError) as refused:
            store.write_underlying_bars(
                good.with_columns(close=pl.Series(closes, dtype=pl.Float64))
            )
        assert sorted(refused.value.failures["row"].to_list()) == rows
        assert not store.root.exists()
        tally.add("bad_market_data_cases")
