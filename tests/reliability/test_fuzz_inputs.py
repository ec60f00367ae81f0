"""Fuzzing: generated template, preset, scenario and run JSON, builder arguments, market
frames and whole backtests never fail with anything but the documented error types.

Documented types: ``pydantic.ValidationError`` for models, ``HedgeframeError`` subclasses
(``CorruptFileError``, ``InvalidMarketDataError``, ``InvalidScenarioError``, ...), and
``ValueError`` where a signature says so (``put_ladder`` with lists of different lengths).
Anything accepted must be right: a model round-trips through JSON exactly, a stored
frame reads back equal, a backtest's numbers are finite and add up.

The "ci" profile is derandomized, so every run tries the same examples; the counts are
set per test (``max_examples``) and add up to a few thousand.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from engine_helpers import roll
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from pydantic import BaseModel, ValidationError
from reliability_tally import Tally
from reliability_workers import scaled

import hedgeframe as hf
from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    UNDERLYING_BAR_SCHEMA,
    MarketDataStore,
    validate_option_quotes,
    validate_underlying_bars,
)
from hedgeframe.errors import (
    CorruptFileError,
    FailureReason,
    HedgeframeError,
    InvalidMarketDataError,
)
from hedgeframe.models import (
    BacktestRun,
    BacktestScenario,
    EventPreset,
    ProviderSnapshot,
    StrategyTemplate,
)
from hedgeframe.repositories import JsonCollection


def fuzz(examples: int) -> settings:
    """``examples`` examples; ``tally`` is function-scoped but only counts, so it is shared."""
    return settings(
        max_examples=examples,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(scope="module", autouse=True)
def _no_fsync() -> Iterator[None]:
    """Fuzzing checks content, not durability: skip the disk flushes (restored after)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fsync", lambda fd: None)
        yield


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="hedgeframe-fuzz-") as folder:
        yield Path(folder)


# -- model JSON -----------------------------------------------------------------------------

INTERESTING: list[Any] = [
    None, True, 0, -1, 1, 2**63, -(2**63), 0.0, -0.0, 1e308, -1e-308, float("nan"),
    float("inf"), "", " ", "../../etc/passwd", "a" * 3000, "\x00", "2024-02-30",
    "2024-03-01", "2024-03-01T00:00:00Z", "NaN", "active", "archived", "put", [], {}, [{}],
]  # fmt: skip

JSON_VALUES = st.recursive(
    st.sampled_from(INTERESTING)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path into nested dicts and lists."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from _paths(value, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with a few fields set to odd values, removed, or added."""
    record = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(record))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = record
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "set":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(JSON_VALUES)
        else:
            parent.append(draw(JSON_VALUES))
    return record


def _scenario() -> BacktestScenario:
    provider_ref = {"provider_id": "synthetic_v1", "pricing_mode": "synthetic_bs_mid"}
    return BacktestScenario.model_validate(
        {
            "slug": "fuzz",
            "symbol": "FIX",
            "start_date": "2024-03-01",
            "end_date": "2024-04-15",
            "initial_portfolio": {
                "underlying_units": 100,
                "entry_spot": 100,
                "loan_amount": 6000,
                "margin_call_ltv": 0.7,
            },
            "template_refs": [{"template_id": "t", "version": 1}],
            "provider_ref": provider_ref,
        }
    )


BASES: dict[str, BaseModel] = {
    "template": hf.seed_templates()[1],
    "preset": EventPreset(
        slug="gfc",
        symbol="^GSPC",
        window_start=date(2007, 10, 9),
        window_end=date(2009, 3, 9),
        anchor_date=date(2008, 9, 15),
    ),
    "scenario": _scenario(),
    "run": BacktestRun(
        run_id="r1",
        scenario_id="s",
        scenario_snapshot=_scenario(),
        template_snapshots=[hf.seed_templates()[0]],
        provider_snapshot=ProviderSnapshot(provider_id="synthetic_v1", config={"rate": 0.0}),
        warnings=["w"],
    ),
}
JSON_EXAMPLES = {"template": 400, "preset": 200, "scenario": 250, "run": 200}


