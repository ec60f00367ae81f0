"""Incomplete and empty results (SPEC 9.3): honest metrics, ranking and event figures.

A template cut short (no eligible contract, a mark missing past the stale limit) is
summarized over the days it ran; one that ran no day has null metrics, never the ``-inf``
of an empty maximum or the ``-0.0`` of a negated empty sum; incomplete templates rank after
complete ones, longer runs first; an event's unhedged figures and its data warnings come
from the bars, never from a template's cut path.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, portfolio, roll
from hypothesis import given
from hypothesis import strategies as st

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.engine import unhedged_path
from hedgeframe.engine._schemas import SUMMARY_METRIC_COLUMNS
from hedgeframe.events import builtin_event_presets
from hedgeframe.models import EventPreset, EventType
from hedgeframe.providers import (
    ContractArrays,
    ContractRequest,
    MarkBatch,
    MarketTimeline,
    PointInTimeView,
)
from hedgeframe.providers._timeline import as_date

SESSIONS = get_calendar("XNYS").sessions


def _uniform(*keys: object) -> float:
    """A deterministic draw in [0, 1) from the keys (the same pair always draws the same)."""
    digest = hashlib.blake2b(repr(keys).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


class _Flaky(hf.SyntheticHistoricalProvider):
    """Synthetic prices with some selections refused and some marks missing, by a seed.

    Which entries and marks fail depends only on the seed and the contract and day, never
    on how the engine batches its calls, so a run is reproducible.
    """

    def __init__(self, store: MarketDataStore, *, seed: int, unselected: float, missing: float):
        super().__init__(store, volatility=hf.ConstantVol(0.25), rate=0.01, spread_pct=0.02)
        self.seed, self.unselected, self.missing = seed, unselected, missing

    def select_contracts(self, view: PointInTimeView, request: ContractRequest) -> ContractArrays:
        chosen = super().select_contracts(view, request)
        refused = np.array(
            [
                _uniform(self.seed, "select", view.index, float(k), int(t)) < self.unselected
                for k, t in zip(request.target, request.target_expiry_days, strict=True)
            ],
            dtype=bool,
        )
        return ContractArrays(chosen.is_call, chosen.strike, chosen.expiry, ~refused)

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: np.ndarray
    ) -> MarkBatch:
        marks = super().mark_contracts(timeline, contracts, day_index)
        gone = np.array(
            [
                _uniform(self.seed, "mark", int(d), float(k), str(e)) < self.missing
                for d, k, e in zip(day_index, contracts.strike, contracts.expiry, strict=True)
            ],
            dtype=bool,
        ) & (contracts.expiry > timeline.days[day_index])
        nan = np.where(gone, np.nan, 1.0)
        stale = np.where(gone, -1, marks.stale_sessions)
        return MarkBatch(marks.mid * nan, marks.buy * nan, marks.sell * nan, stale)


def _market(root: Path, seed: int, n: int) -> tuple[MarketDataStore, list[date]]:
    rng = np.random.default_rng(seed)
    start = int(np.searchsorted(SESSIONS, np.datetime64("2010-01-04")))
    days = [as_date(d) for d in SESSIONS[start : start + n]]
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, n)))
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("SYN", days, closes.round(4).tolist()))
    return store, days


@st.composite
def _template_sets(draw: st.DrawFn) -> list[hf.StrategyTemplate]:
    templates = []
    for i in range(draw(st.integers(1, 4))):
        pcts = draw(st.lists(st.sampled_from([0.8, 0.9, 1.0, 1.1]), min_size=1, max_size=3))
        templates.append(
            hf.put_ladder(
                f"t{i}",
                spot_pcts=pcts,
                weights=[1 / len(pcts)] * len(pcts),
                target_expiry_days=draw(st.integers(20, 60)),
                roll_policy=draw(st.sampled_from([None, roll(2), roll(5)])),
            )
        )
    return templates


def _is_negative_zero(value: float) -> bool:
    return value == 0.0 and math.copysign(1.0, value) < 0.0


@given(
    seed=st.integers(0, 2**31),
    n=st.integers(2, 40),
    templates=_template_sets(),
    unselected=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    missing=st.sampled_from([0.0, 0.02, 0.2]),
    loan_ratio=st.sampled_from([0.0, 0.5, 0.9]),
)
def test_no_summary_metric_is_infinite_or_negative_zero_unless_the_value_fell_to_zero(
    seed: int,
    n: int,
    templates: list[hf.StrategyTemplate],
    unselected: float,
    missing: float,
    loan_ratio: float,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), seed, n)
        provider = _Flaky(store, seed=seed, unselected=unselected, missing=missing)
        scenario = hf.make_scenario(
            templates,
            provider,
            symbol="SYN",
            start_date=days[0],
            end_date=days[-1],
            portfolio=portfolio(
                float(store.underlying_bars("SYN")["close"][0]), loan_ratio=loan_ratio
            ),
        )
        result = hf.run_backtest(scenario, templates, provider)
    for row in result.summary.iter_rows(named=True):
        key = (pl.col("template_id") == row["template_id"]) & (
            pl.col("template_version") == row["template_version"]
        )
        path = result.daily_path.filter(key)
        fell_to_zero = bool((path["net_portfolio_value"] <= 0.0).any())
        where = f"{row['template_slug']}: {row}"
        assert row["days_run"] == path.height, where
        assert row["complete"] is (row["days_run"] == n), where
        assert row["status"] == ("complete" if row["complete"] else "incomplete"), where
        assert (row["incomplete_reason"] is None) is row["complete"], where
        for name in SUMMARY_METRIC_COLUMNS:
            value = row[name]
            if row["days_run"] == 0 and name != "start_value":
                assert value is None, f"{where}: {name} of a template that ran no day"
                continue
            assert value is not None, f"{where}: {name} is null though days ran"
            assert not _is_negative_zero(value), f"{where}: {name} is -0.0"
            if not fell_to_zero:
                assert math.isfinite(value), f"{where}: {name} = {value}"
    ranked = result.comparison
    complete = ranked["complete"].to_list()
    assert complete == sorted(complete, reverse=True), "complete results rank first"
    cut_days = ranked.filter(~pl.col("complete"))["days_run"].to_list()
    assert cut_days == sorted(cut_days, reverse=True), "longer incomplete runs rank first"


class _NoLongDated(hf.SyntheticHistoricalProvider):
    """Synthetic prices where no contract of a year or more can be found (a short chain)."""

    def __init__(self, store: MarketDataStore) -> None:
        super().__init__(store, volatility=hf.ConstantVol(0.25))

    def select_contracts(self, view: PointInTimeView, request: ContractRequest) -> ContractArrays:
        chosen = super().select_contracts(view, request)
        return ContractArrays(
            chosen.is_call, chosen.strike, chosen.expiry, request.target_expiry_days < 365
        )


def test_a_template_that_never_enters_has_null_metrics_and_ranks_last(tmp_path: Path) -> None:
    store, days = _market(tmp_path, seed=3, n=30)
    provider = _NoLongDated(store)
    templates = [
        hf.protective_put("a-never-enters", target_expiry_days=365),
        hf.protective_put("z-runs", spot_pct=0.8, target_expiry_days=90),
        hf.protective_put("worthless", spot_pct=0.05, target_expiry_days=30),  # costs 0.0
    ]
    scenario = hf.make_scenario(
        templates, provider, symbol="SYN", start_date=days[0], end_date=days[-1],
        portfolio=portfolio(float(store.underlying_bars("SYN")["close"][0])),
    )  # fmt: skip
    result = hf.run_backtest(scenario, templates, provider)
    assert result.comparison["template_slug"].to_list() == [
        "z-runs",
        "worthless",
        "a-never-enters",
    ]
    free = result.comparison.row(1, named=True)
    assert free["total_hedge_cost"] == 0.0
    assert not _is_negative_zero(free["total_hedge_cost"])
    row = result.comparison.row(2, named=True)
    assert (row["status"], row["complete"], row["days_run"]) == ("incomplete", False, 0)
    assert row["incomplete_reason"] == f"{days[0]}: no eligible contract for leg 'put-100'"
    assert row["start_value"] == pytest.approx(100 * store.underlying_bars("SYN")["close"][0])
    assert all(row[name] is None for name in SUMMARY_METRIC_COLUMNS if name != "start_value")
    assert set(result.daily_path["template_slug"]) == {"z-runs", "worthless"}
    record = next(r for r in result.template_results if r.template_slug == "a-never-enters")
    assert record.days_run == 0
    assert record.summary_metrics.max_ltv_hedged is None


class _CutAfter(hf.SyntheticHistoricalProvider):
    """Synthetic prices whose marks stop existing after ``last_quote`` (say, a stale chain)."""

    def __init__(self, store: MarketDataStore, last_quote: date) -> None:
        super().__init__(store, volatility=hf.ConstantVol(0.2))
        self.last_quote = np.datetime64(last_quote, "D")

    def mark_contracts(
        self, timeline: MarketTimeline, contracts: ContractArrays, day_index: np.ndarray
    ) -> MarkBatch:
        marks = super().mark_contracts(timeline, contracts, day_index)
        gone = (timeline.days[day_index] > self.last_quote) & (
            contracts.expiry > timeline.days[day_index]
        )
        nan = np.where(gone, np.nan, 1.0)
        stale = np.where(gone, -1, marks.stale_sessions)
        return MarkBatch(marks.mid * nan, marks.buy * nan, marks.sell * nan, stale)


def test_an_event_reports_unhedged_figures_from_the_bars_not_a_cut_path(tmp_path: Path) -> None:
    sample = hf.sample_store()
    preset = next(p for p in builtin_event_presets() if p.slug == "volmageddon-2018")
    provider = _CutAfter(sample, last_quote=date(2018, 1, 30))
    report = hf.compare_events([preset], hf.seed_templates()[:1], provider)

    event = report.events.row(0, named=True)
    closes = sample.underlying_bars("^GSPC", event["start_date"], event["end_date"])["close"]
    state = report.runs[0].scenario_snapshot.initial_portfolio
    shadow = unhedged_path(closes.to_numpy(), state)
    assert event["trading_days"] == closes.len()
    assert event["last_day"] == date(2018, 5, 9)  # the last bar of the window + 90 days
    assert event["worst_drawdown_unhedged"] == pytest.approx(shadow.worst_drawdown, rel=1e-12)
    assert event["worst_drawdown_unhedged"] > 0.10  # the selloff itself: -10 % in 9 sessions
    assert event["max_ltv_unhedged"] == pytest.approx(shadow.max_ltv, rel=1e-12)

    summary = report.summary.row(0, named=True)
    assert summary["complete"] is False
    assert summary["days_run"] == 3  # 01-26, 01-29, 01-30
    assert summary["incomplete_reason"].startswith("2018-01-31: no usable quote for P ")
    assert not any("data end" in w for w in report.warnings), report.warnings
    html = report.write_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<b>Incomplete results</b>" in html
    assert f"v1: ran 3 day(s); {summary['incomplete_reason']}" in html


def test_the_data_end_warning_still_names_bars_that_end_early(tmp_path: Path) -> None:
    store, days = _market(tmp_path, seed=5, n=25)
    preset = EventPreset(
        slug="cut-short",
        symbol="SYN",
        window_start=days[0],
        window_end=days[-1] + timedelta(days=30),
        event_type=EventType.SELLOFF,
    )
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.2))
    report = hf.compare_events([preset], hf.seed_templates()[:1], provider)
    assert report.summary["complete"].to_list() == [True]
    [warning] = [w for w in report.warnings if "data end" in w]
    assert warning.startswith(f"cut-short: the SYN data end {days[-1]}, ")
