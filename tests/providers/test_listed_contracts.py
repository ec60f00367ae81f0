"""Listed-contract sizing with the snapshot provider (SPEC section 6).

The engine sizes ``listed_contracts`` templates from ``scenario.execution_model``
(multiplier, rounding); the provider prices per underlying unit. ``quantity`` is always in
underlying units, ``contracts * multiplier``. The put 100 expiring 2024-04-19 of
``fixtures/listed_chain.csv`` is bid 3.75 / ask 4.25 / mid 4.00 on 2024-03-01.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fixture_markets import fixture_store
from snapshot_markets import FIX_START, run

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.models import ContractMode, ContractRounding, ExecutionModel
from hedgeframe.providers import DailyOptionsSnapshotProvider

END = date(2024, 3, 8)
MID = 4.00


@pytest.fixture
def store(tmp_path: Path) -> MarketDataStore:
    return fixture_store(tmp_path, chain=True)


def _listed(slug: str = "listed") -> hf.StrategyTemplate:
    return hf.protective_put(
        slug, target_expiry_days=45, contract_mode=ContractMode.LISTED_CONTRACTS
    )


@pytest.mark.parametrize(
    ("units", "multiplier", "rounding", "contracts"),
    [
        (230.0, 100, ContractRounding.NEAREST, 2),
        (250.0, 100, ContractRounding.NEAREST, 3),  # half a contract rounds up
        (260.0, 100, ContractRounding.NEAREST, 3),
        (260.0, 100, ContractRounding.DOWN, 2),
        (230.0, 100, ContractRounding.UP, 3),
        (200.0, 100, ContractRounding.UP, 2),  # whole already: no extra contract
        (230.0, 10, ContractRounding.NEAREST, 23),
        (40.0, 100, ContractRounding.DOWN, 0),  # too few units for one contract
    ],
)
def test_quantity_is_whole_contracts_times_the_multiplier(
    store: MarketDataStore,
    units: float,
    multiplier: int,
    rounding: ContractRounding,
    contracts: int,
) -> None:
    execution = ExecutionModel(contract_multiplier=multiplier, contract_rounding=rounding)
    result = run(
        DailyOptionsSnapshotProvider(store),
        [_listed()],
        symbol="FIX",
        start=FIX_START,
        end=END,
        units=units,
        execution_model=execution,
    )
    buy = result.trades.filter(action="buy_open").row(0, named=True)
    quantity = contracts * multiplier
    assert buy["contracts"] == contracts
    assert buy["quantity"] == quantity
    assert buy["price"] == MID  # per underlying unit, not per contract
    assert buy["cashflow"] == -quantity * MID
    position = result.positions.row(0, named=True)
    assert (position["contracts"], position["quantity"]) == (contracts, quantity)
    first = result.daily_path.row(0, named=True)
    assert first["option_market_value"] == quantity * MID
    assert first["premium_cashflow"] == -quantity * MID
    recorded = result.scenario_snapshot.execution_model
    assert (recorded.contract_multiplier, recorded.contract_rounding) == (multiplier, rounding)


def test_rounding_mode_is_part_of_the_rules_version(store: MarketDataStore) -> None:
    template = _listed()
    versions = {
        run(
            DailyOptionsSnapshotProvider(store),
            [template],
            symbol="FIX",
            start=FIX_START,
            end=END,
            execution_model=ExecutionModel(contract_rounding=rounding),
        ).rules_version
        for rounding in ContractRounding
    }
    assert len(versions) == len(ContractRounding)


def test_each_ladder_leg_is_rounded_on_its_own(store: MarketDataStore) -> None:
    ladder = hf.put_ladder(
        "ladder",
        spot_pcts=[1.0, 0.95],
        weights=[0.5, 0.5],
        target_expiry_days=45,
        contract_mode=ContractMode.LISTED_CONTRACTS,
    )
    result = run(
        DailyOptionsSnapshotProvider(store),
        [ladder],
        symbol="FIX",
        start=FIX_START,
        end=END,
        units=1000.0,
    )
    buys = result.trades.filter(action="buy_open").sort("strike")
    assert buys["contracts"].to_list() == [5.0, 5.0]
    assert buys["quantity"].to_list() == [500.0, 500.0]
    assert buys["price"].to_list() == [2.75, 4.00]


def test_continuous_units_have_no_contract_count(store: MarketDataStore) -> None:
    continuous = hf.protective_put("continuous", target_expiry_days=45)
    result = run(
        DailyOptionsSnapshotProvider(store),
        [continuous],
        symbol="FIX",
        start=FIX_START,
        end=END,
        units=230.0,
    )
    buy = result.trades.filter(action="buy_open").row(0, named=True)
    assert buy["contracts"] is None
    assert buy["quantity"] == 230.0
