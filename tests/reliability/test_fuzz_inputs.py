"""Fuzzing: generated template files, builder arguments, market frames and whole
backtests are kept exactly when valid and refused by name when not.

Every generator is valid by construction and plants, about half of the time, one
targeted corruption whose location it knows, so each example reaches a check in one of
two directions: what is valid is kept exactly (a template file loads to the same record,
a stored frame reads back equal, a backtest's numbers are finite and add up); what is
not is refused with the documented error naming the record, field, row or template.
The shares of each kind are in ``docs/testing.md`` (``--hypothesis-show-statistics``).
Model JSON alone is fuzzed in ``tests/models/test_model_fuzz.py``.

The "ci" profile is derandomized, so every run tries the same examples; the counts are
set per test (``max_examples``) and add up to about a thousand.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from engine_helpers import roll
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from model_edits import CORPUSES, Edited, edited_records, refusal_names
from polars.testing import assert_frame_equal
from pydantic import ValidationError
from reliability_tally import Tally
from reliability_workers import scaled

import hedgeframe as hf
from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    UNDERLYING_BAR_SCHEMA,
    MarketDataStore,
    validate_underlying_bars,
)
from hedgeframe.errors import (
    CorruptFileError,
    FailureReason,
    InvalidMarketDataError,
    InvalidScenarioError,
)
from hedgeframe.models import StrategyTemplate
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


# -- a template file holding a generated record ---------------------------------------------


@fuzz(scaled(200))
@given(edited=edited_records(CORPUSES["template"]))
@example(
    edited=Edited({**CORPUSES["template"].base, "template_id": "../x"}, ("template_id",), "set")
)
def test_a_template_file_with_a_generated_record_loads_exactly_or_is_refused_by_field(
    scratch: Path, edited: Edited, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    event(edited.how)
    path = scratch / "strategy_templates.json"
    document = {
        "format": "hedgeframe.strategy_templates",
        "format_version": 1,
        "records": [edited.record],
    }
    text = json.dumps(document)
    path.write_text(text, encoding="utf-8")
    templates = hf.BacktestService(scratch).templates
    if edited.corrupted is not None:
        with pytest.raises(CorruptFileError) as refused:
            templates.list(include_archived=True)
        assert refused.value.path == path
        named = ".".join(str(part) for part in edited.corrupted)
        assert "record 0" in str(refused.value)
        assert f"'{named}" in str(refused.value) or f"no '{named}'" in str(refused.value)
        assert path.read_text(encoding="utf-8") == text  # a corrupt file is never rewritten
        return
    (template,) = templates.list(include_archived=True)
    assert template.model_dump(mode="json") == edited.record
    # What loads can be written back and loads equal (nothing is changed on the way).
    collection = JsonCollection(path, StrategyTemplate, format_name="hedgeframe.strategy_templates")
    collection.modify(lambda records: (list(records), None))
    assert collection.load() == [template]
    tally.add("fuzz_records_kept")


# -- builder arguments ----------------------------------------------------------------------

SPOT_PCTS = st.floats(0.01, 5.0, allow_nan=False)
ARGUMENT_CORRUPTIONS: dict[str, st.SearchStrategy[Any]] = {
    # An argument and its bad values; the error names the field of the same name.
    "slug": st.sampled_from(["", "A b", "../x", "-a"]),
    "target_expiry_days": st.sampled_from([0, -1, 3661, 2**70]),
    "target_coverage_pct": st.sampled_from([0.0, 1.0000001, math.nan, -math.inf]),
    "underlying_symbol": st.sampled_from(["", "s" * 51]),
}
LEG_CORRUPTIONS: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    # A per-leg list argument: what its error names, and one leg's bad values.
    "spot_pcts": ("value", st.sampled_from([0.0, -0.5, math.nan, math.inf])),
    "weights": ("allocation_weight", st.sampled_from([0.0, -0.1, 1.5, math.nan])),
}
WHOLE_CORRUPTIONS = ("weights not summing to 1", "lists of different lengths")


@st.composite
def ladder_arguments(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """Valid ``put_ladder`` arguments, and half of the time one bad one (named)."""
    n = draw(st.integers(1, 4))
    raw = draw(st.lists(st.integers(1, 100), min_size=n, max_size=n))
    weights = [w / sum(raw) for w in raw]
    weights[-1] = 1.0 - math.fsum(weights[:-1])  # sums to 1 within the tolerance
    arguments: dict[str, Any] = {
        "slug": draw(st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)),
        "spot_pcts": draw(st.lists(SPOT_PCTS, min_size=n, max_size=n, unique=True)),
        "weights": weights,
        "target_expiry_days": draw(st.integers(1, 3660)),
        "target_coverage_pct": draw(st.floats(0.0, 1.0, exclude_min=True)),
        "underlying_symbol": draw(st.text(min_size=1, max_size=50)),
    }
    if draw(st.booleans()):
        return arguments, None
    corruption = draw(
        st.sampled_from([*ARGUMENT_CORRUPTIONS, *LEG_CORRUPTIONS, *WHOLE_CORRUPTIONS])
    )
    if corruption in ARGUMENT_CORRUPTIONS:
        arguments[corruption] = draw(ARGUMENT_CORRUPTIONS[corruption])
    elif corruption in LEG_CORRUPTIONS:
        arguments[corruption][draw(st.integers(0, n - 1))] = draw(LEG_CORRUPTIONS[corruption][1])
    elif corruption == "weights not summing to 1":
        arguments["weights"] = [w * draw(st.floats(0.5, 0.99)) for w in weights]
    else:
        arguments["weights"] = [*weights, 0.0]
    return arguments, corruption


@fuzz(scaled(300))
@given(drawn=ladder_arguments())
@example(
    drawn=(
        {
            "slug": "ok",
            "spot_pcts": [1.0, 0.9],
            "weights": [0.5, 0.5],
            "target_expiry_days": 30,
            "target_coverage_pct": 1.0,
            "underlying_symbol": "*",
        },
        None,
    )
)
def test_template_builders_keep_good_arguments_and_refuse_bad_ones_by_field(
    drawn: tuple[dict[str, Any], str | None], request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    arguments, corruption = drawn
    event("valid" if corruption is None else f"bad {corruption}")
    if corruption == "lists of different lengths":
        with pytest.raises(ValueError, match=r"spot_pcts has .* entries but weights has"):
            hf.put_ladder(**arguments)
        return
    if corruption is not None:
        with pytest.raises(ValidationError) as refused:
            hf.put_ladder(**arguments)
        if corruption == "weights not summing to 1":
            assert "allocation_weight values must sum to 1.0" in str(refused.value)
        elif corruption in LEG_CORRUPTIONS:  # a leg's field, or its strike rule's message
            assert LEG_CORRUPTIONS[corruption][0] in str(refused.value), refused.value.errors()
        else:
            assert refusal_names(refused.value, (corruption,)), refused.value.errors()
        return
    template = hf.put_ladder(**arguments)
    legs = template.legs
    assert [leg.strike_rule.value for leg in legs] == arguments["spot_pcts"]
    assert [leg.allocation_weight for leg in legs] == arguments["weights"]
    assert {leg.target_expiry_days for leg in legs} == {arguments["target_expiry_days"]}
    assert {leg.target_coverage_pct for leg in legs} == {arguments["target_coverage_pct"]}
    assert (template.slug, template.underlying_symbol) == (
        arguments["slug"],
        arguments["underlying_symbol"],
    )
    assert template.template_kind == ("protective_put" if len(legs) == 1 else "laddered_put")
    assert StrategyTemplate.model_validate_json(template.model_dump_json()) == template
    tally.add("fuzz_templates_built")


# -- market frames --------------------------------------------------------------------------

DAY0 = date(2020, 1, 1)
GOOD_PRICES = st.floats(1e-6, 1e9, allow_nan=False)
BAR_SYMBOLS = ["FZ", "FZ.B", "^FZ"]


@dataclass(frozen=True)
class Corruption:
    """A bad cell planted in a generated frame: where, and the reasons that may name it."""

    row: int | None  # None: a whole column (missing)
    column: str
    reasons: frozenset[FailureReason]
    kind: str = ""  # the planter's name, for the statistics


Rows = dict[str, list[Any]]
Planter = Callable[[st.DrawFn, Rows, int], Corruption]
"""Plants one kind of bad cell in row ``row`` of a frame's columns, and says where."""


