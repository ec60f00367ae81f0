"""``--provider``: a provider configuration from JSON (a file, '-' or inline), and ``--store``."""

from __future__ import annotations

from pathlib import Path

from hedgeframe.cli._common import read_json
from hedgeframe.data import MarketDataStore
from hedgeframe.providers import (
    DEFAULT_PROVIDER,
    HistoricalMarketDataProvider,
    parse_provider_config,
)


def resolve_provider(provider: str | None, store: Path | None) -> HistoricalMarketDataProvider:
    """Build the provider a command was given (default: :data:`DEFAULT_PROVIDER`).

    ``provider`` is JSON of a provider configuration; ``store``, when given, replaces the
    configuration's store (default: the bundled sample).
    """
    config = (
        parse_provider_config(read_json(provider, "provider config"))
        if provider
        else DEFAULT_PROVIDER
    )
    return config.build(MarketDataStore(store) if store is not None else None)
