"""Preset -> scenario: each override applied explicitly and written into the scenario's notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from hedgeframe.errors import InvalidScenarioError, MissingMarketDataError
from hedgeframe.events._portfolio import EventPortfolio
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    EventPreset,
    ProviderRef,
    StrategyTemplate,
    TemplateRef,
)
from hedgeframe.providers import HistoricalMarketDataProvider, SyntheticHistoricalProvider


def event_templates(
    preset: EventPreset, templates: Sequence[StrategyTemplate]
) -> list[StrategyTemplate]:
    """Return the templates an event runs: all, or those its ``default_template_slugs`` name.

    Raises
    ------
    InvalidScenarioError
        When a named slug is not among ``templates``, or no template hedges the symbol.
    """
    wanted = preset.scenario_overrides.default_template_slugs
    chosen = list(templates)
    if wanted:
        given = {t.slug for t in templates}
        missing = [slug for slug in wanted if slug not in given]
        if missing:
            msg = (
                f"event {preset.slug!r} default_template_slugs name {missing}, which are not "
                f"among the templates given ({sorted(given)}); pass them or clear the override"
            )
            raise InvalidScenarioError(msg)
        chosen = [t for t in templates if t.slug in wanted]
    foreign = [
        f"{t.slug} ({t.underlying_symbol})" for t in chosen if not t.matches_symbol(preset.symbol)
    ]
    if foreign:
        msg = (
            f"event {preset.slug!r} is on {preset.symbol!r}; templates {foreign} hedge "
            "another symbol"
        )
        raise InvalidScenarioError(msg)
    if not chosen:
        msg = f"event {preset.slug!r}: no templates to run"
        raise InvalidScenarioError(msg)
    return chosen


def scenario_dates(preset: EventPreset) -> tuple[date, date]:
    overrides = preset.scenario_overrides
    start = preset.window_start - timedelta(days=overrides.lookback_days or 0)
    end = preset.window_end + timedelta(days=overrides.recovery_days or 0)
    return start, end


def _provider_ref(provider: HistoricalMarketDataProvider | None) -> ProviderRef:
    if provider is None:
        return ProviderRef(
            provider_id=SyntheticHistoricalProvider.provider_id,
            pricing_mode=SyntheticHistoricalProvider.pricing_mode,
        )
    return ProviderRef(provider_id=provider.provider_id, pricing_mode=provider.pricing_mode)


def _first_close(
    provider: HistoricalMarketDataProvider, preset: EventPreset, start: date, end: date
) -> tuple[date, float]:
    bars = provider.get_underlying_bars(preset.symbol, start, min(end, start + timedelta(days=31)))
    if not bars:
        msg = (
            f"event {preset.slug!r}: no {preset.symbol} bar in {start}..{end} to size the "
            f"portfolio at; fetch it first, e.g. `hedgeframe data fetch {preset.symbol} "
            f"--start {start} --end {end}`"
        )
        raise MissingMarketDataError(msg)
    return bars[0].date, bars[0].close


def materialize_event(
    preset: EventPreset,
    portfolio: EventPortfolio | BacktestPortfolioState,
    templates: Sequence[StrategyTemplate],
    *,
    provider: HistoricalMarketDataProvider | None = None,
) -> BacktestScenario:
    """Turn an event preset into a scenario, applying each override explicitly.

    - dates: ``start_date = window_start - lookback_days`` and ``end_date = window_end +
      recovery_days``, both in **calendar** days (like ``target_expiry_days``); the
      trading days are then the dates in that range with a bar;
    - templates: all of ``templates``, or only those ``default_template_slugs`` names;
    - portfolio: an :class:`EventPortfolio` is sized at the close of the scenario's first
      trading day, read from ``provider``; a :class:`BacktestPortfolioState` is used as
      given (it already names its entry spot and loan);
    - provider: the scenario names ``provider`` (default: the synthetic provider);
    - ``event_preset_id`` links the scenario to the preset; ``notes`` list every override.

    Parameters
    ----------
    preset
        The event.
    portfolio
        The position, as ratios sized per event or as a concrete day-0 state.
    templates
        The template versions to compare.
    provider
        The provider the scenario will run on; required to size an ``EventPortfolio``.

    Raises
    ------
    InvalidScenarioError
        When ``default_template_slugs`` names a template not given, or an
        ``EventPortfolio`` comes without a provider.
    MissingMarketDataError
        When the provider has no bar in the scenario's range to size the portfolio at.

    Examples
    --------
    >>> import hedgeframe as hf
    >>> from hedgeframe.events import builtin_event_presets, materialize_event
    >>> gfc = next(p for p in builtin_event_presets() if p.slug == "gfc-2007-2009")
    >>> state = hf.BacktestPortfolioState(
    ...     underlying_units=1_000, entry_spot=1565.15, loan_amount=939_090, margin_call_ltv=0.75
    ... )
    >>> scenario = materialize_event(gfc, state, hf.seed_templates())
    >>> scenario.start_date, scenario.end_date
    (datetime.date(2007, 10, 9), datetime.date(2009, 9, 5))
    """
    chosen = event_templates(preset, templates)
    start, end = scenario_dates(preset)
    overrides = preset.scenario_overrides
    notes = [
        f"event {preset.slug}: window {preset.window_start}..{preset.window_end}"
        + (f", anchor {preset.anchor_date}" if preset.anchor_date else ""),
        f"lookback_days {overrides.lookback_days}: start_date {start}"
        if overrides.lookback_days
        else f"no lookback: start_date = window_start {start}",
        f"recovery_days {overrides.recovery_days}: end_date {end}"
        if overrides.recovery_days
        else f"no recovery tail: end_date = window_end {end}",
    ]
    if overrides.default_template_slugs:
        notes.append(
            f"templates limited to default_template_slugs {overrides.default_template_slugs}"
        )
    if isinstance(portfolio, EventPortfolio):
        if provider is None:
            msg = (
                f"event {preset.slug!r}: an EventPortfolio is sized at the event's first close, "
                "so materialize_event needs provider=...; or pass a BacktestPortfolioState"
            )
            raise InvalidScenarioError(msg)
        first_day, close = _first_close(provider, preset, start, end)
        state = portfolio.state_at(close)
        notes.append(
            f"portfolio sized at the {first_day} close {close:,.2f}: {portfolio.describe()}"
        )
    else:
        state = portfolio
        notes.append("portfolio: the BacktestPortfolioState given, unchanged")
    return BacktestScenario(
        slug=preset.slug,
        display_name=preset.display_name or preset.slug,
        description=preset.description,
        symbol=preset.symbol,
        start_date=start,
        end_date=end,
        initial_portfolio=state,
        template_refs=[TemplateRef(template_id=t.template_id, version=t.version) for t in chosen],
        provider_ref=_provider_ref(provider),
        event_preset_id=preset.event_preset_id,
        notes=notes,
    )
