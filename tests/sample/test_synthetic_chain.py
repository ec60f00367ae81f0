"""The synthetic chain: its documented rules, determinism and point-in-time generation.

Chains are built for a month or two of the bundled sample (March-April 2014, with Good
Friday on the April expiry, and February 2018, the VIX spike), never for five years.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from hedgeframe.data import (
    OPTION_QUOTE_SCHEMA,
    MarketDataStore,
    get_calendar,
    validate_option_quotes,
)
from hedgeframe.data._synthetic_chain import (
    SYNTHETIC_CHAIN_SOURCE,
    build_synthetic_chain,
    monthly_expiries,
    write_synthetic_chain,
)
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.pricing import black_scholes_delta, black_scholes_price
from hedgeframe.sample import sample_store

WINDOWS = {
    "2014-good-friday": (date(2014, 3, 3), date(2014, 4, 30)),
    "2018-vix-spike": (date(2018, 2, 1), date(2018, 2, 28)),
}


@pytest.fixture(scope="module")
def bars() -> pl.DataFrame:
    return sample_store().underlying_bars("^GSPC", start=date(2012, 1, 1))


@pytest.fixture(scope="module")
def vix() -> pl.DataFrame:
    return sample_store().underlying_bars("^VIX")


@pytest.fixture(scope="module", params=list(WINDOWS), ids=list(WINDOWS))
def chain(request: pytest.FixtureRequest, bars: pl.DataFrame, vix: pl.DataFrame) -> pl.DataFrame:
    start, end = WINDOWS[request.param]
    return build_synthetic_chain(bars, vix, start=start, end=end)


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


# --- shape and labels ----------------------------------------------------------------------


def test_schema_source_and_validation(chain: pl.DataFrame) -> None:
    assert chain.schema == OPTION_QUOTE_SCHEMA
    assert chain["source"].unique().to_list() == [SYNTHETIC_CHAIN_SOURCE]
    assert chain["symbol"].unique().to_list() == ["^GSPC"]
    assert validate_option_quotes(chain).equals(chain)
    assert chain.null_count().sum_horizontal().item() == 0


def test_quotes_only_days_with_a_bar_and_a_vix_close(
    chain: pl.DataFrame, bars: pl.DataFrame, vix: pl.DataFrame
) -> None:
    days = chain["as_of_date"].unique().sort()
    start, end = days.min(), days.max()
    assert isinstance(start, date)
    assert isinstance(end, date)
    both = bars.join(vix, on="date").filter(pl.col("date").is_between(start, end))
    assert days.to_list() == both["date"].to_list()
    closes = chain.join(bars, left_on="as_of_date", right_on="date")
    assert (closes["underlying_close"] == closes["close"]).all()


def test_rows_per_session_stay_reasonable(chain: pl.DataFrame) -> None:
    per_day = chain.group_by("as_of_date").len()["len"]
    assert 400 <= per_day.min() <= per_day.max() <= 900  # type: ignore[operator]


def test_same_inputs_give_the_same_frame(bars: pl.DataFrame, vix: pl.DataFrame) -> None:
    start, end = WINDOWS["2018-vix-spike"]
    first = build_synthetic_chain(bars, vix, start=start, end=end)
    second = build_synthetic_chain(bars.reverse(), vix.reverse(), start=start, end=end)
    assert first.equals(second)


# --- expiries ------------------------------------------------------------------------------


def test_monthly_expiry_is_the_third_friday_or_the_session_before() -> None:
    calendar = get_calendar("XNYS")
    expiries = monthly_expiries(date(1971, 1, 1), date(2026, 12, 1))
    assert expiries.size == 56 * 12
    moved = 0
    for expiry in expiries.astype(date):
        friday = _third_friday(expiry.year, expiry.month)
        if calendar.is_session(friday):
            assert expiry == friday
        else:
            moved += 1
            assert expiry == calendar.previous_session(friday)
    assert moved > 0
    assert [str(d) for d in monthly_expiries(date(2014, 4, 1), date(2014, 4, 1))] == ["2014-04-17"]


def test_chain_expiries_follow_the_monthly_rule(chain: pl.DataFrame) -> None:
    listed = chain["expiry"].unique().sort()
    first, last = listed.min(), listed.max()
    assert isinstance(first, date)
    assert isinstance(last, date)
    assert listed.to_list() == list(monthly_expiries(first, last).astype(date))


def test_good_friday_2014_moves_the_april_expiry_to_thursday(bars: pl.DataFrame) -> None:
    vix = sample_store().underlying_bars("^VIX")
    chain = build_synthetic_chain(bars, vix, start=date(2014, 4, 1), end=date(2014, 4, 17))
    assert date(2014, 4, 17) in chain["expiry"].to_list()
    assert date(2014, 4, 18) not in chain["expiry"].to_list()
    # Not quoted on its own expiry day (it settles at that close).
    on_expiry = chain.filter(pl.col("as_of_date") == date(2014, 4, 17))
    assert on_expiry["expiry"].min() == date(2014, 5, 16)


def test_every_day_lists_13_or_14_expiries_reaching_a_year_out(chain: pl.DataFrame) -> None:
    per_day = chain.group_by("as_of_date").agg(
        pl.col("expiry").n_unique().alias("count"),
        pl.col("expiry").min().alias("first"),
        pl.col("expiry").max().alias("last"),
    )
    assert per_day["count"].is_in([13, 14]).all()
    assert (per_day["first"] > per_day["as_of_date"]).all()
    assert (per_day["last"] >= per_day["as_of_date"] + timedelta(days=365)).all()
    months_out = (per_day["last"].dt.year() * 12 + per_day["last"].dt.month()) - (
        per_day["as_of_date"].dt.year() * 12 + per_day["as_of_date"].dt.month()
    )
    assert (months_out == 13).all()


# --- strikes -------------------------------------------------------------------------------


def _increments(chain: pl.DataFrame, bars: pl.DataFrame) -> dict[date, float]:
    """The documented increment per expiry, worked out independently of the module."""
    ladder = np.array([1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0])
    out = {}
    for expiry in chain["expiry"].unique().to_list():
        index = expiry.year * 12 + expiry.month - 1 - 13
        listed = date(index // 12, index % 12 + 1, 1)
        close = bars.filter(pl.col("date") >= listed)["close"][0]
        out[expiry] = float(ladder[np.argmin(np.abs(np.log(ladder / (0.01 * close))))])
    return out


def test_strikes_are_multiples_of_the_expiry_increment(
    chain: pl.DataFrame, bars: pl.DataFrame
) -> None:
    increments = _increments(chain, bars)
    unit = chain["expiry"].replace_strict(increments, return_dtype=pl.Float64)
    assert (chain["strike"] % unit == 0.0).all()
    # 25 points for the S&P 500 at 1,581-3,536; 10 for expiries listed below that
    # (those to May 2014, listed Dec 2012-Apr 2013).
    assert {e: u for e, u in increments.items() if u != 25.0} == {
        e: 10.0 for e in increments if e <= date(2014, 5, 16)
    }
    # The band of the tier for today's tenor, around today's close, is always listed.
    tiers = {4: (0.60, 1.25), 2: (0.75, 1.15), 1: (0.85, 1.10)}
    for (day, expiry), quotes in chain.group_by("as_of_date", "expiry"):
        tenor = (expiry - day).days
        units = 1 if tenor <= 60 else 2 if tenor <= 180 else 4
        (low, high), step = tiers[units], units * increments[expiry]
        spot = quotes["underlying_close"][0]
        wanted = np.arange(np.ceil(low * spot / step), np.floor(high * spot / step) + 1) * step
        assert np.isin(wanted, quotes["strike"].to_numpy()).all(), (day, expiry)
    # Every contract is listed as a put and as a call.
    counts = chain.group_by("as_of_date", "expiry", "strike").len()
    assert (counts["len"] == 2).all()


def test_strikes_are_finer_near_expiry(chain: pl.DataFrame, bars: pl.DataFrame) -> None:
    increments = _increments(chain, bars)
    day = chain["as_of_date"].min()
    spacing = (
        chain.filter(pl.col("as_of_date") == day, pl.col("option_type") == "put")
        .sort("strike")
        .group_by("expiry")
        .agg(pl.col("strike").diff().min().alias("step"))
    )
    assert isinstance(day, date)
    for expiry, step in spacing.iter_rows():
        tenor = (expiry - day).days
        units = 1 if tenor <= 60 else 2 if tenor <= 180 else 4
        assert step == units * increments[expiry], (expiry, tenor)


def test_a_listed_contract_stays_listed_until_expiry(chain: pl.DataFrame) -> None:
    key = ["option_type", "expiry", "strike"]
    days = chain["as_of_date"].unique().sort().to_list()
    for today, tomorrow in itertools.pairwise(days):
        live = chain.filter(pl.col("as_of_date") == today, pl.col("expiry") > tomorrow)
        listed = chain.filter(pl.col("as_of_date") == tomorrow)
        dropped = live.join(listed, on=key, how="anti")
        assert dropped.height == 0, f"{today} -> {tomorrow}: {dropped.head()}"


# --- prices --------------------------------------------------------------------------------


def _model(chain: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    args = (
        chain["option_type"].to_numpy(),
        chain["underlying_close"].to_numpy(),
        chain["strike"].to_numpy(),
        (chain["expiry"] - chain["as_of_date"]).dt.total_days().to_numpy() / 365.0,
        chain["implied_volatility"].to_numpy(),
    )
    return black_scholes_price(*args), black_scholes_delta(*args)


def test_mid_is_the_bsm_price_at_the_quoted_vol_floored_at_half_a_tick(
    chain: pl.DataFrame,
) -> None:
    price, delta = _model(chain)
    mid = chain["mid"].to_numpy()
    priced = price >= 0.025
    np.testing.assert_allclose(mid[priced], price[priced], rtol=1e-12, atol=1e-12)
    assert (mid[~priced] == 0.025).all()
    assert (~priced).any()
    np.testing.assert_array_equal(chain["delta"].to_numpy(), delta)


def test_quote_sides_follow_the_spread_rule(chain: pl.DataFrame) -> None:
    bid, ask, mid = (chain[name].to_numpy() for name in ("bid", "ask", "mid"))
    assert (mid == (bid + ask) / 2.0).all()
    assert ((bid >= 0.0) & (bid <= mid) & (mid <= ask)).all()
    np.testing.assert_allclose(ask - bid, np.maximum(0.05, 0.02 * mid), rtol=1e-9, atol=1e-12)


def test_put_call_parity_at_zero_rate(chain: pl.DataFrame) -> None:
    key = ["as_of_date", "expiry", "strike"]
    puts = chain.filter(pl.col("option_type") == "put").select(*key, put="mid")
    calls = chain.filter(pl.col("option_type") == "call").select(
        *key, "underlying_close", call="mid"
    )
    pairs = calls.join(puts, on=key).filter((pl.col("put") > 0.025) & (pl.col("call") > 0.025))
    assert pairs.height > 1000
    gap = pairs["call"] - pairs["put"] - (pairs["underlying_close"] - pairs["strike"])
    assert gap.abs().max() <= 1e-9  # type: ignore[operator]


def test_skew_and_term_structure(chain: pl.DataFrame, vix: pl.DataFrame) -> None:
    day = chain["as_of_date"].min()
    quotes = chain.filter(pl.col("as_of_date") == day, pl.col("option_type") == "put")
    vix_close = vix.filter(pl.col("date") == day)["close"].item() / 100.0
    front = quotes.filter(pl.col("expiry") == quotes["expiry"].min()).sort("strike")
    # Puts further out of the money carry more volatility (the skew is negative) ...
    assert (front["implied_volatility"].diff().drop_nulls() <= 0.0).all()
    # ... and a tenor under 30 days uses the VIX itself at the money.
    atm = front.filter(pl.col("strike") == pl.col("underlying_close").first())
    if atm.height:
        assert atm["implied_volatility"].item() == pytest.approx(vix_close)
    # Long tenors revert towards 18%.
    far = quotes.filter(pl.col("expiry") == quotes["expiry"].max())
    spot = far["underlying_close"][0]
    nearest = far.filter((pl.col("strike") - spot).abs() == (pl.col("strike") - spot).abs().min())
    far_atm = nearest["implied_volatility"][0]
    assert abs(far_atm - 0.18) < abs(vix_close - 0.18)


def test_open_interest_and_volume_are_the_documented_placeholders(chain: pl.DataFrame) -> None:
    tau = (chain["expiry"] - chain["as_of_date"]).dt.total_days().to_numpy() / 365.0
    x = np.log(chain["strike"].to_numpy() / chain["underlying_close"].to_numpy())
    expected = np.floor(10_000.0 * np.exp(-0.5 * (x / 0.15) ** 2) / (1.0 + 4.0 * tau))
    np.testing.assert_array_equal(chain["open_interest"].to_numpy(), expected.astype(np.int64))
    assert (chain["volume"] == chain["open_interest"] // 10).all()


# --- point in time -------------------------------------------------------------------------


def test_poisoning_the_future_changes_no_earlier_quote(
    bars: pl.DataFrame, vix: pl.DataFrame
) -> None:
    start, end = WINDOWS["2018-vix-spike"]
    cut = date(2018, 2, 14)
    honest = build_synthetic_chain(bars, vix, start=start, end=end)
    after = pl.col("date") > cut
    poisoned = build_synthetic_chain(
        bars.with_columns(close=pl.when(after).then(pl.col("close") * 1.7).otherwise("close")),
        vix.with_columns(close=pl.when(after).then(500.0).otherwise(pl.col("close"))),
        start=start,
        end=end,
    )
    earlier = pl.col("as_of_date") <= cut
    assert poisoned.filter(earlier).equals(honest.filter(earlier))
    assert not poisoned.filter(~earlier).equals(honest.filter(~earlier))


def test_earlier_history_beyond_the_listing_window_is_not_read(
    bars: pl.DataFrame, vix: pl.DataFrame
) -> None:
    start, end = WINDOWS["2018-vix-spike"]
    full = build_synthetic_chain(bars, vix, start=start, end=end)
    short = bars.filter(pl.col("date") >= date(2016, 12, 1))
    assert build_synthetic_chain(short, vix, start=start, end=end).equals(full)


# --- the store round trip and errors -------------------------------------------------------


def test_write_synthetic_chain_writes_what_build_returns(
    tmp_path: Path, bars: pl.DataFrame, vix: pl.DataFrame
) -> None:
    store = MarketDataStore(tmp_path / "store")
    store.write_underlying_bars(bars)
    store.write_underlying_bars(vix)
    # Across a year end: the writer builds year by year, the reference in one go.
    start, end = date(2017, 12, 20), date(2018, 1, 10)
    rows = write_synthetic_chain(store, start=start, end=end)
    expected = build_synthetic_chain(bars, vix, start=start, end=end)
    assert rows == expected.height
    key = ["as_of_date", "option_type", "expiry", "strike"]
    stored = store.option_quotes_between("^GSPC", start, end)
    assert stored.sort(key).equals(expected.sort(key))
    assert sorted(
        p.parent.name for p in (tmp_path / "store").rglob("*.parquet") if "options" in p.parts
    ) == ["month=01", "month=12"]
    # Rewriting replaces the same contracts instead of adding rows.
    assert write_synthetic_chain(store, start=start, end=end) == rows
    assert store.option_quotes_between("^GSPC", start, end).height == rows


def test_no_common_day_is_a_clear_error(bars: pl.DataFrame, vix: pl.DataFrame) -> None:
    with pytest.raises(MissingMarketDataError, match=r"2010-01-04\.\.2010-02-01"):
        build_synthetic_chain(bars, vix, start=date(2010, 1, 4), end=date(2010, 2, 1))


def test_write_without_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingMarketDataError, match=r"build_sample\.py"):
        write_synthetic_chain(MarketDataStore(tmp_path / "empty"))


@pytest.mark.parametrize(
    "option", [{"long_run_vol": 0.0}, {"mean_reversion": -1.0}], ids=["lr", "kappa"]
)
def test_non_positive_model_parameters_are_refused(
    bars: pl.DataFrame, vix: pl.DataFrame, option: dict[str, Any]
) -> None:
    start, end = WINDOWS["2018-vix-spike"]
    (name,) = option
    with pytest.raises(ValueError, match=name):
        build_synthetic_chain(bars, vix, start=start, end=end, **option)


def test_a_bad_close_that_would_explode_the_grid_is_refused(
    bars: pl.DataFrame, vix: pl.DataFrame
) -> None:
    bad = bars.with_columns(
        close=pl.when(pl.col("date") == date(2018, 2, 5)).then(1e12).otherwise("close")
    )
    with pytest.raises(ValueError, match="check the bars for a bad close"):
        build_synthetic_chain(bad, vix, start=date(2018, 2, 1), end=date(2018, 2, 28))


def test_frames_without_a_close_column_are_refused(vix: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="bars frame lacks column"):
        build_synthetic_chain(
            pl.DataFrame({"date": [date(2018, 2, 1)]}),
            vix,
            start=date(2018, 2, 1),
            end=date(2018, 2, 1),
        )
