"""Selloff events (BT-003): built-in presets, preset -> scenario, and the event comparison.

An :class:`~hedgeframe.models.EventPreset` names a manually dated market window. To compare
hedges across events, a portfolio is defined once (an :class:`EventPortfolio`: the
collateral and the loan as ratios) and sized at each event's first close, each preset
becomes an ordinary :class:`~hedgeframe.models.BacktestScenario`
(:func:`materialize_event`), the same template set runs over every event (one
:func:`~hedgeframe.run_backtest` per event) and :func:`compare_events` gathers the ranked
summaries, the normalized value paths and the LTV paths into an :class:`EventComparison`.
Decisions are written down in ``docs/events-and-report.md``.

The engine only ever sees a scenario's ``start_date`` and ``end_date``, never the event's
window; and a longer window changes nothing dated before the shorter one's end (tests in
``tests/events/`` prove it), so event endpoints cannot steer a roll or an exit.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Self

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.engine import (
    COMPARISON_SCHEMA,
    BacktestRunResult,
    engine_version,
    rank_summary,
    run_backtest,
)
from hedgeframe.errors import InvalidScenarioError, MissingMarketDataError
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    EventPreset,
    EventScenarioOverrides,
    EventType,
    PricingMode,
    ProviderRef,
    ProviderSnapshot,
    StrategyTemplate,
    TemplateRef,
)
from hedgeframe.models._base import FrozenModel, utc_now
from hedgeframe.providers import HistoricalMarketDataProvider, SyntheticHistoricalProvider

__all__ = [
    "ACROSS_EVENTS_SCHEMA",
    "BUNDLED_SAMPLE_TAG",
    "EVENTS_SCHEMA",
    "EVENT_SUMMARY_SCHEMA",
    "LTV_PATHS_SCHEMA",
    "NEEDS_FETCH_TAG",
    "NORMALIZED_PATHS_SCHEMA",
    "PRESETS_TIMESTAMP",
    "EventComparison",
    "EventPortfolio",
    "builtin_event_presets",
    "compare_events",
    "event_templates",
    "materialize_event",
]

_PRESET_NAMESPACE: Final = uuid.UUID("3b0f6d1e-8c4a-4f55-9e2b-7a61c0d9e5f3")
PRESETS_TIMESTAMP: Final = datetime(2026, 11, 25, tzinfo=UTC)
"""``created_at`` of every built-in preset (fixed, so presets compare equal across calls)."""

BUNDLED_SAMPLE_TAG: Final = "bundled-sample"
"""Tag of the built-in presets whose data ship in the bundled sample store."""
NEEDS_FETCH_TAG: Final = "needs-fetch"
"""Tag of the built-in presets that need fetched data (``hedgeframe data fetch``)."""

BASELINE: Final = 100.0
"""Value of every normalized path on its first day."""

# -- output schemas (declared once: built here, written to Parquet, shown in the report) --

_PATH_KEY: dict[str, pl.DataType] = {
    "event_slug": pl.String(),
    "template_slug": pl.String(),
    "template_id": pl.String(),
    "template_version": pl.Int64(),
    "date": pl.Date(),
    "day_offset": pl.Int64(),
    "phase": pl.String(),
}

EVENTS_SCHEMA: Final = pl.Schema(
    {
        "event_slug": pl.String(),
        "event_preset_id": pl.String(),
        "display_name": pl.String(),
        "symbol": pl.String(),
        "event_type": pl.String(),
        "window_start": pl.Date(),
        "window_end": pl.Date(),
        "anchor_date": pl.Date(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "first_day": pl.Date(),
        "last_day": pl.Date(),
        "trading_days": pl.Int64(),
        "entry_spot": pl.Float64(),
        "underlying_units": pl.Float64(),
        "loan_amount": pl.Float64(),
        "margin_call_ltv": pl.Float64(),
        "max_ltv_unhedged": pl.Float64(),
        "margin_call_days_unhedged": pl.Int64(),
        "worst_drawdown_unhedged": pl.Float64(),
        "data_source": pl.String(),
        "run_id": pl.String(),
    }
)
"""One row per event: its window, the scenario it became and the unhedged outcome."""

EVENT_SUMMARY_SCHEMA: Final = pl.Schema(
    {
        "event_slug": pl.String(),
        "event_preset_id": pl.String(),
        "run_id": pl.String(),
        **COMPARISON_SCHEMA,
        "hedge_cost_pct": pl.Float64(),
    }
)
"""Each event's ranked ``comparison`` (SPEC section 5) with the event's keys in front;
``hedge_cost_pct`` is ``total_hedge_cost / start_value``."""

ACROSS_EVENTS_SCHEMA: Final = pl.Schema(
    {
        "rank": pl.Int64(),
        "template_slug": pl.String(),
        "template_id": pl.String(),
        "template_version": pl.Int64(),
        "status": pl.String(),
        "events": pl.Int64(),
        "mean_rank": pl.Float64(),
        "best_rank": pl.Int64(),
        "worst_rank": pl.Int64(),
        "first_places": pl.Int64(),
        "margin_call_days_unhedged": pl.Int64(),
        "margin_call_days_hedged": pl.Int64(),
        "days_protected_below_threshold": pl.Int64(),
        "max_ltv_unhedged": pl.Float64(),
        "max_ltv_hedged": pl.Float64(),
        "worst_drawdown_hedged": pl.Float64(),
        "total_hedge_cost": pl.Float64(),
        "mean_hedge_cost_pct": pl.Float64(),
        "total_end_value_hedged_net": pl.Float64(),
    }
)
"""One row per template over all events: totals, worst cases, ranks; ranked by the SPEC
ranking rule applied to the totals (see :func:`compare_events`)."""

NORMALIZED_PATHS_SCHEMA: Final = pl.Schema(
    {
        **_PATH_KEY,
        "value_unhedged": pl.Float64(),
        "value_hedged": pl.Float64(),
        "index_unhedged": pl.Float64(),
        "index_hedged": pl.Float64(),
    }
)
"""Unhedged and hedged value per (event, template, day); ``index_*`` = 100 * value / the
first day's unhedged value, so every path starts from the same baseline."""

