"""BT-002 additions of SPEC 9.4: ``missing_mark="smile"`` and ``max_strike_distance_pct``.

A missing quote marked from the same day's smile: on the synthetic chain (a smooth smile)
a removed quote comes back within 0.5 % of its mid, much closer than the carried mark; on
the hand-made fixture chain the mark is QuantLib's price at the total variance
interpolated between QuantLib's implied volatilities of the neighbouring strikes. A strike
too far from its target is not eligible: the next expiry with one that is is taken.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from fixture_markets import MISSING_QUOTE, fixture_store, load_fixture_chain
from quantlib_oracle import quantlib_implied_volatility, quantlib_price_and_delta
from snapshot_markets import FIX_START, GSPC, GSPC_END, gspc_frames, gspc_store, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.models import OptionType
from hedgeframe.providers import DailyOptionsSnapshotProvider

START = date(2014, 3, 3)
REMOVED_ON = date(2014, 3, 20)


def _put(pct: float = 0.95, days: int = 60) -> hf.StrategyTemplate:
    return hf.protective_put(f"put-{pct:g}", spot_pct=pct, target_expiry_days=days)


def _held(store: MarketDataStore, template: hf.StrategyTemplate) -> dict[str, object]:
    result = run(
        DailyOptionsSnapshotProvider(store), [template], symbol=GSPC, start=START, end=GSPC_END
    )
    held: dict[str, object] = result.positions.row(0, named=True)
    return held


def _without(chain: pl.DataFrame, day: date, held: dict[str, object]) -> pl.DataFrame:
    return chain.filter(
        ~(
            (pl.col("as_of_date") == day)
            & (pl.col("option_type") == "put")
            & (pl.col("expiry") == held["expiry"])
            & (pl.col("strike") == held["strike"])
        )
    )


def _mark_on(result: hf.BacktestRunResult, day: date) -> float:
    value = result.daily_path.filter(pl.col("date") == day)["option_market_value"][0]
    return float(value) / 100.0  # 100 units


@pytest.fixture(scope="module")
def removed(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[MarketDataStore, dict[str, object], float]:
    """The synthetic chain without the held 95 % put's quote on 2014-03-20; and that mid."""
    _, _, chain = gspc_frames()
    full = gspc_store(tmp_path_factory.mktemp("full"))
    held = _held(full, _put())
    mid = chain.filter(
        (pl.col("as_of_date") == REMOVED_ON)
        & (pl.col("option_type") == "put")
        & (pl.col("expiry") == held["expiry"])
        & (pl.col("strike") == held["strike"])
    )["mid"][0]
    store = gspc_store(tmp_path_factory.mktemp("removed"), _without(chain, REMOVED_ON, held))
    return store, held, float(mid)


def test_a_removed_quote_of_a_smooth_smile_comes_back_from_the_smile(
    removed: tuple[MarketDataStore, dict[str, object], float],
) -> None:
    store, held, mid = removed
    smile = run(
        DailyOptionsSnapshotProvider(store, missing_mark="smile"),
        [_put()],
        symbol=GSPC,
        start=START,
        end=GSPC_END,
    )
    carry = run(
        DailyOptionsSnapshotProvider(store), [_put()], symbol=GSPC, start=START, end=GSPC_END
    )
    by_smile, carried = _mark_on(smile, REMOVED_ON), _mark_on(carry, REMOVED_ON)
    assert abs(by_smile - mid) <= 0.005 * mid, (by_smile, mid)
    assert abs(by_smile - mid) < 0.1 * abs(carried - mid)
    assert smile.summary["status"][0] == "complete"
    strike, expiry = held["strike"], held["expiry"]
    notes = [w for w in smile.warnings if w.startswith(f"{REMOVED_ON}: no quote for P {strike:g}")]
    assert len(notes) == 1
    assert f"{expiry}; marked at " in notes[0]
    assert "implied volatility, interpolated in total variance between the" in notes[0]
    assert notes[0].endswith("quotes of the day (missing_mark='smile')")
    # Nothing was carried, so no stale-mark warning for that day.
    assert not any("stale" in w for w in smile.warnings)
    assert any("1 session stale" in w for w in carry.warnings)


