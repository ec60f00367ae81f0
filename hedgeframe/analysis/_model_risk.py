"""Model risk: the same templates over the same window, priced by two or three providers.

Synthetic Black-Scholes marks are a modelling choice; a stored chain is (closer to) what
one could have traded. Running one scenario under both and differencing the summary
metrics shows what the choice changes: premiums, the hedged LTV path, the end value and
the days in margin call. A third run with a volatility surface calibrated to the chain
(:func:`~hedgeframe.calibrate_surface`) shows how much of that gap the surface closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from hedgeframe.engine import SUMMARY_SCHEMA, run_backtest
from hedgeframe.models import BacktestScenario, ProviderRef, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider

__all__ = [
    "MODEL_RISK_METRICS",
    "MODEL_RISK_SCHEMA",
    "MODEL_RISK_SURFACE_SCHEMA",
    "compare_providers",
]

MODEL_RISK_METRICS: Final = (
    "total_hedge_cost",
    "max_ltv_hedged",
    "end_value_hedged_net",
    "margin_call_days_hedged",
)
"""Summary metrics compared: premium paid, hedged max LTV, hedged end value, call days."""

_KEY: Final = ("template_id", "template_version", "template_slug")


def _schema(sides: Sequence[str]) -> pl.Schema:
    """Return the key, each side's status and metrics, and each model side's difference."""
    models = [side for side in sides if side != "snapshot"]
    return pl.Schema(
        {
            **{name: SUMMARY_SCHEMA[name] for name in _KEY},
            **{f"status_{side}": pl.String() for side in sides},
            **{
                name: SUMMARY_SCHEMA[metric]
                for metric in MODEL_RISK_METRICS
                for name in (
                    *(f"{metric}_{side}" for side in sides),
                    *(_diff(metric, side) for side in models),
                )
            },
        }
    )


def _diff(metric: str, side: str) -> str:
    """``<metric>_diff`` (snapshot minus the flat synthetic run) or ``<metric>_<side>_diff``."""
    return f"{metric}_diff" if side == "synthetic" else f"{metric}_{side}_diff"


MODEL_RISK_SCHEMA: Final = _schema(("synthetic", "snapshot"))
"""Columns of :func:`compare_providers`; ``<metric>_diff`` is snapshot minus synthetic."""

MODEL_RISK_SURFACE_SCHEMA: Final = _schema(("synthetic", "snapshot", "surface"))
"""Columns with a ``surface`` run too; ``<metric>_surface_diff`` is snapshot minus surface."""


def _summary(
    scenario: BacktestScenario,
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    side: str,
) -> pl.DataFrame:
    ref = ProviderRef(provider_id=provider.provider_id, pricing_mode=provider.pricing_mode)
    run = run_backtest(
        scenario.model_copy(update={"provider_ref": ref}),
        templates,
        provider,
        keep_daily_path=False,
    )
    summary: pl.DataFrame = run.summary
    return summary.select(
        *_KEY,
        pl.col("status").alias(f"status_{side}"),
        *(pl.col(metric).alias(f"{metric}_{side}") for metric in MODEL_RISK_METRICS),
    )


def compare_providers(
    scenario: BacktestScenario,
    templates: Sequence[StrategyTemplate],
    *,
    synthetic: HistoricalMarketDataProvider,
    snapshot: HistoricalMarketDataProvider,
    surface: HistoricalMarketDataProvider | None = None,
) -> pl.DataFrame:
    """Run one scenario under two (or three) providers and difference the templates' summaries.

    The scenario's window, portfolio and execution model are kept; only its provider is
    swapped, so every difference comes from how options are priced and which contracts
    exist. Look at ``status_snapshot`` first: an ``incomplete`` template (a quote missing
    for longer than the provider's ``max_stale_days``) is summarized over fewer days.

    Parameters
    ----------
    scenario
        The experiment; its ``provider_ref`` is replaced for each run.
    templates
        The template versions the scenario references.
    synthetic, snapshot
        The two providers, e.g. :class:`~hedgeframe.SyntheticHistoricalProvider` with a flat
        regime (``IndexVol("^VIX")``) and
        :class:`~hedgeframe.providers.DailyOptionsSnapshotProvider` (any two work).
    surface
        Optionally a third, e.g. the synthetic provider with the regime
        :func:`~hedgeframe.calibrate_surface` fitted to the same chain: its columns show
        how much of the flat regime's gap to the listed prices the surface closes.

    Returns
    -------
    pl.DataFrame
        One row per template in :data:`MODEL_RISK_SCHEMA` (with ``surface``:
        :data:`MODEL_RISK_SURFACE_SCHEMA`): for each of :data:`MODEL_RISK_METRICS`,
        ``<metric>_synthetic``, ``<metric>_snapshot``, ``<metric>_diff`` (snapshot minus
        synthetic), and ``<metric>_surface`` and ``<metric>_surface_diff`` (snapshot minus
        surface).

    Raises
    ------
    InvalidScenarioError
        When a run refuses the scenario (see :func:`~hedgeframe.run_backtest`).
    """
    providers = {"synthetic": synthetic, "snapshot": snapshot}
    if surface is not None:
        providers["surface"] = surface
    summaries = [_summary(scenario, templates, p, side) for side, p in providers.items()]
    joined = summaries[0]
    for summary in summaries[1:]:
        joined = joined.join(summary, on=list(_KEY), how="inner", maintain_order="left")
    schema = MODEL_RISK_SURFACE_SCHEMA if surface is not None else MODEL_RISK_SCHEMA
    return joined.with_columns(
        (pl.col(f"{metric}_snapshot") - pl.col(f"{metric}_{side}")).alias(_diff(metric, side))
        for metric in MODEL_RISK_METRICS
        for side in providers
        if side != "snapshot"
    ).select(schema.names())