LTV_PATHS_SCHEMA: Final = pl.Schema(
    {
        **_PATH_KEY,
        "ltv_unhedged": pl.Float64(),
        "ltv_hedged": pl.Float64(),
        "margin_call_ltv": pl.Float64(),
        "margin_call_unhedged": pl.Boolean(),
        "margin_call_hedged": pl.Boolean(),
    }
)
"""LTV per (event, template, day) against the margin-call threshold."""

_TABLES: Final = {
    "events": EVENTS_SCHEMA,
    "event_summary": EVENT_SUMMARY_SCHEMA,
    "across_events": ACROSS_EVENTS_SCHEMA,
    "normalized_paths": NORMALIZED_PATHS_SCHEMA,
    "ltv_paths": LTV_PATHS_SCHEMA,
}

# -- built-in presets -------------------------------------------------------------------


def _preset(
    slug: str,
    display_name: str,
    symbol: str,
    window: tuple[date, date],
    anchor: date,
    tags: list[str],
    description: str,
    recovery_days: int,
) -> EventPreset:
    return EventPreset(
        event_preset_id=str(uuid.uuid5(_PRESET_NAMESPACE, slug)),
        slug=slug,
        display_name=display_name,
        symbol=symbol,
        window_start=window[0],
        window_end=window[1],
        anchor_date=anchor,
        event_type=EventType.SELLOFF,
        tags=tags,
        description=description,
        scenario_overrides=EventScenarioOverrides(recovery_days=recovery_days),
        created_at=PRESETS_TIMESTAMP,
    )


