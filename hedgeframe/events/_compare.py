"""``compare_events``: one template set over several events, and the ``EventComparison``."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.engine import (
    BacktestRunResult,
    engine_version,
    rank_summary,
    run_backtest,
    unhedged_path,
)
from hedgeframe.errors import InvalidScenarioError, MissingMarketDataError
from hedgeframe.events._materialize import materialize_event, scenario_dates
from hedgeframe.events._portfolio import EventPortfolio
from hedgeframe.events._schemas import (
    ACROSS_EVENTS_SCHEMA,
    BASELINE,
    EVENT_SUMMARY_SCHEMA,
    EVENTS_SCHEMA,
    LTV_PATHS_SCHEMA,
    NORMALIZED_PATHS_SCHEMA,
)
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    EventPreset,
    MarginCallPolicy,
    PricingMode,
    ProviderSnapshot,
    StrategyTemplate,
)
from hedgeframe.models._base import utc_now
from hedgeframe.providers import HistoricalMarketDataProvider


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


@dataclass(frozen=True)
class _EventBars:
    """The underlying bars an event's scenario ran over (its trading days)."""

    dates: pl.Series
    closes: npt.NDArray[np.float64]
    sources: list[str]

    @classmethod
    def read(cls, provider: HistoricalMarketDataProvider, scenario: BacktestScenario) -> _EventBars:
        bars = provider.get_underlying_bars(scenario.symbol, scenario.start_date, scenario.end_date)
        return cls(
            pl.Series("date", [bar.date for bar in bars], dtype=pl.Date),
            np.array([bar.close for bar in bars], dtype=np.float64),
            sorted({bar.source for bar in bars}),
        )

    @property
    def first(self) -> date:
        first: date = self.dates[0]
        return first

    @property
    def last(self) -> date:
        last: date = self.dates[-1]
        return last


