"""Typed provider and volatility configurations: one model, stored, rebuilt, described.

A provider's configuration is its whole behaviour as data (``provider.config``), stored in
every run as JSON; ``hf.provider_from_config`` rebuilds an equal provider from that JSON, and
``describe()`` says the same in words. Asset-aware defaults (SPEC 9.4): each asset's own
volatility index, a dated warning where it falls back, and a warning when an asset is priced
with another asset's index.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.pricing import VOLATILITY_ADAPTER, VolatilityRegime

REGIMES: list[VolatilityRegime] = [
    hf.ConstantVol(0.16),
    hf.StepVol([(date(2008, 1, 2), 0.2), (date(2008, 9, 15), 0.45)]),
    hf.IndexVol("^VIX", scale=0.01),
    hf.TrailingRealizedVol(42),
    hf.AssetIndexVol(),
    hf.AssetIndexVol(scale=0.01, fallback=hf.ConstantVol(0.3)),
    hf.FirstAvailableVol([hf.IndexVol("^VIX"), hf.TrailingRealizedVol(21)]),
]


@pytest.mark.parametrize("regime", REGIMES, ids=lambda r: r.kind)
def test_every_regime_round_trips_through_json_and_reads_as_words(regime: VolatilityRegime) -> None:
    dumped = json.loads(json.dumps(regime.model_dump(mode="json")))
    assert dumped["kind"] == regime.kind
    assert VOLATILITY_ADAPTER.validate_python(dumped) == regime
    assert str(regime)
    assert "{" not in str(regime)


def test_regimes_keep_their_positional_shorthand() -> None:
    assert hf.ConstantVol(0.2) == hf.ConstantVol(value=0.2)
    assert hf.IndexVol("^VIX") == hf.IndexVol(symbol="^VIX", scale=0.01)
    assert hf.TrailingRealizedVol(21) == hf.TrailingRealizedVol(window=21)
    assert str(hf.IndexVol("^VXN", scale=0.02)) == "^VXN close x 0.02 on the same day"


@pytest.mark.parametrize("regime", REGIMES, ids=lambda r: r.kind)
def test_a_run_stores_a_configuration_that_rebuilds_the_provider(regime: VolatilityRegime) -> None:
    store = hf.sample_store()
    provider = hf.SyntheticHistoricalProvider(
        store, volatility=regime, rate=0.02, dividend_yield=0.01, spread_pct=0.01
    )
    stored = json.loads(json.dumps(provider.snapshot().config))
    assert stored["kind"] == "synthetic"
    assert stored["store"] is None  # the bundled sample: not its install-dependent path
    rebuilt = hf.provider_from_config(stored)
    assert isinstance(rebuilt, hf.SyntheticHistoricalProvider)
    assert rebuilt.config == provider.config
    assert rebuilt.snapshot().config == provider.snapshot().config


def test_a_store_other_than_the_sample_is_recorded_by_its_path(tmp_path: Path) -> None:
    store = MarketDataStore(tmp_path / "market")
    provider = hf.DailyOptionsSnapshotProvider(store, max_stale_days=2, fill="bid_ask")
    config = provider.snapshot().config
    assert config == {
        "kind": "snapshot",
        "store": str(tmp_path / "market"),
        "calendar": "XNYS",
        "max_stale_days": 2,
        "fill": "bid_ask",
        "rate": 0.0,
        "dividend_yield": 0.0,
        "fee_per_contract": 0.0,
        "fee_per_unit": 0.0,
        "missing_mark": "carry",
        "max_strike_distance_pct": None,
    }
    rebuilt = hf.provider_from_config(config)
    assert isinstance(rebuilt, hf.DailyOptionsSnapshotProvider)
    assert rebuilt.config == provider.config
    elsewhere = MarketDataStore(tmp_path / "copy")
    moved = hf.provider_from_config(config, elsewhere)
    assert moved.config.store == str(tmp_path / "copy")


def test_descriptions_name_every_setting() -> None:
    config = hf.SyntheticProviderConfig(
        volatility=hf.FirstAvailableVol([hf.IndexVol("^VIX"), hf.TrailingRealizedVol(21)]),
        rate=0.02,
        spread_pct=0.01,
    )
    assert config.describe() == [
        "provider synthetic_v1 (synthetic_bs_mid): Black-Scholes-Merton mids",
        "volatility: ^VIX close x 0.01 on the same day; where not yet available: 21-day "
        "trailing realized volatility of the underlying (sample stdev of daily log returns up "
        "to the day, x sqrt(252))",
        "rate: 2.00% (continuously compounded)",
        "dividend yield: 0.00% (continuously compounded)",
        "bid/ask spread: 1.00% of the mid (buys pay half of it, sales receive half less; "
        "settlement at expiry pays none)",
        "fees: 0 per unit in continuous mode, 0 per listed contract (opening and closing "
        "trades; none at expiry)",
        "calendar: XNYS",
        "store: the bundled sample",
    ]
    assert str(config) == "\n".join(config.describe())
    snapshot = hf.SnapshotProviderConfig(store="/data/market", max_stale_days=3)
    assert snapshot.describe()[1:3] == [
        "fills: at the mid; marks at the mid",
        "missing quotes: the contract's last mark carried at most 3 session(s), then the "
        "result is incomplete",
    ]


def test_a_bare_number_is_a_constant_volatility_and_kind_defaults_to_synthetic() -> None:
    provider = hf.provider_from_config({"volatility": 0.25, "rate": 0.01})
    assert provider.config == hf.SyntheticProviderConfig(volatility=hf.ConstantVol(0.25), rate=0.01)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"kind": "quantum"}, "Input tag 'quantum' found using 'kind'"),
        ({"colour": 1}, "synthetic.colour = 1: Extra inputs are not permitted"),
        ({"rate": 2.0}, "synthetic.rate = 2.0: Input should be less than 1"),
        ({"kind": "snapshot", "fill": "ask"}, "snapshot.fill = 'ask': Input should be"),
        ({"volatility": {"kind": "index"}}, "synthetic.volatility.index.symbol: Field required"),
    ],
)
def test_bad_configurations_name_the_field(config: dict[str, object], message: str) -> None:
    with pytest.raises(hf.InvalidModelError) as caught:
        hf.provider_from_config(config)
    assert message in str(caught.value)
    assert isinstance(caught.value, hf.HedgeframeError)


def _sigmas(symbol: str, start: date, end: date, regime: VolatilityRegime) -> list[str]:
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=regime)
    return provider.load_timeline(symbol, start, end).warnings


def test_the_asset_index_is_the_underlyings_own() -> None:
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.AssetIndexVol())
    timeline = provider.load_timeline("^GSPC", date(2018, 2, 1), date(2018, 2, 9))
    vix = hf.sample_store().underlying_bars("^VIX", date(2018, 2, 1), date(2018, 2, 9))
    assert timeline.warnings == []
    assert timeline.sigmas is not None
    assert timeline.sigmas.tolist() == pytest.approx((vix["close"] * 0.01).to_list(), rel=1e-15)


def test_a_fall_back_to_realized_volatility_is_a_dated_warning() -> None:
    # The bundled VIX starts 2014-01-03.
    warnings = _sigmas("^GSPC", date(2013, 12, 20), date(2014, 1, 10), hf.AssetIndexVol())
    assert warnings == [
        "2013-12-20..2014-01-02 (8 day(s)): ^VIX close x 0.01 on the same day not available; "
        "volatility from 21-day trailing realized volatility of the underlying (sample stdev "
        "of daily log returns up to the day, x sqrt(252))"
    ]


def test_an_asset_without_its_index_in_the_store_falls_back_with_a_warning() -> None:
    # ^IXIC's own index is ^VXN, which the bundled sample does not hold.
    warnings = _sigmas("^IXIC", date(2018, 2, 1), date(2018, 2, 9), hf.AssetIndexVol())
    assert len(warnings) == 1
    assert warnings[0].startswith("2018-02-01..2018-02-09 (7 day(s)): ^VXN close x 0.01")


def test_another_assets_index_is_warned() -> None:
    warnings = _sigmas("^IXIC", date(2018, 2, 1), date(2018, 2, 9), hf.IndexVol("^VIX"))
    assert warnings == [
        "^IXIC is priced with ^VIX, the volatility index of ^GSPC/^SPX/SPY; ^IXIC's own is ^VXN"
    ]
    assert _sigmas("^GSPC", date(2018, 2, 1), date(2018, 2, 9), hf.IndexVol("^VIX")) == []


def test_the_default_provider_prices_each_asset_with_its_own_index() -> None:
    assert hf.DEFAULT_PROVIDER.volatility == hf.AssetIndexVol(fallback=hf.TrailingRealizedVol(21))
    provider = hf.DEFAULT_PROVIDER.build()
    assert provider.config.store is None
    assert provider.load_timeline("^GSPC", date(2018, 2, 1), date(2018, 2, 9)).warnings == []
