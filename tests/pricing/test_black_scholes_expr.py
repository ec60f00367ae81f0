"""Tests of ``black_scholes_expr``, the Polars form of the Black-Scholes-Merton price.

Oracle: the numpy ``black_scholes_price`` (itself checked against QuantLib in
``test_black_scholes.py``). The expression uses an ``erfc``-based normal CDF instead of
scipy's ``ndtr``; the two agree to 1e-12 relative (measured: ~1e-13 out to |d| = 38).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from hedgeframe.pricing import black_scholes_expr, black_scholes_price

COLUMNS = ("option_type", "spot", "strike", "tau", "volatility", "rate", "dividend_yield")


def _frame(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "option_type": pl.String,
            "spot": pl.Float64,
            "strike": pl.Float64,
            "tau": pl.Float64,
            "volatility": pl.Float64,
            "rate": pl.Float64,
            "dividend_yield": pl.Float64,
        },
        orient="row",
    )


def _numpy_prices(frame: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    return black_scholes_price(*(frame[name].to_numpy() for name in COLUMNS))


def _expr_prices(frame: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    return frame.select(black_scholes_expr(*COLUMNS))["price"].to_numpy()


row = st.tuples(
    st.sampled_from(["put", "call"]),
    st.floats(0.0, 1e5),
    st.floats(0.0, 3e5),
    st.one_of(st.floats(-0.1, 5.0), st.just(0.0)),
    st.one_of(st.floats(0.0, 2.0), st.just(0.0)),
    st.floats(-0.02, 0.15),
    st.floats(0.0, 0.1),
)


@given(rows=st.lists(row, min_size=1, max_size=32))
@example([("put", 100.0, 100.0, 0.0, 0.2, 0.05, 0.01)]).via("expiry today")
@example([("put", 100.0, 110.0, 1.0, 0.0, 0.05, 0.01)]).via("zero volatility")
@example([("call", 100.0, 20.0, 5.0, 0.01, 0.15, 0.0)]).via("deep in the money call")
@example([("put", 100.0, 20.0, 0.1, 0.2, 0.0, 0.0)]).via("deep out of the money put")
@example([("put", 0.0, 100.0, 1.0, 0.2, 0.05, 0.0), ("call", 0.0, 0.0, 1.0, 0.2, 0.0, 0.0)])
def test_expression_matches_numpy(rows: list[tuple[Any, ...]]) -> None:
    frame = _frame(rows)
    got, want = _expr_prices(frame), _numpy_prices(frame)
    # 1e-12 relative; below 1e-10 of the notional the tail cancellation of the formula
    # itself (~1e-10 relative at prices like 1e-144) allows only an absolute bound.
    scale = (frame["spot"] + frame["strike"]).to_numpy()
    bad = np.abs(got - want) > 1e-12 * np.abs(want) + 1e-22 * scale
    bad |= np.isnan(got) != np.isnan(want)  # a NaN compares as "not too far" above
    assert not bad.any(), frame.with_columns(expr=got, numpy=want).filter(bad)


def test_literals_columns_and_expressions_mix() -> None:
    frame = pl.DataFrame({"close": [90.0, 100.0, 110.0], "pct": [1.0, 0.95, 1.05]})
    expr = black_scholes_expr(
        "put", "close", pl.col("close") * pl.col("pct"), 30 / 365, 0.2, rate=0.03
    )
    got = frame.lazy().select(expr).collect()["price"].to_numpy()
    want = black_scholes_price(
        "put",
        frame["close"].to_numpy(),
        (frame["close"] * frame["pct"]).to_numpy(),
        30 / 365,
        0.2,
        0.03,
    )
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize(
    "dtype", [pl.String, pl.Categorical, pl.Enum(["put", "call"])], ids=["string", "cat", "enum"]
)
def test_option_type_column_dtypes(dtype: pl.DataType) -> None:
    frame = pl.DataFrame({"kind": ["put", "call"]}, schema={"kind": dtype})
    got = frame.select(black_scholes_expr("kind", 100.0, 105.0, 1.0, 0.2))["price"].to_list()
    want = black_scholes_price(["put", "call"], 100.0, 105.0, 1.0, 0.2).tolist()
    assert got == pytest.approx(want, rel=1e-12)


def test_integer_columns_are_cast_to_float() -> None:
    frame = pl.DataFrame({"spot": [100], "strike": [105]})
    got = frame.select(black_scholes_expr("call", "spot", "strike", 1, 0.2)).item()
    assert got == pytest.approx(float(black_scholes_price("call", 100, 105, 1, 0.2)), rel=1e-12)


def test_output_is_a_float64_column_named_price() -> None:
    frame = pl.DataFrame({"spot": [100.0]})
    out = frame.select(black_scholes_expr("put", "spot", 100.0, 1.0, 0.2))
    assert out.schema == pl.Schema({"price": pl.Float64})


def test_null_inputs_give_null_prices() -> None:
    frame = pl.DataFrame(
        {
            "option_type": ["put", None, "put", "call"],
            "spot": [100.0, 100.0, None, 100.0],
            "volatility": [0.2, 0.2, 0.2, None],
        }
    )
    got = frame.select(black_scholes_expr("option_type", "spot", 100.0, 1.0, "volatility"))
    assert got["price"].is_null().to_list() == [False, True, True, True]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("option_type", "Put"),
        ("spot", -1.0),
        ("spot", math.nan),
        ("strike", math.inf),
        ("volatility", -0.2),
        ("tau", math.nan),
        ("rate", math.inf),
        ("dividend_yield", math.nan),
    ],
)
def test_rows_numpy_would_refuse_give_nan(column: str, value: object) -> None:
    good: dict[str, object] = {
        "option_type": "put",
        "spot": 100.0,
        "strike": 100.0,
        "tau": 1.0,
        "volatility": 0.2,
        "rate": 0.0,
        "dividend_yield": 0.0,
    }
    frame = pl.DataFrame([good, {**good, column: value}])
    got = frame.select(black_scholes_expr(*COLUMNS))["price"].to_list()
    assert not math.isnan(got[0])
    assert math.isnan(got[1])
