"""Model risk: the same templates over the same window, priced by two providers.

Synthetic Black-Scholes marks are a modelling choice; a stored chain is (closer to) what
one could have traded. Running one scenario under both and differencing the summary
metrics shows what the choice changes: premiums, the hedged LTV path, the end value and
the days in margin call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from hedgeframe.engine import SUMMARY_SCHEMA, run_backtest
from hedgeframe.models import BacktestScenario, ProviderRef, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider

__all__ = ["MODEL_RISK_METRICS", "MODEL_RISK_SCHEMA", "compare_providers"]

MODEL_RISK_METRICS: Final = (
    "total_hedge_cost",
    "max_ltv_hedged",
    "end_value_hedged_net",
    "margin_call_days_hedged",
)
"""Summary metrics compared: premium paid, hedged max LTV, hedged end value, call days."""

_SIDES: Final = ("synthetic", "snapshot")
_KEY: Final = ("template_id", "template_version", "template_slug")

MODEL_RISK_SCHEMA: Final = pl.Schema(
    {
        **{name: SUMMARY_SCHEMA[name] for name in _KEY},
        **{f"status_{side}": pl.String() for side in _SIDES},
        **{
            f"{metric}_{suffix}": SUMMARY_SCHEMA[metric]
            for metric in MODEL_RISK_METRICS
            for suffix in (*_SIDES, "diff")
        },
    }
)
"""Columns of :func:`compare_providers`; ``<metric>_diff`` is snapshot minus synthetic."""


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
) -> pl.DataFrame:
    """Run one scenario under two providers and difference the templates' summaries.

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
        The two providers, e.g. :class:`~hedgeframe.SyntheticHistoricalProvider` and
        :class:`~hedgeframe.providers.DailyOptionsSnapshotProvider` (any two work).

    Returns
    -------
    pl.DataFrame
        One row per template in :data:`MODEL_RISK_SCHEMA`: for each of
        :data:`MODEL_RISK_METRICS`, ``<metric>_synthetic``, ``<metric>_snapshot`` and
        ``<metric>_diff`` (snapshot minus synthetic).

    Raises
    ------
    InvalidScenarioError
        When either run refuses the scenario (see :func:`~hedgeframe.run_backtest`).
    """
    left = _summary(scenario, templates, synthetic, "synthetic")
    right = _summary(scenario, templates, snapshot, "snapshot")
    joined = left.join(right, on=list(_KEY), how="inner", maintain_order="left")
    return joined.with_columns(
        (pl.col(f"{metric}_snapshot") - pl.col(f"{metric}_synthetic")).alias(f"{metric}_diff")
        for metric in MODEL_RISK_METRICS
    ).select(MODEL_RISK_SCHEMA.names())
