"""Providers from JSON configs (``--provider``), and the demo's provider."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, Final

import hedgeframe as hf
from hedgeframe.cli._common import read_json
from hedgeframe.errors import BadInputError
from hedgeframe.pricing import VolatilityRegime
from hedgeframe.providers import HistoricalMarketDataProvider

DEMO_PROVIDER: Final[dict[str, Any]] = {
    "kind": "synthetic",
    "volatility": {
        "kind": "first_available",
        "regimes": [
            {"kind": "index", "symbol": "^VIX", "scale": 0.01},
            {"kind": "trailing_realized", "window": 21},
        ],
    },
    "rate": 0.02,
    "dividend_yield": 0.0,
    "spread_pct": 0.01,
    "calendar": "XNYS",
}
"""The demo's provider: VIX/100 where the sample has it, 21-day realized volatility before,
2 % rate, 1 % bid/ask. ``store`` is added: the bundled sample unless ``--store`` is given."""


def _volatility(config: Any) -> VolatilityRegime:
    """Build a volatility regime from the form ``describe()`` writes into every run."""
    if isinstance(config, int | float):
        return hf.ConstantVol(float(config))
    if not isinstance(config, dict) or "kind" not in config:
        msg = f"volatility must be a number or an object with a 'kind' (got {config!r})"
        raise BadInputError(msg)
    kind = config["kind"]
    if kind == "constant":
        return hf.ConstantVol(float(config["value"]))
    if kind == "step":
        return hf.StepVol([(date.fromisoformat(d), float(s)) for d, s in config["steps"]])
    if kind == "index":
        return hf.IndexVol(str(config["symbol"]), scale=float(config.get("scale", 0.01)))
    if kind == "trailing_realized":
        return hf.TrailingRealizedVol(int(config.get("window", 21)))
    if kind == "first_available":
        return hf.FirstAvailableVol([_volatility(regime) for regime in config["regimes"]])
    msg = (
        f"unknown volatility kind {kind!r}; use constant, step, index, trailing_realized "
        "or first_available"
    )
    raise BadInputError(msg)


def _synthetic_provider(config: dict[str, Any]) -> HistoricalMarketDataProvider:
    known = {"kind", "store", "volatility", "rate", "dividend_yield", "spread_pct", "calendar"}
    unknown = sorted(set(config) - known)
    if unknown:
        msg = f"synthetic provider config has unknown keys {unknown}; known: {sorted(known)}"
        raise BadInputError(msg)
    store = hf.MarketDataStore(config["store"]) if config.get("store") else hf.sample_store()
    return hf.SyntheticHistoricalProvider(
        store,
        volatility=_volatility(config.get("volatility", 0.16)),
        rate=float(config.get("rate", 0.0)),
        dividend_yield=float(config.get("dividend_yield", 0.0)),
        spread_pct=float(config.get("spread_pct", 0.0)),
        calendar=str(config.get("calendar", "XNYS")),
    )


def _snapshot_provider(config: dict[str, Any]) -> HistoricalMarketDataProvider:
    known = {"kind", "store", "calendar", "max_stale_days", "fill"}
    unknown = sorted(set(config) - known)
    if unknown:
        msg = f"snapshot provider config has unknown keys {unknown}; known: {sorted(known)}"
        raise BadInputError(msg)
    if not config.get("store"):
        msg = 'a snapshot provider config needs a "store" holding option quotes'
        raise BadInputError(msg)
    fill = str(config.get("fill", "mid"))
    if fill not in ("mid", "bid_ask"):
        msg = f"snapshot provider fill must be 'mid' or 'bid_ask' (got {fill!r})"
        raise BadInputError(msg)
    return hf.DailyOptionsSnapshotProvider(
        hf.MarketDataStore(config["store"]),
        calendar=str(config.get("calendar", "XNYS")),
        max_stale_days=int(config.get("max_stale_days", 5)),
        fill="bid_ask" if fill == "bid_ask" else "mid",
    )


PROVIDER_BUILDERS: dict[str, Callable[[dict[str, Any]], HistoricalMarketDataProvider]] = {
    "synthetic": _synthetic_provider,
    "snapshot": _snapshot_provider,
}
"""Provider ``kind`` -> builder from its JSON config."""


def provider_from_config(config: Any) -> HistoricalMarketDataProvider:
    """Build a provider from a JSON config such as ``{"kind": "synthetic", ...}``.

    The keys besides ``kind`` are those a run stores in ``provider_snapshot.config``, so a
    stored run's provider can be rebuilt from its record. A missing ``store`` means the
    bundled sample.

    Raises
    ------
    BadInputError
        When the config is not an object, names an unknown kind or has unknown keys.
    """
    if not isinstance(config, dict):
        msg = f"a provider config must be a JSON object (got {type(config).__name__})"
        raise BadInputError(msg)
    kind = config.get("kind", "synthetic")
    builder = PROVIDER_BUILDERS.get(kind)
    if builder is None:
        msg = f"unknown provider kind {kind!r}; known: {sorted(PROVIDER_BUILDERS)}"
        raise BadInputError(msg)
    return builder(config)


def resolve_provider(provider: str | None, store: Path | None) -> HistoricalMarketDataProvider:
    config = dict(read_json(provider, "provider config")) if provider else dict(DEMO_PROVIDER)
    if store is not None:
        config["store"] = str(store)
    return provider_from_config(config)
