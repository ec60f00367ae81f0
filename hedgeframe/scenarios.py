"""Build a scenario from the template and provider objects at hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    ExecutionModel,
    ProviderRef,
    StrategyTemplate,
    TemplateRef,
)
from hedgeframe.providers import HistoricalMarketDataProvider

__all__ = ["make_scenario"]


def make_scenario(
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    *,
    symbol: str,
    start_date: date,
    end_date: date,
    portfolio: BacktestPortfolioState,
    slug: str = "scenario",
    execution_model: ExecutionModel | None = None,
    event_preset_id: str | None = None,
    description: str = "",
) -> BacktestScenario:
    """Return a scenario that pins these template versions and names this provider.

    Saves writing ``TemplateRef`` and ``ProviderRef`` objects by hand; the result is an
    ordinary, explicit :class:`~hedgeframe.models.BacktestScenario`.

    Examples
    --------
    >>> from datetime import date
    >>> import hedgeframe as hf
    >>> store = hf.sample_store()
    >>> provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.2))
    >>> scenario = hf.make_scenario(
    ...     hf.seed_templates(), provider, symbol="^GSPC",
    ...     start_date=date(2008, 1, 2), end_date=date(2008, 12, 31),
    ...     portfolio=hf.BacktestPortfolioState(
    ...         underlying_units=100, entry_spot=1447.16, loan_amount=90_000, margin_call_ltv=0.75
    ...     ),
    ... )
    >>> [ref.version for ref in scenario.template_refs]
    [1, 1, 1, 1]
    """
    return BacktestScenario(
        slug=slug,
        description=description,
        symbol=symbol,
        start_date=start_date,
        end_date=end_date,
        initial_portfolio=portfolio,
        template_refs=[
            TemplateRef(template_id=t.template_id, version=t.version) for t in templates
        ],
        provider_ref=ProviderRef(
            provider_id=provider.provider_id, pricing_mode=provider.pricing_mode
        ),
        execution_model=execution_model or ExecutionModel(),
        event_preset_id=event_preset_id,
    )