def builtin_event_presets() -> list[EventPreset]:
    """Return the named selloff windows of SPEC section 8, oldest first.

    Windows run from the closing high before each selloff to its closing low (manual
    dates, no peak/trough detection), with a recovery tail of 90 or 180 calendar days.
    Seven lie inside the bundled sample (tag ``bundled-sample``); three need fetched data
    (tag ``needs-fetch``). Ids are ``uuid5`` of the slug and ``created_at`` is fixed, so
    every call gives equal presets.

    Examples
    --------
    >>> [p.slug for p in builtin_event_presets() if "bundled-sample" in p.tags][:3]
    ['dotcom-2000-2002', 'gfc-2007-2009', 'flash-crash-2010']
    """
    sample, fetch = BUNDLED_SAMPLE_TAG, NEEDS_FETCH_TAG
    presets = [
        _preset(
            "dotcom-2000-2002",
            "Dot-com bust 2000-2002",
            "^GSPC",
            (date(2000, 3, 24), date(2002, 10, 9)),
            date(2001, 9, 17),
            ["equity", "bear-market", "valuation", sample],
            "S&P 500 from its March 2000 closing high (1,527) to the October 2002 low (777): "
            "a 31-month grind, -49 %, with 9/11 in the middle (anchor: the reopening).",
            180,
        ),
        _preset(
            "gfc-2007-2009",
            "Global financial crisis 2007-2009",
            "^GSPC",
            (date(2007, 10, 9), date(2009, 3, 9)),
            date(2008, 9, 15),
            ["equity", "bear-market", "credit", "liquidity", sample],
            "S&P 500 from its October 2007 closing high (1,565) to the March 2009 low (677), "
            "-57 %; anchor: the Lehman bankruptcy.",
            180,
        ),
        _preset(
            "flash-crash-2010",
            "May 2010 flash crash",
            "^GSPC",
            (date(2010, 4, 23), date(2010, 7, 2)),
            date(2010, 5, 6),
            ["equity", "correction", "liquidity", "euro-crisis", sample],
            "S&P 500 from the April 2010 high (1,217) through the 6 May flash crash and the "
            "euro-area debt scare to the July low (1,023), -16 %.",
            90,
        ),
        _preset(
            "us-downgrade-2011",
            "August 2011 US downgrade",
            "^GSPC",
            (date(2011, 7, 7), date(2011, 10, 3)),
            date(2011, 8, 8),
            ["equity", "correction", "sovereign", "vol-spike", sample],
            "S&P 500 from the July 2011 high (1,353) to the October low (1,099), -19 %; "
            "anchor: the first session after S&P cut the US rating (-6.7 % that day).",
            90,
        ),
        _preset(
            "china-deval-2015",
            "August 2015 China devaluation",
            "^GSPC",
            (date(2015, 7, 20), date(2015, 8, 25)),
            date(2015, 8, 24),
            ["equity", "correction", "vol-spike", "emerging-markets", sample],
            "S&P 500 from the July 2015 high (2,128) to the 25 August low (1,868), -12 %, "
            "after the yuan devaluation; anchor: the 24 August open-gap Monday.",
            90,
        ),
        _preset(
            "volmageddon-2018",
            "February 2018 volatility shock",
            "^GSPC",
            (date(2018, 1, 26), date(2018, 2, 8)),
            date(2018, 2, 5),
            ["equity", "correction", "vol-spike", sample],
            "S&P 500 from the January 2018 high (2,873) to the 8 February low (2,581), -10 % "
            "in nine sessions; anchor: 5 February, when short-volatility products collapsed.",
            90,
        ),
        _preset(
            "q4-2018",
            "Q4 2018 selloff",
            "^GSPC",
            (date(2018, 9, 20), date(2018, 12, 24)),
            date(2018, 12, 24),
            ["equity", "correction", "rates", sample],
            "S&P 500 from the September 2018 high (2,931) to the Christmas Eve low (2,351), "
            "-20 %, on Fed tightening and trade-war fears. The bundled sample ends "
            "2018-12-31, so its recovery tail needs fetched data.",
            90,
        ),
        _preset(
            "gold-crash-2013",
            "April 2013 gold crash",
            "GLD",
            (date(2013, 4, 1), date(2013, 6, 27)),
            date(2013, 4, 15),
            ["gold", "commodity", "crash", fetch],
            "SPDR Gold Shares (GLD) from early April 2013 through the two-day crash of 12 and "
            "15 April (gold -13 %) to the June low, about -26 %. Needs GLD bars: "
            "`hedgeframe data fetch GLD --start 2012-01-01 --end 2013-12-31`.",
            90,
        ),
        _preset(
            "covid-crash-2020",
            "COVID-19 crash 2020",
            "^GSPC",
            (date(2020, 2, 19), date(2020, 3, 23)),
            date(2020, 3, 16),
            ["equity", "crash", "pandemic", "vol-spike", fetch],
            "S&P 500 from the 19 February 2020 high (3,386) to the 23 March low (2,237), "
            "-34 % in 23 sessions; anchor: 16 March (-12 %, VIX close 82.7). Needs "
            "fetched ^GSPC (and ^VIX) bars.",
            90,
        ),
        _preset(
            "rate-shock-2022",
            "2022 rate shock",
            "^GSPC",
            (date(2022, 1, 3), date(2022, 10, 12)),
            date(2022, 6, 13),
            ["equity", "bear-market", "rates", "inflation", fetch],
            "S&P 500 from the January 2022 high (4,797) to the October low (3,577), -25 %, "
            "as the Fed raised rates fastest in decades; anchor: the 13 June CPI shock. "
            "Needs fetched ^GSPC (and ^VIX) bars.",
            180,
        ),
    ]
    return sorted(presets, key=lambda p: (p.window_start, p.slug))


