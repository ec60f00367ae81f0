"""Point-in-time safety of snapshot-priced runs: change the future, and the past stays.

On two months of the synthetic ^GSPC chain, every quote dated after a drawn day ``T`` is
poisoned (prices times 1e6, so the store still accepts them), thinned or deleted (and in
one variant the closes after ``T`` too); every output row dated on or before ``T`` must be
unchanged. The seed's anti-lookahead rules, verbatim:
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from engine_helpers import ANTI_LOOKAHEAD_RULES, roll
from hypothesis import given, settings
from hypothesis import strategies as st
from snapshot_markets import GSPC, GSPC_END, GSPC_START, gspc_frames, gspc_store, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.providers import DailyOptionsSnapshotProvider
from hedgeframe.providers._snapshot import Fill

__doc__ = (__doc__ or "") + "\n" + ANTI_LOOKAHEAD_RULES

POISONS = ("scale-quotes", "scale-quotes-and-closes", "thin-quotes", "delete-quotes")


def _days() -> list[date]:
    bars, _, _ = gspc_frames()
    return bars.filter(pl.col("date").is_between(GSPC_START, GSPC_END))["date"].to_list()


DAYS = _days()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> MarketDataStore:
    return gspc_store(tmp_path_factory.mktemp("clean"))


@st.composite
def template_sets(draw: st.DrawFn) -> list[hf.StrategyTemplate]:
    templates = []
    for i in range(draw(st.integers(1, 2))):
        pcts = draw(st.lists(st.sampled_from([0.9, 0.95, 1.0, 1.03]), min_size=1, max_size=2))
        templates.append(
            hf.put_ladder(
                f"t{i}",
                spot_pcts=pcts,
                weights=[1 / len(pcts)] * len(pcts),
                target_expiry_days=draw(st.integers(10, 60)),
                roll_policy=draw(st.sampled_from([None, roll(2), roll(5)])),
            )
        )
    return templates


def _poisoned(root: Path, t: date, poison: str) -> MarketDataStore:
    bars, _, chain = gspc_frames()
    after = pl.col("as_of_date") > t
    if poison == "delete-quotes":
        chain = chain.filter(~after)
    elif poison == "thin-quotes":
        chain = chain.filter(~after | (pl.int_range(pl.len()) % 3 != 0))
    else:
        chain = chain.with_columns(
            pl.when(after).then(pl.col(name) * 1e6).otherwise(pl.col(name)).alias(name)
            for name in ("bid", "ask", "mid")
        )
    if poison == "scale-quotes-and-closes":
        late = pl.col("date") > t
        bars = bars.with_columns(close=pl.when(late).then(pl.col("close") * 1e3).otherwise("close"))
    store = MarketDataStore(root)
    store.write_underlying_bars(bars)
    store.write_option_quotes(chain)
    return store


def _known_at(result: hf.BacktestRunResult, cutoff: date, *, strict: bool) -> dict[str, object]:
    """Every output dated on or before ``cutoff`` (before it when ``strict``)."""
    dated = (pl.col("date") < cutoff) if strict else (pl.col("date") <= cutoff)
    opened = (pl.col("opened_at") < cutoff) if strict else (pl.col("opened_at") <= cutoff)
    return {
        "daily_path": result.daily_path.filter(dated),
        "trades": result.trades.filter(dated),
        "positions": result.positions.filter(opened).drop(
            "closed_at", "exit_price", "close_reason"
        ),
        "warnings": [
            w
            for w in result.warnings
            if (w[:10] < str(cutoff) if strict else w[:10] <= str(cutoff))
        ],
    }


def _assert_same(left: dict[str, object], right: dict[str, object]) -> None:
    for name, value in left.items():
        other = right[name]
        if isinstance(value, pl.DataFrame):
            assert isinstance(other, pl.DataFrame)
            assert value.height > 0, name
            assert value.equals(other), f"{name} differs:\n{value}\n{other}"
        else:
            assert value == other, name


@settings(max_examples=10)
@given(
    templates=template_sets(),
    cut=st.integers(1, len(DAYS) - 3),
    poison=st.sampled_from(POISONS),
    bid_ask=st.booleans(),
)
def test_poisoning_every_quote_after_t_leaves_rows_up_to_t_unchanged(
    clean: MarketDataStore,
    templates: list[hf.StrategyTemplate],
    cut: int,
    poison: str,
    bid_ask: bool,
) -> None:
    t = DAYS[cut]
    fill: Fill = "bid_ask" if bid_ask else "mid"
    with tempfile.TemporaryDirectory() as tmp:
        dirty = _poisoned(Path(tmp), t, poison)
        results = [
            run(
                DailyOptionsSnapshotProvider(store, fill=fill),
                templates,
                symbol=GSPC,
                start=GSPC_START,
                end=GSPC_END,
            )
            for store in (clean, dirty)
        ]
    _assert_same(_known_at(results[0], t, strict=False), _known_at(results[1], t, strict=False))


@settings(max_examples=5)
@given(templates=template_sets(), cut=st.integers(2, len(DAYS) - 3))
def test_deleting_everything_after_t_changes_nothing_before_t(
    clean: MarketDataStore, templates: list[hf.StrategyTemplate], cut: int
) -> None:
    """With no data after T, T is the last day: earlier rows are unchanged, and the run
    equals one that ends on T."""
    t = DAYS[cut]
    with tempfile.TemporaryDirectory() as tmp:
        cut_store = MarketDataStore(Path(tmp))
        cut_store.write_underlying_bars(clean.underlying_bars(GSPC, None, t))
        cut_store.write_option_quotes(clean.option_quotes_between(GSPC, GSPC_START, t))
        deleted = run(
            DailyOptionsSnapshotProvider(cut_store),
            templates,
            symbol=GSPC,
            start=GSPC_START,
            end=GSPC_END,
        )
    provider = DailyOptionsSnapshotProvider(clean)
    full = run(provider, templates, symbol=GSPC, start=GSPC_START, end=GSPC_END)
    ends_on_t = run(provider, templates, symbol=GSPC, start=GSPC_START, end=t)
    _assert_same(_known_at(full, t, strict=True), _known_at(deleted, t, strict=True))
    for name in ("daily_path", "trades", "positions", "summary"):
        assert deleted.tables()[name].equals(ends_on_t.tables()[name]), name