def _cell(column: str, values: list[Any], *reasons: FailureReason) -> Planter:
    def plant(draw: st.DrawFn, rows: Rows, row: int) -> Corruption:
        rows[column][row] = draw(st.sampled_from(values))
        return Corruption(row, column, frozenset(reasons))

    return plant


def _duplicate(draw: st.DrawFn, rows: Rows, row: int) -> Corruption:
    """Append a copy of ``row``: the copy repeats its key (the refusal names its row)."""
    for values in rows.values():
        values.append(values[row])
    copy = len(rows["symbol"]) - 1
    return Corruption(copy, "symbol", frozenset({FailureReason.DUPLICATE_KEY}))


def _planted(draw: st.DrawFn, rows: Rows, planters: dict[str, Planter]) -> Corruption | None:
    """Half of the time nothing; else one planter, drawn, on a drawn row."""
    if draw(st.booleans()):
        return None
    kind = draw(st.sampled_from(sorted(planters)))
    row = draw(st.integers(0, len(next(iter(rows.values()))) - 1))
    return replace(planters[kind](draw, rows, row), kind=kind)


def _no_close(draw: st.DrawFn, rows: Rows, row: int) -> Corruption:
    del rows["close"]
    return Corruption(None, "close", frozenset({FailureReason.MISSING_COLUMN}))