# -- the portfolio, defined once --------------------------------------------------------


class EventPortfolio(FrozenModel):
    """A collateral-and-loan position defined once, sized at each event's first close.

    Events happen at very different index levels (the S&P 500 was 1,527 in March 2000 and
    2,931 in September 2018), so the position is defined by ratios and sized per event:
    either a fixed ``collateral_value`` (the default: USD 1,000,000 at every event, so
    currency totals add up across events) or a fixed number of ``underlying_units``. The
    loan is ``loan_to_value`` of the collateral (underlying plus cash) on the first day, so
    every event starts at the same unhedged LTV.

    Parameters
    ----------
    collateral_value
        Value of the underlying at each event's first close (exclusive with units).
    underlying_units
        Units held at every event, whatever their price (exclusive with value).
    loan_to_value
        Loan as a fraction of the first day's collateral, in [0, 1).
    margin_call_ltv
        LTV at which the lender calls margin.
    cash_ratio
        Cash beside the underlying, as a fraction of the underlying's first-day value.
    financing_rate
        Rate the cash accrues at (SPEC section 4 step 1).
    currency
        Reporting currency.

    Examples
    --------
    >>> round(EventPortfolio().state_at(1565.15).underlying_units, 2)
    638.92
    """

    collateral_value: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    underlying_units: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    loan_to_value: float = Field(default=0.6, ge=0.0, lt=1.0, allow_inf_nan=False)
    margin_call_ltv: float = Field(default=0.75, gt=0.0, allow_inf_nan=False)
    cash_ratio: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    financing_rate: float = Field(default=0.0, ge=-1.0, le=1.0, allow_inf_nan=False)
    currency: str = Field(default="USD", min_length=3, max_length=3)

    @model_validator(mode="before")
    @classmethod
    def _default_value(cls, data: Any) -> Any:
        sized = isinstance(data, dict) and (
            data.get("collateral_value") is not None or data.get("underlying_units") is not None
        )
        if isinstance(data, dict) and not sized:
            return {**data, "collateral_value": 1_000_000.0}
        return data

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if self.collateral_value is not None and self.underlying_units is not None:
            msg = (
                f"give collateral_value ({self.collateral_value}) or underlying_units "
                f"({self.underlying_units}), not both"
            )
            raise ValueError(msg)
        return self

    @classmethod
    def from_state(cls, state: BacktestPortfolioState) -> EventPortfolio:
        """Keep a state's units and ratios; its ``entry_spot`` is replaced per event."""
        underlying = state.underlying_units * state.entry_spot
        return cls(
            underlying_units=state.underlying_units,
            loan_to_value=state.loan_amount / (underlying + state.cash_balance),
            margin_call_ltv=state.margin_call_ltv,
            cash_ratio=state.cash_balance / underlying,
            financing_rate=state.financing_rate,
            currency=state.currency,
        )

    def state_at(self, entry_spot: float) -> BacktestPortfolioState:
        """Return the concrete day-0 position for an event whose first close is ``entry_spot``."""
        units = (
            self.underlying_units
            if self.underlying_units is not None
            else float(self.collateral_value or 0.0) / entry_spot
        )
        underlying = units * entry_spot
        cash = self.cash_ratio * underlying
        return BacktestPortfolioState(
            currency=self.currency,
            underlying_units=units,
            entry_spot=entry_spot,
            loan_amount=self.loan_to_value * (underlying + cash),
            margin_call_ltv=self.margin_call_ltv,
            cash_balance=cash,
            financing_rate=self.financing_rate,
        )

    def describe(self) -> str:
        """One sentence for reports: how the position is sized and financed."""
        size = (
            f"{self.underlying_units:,.4g} units of the underlying"
            if self.underlying_units is not None
            else f"{self.currency} {self.collateral_value:,.0f} of the underlying"
        )
        cash = f" plus cash of {self.cash_ratio:.1%} of it" if self.cash_ratio else ""
        rate = f"; cash accrues at {self.financing_rate:.2%}" if self.financing_rate else ""
        return (
            f"{size} at each event's first close{cash}; loan {self.loan_to_value:.0%} of the "
            f"collateral; margin call at LTV {self.margin_call_ltv:.0%}{rate}"
        )