def _event_paths(
    preset: EventPreset, run: BacktestRunResult, bars: _EventBars
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build the normalized value and LTV paths of one event's run."""
    state = run.scenario_snapshot.initial_portfolio
    window_zero = int(
        np.searchsorted(bars.dates.to_numpy(), np.datetime64(preset.window_start, "D"))
    )
    start_values = run.summary.select("template_id", "template_version", "start_value")
    base = (
        run.daily_path.join(start_values, on=["template_id", "template_version"])
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


def _event_row(preset: EventPreset, run: BacktestRunResult, bars: _EventBars) -> dict[str, Any]:
    """Describe the event's window, scenario and unhedged outcome, from the bars (SPEC 9.3).

    The unhedged figures are the shadow portfolio's over every trading day of the
    scenario, so a template whose path was cut (e.g. by stale quotes) cannot shorten them.
    """
    scenario = run.scenario_snapshot
    state = scenario.initial_portfolio
    shadow = unhedged_path(bars.closes, state, bars.dates.to_numpy().astype("datetime64[D]"))
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
        "first_day": bars.first,
        "last_day": bars.last,
        "trading_days": bars.dates.len(),
        "entry_spot": float(bars.closes[0]),
        "underlying_units": state.underlying_units,
        "loan_amount": state.loan_amount,
        "margin_call_ltv": state.margin_call_ltv,
        "max_ltv_unhedged": shadow.max_ltv,
        "margin_call_days_unhedged": shadow.margin_call_days,
        "worst_drawdown_unhedged": shadow.worst_drawdown,
        "data_source": "; ".join(bars.sources),
        "run_id": run.run_id,
    }


def _data_warnings(
    preset: EventPreset,
    scenario: BacktestScenario,
    bars: _EventBars,
    provider: HistoricalMarketDataProvider,
) -> list[str]:
    """Warn where the store's bars start after or end before the scenario (SPEC 9.3).

    Only the bars decide: a template cut short by its quotes is an incomplete result with
    its own warning, not missing market data.
    """
    notes = []
    late = _missing_sessions(
        provider, scenario.start_date - timedelta(days=1), bars.first - timedelta(days=1)
    )
    if late:
        notes.append(
            f"{preset.slug}: the {preset.symbol} data start {bars.first}, {late} session(s) "
            f"after the scenario start {scenario.start_date}"
        )
    short = _missing_sessions(provider, bars.last, scenario.end_date)
    if short:
        notes.append(
            f"{preset.slug}: the {preset.symbol} data end {bars.last}, {short} session(s) "
            f"before the scenario end {scenario.end_date}; the event is cut there (fetch more "
            "data to see the rest)"
        )
    return notes


def _total(name: str) -> pl.Expr:
    """Sum over events, null when no event has a value (a template that never ran)."""
    column = pl.col(name)
    return pl.when(column.is_not_null().any()).then(column.sum()).alias(name)


def _across_events(summary: pl.DataFrame, *, forced_sales_first: bool) -> pl.DataFrame:
    """Totals and worst cases per template over all events, ranked by the SPEC rule.

    The ranking reuses :func:`~hedgeframe.engine.rank_summary` on the totals: fewer hedged
    margin-call days over all events, then the worst hedged LTV, then the total hedge cost,
    then the total hedged end value (under a ``cure`` or ``liquidate`` policy, the
    collateral sold on margin calls over all events first, SPEC 9.2); a template incomplete
    in any event ranks after every complete one, those that ran more days first.
    """
    key = ["template_slug", "template_id", "template_version"]
    totals = summary.group_by(key, maintain_order=True).agg(
        pl.col("complete").all(),
        pl.col("days_run").sum(),
        pl.len().cast(pl.Int64).alias("events"),
        pl.col("rank").mean().alias("mean_rank"),
        pl.col("rank").min().alias("best_rank"),
        pl.col("rank").max().alias("worst_rank"),
        (pl.col("rank") == 1).sum().cast(pl.Int64).alias("first_places"),
        _total("margin_call_days_unhedged"),
        _total("margin_call_days_hedged"),
        _total("days_protected_below_threshold"),
        pl.col("max_ltv_unhedged").max(),
        pl.col("max_ltv_hedged").max(),
        pl.col("worst_drawdown_hedged").max(),
        _total("total_hedge_cost"),
        pl.col("hedge_cost_pct").mean().alias("mean_hedge_cost_pct"),
        _total("end_value_hedged_net"),
        _total("forced_sale_value"),
        _total("forced_sale_value_unhedged"),
    )
    ranked = rank_summary(
        totals.with_columns(
            pl.when("complete")
            .then(pl.lit("complete"))
            .otherwise(pl.lit("incomplete"))
            .alias("status")
        ),
        forced_sales_first=forced_sales_first,
    ).rename({"end_value_hedged_net": "total_end_value_hedged_net"})
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
    ran: list[tuple[EventPreset, BacktestRunResult, _EventBars]] = []
    for preset in presets:
        start, end = scenario_dates(preset)
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
            bars = _EventBars.read(provider, scenario)
            warnings.extend(_data_warnings(preset, scenario, bars, provider))
            warnings.extend(f"{preset.slug}: {w}" for w in run.warnings)
            ran.append((preset, run, bars))
        if on_event is not None:
            on_event(preset)
    if not ran:
        msg = "none of the events has data in the store; " + " | ".join(warnings)
        raise MissingMarketDataError(msg)
    events = pl.DataFrame([_event_row(*event) for event in ran], schema=EVENTS_SCHEMA)
    summary = pl.concat(
        [
            r.comparison.with_columns(
                pl.lit(p.slug).alias("event_slug"),
                pl.lit(p.event_preset_id).alias("event_preset_id"),
                pl.lit(r.run_id).alias("run_id"),
                (pl.col("total_hedge_cost") / pl.col("start_value")).alias("hedge_cost_pct"),
            ).select(EVENT_SUMMARY_SCHEMA.names())
            for p, r, _ in ran
        ]
    )
    paths = [_event_paths(*event) for event in ran]
    runs = [r for _, r, _ in ran]
    return EventComparison(
        comparison_id=str(uuid.uuid4()),
        presets=[p for p, _, _ in ran],
        templates=list(templates),
        portfolio=position,
        provider_snapshot=runs[0].provider_snapshot,
        pricing_mode=provider.pricing_mode,
        runs=runs,
        events=events,
        summary=summary,
        across_events=_across_events(
            summary, forced_sales_first=position.margin_call_policy is not MarginCallPolicy.NONE
        ),
        normalized_paths=pl.concat([normalized for normalized, _ in paths]),
        ltv_paths=pl.concat([ltv for _, ltv in paths]),
        warnings=warnings,
        engine_version=engine_version(),
    )
