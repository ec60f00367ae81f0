"""Historical data providers behind one contract; the engine never knows which it has."""

from hedgeframe.providers._protocol import ContractArrays, HistoricalMarketDataProvider, MarkBatch
from hedgeframe.providers._snapshot import DailyOptionsSnapshotProvider
from hedgeframe.providers._synthetic import SyntheticHistoricalProvider
from hedgeframe.providers._timeline import MarketTimeline, PointInTimeView

__all__ = [
    "ContractArrays",
    "DailyOptionsSnapshotProvider",
    "HistoricalMarketDataProvider",
    "MarkBatch",
    "MarketTimeline",
    "PointInTimeView",
    "SyntheticHistoricalProvider",
]