# -- preset -> scenario -----------------------------------------------------------------


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


def _scenario_dates(preset: EventPreset) -> tuple[date, date]:
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
    start, end = _scenario_dates(preset)
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


# -- the comparison ---------------------------------------------------------------------


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class EventComparison:
    """One template set run over several events: runs, tables and warnings.

    Tables (Polars, schemas in this module): ``events`` (one row per event),
    ``summary`` (each event's ranked comparison, ``event_slug`` in front),
    ``across_events`` (one ranked row per template over all events), ``normalized_paths``
    (value paths, first day = 100) and ``ltv_paths`` (LTV against the margin-call line).
    ``runs`` holds each event's :class:`~hedgeframe.BacktestRunResult`, in event order.
    """

    comparison_id: str
    presets: list[EventPreset]
    templates: list[StrategyTemplate]
    portfolio: EventPortfolio
    provider_snapshot: ProviderSnapshot
    pricing_mode: PricingMode
    runs: list[BacktestRunResult]
    events: pl.DataFrame
    summary: pl.DataFrame
    across_events: pl.DataFrame
    normalized_paths: pl.DataFrame
    ltv_paths: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    engine_version: str = ""
    generated_at: datetime = field(default_factory=utc_now)

    def tables(self) -> dict[str, pl.DataFrame]:
        """Return the comparison's five tables by their Parquet folder name."""
        return {
            "events": self.events,
            "event_summary": self.summary,
            "across_events": self.across_events,
            "normalized_paths": self.normalized_paths,
            "ltv_paths": self.ltv_paths,
        }

    def write_parquet(self, root: str | Path) -> dict[str, Path]:
        """Write every table, hive-partitioned, atomically; return the files by table.

        Layout: ``<root>/<table>/comparison_id=<id>/part-0.parquet`` for the five
        comparison tables, and each run's tables as ``BacktestRunResult.write_parquet``
        writes them (``<root>/<table>/run_id=<run_id>/part-0.parquet``), so one glob per
        table reads every comparison or run in the folder (DuckDB, Polars, Spark).
        """
        written: dict[str, Path] = {}
        for name, frame in self.tables().items():
            path = Path(root) / name / f"comparison_id={self.comparison_id}" / "part-0.parquet"
            atomic_write_bytes(path, _parquet_bytes(frame))
            written[name] = path
        for run in self.runs:
            for name, path in run.write_parquet(root).items():
                written[f"{name}/{run.run_id}"] = path
        return written

    def write_html(self, path: str | Path, *, charts_dir: str | Path | None = None) -> Path:
        """Write the self-contained HTML report, and its charts as PNG files beside it.

        Parameters
        ----------
        path
            The HTML file.
        charts_dir
            Folder for the PNG copies of the charts; default ``<path's folder>/charts``.
        """
        from hedgeframe.report import write_report  # matplotlib loads only when reporting

        return write_report(self, path, charts_dir=charts_dir)