BAR_PLANTERS: dict[str, Planter] = {
    "close": _cell(
        "close",
        [math.nan, math.inf, 0.0, -1.0, None],
        FailureReason.NOT_FINITE,
        FailureReason.NOT_POSITIVE,
        FailureReason.MISSING,
    ),
    "open": _cell("open", [-1.0, math.nan], FailureReason.NEGATIVE, FailureReason.NOT_FINITE),
    "volume": _cell("volume", [-5.0, -math.inf], FailureReason.NEGATIVE, FailureReason.NOT_FINITE),
    "symbol": _cell("symbol", ["", "S" * 51, None], FailureReason.BAD_VALUE, FailureReason.MISSING),
    "duplicate": _duplicate,
    "no close": _no_close,
}


@st.composite
def bar_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, Corruption | None]:
    """Valid bars (unique keys, positive closes), and half of the time one bad cell."""
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(BAR_SYMBOLS), st.integers(0, 700)),
            min_size=1,
            max_size=12,
            unique=True,
        )
    )
    n = len(keys)

    def prices() -> list[float | None]:
        return draw(st.lists(st.none() | GOOD_PRICES, min_size=n, max_size=n))

    rows: Rows = {
        "symbol": [symbol for symbol, _ in keys],
        "date": [DAY0 + timedelta(days=offset) for _, offset in keys],
        "open": prices(),
        "close": draw(st.lists(GOOD_PRICES, min_size=n, max_size=n)),
        "volume": prices(),
        "source": draw(st.lists(st.text(min_size=1, max_size=4), min_size=n, max_size=n)),
    }
    corruption = _planted(draw, rows, BAR_PLANTERS)
    schema = {name: UNDERLYING_BAR_SCHEMA[name] for name in rows}
    return pl.DataFrame(rows, schema=schema), corruption


def _named(refused: InvalidMarketDataError, corruption: Corruption) -> bool:
    """Whether a failure row names the planted cell (a duplicate names both of its rows)."""
    failures = refused.failures
    rows = failures.filter(
        (pl.col("row") == corruption.row) if corruption.row is not None else pl.col("row").is_null()
    )
    if corruption.reasons == {FailureReason.DUPLICATE_KEY}:
        return set(rows["reason"]) == {FailureReason.DUPLICATE_KEY.value}
    named = rows.filter(pl.col("column") == corruption.column)
    return named.height >= 1 and set(named["reason"]) <= {r.value for r in corruption.reasons}


BASELINE_BARS = validate_underlying_bars(
    pl.DataFrame(
        {"symbol": ["FZ", "FZ"], "date": [DAY0, DAY0 + timedelta(days=800)], "close": [1.0, 2.0]},
        schema_overrides={"date": pl.Date},
    )
)
"""Stored before each example: a refused write must leave exactly this."""