@pytest.mark.parametrize("kind", list(BASES))
def test_generated_model_json_is_refused_by_validation_or_round_trips_exactly(
    kind: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    base = BASES[kind]
    model = type(base)

    @fuzz(scaled(JSON_EXAMPLES[kind]))
    @given(record=mutated(base.model_dump(mode="json")))
    def check(record: dict[str, Any]) -> None:
        tally.add("fuzz_examples")
        text = json.dumps(record)
        try:
            parsed = model.model_validate_json(text)
        except ValidationError:
            return
        again = model.model_validate_json(parsed.model_dump_json())
        assert again == parsed or _has_nan(parsed)

    check()


def _has_nan(model: BaseModel) -> bool:
    return "NaN" in model.model_dump_json()


@fuzz(scaled(400))
@given(record=mutated(hf.seed_templates()[2].model_dump(mode="json")))
@example(record={**hf.seed_templates()[0].model_dump(mode="json"), "template_id": "../x"})
def test_a_template_file_with_a_generated_record_loads_or_is_refused_by_name(
    scratch: Path, record: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    path = scratch / "strategy_templates.json"
    document = {"format": "hedgeframe.strategy_templates", "format_version": 1, "records": [record]}
    path.write_text(json.dumps(document), encoding="utf-8")
    refused: CorruptFileError | None = None
    try:
        stored = hf.BacktestService(scratch).templates.list(include_archived=True)
    except CorruptFileError as error:
        refused = error
    if refused is not None:
        assert refused.path == path
        assert "record 0" in str(refused)
        return
    (template,) = stored
    assert template == StrategyTemplate.model_validate(record)
    # What loads can be written back and loads equal (nothing is changed on the way).
    collection = JsonCollection(path, StrategyTemplate, format_name="hedgeframe.strategy_templates")
    collection.modify(lambda records: (list(records), None))
    assert collection.load() == [template]


# -- builder arguments ----------------------------------------------------------------------

ODD_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 1e-12, 0.5, 0.95, 1.0, 1.0000000001, 2.0, -1.0]
)
ODD_INTS = st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(
    [0, 1, 365, 3660, 3661]
)


@fuzz(scaled(400))
@given(
    slug=st.text(max_size=12) | st.sampled_from(["pp", "a-b.c_d", "..", "A"]),
    spot_pcts=st.lists(ODD_FLOATS, max_size=4),
    weights=st.lists(ODD_FLOATS, max_size=4),
    tenor=ODD_INTS,
    coverage=ODD_FLOATS,
    symbol=st.text(max_size=60),
)
@example(slug="ok", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], tenor=30, coverage=1.0, symbol="*")
def test_template_builders_refuse_bad_arguments_with_documented_errors(
    slug: str,
    spot_pcts: list[float],
    weights: list[float],
    tenor: int,
    coverage: float,
    symbol: str,
    request: pytest.FixtureRequest,
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    mismatched = False
    try:
        template = hf.put_ladder(
            slug,
            spot_pcts,
            weights,
            tenor,
            underlying_symbol=symbol,
            target_coverage_pct=coverage,
        )
    except ValidationError:
        return
    except ValueError:  # documented: lists of different lengths
        mismatched = True
    if mismatched:
        assert len(spot_pcts) != len(weights)
        return
    assert len(template.legs) == len(spot_pcts) >= 1
    assert math.isclose(math.fsum(leg.allocation_weight for leg in template.legs), 1.0)
    assert all(math.isfinite(leg.strike_rule.number) for leg in template.legs)
    assert StrategyTemplate.model_validate_json(template.model_dump_json()) == template


# -- market frames --------------------------------------------------------------------------

DAY0 = date(2020, 1, 1)
CLOSES = (
    st.floats(min_value=1e-6, max_value=1e9)  # mostly valid, so accepted frames get stored
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([None, 0.0, -1.0, 1e-9, 1e12, 100.0])
)


@st.composite
def bar_frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=0, max_value=12))
    offsets = draw(st.lists(st.integers(min_value=-3, max_value=800), min_size=n, max_size=n))
    columns: dict[str, pl.Series] = {
        "symbol": pl.Series(
            draw(st.lists(st.sampled_from(["FZ"] * 8 + ["", "fz/2"]), min_size=n, max_size=n)),
            dtype=pl.String,
        ),
        "date": pl.Series([DAY0 + timedelta(days=o) for o in offsets], dtype=pl.Date),
        "close": pl.Series(draw(st.lists(CLOSES, min_size=n, max_size=n)), dtype=pl.Float64),
    }
    for name in draw(st.sets(st.sampled_from(["open", "high", "low", "volume", "source"]))):
        if name == "source":
            values = draw(st.lists(st.none() | st.text(max_size=4), min_size=n, max_size=n))
            columns[name] = pl.Series(values, dtype=pl.String)
        else:
            columns[name] = pl.Series(
                draw(st.lists(CLOSES, min_size=n, max_size=n)), dtype=pl.Float64
            )
    if draw(st.integers(min_value=0, max_value=9)) == 0 and n:
        columns["close"] = columns["close"].cast(pl.String)  # a parsing mistake upstream
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        columns["surprise"] = pl.Series([1] * n)
    return pl.DataFrame(columns)


