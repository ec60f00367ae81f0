"""hedgeframe: point-in-time backtests of option hedges on Lombard-loan collateral.

Which option hedge keeps a loan out of a margin call, what does it cost, and how would it
have done in 2008? Define named, versioned hedge templates, run them day by day over real
closes (priced with Black-Scholes-Merton or from stored option chains), and compare them.

Examples
--------
>>> from datetime import date
>>> import hedgeframe as hf
>>> templates = hf.seed_templates()
>>> provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
>>> scenario = hf.make_scenario(
...     templates, provider, symbol="^GSPC",
...     start_date=date(2008, 1, 2), end_date=date(2008, 12, 31),
...     portfolio=hf.BacktestPortfolioState(
...         underlying_units=100, entry_spot=1447.16, loan_amount=90_000, margin_call_ltv=0.75
...     ),
... )
>>> result = hf.run_backtest(scenario, templates, provider)
>>> result.comparison["rank"].to_list()
[1, 2, 3, 4]
"""

from __future__ import annotations

# resources
from hedgeframe._blocks import thread_count
from hedgeframe._memory import release as release_memory
from hedgeframe._memory import tune_malloc

# version
from hedgeframe._version import __version__

# engine
from hedgeframe.analysis import DeRiskMatch, compare_providers, match_de_risk

# market data
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.engine import BacktestRunResult, run_backtest

# errors
from hedgeframe.errors import (
    BadInputError,
    HedgeframeError,
    InvalidMarketDataError,
    InvalidModelError,
    InvalidScenarioError,
    LookaheadError,
)

# events
from hedgeframe.events import (
    EventComparison,
    EventPortfolio,
    builtin_event_presets,
    compare_events,
    materialize_event,
)

# models
from hedgeframe.models import (
    BacktestDailyPoint,
    BacktestPortfolioState,
    BacktestRun,
    BacktestScenario,
    BacktestSummaryMetrics,
    BacktestTradeRecord,
    EntryPolicy,
    EventPreset,
    EventScenarioOverrides,
    ExecutionModel,
    HistoricalInstrumentKey,
    HistoricalOptionMark,
    HistoricalOptionPosition,
    HistoricalOptionQuote,
    OptionSnapshot,
    OptionSnapshotQuery,
    ProviderRef,
    ProviderSnapshot,
    RollPolicy,
    StrategyTemplate,
    StrikeRule,
    TemplateBacktestResult,
    TemplateLeg,
    TemplateRef,
    UnderlyingBar,
)

# providers
from hedgeframe.pricing import (
    AssetIndexVol,
    ConstantVol,
    FirstAvailableVol,
    IndexVol,
    StepVol,
    TenorIndex,
    TrailingRealizedVol,
    VolSurface,
    calibrate_surface,
)
from hedgeframe.providers import (
    DEFAULT_PROVIDER,
    DailyOptionsSnapshotProvider,
    HistoricalMarketDataProvider,
    ProviderConfig,
    SnapshotProviderConfig,
    SyntheticHistoricalProvider,
    SyntheticProviderConfig,
    provider_from_config,
)
from hedgeframe.sample import sample_store
from hedgeframe.scenarios import make_scenario

# service
from hedgeframe.service import BacktestService

# templates
from hedgeframe.templates import (
    collar,
    de_risk,
    demo_templates,
    protective_put,
    put_ladder,
    put_spread,
    seed_templates,
    unhedged,
    zero_cost_collar,
)

__all__ = [  # noqa: RUF022 (grouped as in SPEC section 2, sorted within groups)
    "__version__",
    # templates
    "collar",
    "de_risk",
    "demo_templates",
    "protective_put",
    "put_ladder",
    "put_spread",
    "seed_templates",
    "unhedged",
    "zero_cost_collar",
    # models
    "BacktestDailyPoint",
    "BacktestPortfolioState",
    "BacktestRun",
    "BacktestRunResult",
    "BacktestScenario",
    "BacktestSummaryMetrics",
    "BacktestTradeRecord",
    "EntryPolicy",
    "EventPreset",
    "EventScenarioOverrides",
    "ExecutionModel",
    "HistoricalInstrumentKey",
    "HistoricalOptionMark",
    "HistoricalOptionPosition",
    "HistoricalOptionQuote",
    "OptionSnapshot",
    "OptionSnapshotQuery",
    "ProviderRef",
    "ProviderSnapshot",
    "RollPolicy",
    "StrategyTemplate",
    "StrikeRule",
    "TemplateBacktestResult",
    "TemplateLeg",
    "TemplateRef",
    "UnderlyingBar",
    # market data
    "MarketDataStore",
    "get_calendar",
    "sample_store",
    # providers
    "AssetIndexVol",
    "ConstantVol",
    "DEFAULT_PROVIDER",
    "ProviderConfig",
    "SnapshotProviderConfig",
    "SyntheticProviderConfig",
    "provider_from_config",
    "FirstAvailableVol",
    "HistoricalMarketDataProvider",
    "IndexVol",
    "StepVol",
    "SyntheticHistoricalProvider",
    "DailyOptionsSnapshotProvider",
    "TrailingRealizedVol",
    "TenorIndex",
    "VolSurface",
    "calibrate_surface",
    # engine
    "make_scenario",
    "run_backtest",
    "compare_providers",
    "DeRiskMatch",
    "match_de_risk",
    # service
    "BacktestService",
    # events
    "EventComparison",
    "EventPortfolio",
    "builtin_event_presets",
    "compare_events",
    "materialize_event",
    # errors
    "BadInputError",
    "HedgeframeError",
    "InvalidMarketDataError",
    "InvalidModelError",
    "InvalidScenarioError",
    "LookaheadError",
    # resources: the engine's threads and memory
    "release_memory",
    "thread_count",
    "tune_malloc",
]
