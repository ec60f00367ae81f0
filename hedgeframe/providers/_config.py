"""Provider configurations: typed, frozen, stored with every run, rebuilt for a rerun.

A configuration is the provider's whole behaviour as data (a tagged union by ``kind``):
``provider.config`` gives it, ``config.build(store)`` makes the provider from it,
:func:`provider_from_config` reads it from JSON (the command line's ``--provider``, a stored
run's ``provider_snapshot.config``), and ``str(config)`` describes it in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import ConfigDict, Field, TypeAdapter

from hedgeframe.data import MarketDataStore
from hedgeframe.errors import BadInputError
from hedgeframe.models._base import refusals_named
from hedgeframe.pricing._volatility import AssetIndexVol, TrailingRealizedVol
from hedgeframe.providers._protocol import HistoricalMarketDataProvider
from hedgeframe.providers._snapshot import SnapshotProviderConfig
from hedgeframe.providers._synthetic import SyntheticProviderConfig

__all__ = [
    "DEFAULT_PROVIDER",
    "ProviderConfig",
    "parse_provider_config",
    "provider_from_config",
]

ProviderConfig = Annotated[
    SyntheticProviderConfig | SnapshotProviderConfig, Field(discriminator="kind")
]
"""Any provider's configuration, read from JSON by its ``kind``."""

_ADAPTER: Final = TypeAdapter(ProviderConfig, config=ConfigDict(title="provider config"))

DEFAULT_PROVIDER: Final = SyntheticProviderConfig(
    volatility=AssetIndexVol(scale=0.01, fallback=TrailingRealizedVol(21)),
    rate=0.02,
    spread_pct=0.01,
)
"""The demo's and the event comparison's default: synthetic Black-Scholes-Merton prices with
each asset's own volatility index / 100 (``^VIX`` for the S&P 500, ``^VXN`` for the
Nasdaq, ``^GVZ`` for gold; SPEC 9.4), 21-day realized volatility where the index has no
close yet (warned), 2 % rate and a 1 % bid/ask spread, on the bundled sample store."""


def parse_provider_config(config: Mapping[str, Any] | ProviderConfig) -> ProviderConfig:
    """Read a provider configuration from JSON-like data (``kind`` defaults to synthetic).

    Raises
    ------
    InvalidModelError
        When a setting is unknown or out of range; the field is named.
    BadInputError
        When ``config`` is not an object.
    """
    if isinstance(config, SyntheticProviderConfig | SnapshotProviderConfig):
        return config
    if not isinstance(config, Mapping):
        msg = f"a provider config must be a JSON object (got {type(config).__name__})"
        raise BadInputError(msg)
    with refusals_named():
        return _ADAPTER.validate_python({"kind": "synthetic", **config})


def provider_from_config(
    config: Mapping[str, Any] | ProviderConfig, store: MarketDataStore | None = None
) -> HistoricalMarketDataProvider:
    """Build a provider from its configuration, e.g. ``{"kind": "synthetic", ...}``.

    The keys are those a run stores in ``provider_snapshot.config``, so a stored run's
    provider is rebuilt from its record. ``store`` replaces the recorded store; with
    neither, the bundled sample.

    Examples
    --------
    >>> import hedgeframe as hf
    >>> provider = hf.provider_from_config(
    ...     {"kind": "synthetic", "volatility": {"kind": "index", "symbol": "^VIX"}}
    ... )
    >>> print(provider.config.describe()[1])
    volatility: ^VIX close x 0.01 on the same day
    """
    return parse_provider_config(config).build(store)