@fuzz(scaled(160))
@given(drawn=bar_frames())
def test_generated_bar_frames_are_stored_exactly_or_refused_naming_the_cell(
    scratch: Path, drawn: tuple[pl.DataFrame, Corruption | None], request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    frame, corruption = drawn
    store = MarketDataStore(scratch / f"bars-{tally['fuzz_examples']}")
    store.write_underlying_bars(BASELINE_BARS)
    if corruption is not None:
        event(f"bad {corruption.kind}")
        with pytest.raises(InvalidMarketDataError) as refused:
            store.write_underlying_bars(frame)
        assert _named(refused.value, corruption), (corruption, refused.value.failures)
        assert_frame_equal(store.underlying_bars("FZ"), BASELINE_BARS)  # nothing was written
        return
    event("valid")
    store.write_underlying_bars(frame)
    for symbol in {"FZ", *frame["symbol"]}:
        expected = validate_underlying_bars(frame.filter(pl.col("symbol") == symbol))
        if symbol == "FZ":  # an upsert: the written days replace the baseline's
            expected = pl.concat([BASELINE_BARS.join(expected, on="date", how="anti"), expected])
        assert_frame_equal(store.underlying_bars(symbol), expected.sort("date"))
    tally.add("fuzz_frames_stored")


def _crossed(draw: st.DrawFn, rows: Rows, row: int) -> Corruption:
    rows["bid"][row], rows["ask"][row] = 2.0, 1.0
    return Corruption(row, "bid", frozenset({FailureReason.BID_ABOVE_ASK}))


def _expired(draw: st.DrawFn, rows: Rows, row: int) -> Corruption:
    rows["expiry"][row] = rows["as_of_date"][row] - timedelta(days=draw(st.integers(1, 30)))
    return Corruption(row, "expiry", frozenset({FailureReason.EXPIRY_BEFORE_AS_OF}))


QUOTE_PLANTERS: dict[str, Planter] = {
    "strike": _cell(
        "strike", [0.0, -5.0, math.nan], FailureReason.NOT_POSITIVE, FailureReason.NOT_FINITE
    ),
    "bid": _cell("bid", [-0.5, math.nan], FailureReason.NEGATIVE, FailureReason.NOT_FINITE),
    "option_type": _cell(
        "option_type", ["PUT", "straddle", ""], FailureReason.BAD_VALUE, FailureReason.MISSING
    ),
    "delta": _cell(
        "delta", [1.5, -2.0, math.inf], FailureReason.BAD_VALUE, FailureReason.NOT_FINITE
    ),
    "open_interest": _cell("open_interest", [-1], FailureReason.NEGATIVE),
    "crossed": _crossed,
    "expired": _expired,
    "duplicate": _duplicate,
}


@st.composite
def quote_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, Corruption | None]:
    """A valid chain of one day (unique contracts, bid <= mid <= ask), maybe one bad cell."""
    contracts = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["put", "call"]),
                st.integers(0, 400),
                st.integers(1, 400).map(lambda k: k * 0.5),
            ),
            min_size=1,
            max_size=10,
            unique=True,
        )
    )
    n = len(contracts)
    as_of = DAY0 + timedelta(days=draw(st.integers(0, 40)))
    bids = draw(st.lists(st.none() | st.floats(0, 500, allow_nan=False), min_size=n, max_size=n))
    widths = draw(st.lists(st.floats(0, 5, allow_nan=False), min_size=n, max_size=n))
    asks = [
        None if bid is None and width > 4 else (bid or 0.0) + width
        for bid, width in zip(bids, widths, strict=True)
    ]
    rows: Rows = {
        "symbol": ["FZ"] * n,
        "as_of_date": [as_of] * n,
        "option_type": [kind for kind, _, _ in contracts],
        "expiry": [as_of + timedelta(days=days) for _, days, _ in contracts],
        "strike": [strike for _, _, strike in contracts],
        "bid": bids,
        "ask": asks,
        "delta": draw(st.lists(st.none() | st.floats(-1, 1), min_size=n, max_size=n)),
        "open_interest": draw(st.lists(st.none() | st.integers(0, 10**6), min_size=n, max_size=n)),
    }
    corruption = _planted(draw, rows, QUOTE_PLANTERS)
    overrides = {name: OPTION_QUOTE_SCHEMA[name] for name in rows if name != "option_type"}
    return pl.DataFrame(rows, schema_overrides=overrides), corruption