def _missing_sessions(provider: HistoricalMarketDataProvider, after: date, through: date) -> int:
    """Count exchange sessions in ``(after, through]``: data the store lacks there."""
    sessions = provider.calendar.sessions
    lo = np.searchsorted(sessions, np.datetime64(after, "D"), side="right")
    hi = np.searchsorted(sessions, np.datetime64(through, "D"), side="right")
    return max(int(hi) - int(lo), 0)


def _phase(preset: EventPreset) -> pl.Expr:
    return (
        pl.when(pl.col("date") < preset.window_start)
        .then(pl.lit("lookback"))
        .when(pl.col("date") > preset.window_end)
        .then(pl.lit("recovery"))
        .otherwise(pl.lit("window"))
    )


def _event_paths(preset: EventPreset, run: BacktestRunResult) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the normalized value and LTV paths of one event's run."""
    state = run.scenario_snapshot.initial_portfolio
    daily = run.daily_path
    days = daily.get_column("date").unique().sort()
    window_zero = int(np.searchsorted(days.to_numpy(), np.datetime64(preset.window_start, "D")))
    start_values = run.summary.select("template_id", "template_version", "start_value")
    base = (
        daily.join(start_values, on=["template_id", "template_version"])
        .with_columns(
            pl.lit(preset.slug).alias("event_slug"),
            (pl.col("date").rank("dense").over("template_id", "template_version") - 1)
            .cast(pl.Int64)
            .sub(window_zero)
            .alias("day_offset"),
            _phase(preset).alias("phase"),
            (pl.col("underlying_value") + state.cash_balance).alias("value_unhedged"),
            pl.col("net_portfolio_value").alias("value_hedged"),
        )
        .with_columns(
            (BASELINE * pl.col("value_unhedged") / pl.col("start_value")).alias("index_unhedged"),
            (BASELINE * pl.col("value_hedged") / pl.col("start_value")).alias("index_hedged"),
            pl.lit(state.margin_call_ltv).alias("margin_call_ltv"),
        )
    )
    return (
        base.select(NORMALIZED_PATHS_SCHEMA.names()).cast(NORMALIZED_PATHS_SCHEMA),
        base.select(LTV_PATHS_SCHEMA.names()).cast(LTV_PATHS_SCHEMA),
    )


def _event_row(
    preset: EventPreset,
    run: BacktestRunResult,
    provider: HistoricalMarketDataProvider,
) -> dict[str, Any]:
    scenario = run.scenario_snapshot
    state = scenario.initial_portfolio
    days = run.daily_path.get_column("date")
    first, last = days.min(), days.max()
    assert isinstance(first, date)
    assert isinstance(last, date)
    summary = run.summary.row(0, named=True)
    sources = sorted(
        {bar.source for bar in provider.get_underlying_bars(preset.symbol, first, last)}
    )
    return {
        "event_slug": preset.slug,
        "event_preset_id": preset.event_preset_id,
        "display_name": preset.display_name or preset.slug,
        "symbol": preset.symbol,
        "event_type": preset.event_type.value,
        "window_start": preset.window_start,
        "window_end": preset.window_end,
        "anchor_date": preset.anchor_date,
        "start_date": scenario.start_date,
        "end_date": scenario.end_date,
        "first_day": first,
        "last_day": last,
        "trading_days": days.n_unique(),
        "entry_spot": float(run.daily_path.get_column("spot_close")[0]),
        "underlying_units": state.underlying_units,
        "loan_amount": state.loan_amount,
        "margin_call_ltv": state.margin_call_ltv,
        "max_ltv_unhedged": summary["max_ltv_unhedged"],
        "margin_call_days_unhedged": summary["margin_call_days_unhedged"],
        "worst_drawdown_unhedged": summary["worst_drawdown_unhedged"],
        "data_source": "; ".join(sources),
        "run_id": run.run_id,
    }


