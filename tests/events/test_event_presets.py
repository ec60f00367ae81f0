"""Built-in event presets and preset -> scenario materialization (BT-003)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.errors import InvalidScenarioError, MissingMarketDataError
from hedgeframe.events import (
    BUNDLED_SAMPLE_TAG,
    NEEDS_FETCH_TAG,
    PRESETS_TIMESTAMP,
    EventPortfolio,
    builtin_event_presets,
    event_templates,
    materialize_event,
)
from hedgeframe.events._presets import _PRESET_NAMESPACE
from hedgeframe.models import EventPreset, EventScenarioOverrides, RollPolicyType
from hedgeframe.repositories import EventPresetRepository

SAMPLE_EVENTS = {
    "dotcom-2000-2002",
    "gfc-2007-2009",
    "flash-crash-2010",
    "us-downgrade-2011",
    "china-deval-2015",
    "volmageddon-2018",
    "q4-2018",
}
FETCH_EVENTS = {"covid-crash-2020", "rate-shock-2022", "gold-crash-2013"}


@pytest.fixture(scope="module")
def provider() -> hf.SyntheticHistoricalProvider:
    return hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))


def _preset(**overrides: object) -> EventPreset:
    fields: dict[str, object] = {
        "slug": "test-event",
        "display_name": "Test event",
        "symbol": "^GSPC",
        "window_start": date(2008, 1, 2),
        "window_end": date(2008, 6, 30),
    }
    fields.update(overrides)
    return EventPreset.model_validate(fields)


def test_builtin_presets_are_deterministic_and_complete() -> None:
    first, second = builtin_event_presets(), builtin_event_presets()
    assert first == second
    slugs = {p.slug for p in first}
    assert slugs == SAMPLE_EVENTS | FETCH_EVENTS
    for preset in first:
        assert preset.event_preset_id == str(uuid.uuid5(_PRESET_NAMESPACE, preset.slug))
        assert preset.created_at == PRESETS_TIMESTAMP
        assert preset.description
        assert preset.display_name
        assert preset.anchor_date is not None
        assert (BUNDLED_SAMPLE_TAG in preset.tags) == (preset.slug in SAMPLE_EVENTS)
        assert (NEEDS_FETCH_TAG in preset.tags) == (preset.slug in FETCH_EVENTS)
    assert [p.window_start for p in first] == sorted(p.window_start for p in first)
    assert next(p for p in first if p.slug == "gold-crash-2013").symbol == "GLD"


def test_ids_are_distinct() -> None:
    presets = builtin_event_presets()
    assert len({p.event_preset_id for p in presets}) == len(presets)


def test_sample_windows_have_bars_at_both_ends() -> None:
    store = hf.sample_store()
    for preset in builtin_event_presets():
        if BUNDLED_SAMPLE_TAG not in preset.tags:
            continue
        bars = store.underlying_bars(preset.symbol, preset.window_start, preset.window_end)
        assert bars["date"].min() == preset.window_start, preset.slug
        assert bars["date"].max() == preset.window_end, preset.slug
        # Manual windows run from the closing high to the closing low.
        assert bars["close"].arg_max() == 0, preset.slug
        assert bars["close"].arg_min() == bars.height - 1, preset.slug


def test_presets_round_trip_through_the_repository(tmp_path: Path) -> None:
    repository = EventPresetRepository(tmp_path)
    for preset in builtin_event_presets():
        repository.save(preset)
    assert repository.list() == builtin_event_presets()
    assert repository.get_by_slug("gfc-2007-2009").anchor_date == date(2008, 9, 15)


def test_dates_apply_lookback_and_recovery_in_calendar_days() -> None:
    preset = _preset(scenario_overrides=EventScenarioOverrides(lookback_days=30, recovery_days=45))
    state = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=1400, loan_amount=80_000, margin_call_ltv=0.75
    )
    scenario = materialize_event(preset, state, hf.seed_templates())
    assert scenario.start_date == date(2008, 1, 2) - timedelta(days=30)
    assert scenario.end_date == date(2008, 6, 30) + timedelta(days=45)
    assert scenario.event_preset_id == preset.event_preset_id
    assert scenario.slug == preset.slug
    assert scenario.initial_portfolio == state
    assert scenario.provider_ref.provider_id == "synthetic_v1"
    assert any("lookback_days 30" in note for note in scenario.notes)
    assert any("recovery_days 45" in note for note in scenario.notes)


def test_no_overrides_keep_the_window() -> None:
    state = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=1400, loan_amount=80_000, margin_call_ltv=0.75
    )
    scenario = materialize_event(_preset(), state, hf.seed_templates())
    assert (scenario.start_date, scenario.end_date) == (date(2008, 1, 2), date(2008, 6, 30))
    assert len(scenario.template_refs) == 4


def test_default_template_slugs_filter_the_templates() -> None:
    wanted = ["protective-put-95pct-12m", "protective-put-atm-12m"]
    preset = _preset(scenario_overrides=EventScenarioOverrides(default_template_slugs=wanted))
    chosen = event_templates(preset, hf.seed_templates())
    assert {t.slug for t in chosen} == set(wanted)
    state = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=1400, loan_amount=80_000, margin_call_ltv=0.75
    )
    scenario = materialize_event(preset, state, hf.seed_templates())
    assert {r.template_id for r in scenario.template_refs} == {t.template_id for t in chosen}
    assert any("default_template_slugs" in note for note in scenario.notes)


def test_missing_default_template_slugs_are_named() -> None:
    preset = _preset(
        scenario_overrides=EventScenarioOverrides(
            default_template_slugs=["protective-put-atm-12m", "collar-nope"]
        )
    )
    with pytest.raises(InvalidScenarioError, match=r"\['collar-nope'\]"):
        event_templates(preset, hf.seed_templates())


def test_templates_for_another_symbol_are_refused() -> None:
    gld_only = hf.protective_put("gld-atm", underlying_symbol="GLD")
    with pytest.raises(InvalidScenarioError, match="gld-atm"):
        event_templates(_preset(), [gld_only])


def test_event_portfolio_is_sized_at_the_first_close(
    provider: hf.SyntheticHistoricalProvider,
) -> None:
    preset = _preset(window_start=date(2008, 1, 1))  # a holiday: first bar 2008-01-02
    scenario = materialize_event(
        preset, EventPortfolio(loan_to_value=0.5), hf.seed_templates(), provider=provider
    )
    state = scenario.initial_portfolio
    assert state.entry_spot == pytest.approx(1447.160034)
    assert state.underlying_units * state.entry_spot == pytest.approx(1_000_000)
    assert state.loan_amount == pytest.approx(500_000)
    assert any("2008-01-02 close 1,447.16" in note for note in scenario.notes)


def test_units_portfolio_keeps_units_and_ratio(provider: hf.SyntheticHistoricalProvider) -> None:
    state = hf.BacktestPortfolioState(
        underlying_units=10, entry_spot=2000, loan_amount=12_000, margin_call_ltv=0.8
    )
    portfolio = EventPortfolio.from_state(state)
    assert portfolio.underlying_units == 10
    assert portfolio.loan_to_value == pytest.approx(0.6)
    sized = materialize_event(_preset(), portfolio, hf.seed_templates(), provider=provider)
    assert sized.initial_portfolio.underlying_units == 10
    assert sized.initial_portfolio.loan_amount == pytest.approx(0.6 * 10 * 1447.160034)
    assert sized.initial_portfolio.margin_call_ltv == 0.8


def test_event_portfolio_needs_a_provider() -> None:
    with pytest.raises(InvalidScenarioError, match="provider"):
        materialize_event(_preset(), EventPortfolio(), hf.seed_templates())


def test_event_portfolio_without_data_names_the_fetch(
    provider: hf.SyntheticHistoricalProvider,
) -> None:
    covid = next(p for p in builtin_event_presets() if p.slug == "covid-crash-2020")
    with pytest.raises(MissingMarketDataError, match="hedgeframe data fetch"):
        materialize_event(covid, EventPortfolio(), hf.seed_templates(), provider=provider)


def test_event_portfolio_validation() -> None:
    assert EventPortfolio().collateral_value == 1_000_000
    assert EventPortfolio(underlying_units=5).collateral_value is None
    with pytest.raises(ValueError, match="not both"):
        EventPortfolio(collateral_value=1.0, underlying_units=1.0)
    with pytest.raises(ValueError, match="loan_to_value"):
        EventPortfolio(loan_to_value=1.0)
    assert "margin call at LTV 75%" in EventPortfolio().describe()


def test_first_day_unhedged_ltv_equals_loan_to_value(
    provider: hf.SyntheticHistoricalProvider,
) -> None:
    portfolio = EventPortfolio(loan_to_value=0.55, cash_ratio=0.1)
    scenario = materialize_event(_preset(), portfolio, hf.seed_templates(), provider=provider)
    result = hf.run_backtest(scenario, hf.seed_templates(), provider)
    first = result.daily_path.filter(pl.col("date") == pl.col("date").min())
    assert first["ltv_unhedged"].to_list() == pytest.approx([0.55] * 4)


# -- the event preset rule: the engine never sees event endpoints --------------------------


def _run(
    preset: EventPreset,
    templates: list[hf.StrategyTemplate],
    provider: hf.SyntheticHistoricalProvider,
) -> hf.BacktestRunResult:
    scenario = materialize_event(preset, EventPortfolio(), templates, provider=provider)
    return hf.run_backtest(scenario, templates, provider)


def test_a_later_window_end_leaves_earlier_rows_unchanged() -> None:
    """Event preset rule: event presets may define scenario dates, but the strategy engine
    may not inspect future event endpoints when deciding to roll or exit."""
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.TrailingRealizedVol(21), spread_pct=0.02
    )
    templates = [
        hf.protective_put(
            "atm-1m-roll",
            target_expiry_days=30,
            roll_policy=hf.RollPolicy(
                policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY, days_before_expiry=5
            ),
        ),
        hf.put_ladder("ladder-3m", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], target_expiry_days=91),
    ]
    short_end, long_end = date(2008, 6, 30), date(2009, 3, 9)
    short = _run(_preset(window_end=short_end), templates, provider)
    long = _run(_preset(window_end=long_end), templates, provider)
    before = pl.col("date") < short_end
    assert short.daily_path.filter(before).equals(long.daily_path.filter(before))
    assert short.trades.filter(before).equals(long.trades.filter(before))
    assert short.trades.filter(before)["reason"].to_list().count("scheduled_roll") > 4
    # On the shorter window's last day only the scenario-end sale differs.
    last = pl.col("date") == short_end
    same = ["spot_close", "underlying_value", "ltv_unhedged", "margin_call_unhedged"]
    assert (
        short.daily_path.filter(last).select(same).equals(long.daily_path.filter(last).select(same))
    )