@fuzz(scaled(100))
@given(drawn=quote_frames())
def test_generated_quote_frames_are_stored_exactly_or_refused_naming_the_cell(
    scratch: Path, drawn: tuple[pl.DataFrame, Corruption | None], request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    frame, corruption = drawn
    store = MarketDataStore(scratch / f"quotes-{tally['fuzz_examples']}")
    as_of = frame["as_of_date"][0]
    if corruption is not None:
        event(f"bad {corruption.kind}")
        with pytest.raises(InvalidMarketDataError) as refused:
            store.write_option_quotes(frame)
        assert _named(refused.value, corruption), (corruption, refused.value.failures)
        assert store.option_quotes("FZ", as_of).is_empty()  # nothing was written
        return
    event("valid")
    store.write_option_quotes(frame)
    stored = store.option_quotes("FZ", as_of)
    keys = ["option_type", "expiry", "strike"]
    written = frame.sort(keys)
    assert stored.select(keys, "bid", "ask", "delta").equals(
        written.select(keys, "bid", "ask", "delta")
    )
    # A missing mid is the middle of the two sides when both exist and the ask is usable.
    both = pl.col("bid").is_not_null() & pl.col("ask").is_not_null() & (pl.col("ask") > 0)
    mid = pl.when(both).then((pl.col("bid") + pl.col("ask")) / 2).alias("mid")
    assert stored["mid"].equals(written.select(mid)["mid"])
    tally.add("fuzz_frames_stored")


# -- whole backtests over generated markets -------------------------------------------------


@dataclass(frozen=True)
class Market:
    """A generated market and template; ``refused`` when its roll is due on entry day."""

    closes: list[float]
    spot_pct: float
    tenor: int
    roll_days: int
    vol: float
    loan_ratio: float

    @property
    def refused(self) -> bool:
        return self.tenor <= self.roll_days


@st.composite
def markets(draw: st.DrawFn) -> Market:
    """Closes from random log steps, and a template that can run (or, for a quarter of the
    rolling templates, one whose first roll would fall on or before its entry day)."""
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
    roll_days = draw(st.sampled_from([0, 0, 1, 3, 20]))
    if roll_days and draw(st.integers(0, 3)) == 0:
        # N sessions before an expiry at most tenor + 2 calendar days away: never after entry.
        tenor = draw(st.integers(1, roll_days))
    else:
        # At least 2N + 10 calendar days hold more than N sessions, so the roll comes later;
        # a week or more also keeps a held-to-expiry put from expiring on its entry day.
        tenor = draw(st.sampled_from([7, 30, 365, 3660]).filter(lambda t: t >= 2 * roll_days + 10))
    return Market(
        closes,
        spot_pct=draw(st.sampled_from([0.5, 0.9, 1.0, 1.2, 3.0])),
        tenor=tenor,
        roll_days=roll_days,
        vol=draw(st.sampled_from([1e-4, 0.2, 1.5, 5.0])),
        loan_ratio=draw(st.sampled_from([0.0, 0.5, 0.95])),
    )


@fuzz(scaled(60))
@given(market=markets())
def test_backtests_over_generated_markets_give_consistent_numbers_or_refuse_by_name(
    scratch: Path, market: Market, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    tally.add("fuzz_examples")
    closes = market.closes
    sessions = hf.get_calendar("XNYS").sessions_in_range(date(2015, 1, 2), date(2015, 12, 31))
    days: list[date] = [day.item() for day in sessions[: len(closes)]]
    store = MarketDataStore(scratch / f"market-{tally['fuzz_examples']}")
    frame = pl.DataFrame(
        {"symbol": ["FZ"] * len(days), "date": days, "close": closes},
        schema_overrides={"date": UNDERLYING_BAR_SCHEMA["date"]},
    )
    store.write_underlying_bars(frame)
    template = hf.protective_put(
        "fz",
        spot_pct=market.spot_pct,
        target_expiry_days=market.tenor,
        roll_policy=roll(market.roll_days) if market.roll_days else None,
    )
    provider = hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(market.vol))
    state = hf.BacktestPortfolioState(
        underlying_units=10.0,
        entry_spot=closes[0],
        loan_amount=market.loan_ratio * 10.0 * closes[0],
        margin_call_ltv=0.8,
    )
    scenario = hf.make_scenario(
        [template], provider, symbol="FZ", start_date=days[0], end_date=days[-1], portfolio=state
    )
    if market.refused:
        event("refused: roll due on entry day")
        with pytest.raises(
            InvalidScenarioError, match=r"fz v1 leg 'put-[0-9_]+'.*on or before its own entry day"
        ):
            hf.run_backtest(scenario, [template], provider)
        tally.add("fuzz_backtests_refused")
        return
    event("run")
    result = hf.run_backtest(scenario, [template], provider)
    daily = result.daily_path
    assert daily.height == len(days)
    for name in ("underlying_value", "option_market_value", "cash", "net_portfolio_value"):
        assert np.isfinite(daily[name].to_numpy()).all(), name
    assert (daily["option_market_value"] >= 0).all()
    total = daily["underlying_value"] + daily["option_market_value"] + daily["cash"]
    assert np.allclose(total.to_numpy(), daily["net_portfolio_value"].to_numpy(), rtol=1e-9)
    ltv = daily["ltv_hedged"].to_numpy()
    net = daily["net_portfolio_value"].to_numpy()
    assert (np.isinf(ltv) == (net <= 0)).all()  # inf exactly where the value is gone
    assert (daily["margin_call_hedged"].to_numpy() == (ltv >= 0.8)).all()
    assert result.summary["status"].to_list() == ["complete"]
    tally.add("fuzz_backtests_run")