def _data_warnings(
    preset: EventPreset, run: BacktestRunResult, provider: HistoricalMarketDataProvider
) -> list[str]:
    scenario = run.scenario_snapshot
    days = run.daily_path.get_column("date")
    first, last = days.min(), days.max()
    assert isinstance(first, date)
    assert isinstance(last, date)
    notes = []
    late = _missing_sessions(
        provider, scenario.start_date - timedelta(days=1), first - timedelta(days=1)
    )
    if late:
        notes.append(
            f"{preset.slug}: the {preset.symbol} data start {first}, {late} session(s) after "
            f"the scenario start {scenario.start_date}"
        )
    short = _missing_sessions(provider, last, scenario.end_date)
    if short:
        notes.append(
            f"{preset.slug}: the {preset.symbol} data end {last}, {short} session(s) before "
            f"the scenario end {scenario.end_date}; the event is cut there (fetch more data "
            "to see the rest)"
        )
    return notes


def _across_events(summary: pl.DataFrame) -> pl.DataFrame:
    """Totals and worst cases per template over all events, ranked by the SPEC rule.

    The ranking reuses :func:`~hedgeframe.engine.rank_summary` on the totals: fewer hedged
    margin-call days over all events, then the worst hedged LTV, then the total hedge cost,
    then the total hedged end value; a template incomplete in any event ranks last.
    """
    key = ["template_slug", "template_id", "template_version"]
    totals = summary.group_by(key, maintain_order=True).agg(
        pl.when((pl.col("status") == "complete").all())
        .then(pl.lit("complete"))
        .otherwise(pl.lit("incomplete"))
        .alias("status"),
        pl.len().cast(pl.Int64).alias("events"),
        pl.col("rank").mean().alias("mean_rank"),
        pl.col("rank").min().alias("best_rank"),
        pl.col("rank").max().alias("worst_rank"),
        (pl.col("rank") == 1).sum().cast(pl.Int64).alias("first_places"),
        pl.col("margin_call_days_unhedged").sum(),
        pl.col("margin_call_days_hedged").sum(),
        pl.col("days_protected_below_threshold").sum(),
        pl.col("max_ltv_unhedged").max(),
        pl.col("max_ltv_hedged").max(),
        pl.col("worst_drawdown_hedged").max(),
        pl.col("total_hedge_cost").sum(),
        pl.col("hedge_cost_pct").mean().alias("mean_hedge_cost_pct"),
        pl.col("end_value_hedged_net").sum(),
    )
    ranked = rank_summary(totals).rename({"end_value_hedged_net": "total_end_value_hedged_net"})
    return ranked.select(ACROSS_EVENTS_SCHEMA.names()).cast(ACROSS_EVENTS_SCHEMA)


