"""Historical data providers behind one contract; the engine never knows which it has."""

from hedgeframe.providers._config import (
    DEFAULT_PROVIDER,
    ProviderConfig,
    parse_provider_config,
    provider_from_config,
)
from hedgeframe.providers._protocol import (
    ContractArrays,
    ContractRequest,
    HistoricalMarketDataProvider,
    MarkBatch,
    StrikeNotFoundError,
    StrikeTarget,
)
from hedgeframe.providers._snapshot import DailyOptionsSnapshotProvider, SnapshotProviderConfig
from hedgeframe.providers._synthetic import SyntheticHistoricalProvider, SyntheticProviderConfig
from hedgeframe.providers._timeline import MarketTimeline, PointInTimeView

__all__ = [
    "DEFAULT_PROVIDER",
    "ContractArrays",
    "ContractRequest",
    "DailyOptionsSnapshotProvider",
    "HistoricalMarketDataProvider",
    "MarkBatch",
    "MarketTimeline",
    "PointInTimeView",
    "ProviderConfig",
    "SnapshotProviderConfig",
    "StrikeNotFoundError",
    "StrikeTarget",
    "SyntheticHistoricalProvider",
    "SyntheticProviderConfig",
    "parse_provider_config",
    "provider_from_config",
]