@fuzz(scaled(160))
@given(frame=bar_frames())
def test_generated_bar_frames_are_refused_by_name_or_stored_exactly(
    scratch: Path, frame: pl.DataFrame, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    refused: InvalidMarketDataError | None = None
    try:
        clean = validate_underlying_bars(frame)
    except InvalidMarketDataError as error:
        refused = error
    if refused is not None:
        assert refused.failures.height >= 1
        assert set(refused.failures["reason"]) <= {r.value for r in FailureReason}
        return
    closes = clean["close"].to_numpy()
    assert np.isfinite(closes).all()
    assert (closes > 0).all()
    assert not clean.select("symbol", "date").is_duplicated().any()
    if clean.is_empty():
        return
    store = MarketDataStore(scratch / f"bars-{tally['fuzz_examples']}")
    store.write_underlying_bars(frame)
    for symbol in clean["symbol"].unique():
        expected = clean.filter(pl.col("symbol") == symbol).sort("date")
        assert_frame_equal(store.underlying_bars(symbol), expected)
    tally.add("fuzz_frames_stored")


@st.composite
def quote_frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=0, max_value=8))

    def column(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(values, min_size=n, max_size=n))

    prices = st.none() | CLOSES
    frame = pl.DataFrame(
        {
            "symbol": column(st.sampled_from(["FZ", "FZ", ""])),
            "as_of_date": [DAY0 + timedelta(days=o) for o in column(st.integers(0, 40))],
            "option_type": column(st.sampled_from(["put", "call", "put", "PUT", ""])),
            "expiry": [DAY0 + timedelta(days=o) for o in column(st.integers(-5, 400))],
            "strike": column(CLOSES),
            "bid": column(prices),
            "ask": column(prices),
            "mid": column(prices),
            "delta": column(st.none() | st.floats(-2, 2)),
            "open_interest": column(st.none() | st.integers(-5, 10**6)),
        },
        schema_overrides={
            name: OPTION_QUOTE_SCHEMA[name]
            for name in ("as_of_date", "expiry", "strike", "bid", "ask", "mid", "delta")
        },
    )
    return frame