def compare_events(
    presets: Sequence[EventPreset],
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    portfolio: EventPortfolio | BacktestPortfolioState | None = None,
    *,
    skip_missing: bool = False,
    on_event: Callable[[EventPreset], None] | None = None,
) -> EventComparison:
    """Run one template set over every event and compare, per event and across events.

    Each preset becomes a scenario (:func:`materialize_event`) and runs once, with all
    its templates batched (:func:`~hedgeframe.run_backtest`). A
    :class:`~hedgeframe.models.BacktestPortfolioState` is read as "these units, this
    loan ratio" (:meth:`EventPortfolio.from_state`), since one fixed entry spot cannot fit
    events at different index levels.

    Parameters
    ----------
    presets
        The events, in the order the report shows them.
    templates
        The template versions to compare (an event's ``default_template_slugs`` may
        narrow them for that event).
    provider
        Prices every event, e.g. :class:`~hedgeframe.SyntheticHistoricalProvider`.
    portfolio
        The position; default :class:`EventPortfolio()` (USD 1m collateral, loan 60 %,
        margin call at 75 %).
    skip_missing
        Skip, with a warning, an event with fewer than two bars in the store (instead of
        raising).
    on_event
        Called after each event has run (progress display).

    Raises
    ------
    MissingMarketDataError
        When an event has no data (unless ``skip_missing``).
    InvalidScenarioError
        When an event cannot run as given (e.g. ``default_template_slugs`` not given).

    Examples
    --------
    >>> import hedgeframe as hf
    >>> from hedgeframe.events import builtin_event_presets, compare_events
    >>> provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
    >>> events = [p for p in builtin_event_presets() if p.slug == "volmageddon-2018"]
    >>> report = compare_events(events, hf.seed_templates(), provider)
    >>> report.normalized_paths["index_unhedged"][0]
    100.0
    """
    if not presets:
        msg = "compare_events needs at least one event preset"
        raise InvalidScenarioError(msg)
    slugs = [p.slug for p in presets]
    if len(set(slugs)) != len(slugs):
        msg = f"event presets must have distinct slugs (got {slugs})"
        raise InvalidScenarioError(msg)
    position = (
        EventPortfolio.from_state(portfolio)
        if isinstance(portfolio, BacktestPortfolioState)
        else portfolio or EventPortfolio()
    )
    warnings: list[str] = []
    ran: list[EventPreset] = []
    runs: list[BacktestRunResult] = []
    for preset in presets:
        start, end = _scenario_dates(preset)
        if skip_missing and len(provider.get_trading_days(preset.symbol, start, end)) < 2:
            warnings.append(
                f"{preset.slug}: skipped, the store has fewer than two {preset.symbol} bars in "
                f"{start}..{end} (fetch them with `hedgeframe data fetch {preset.symbol} "
                f"--start {start} --end {end}`)"
            )
        else:
            scenario = materialize_event(preset, position, templates, provider=provider)
            keys = {(r.template_id, r.version) for r in scenario.template_refs}
            chosen = [t for t in templates if (t.template_id, t.version) in keys]
            run = run_backtest(scenario, chosen, provider)
            warnings.extend(_data_warnings(preset, run, provider))
            warnings.extend(f"{preset.slug}: {w}" for w in run.warnings)
            ran.append(preset)
            runs.append(run)
        if on_event is not None:
            on_event(preset)
    if not runs:
        msg = "none of the events has data in the store; " + " | ".join(warnings)
        raise MissingMarketDataError(msg)
    events = pl.DataFrame(
        [_event_row(p, r, provider) for p, r in zip(ran, runs, strict=True)],
        schema=EVENTS_SCHEMA,
    )
    summary = pl.concat(
        [
            r.comparison.with_columns(
                pl.lit(p.slug).alias("event_slug"),
                pl.lit(p.event_preset_id).alias("event_preset_id"),
                pl.lit(r.run_id).alias("run_id"),
                (pl.col("total_hedge_cost") / pl.col("start_value")).alias("hedge_cost_pct"),
            ).select(EVENT_SUMMARY_SCHEMA.names())
            for p, r in zip(ran, runs, strict=True)
        ]
    )
    paths = [_event_paths(p, r) for p, r in zip(ran, runs, strict=True)]
    return EventComparison(
        comparison_id=str(uuid.uuid4()),
        presets=ran,
        templates=list(templates),
        portfolio=position,
        provider_snapshot=runs[0].provider_snapshot,
        pricing_mode=provider.pricing_mode,
        runs=runs,
        events=events,
        summary=summary,
        across_events=_across_events(summary),
        normalized_paths=pl.concat([normalized for normalized, _ in paths]),
        ltv_paths=pl.concat([ltv for _, ltv in paths]),
        warnings=warnings,
        engine_version=engine_version(),
    )
