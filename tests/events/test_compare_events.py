"""compare_events: one template set over several events, and its tables (BT-003)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.engine import rank_summary
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.events import (
    ACROSS_EVENTS_SCHEMA,
    EVENT_SUMMARY_SCHEMA,
    EVENTS_SCHEMA,
    LTV_PATHS_SCHEMA,
    NORMALIZED_PATHS_SCHEMA,
    EventComparison,
    EventPortfolio,
    builtin_event_presets,
    compare_events,
)
from hedgeframe.models import EventPreset, EventScenarioOverrides

SHORT_EVENTS = ("china-deval-2015", "volmageddon-2018")


def _sql(query: str) -> list[tuple[Any, ...]]:
    relation = duckdb.sql(query)
    assert relation is not None
    return relation.fetchall()


def _presets(*slugs: str) -> list[EventPreset]:
    by_slug = {p.slug: p for p in builtin_event_presets()}
    return [by_slug[s] for s in slugs]


@pytest.fixture(scope="module")
def provider() -> hf.SyntheticHistoricalProvider:
    return hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))


@pytest.fixture(scope="module")
def comparison(provider: hf.SyntheticHistoricalProvider) -> EventComparison:
    return compare_events(_presets(*SHORT_EVENTS), hf.seed_templates(), provider)


def test_tables_follow_their_schemas(comparison: EventComparison) -> None:
    assert comparison.events.schema == EVENTS_SCHEMA
    assert comparison.summary.schema == EVENT_SUMMARY_SCHEMA
    assert comparison.across_events.schema == ACROSS_EVENTS_SCHEMA
    assert comparison.normalized_paths.schema == NORMALIZED_PATHS_SCHEMA
    assert comparison.ltv_paths.schema == LTV_PATHS_SCHEMA
    assert comparison.events["event_slug"].to_list() == list(SHORT_EVENTS)
    assert len(comparison.runs) == 2


def test_normalized_paths_start_at_a_common_baseline_of_100(
    comparison: EventComparison,
) -> None:
    first = comparison.normalized_paths.group_by(
        "event_slug", "template_slug", maintain_order=True
    ).agg(pl.all().sort_by("date").first())
    assert first.height == 2 * 4
    assert first["index_unhedged"].to_list() == [100.0] * 8
    # No spread in this provider: the hedge costs exactly its mark on day 0.
    assert first["index_hedged"].to_list() == pytest.approx([100.0] * 8, abs=1e-9)
    assert first["day_offset"].to_list() == [0] * 8
    assert first["phase"].to_list() == ["window"] * 8


def test_hedged_path_starts_below_100_by_the_half_spread_paid() -> None:
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.ConstantVol(0.2), spread_pct=0.02
    )
    result = compare_events(_presets("volmageddon-2018"), hf.seed_templates()[:1], provider)
    first = result.normalized_paths.row(0, named=True)
    run = result.runs[0]
    premium = -run.daily_path["premium_cashflow"][0]
    expected = 100.0 * (1.0 - premium * (0.01 / 1.01) / run.summary["start_value"][0])
    assert first["index_unhedged"] == 100.0
    assert first["index_hedged"] == pytest.approx(expected)


def test_offsets_count_trading_days_from_the_window_start(
    provider: hf.SyntheticHistoricalProvider,
) -> None:
    base = _presets("volmageddon-2018")[0]
    preset = base.model_copy(
        update={"scenario_overrides": EventScenarioOverrides(lookback_days=14, recovery_days=10)}
    )
    result = compare_events([preset], hf.seed_templates()[:1], provider)
    paths = result.normalized_paths
    at_zero = paths.filter(pl.col("day_offset") == 0)
    assert at_zero["date"].to_list() == [date(2018, 1, 26)]
    assert paths["day_offset"].min() == -9  # 9 sessions from 2018-01-12 to 2018-01-25
    assert paths["index_unhedged"][0] == 100.0
    assert set(paths["phase"]) == {"lookback", "window", "recovery"}
    assert paths.filter(pl.col("phase") == "window")["date"].max() == date(2018, 2, 8)


def test_summary_is_each_runs_comparison_with_the_event_in_front(
    comparison: EventComparison,
) -> None:
    for slug, run in zip(SHORT_EVENTS, comparison.runs, strict=True):
        rows = comparison.summary.filter(pl.col("event_slug") == slug)
        assert rows.drop("event_slug", "event_preset_id", "run_id", "hedge_cost_pct").equals(
            run.comparison
        )
        assert rows["run_id"].unique().to_list() == [run.run_id]
        assert rows["hedge_cost_pct"].to_list() == pytest.approx(
            (run.comparison["total_hedge_cost"] / run.comparison["start_value"]).to_list()
        )


def test_across_events_totals_and_ranking(comparison: EventComparison) -> None:
    summary, across = comparison.summary, comparison.across_events
    for row in across.iter_rows(named=True):
        rows = summary.filter(pl.col("template_slug") == row["template_slug"])
        assert row["events"] == 2
        assert row["margin_call_days_hedged"] == rows["margin_call_days_hedged"].sum()
        assert row["margin_call_days_unhedged"] == rows["margin_call_days_unhedged"].sum()
        assert row["max_ltv_hedged"] == rows["max_ltv_hedged"].max()
        assert row["total_hedge_cost"] == pytest.approx(rows["total_hedge_cost"].sum())
        assert row["mean_rank"] == pytest.approx(rows["rank"].mean())
        assert row["first_places"] == (rows["rank"] == 1).sum()
    assert across["rank"].to_list() == [1, 2, 3, 4]
    # The same ranking rule as a single run, applied to the totals.
    totals = across.rename({"total_end_value_hedged_net": "end_value_hedged_net"})
    assert rank_summary(totals.drop("rank"))["template_slug"].equals(across["template_slug"])


def test_ltv_paths_carry_the_margin_call_line(comparison: EventComparison) -> None:
    ltv = comparison.ltv_paths
    assert set(ltv["margin_call_ltv"]) == {0.75}
    assert ltv["margin_call_hedged"].equals(ltv["ltv_hedged"] >= 0.75)
    first = ltv.filter(pl.col("day_offset") == 0)
    assert first["ltv_unhedged"].to_list() == pytest.approx([0.6] * 8)


def test_every_event_starts_from_the_same_position(comparison: EventComparison) -> None:
    events = comparison.events
    collateral = events["underlying_units"] * events["entry_spot"]
    assert collateral.to_list() == pytest.approx([1_000_000.0] * 2)
    assert events["loan_amount"].to_list() == pytest.approx([600_000.0] * 2)


def test_a_state_portfolio_keeps_its_units_across_events(
    provider: hf.SyntheticHistoricalProvider,
) -> None:
    state = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=2000, loan_amount=100_000, margin_call_ltv=0.7
    )
    result = compare_events(_presets(*SHORT_EVENTS), hf.seed_templates()[:1], provider, state)
    assert result.events["underlying_units"].to_list() == [100.0, 100.0]
    assert result.ltv_paths.filter(pl.col("day_offset") == 0)["ltv_unhedged"].to_list() == (
        pytest.approx([0.5, 0.5])
    )
    assert result.portfolio == EventPortfolio.from_state(state)


def test_default_template_slugs_narrow_one_event(provider: hf.SyntheticHistoricalProvider) -> None:
    china, vol = _presets(*SHORT_EVENTS)
    narrowed = vol.model_copy(
        update={
            "scenario_overrides": EventScenarioOverrides(
                default_template_slugs=["protective-put-atm-12m"]
            )
        }
    )
    result = compare_events([china, narrowed], hf.seed_templates(), provider)
    counts = dict(result.across_events.select("template_slug", "events").iter_rows())
    assert counts["protective-put-atm-12m"] == 2
    assert counts["protective-put-95pct-12m"] == 1


def test_a_truncated_event_warns(provider: hf.SyntheticHistoricalProvider) -> None:
    result = compare_events(_presets("q4-2018"), hf.seed_templates()[:1], provider)
    assert any(w.startswith("q4-2018: the ^GSPC data end 2018-12-31") for w in result.warnings)


def test_missing_data_raises_or_is_skipped(provider: hf.SyntheticHistoricalProvider) -> None:
    events = _presets("volmageddon-2018", "covid-crash-2020")
    with pytest.raises(MissingMarketDataError, match="covid-crash-2020"):
        compare_events(events, hf.seed_templates(), provider)
    result = compare_events(events, hf.seed_templates(), provider, skip_missing=True)
    assert [p.slug for p in result.presets] == ["volmageddon-2018"]
    assert any(w.startswith("covid-crash-2020: skipped") for w in result.warnings)
    with pytest.raises(MissingMarketDataError, match="none of the events"):
        compare_events(events[1:], hf.seed_templates(), provider, skip_missing=True)


def test_bad_arguments_are_refused(provider: hf.SyntheticHistoricalProvider) -> None:
    with pytest.raises(ValueError, match="at least one event"):
        compare_events([], hf.seed_templates(), provider)
    twice = _presets("volmageddon-2018") * 2
    with pytest.raises(ValueError, match="distinct slugs"):
        compare_events(twice, hf.seed_templates(), provider)


def test_progress_callback_sees_every_event(provider: hf.SyntheticHistoricalProvider) -> None:
    seen: list[str] = []
    compare_events(
        _presets(*SHORT_EVENTS),
        hf.seed_templates()[:1],
        provider,
        on_event=lambda preset: seen.append(preset.slug),
    )
    assert seen == list(SHORT_EVENTS)


def test_write_parquet_is_hive_partitioned_and_duckdb_readable(
    comparison: EventComparison, tmp_path: Path
) -> None:
    written = comparison.write_parquet(tmp_path)
    assert written["events"] == (
        tmp_path / "events" / f"comparison_id={comparison.comparison_id}" / "part-0.parquet"
    )
    glob = str(tmp_path / "normalized_paths" / "*" / "*.parquet")
    rows = _sql(
        f"SELECT comparison_id, count(*) AS n, min(index_unhedged) FILTER (WHERE day_offset = 0) "
        f"FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY ALL"
    )
    assert rows == [(comparison.comparison_id, comparison.normalized_paths.height, 100.0)]
    daily = pl.read_parquet(tmp_path / "daily_path" / "*" / "*.parquet", hive_partitioning=True)
    assert set(daily["run_id"]) == {r.run_id for r in comparison.runs}
    summary = pl.read_parquet(
        tmp_path / "event_summary" / "*" / "*.parquet", hive_partitioning=True
    )
    assert summary.drop("comparison_id").equals(comparison.summary)