def test_the_fixture_chains_missing_quote_is_quantlibs_price_on_the_interpolated_smile(
    tmp_path: Path,
) -> None:
    store = fixture_store(tmp_path, chain=True)
    day = date.fromisoformat(str(MISSING_QUOTE["as_of_date"]))
    expiry = date.fromisoformat(str(MISSING_QUOTE["expiry"]))
    put = hf.protective_put("put-95", spot_pct=0.95, target_expiry_days=45)
    result = run(
        DailyOptionsSnapshotProvider(store, missing_mark="smile"),
        [put],
        symbol="FIX",
        start=FIX_START,
        end=date(2024, 3, 8),
    )
    spot = float(store.underlying_bars("FIX", day, day)["close"][0])
    days = (expiry - day).days
    chain = load_fixture_chain().filter(as_of_date=day, option_type="put", expiry=expiry)
    mids = dict(chain.select("strike", "mid").iter_rows())
    vol = {
        k: quantlib_implied_volatility("put", spot, k, days, mids[k], 0.0, 0.0)
        for k in (90.0, 100.0)
    }
    weight = math.log(95 / 90) / math.log(100 / 90)
    sigma = math.sqrt(vol[90.0] ** 2 + weight * (vol[100.0] ** 2 - vol[90.0] ** 2))
    expected, _ = quantlib_price_and_delta("put", spot, 95.0, days, sigma, 0.0, 0.0)
    assert _mark_on(result, day) == pytest.approx(expected, rel=1e-9)
    assert not any(result.validation_notes.values())  # a same-day mark: nothing stale


def test_without_a_quoted_strike_on_both_sides_the_mark_is_carried(tmp_path: Path) -> None:
    """The lowest listed strike of its expiry has no neighbour below: carry, as by default."""
    _, _, chain = gspc_frames()
    full = gspc_store(tmp_path / "full")
    held = _held(full, _put(0.5, 200))
    lowest = chain.filter(
        (pl.col("as_of_date") == REMOVED_ON)
        & (pl.col("option_type") == "put")
        & (pl.col("expiry") == held["expiry"])
    )["strike"].min()
    assert held["strike"] == lowest
    store = gspc_store(tmp_path / "removed", _without(chain, REMOVED_ON, held))
    template = _put(0.5, 200)
    results = [
        run(
            DailyOptionsSnapshotProvider(store, missing_mark=mode),
            [template],
            symbol=GSPC,
            start=START,
            end=GSPC_END,
        )
        for mode in ("smile", "carry")
    ]
    smile, carry = results
    assert smile.daily_path.equals(carry.daily_path)
    assert any("1 session stale" in w for w in smile.warnings)


def test_smile_marks_read_nothing_after_their_day(tmp_path: Path) -> None:
    """Quotes after T times 1e6: every row up to T is unchanged, smile marks included."""
    _, _, chain = gspc_frames()
    held = _held(gspc_store(tmp_path / "full"), _put())
    thinned = _without(chain, REMOVED_ON, held)
    t = date(2014, 3, 25)
    after = pl.col("as_of_date") > t
    poisoned = thinned.with_columns(
        *(pl.when(after).then(pl.col(c) * 1e6).otherwise(c).alias(c) for c in ("bid", "ask", "mid"))
    )
    runs = [
        run(
            DailyOptionsSnapshotProvider(gspc_store(tmp_path / name, frame), missing_mark="smile"),
            [_put(), _put(0.9, 30)],
            symbol=GSPC,
            start=START,
            end=GSPC_END,
        )
        for name, frame in (("clean", thinned), ("dirty", poisoned))
    ]
    for name in ("daily_path", "trades"):
        before, after_t = (r.tables()[name].filter(pl.col("date") <= t) for r in runs)
        assert before.height > 0
        assert before.drop("template_id").equals(after_t.drop("template_id")), name
    early = [[w for w in r.warnings if w[:10] <= str(t)] for r in runs]
    assert early[0] == early[1]
    assert any("missing_mark='smile'" in w for w in early[0])