@fuzz(scaled(100))
@given(frame=quote_frames())
def test_generated_quote_frames_are_refused_by_name_or_clean(
    frame: pl.DataFrame, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    refused: InvalidMarketDataError | None = None
    try:
        clean = validate_option_quotes(frame)
    except InvalidMarketDataError as error:
        refused = error
    if refused is not None:
        assert refused.failures.height >= 1
        return
    assert clean.schema == OPTION_QUOTE_SCHEMA
    usable = clean.filter(pl.col("bid").is_not_null() & pl.col("ask").is_not_null())
    assert (usable["bid"] <= usable["ask"]).all()
    assert (clean["expiry"] >= clean["as_of_date"]).all()
    assert (clean["strike"] > 0).all()


# -- whole backtests over generated markets -------------------------------------------------


@st.composite
def markets(draw: st.DrawFn) -> tuple[list[float], float, int, int, float, float]:
    n = draw(st.integers(min_value=2, max_value=40))
    start = draw(st.sampled_from([1e-3, 1.0, 100.0, 5_000.0, 1e7]))
    steps = draw(
        st.lists(
            st.floats(min_value=-0.5, max_value=0.5, allow_nan=False),
            min_size=n - 1,
            max_size=n - 1,
        )
    )
    closes = [start]
    for step in steps:
        closes.append(max(closes[-1] * math.exp(step), 1e-9))
    spot_pct = draw(st.sampled_from([0.5, 0.9, 1.0, 1.2, 3.0]))
    tenor = draw(st.sampled_from([1, 2, 7, 30, 365, 3660]))
    roll_days = draw(st.sampled_from([0, 0, 1, 3, 20]))
    vol = draw(st.sampled_from([1e-4, 0.2, 1.5, 5.0]))
    loan_ratio = draw(st.sampled_from([0.0, 0.5, 0.95]))
    return closes, spot_pct, tenor, roll_days, vol, loan_ratio


@fuzz(scaled(60))
@given(market=markets())
def test_backtests_over_generated_markets_fail_clearly_or_give_consistent_numbers(
    scratch: Path,
    market: tuple[list[float], float, int, int, float, float],
    request: pytest.FixtureRequest,
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    closes, spot_pct, tenor, roll_days, vol, loan_ratio = market
    sessions = hf.get_calendar("XNYS").sessions_in_range(date(2015, 1, 2), date(2015, 12, 31))
    days: list[date] = [day.item() for day in sessions[: len(closes)]]
    store = MarketDataStore(scratch / f"market-{tally['fuzz_examples']}")
    frame = pl.DataFrame(
        {"symbol": ["FZ"] * len(days), "date": days, "close": closes},
        schema_overrides={"date": UNDERLYING_BAR_SCHEMA["date"]},
    )
    store.write_underlying_bars(frame)
    try:
        template = hf.protective_put(
            "fz",
            spot_pct=spot_pct,
            target_expiry_days=tenor,
            roll_policy=roll(roll_days) if roll_days else None,
        )
        provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(vol))
        state = hf.BacktestPortfolioState(
            underlying_units=10.0,
            entry_spot=closes[0],
            loan_amount=loan_ratio * 10.0 * closes[0],
            margin_call_ltv=0.8,
        )
        scenario = hf.make_scenario(
            [template],
            provider,
            symbol="FZ",
            start_date=days[0],
            end_date=days[-1],
            portfolio=state,
        )
        result = hf.run_backtest(scenario, [template], provider)
    except (ValidationError, HedgeframeError):
        tally.add("fuzz_backtests_refused")
        return
    daily = result.daily_path
    for name in ("underlying_value", "option_market_value", "cash", "net_portfolio_value"):
        assert np.isfinite(daily[name].to_numpy()).all(), name
    assert (daily["option_market_value"] >= 0).all()
    total = daily["underlying_value"] + daily["option_market_value"] + daily["cash"]
    assert np.allclose(total.to_numpy(), daily["net_portfolio_value"].to_numpy(), rtol=1e-9)
    ltv = daily["ltv_hedged"].to_numpy()
    net = daily["net_portfolio_value"].to_numpy()
    assert (np.isinf(ltv) == (net <= 0)).all()  # inf exactly where the value is gone
    assert result.summary["status"].to_list() == ["complete"]
    tally.add("fuzz_backtests_run")