def _sparse_chain() -> pl.DataFrame:
    """One day's puts: the first expiry lists only 80 and 100, the next one 90 and 100."""
    rows = [
        ("2024-05-17", 80.0, 0.5), ("2024-05-17", 100.0, 4.0),
        ("2024-06-21", 90.0, 2.0), ("2024-06-21", 100.0, 5.0),
    ]  # fmt: skip
    return pl.DataFrame(
        {
            "symbol": "FIX",
            "as_of_date": date(2024, 3, 1),
            "option_type": "put",
            "expiry": [date.fromisoformat(r[0]) for r in rows],
            "strike": [r[1] for r in rows],
            "bid": [r[2] - 0.25 for r in rows],
            "ask": [r[2] + 0.25 for r in rows],
            "mid": [r[2] for r in rows],
        }
    )


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (None, (80.0, date(2024, 5, 17))),
        (0.15, (80.0, date(2024, 5, 17))),
        (0.05, (90.0, date(2024, 6, 21))),
    ],
)
def test_a_strike_too_far_from_its_target_is_not_eligible(
    tmp_path: Path, limit: float | None, expected: tuple[float, date]
) -> None:
    store = fixture_store(tmp_path, "flat")  # closes only: 100 on 2024-03-01
    store.write_option_quotes(_sparse_chain())
    provider = DailyOptionsSnapshotProvider(store, max_strike_distance_pct=limit)
    snapshot = provider.get_option_snapshot(
        hf.OptionSnapshotQuery(
            symbol="FIX",
            as_of_date=date(2024, 3, 1),
            option_type=OptionType.PUT,
            strike_rule=hf.StrikeRule(value=0.88),  # target 88: 80 is 9.1 % away, 90 is 2.3 %
            target_expiry_days=60,
        )
    )
    key = snapshot.selected_contract.instrument_key
    assert (key.strike, key.expiry) == expected


def test_a_later_expiry_taken_for_distance_is_a_warning_and_none_leaves_the_leg_unselected(
    tmp_path: Path,
) -> None:
    store = fixture_store(tmp_path, "flat")
    store.write_option_quotes(_sparse_chain())
    day = date(2024, 3, 1)
    provider = DailyOptionsSnapshotProvider(store, max_strike_distance_pct=0.05)
    timeline = provider.load_timeline("FIX", day, day)
    request = hf.providers.ContractRequest.at_strikes(
        np.array([False, False]), np.array([88.0, 70.0]), np.array([60, 60])
    )
    picked = provider.select_contracts(timeline.view(0), request)
    assert picked.selected.tolist() == [True, False]
    assert picked.strike[0] == 90.0
    assert timeline.warnings == [
        "2024-03-01: the nearest listed P strike to 88 expiring 2024-05-17 is 80, 9.1% away "
        "(max_strike_distance_pct 5.0%); took P 90 2024-06-21",
        "2024-03-01: the nearest listed P strike to 70 expiring 2024-05-17 is 80, 14.3% away "
        "(max_strike_distance_pct 5.0%); no later expiry has one",
    ]


def test_the_configuration_says_what_it_does() -> None:
    config = hf.SnapshotProviderConfig(missing_mark="smile", max_strike_distance_pct=0.05)
    words = config.describe()
    assert any(
        line.startswith(
            "missing quotes: the same day's implied volatility of the contract's expiry"
        )
        for line in words
    )
    assert "strike distance: a listed strike more than 5.00% from its target is not eligible" in (
        " ".join(words)
    )
    assert hf.provider_from_config(config.model_dump(mode="json")).config == config
    with pytest.raises(hf.InvalidModelError, match="missing_mark"):
        hf.SnapshotProviderConfig.model_validate({"missing_mark": "interpolate"})
    with pytest.raises(hf.InvalidModelError, match="max_strike_distance_pct"):
        hf.SnapshotProviderConfig(max_strike_distance_pct=5.0)
