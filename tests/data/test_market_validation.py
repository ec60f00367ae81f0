from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from market_frames import make_bars, make_quotes
from polars.testing import assert_frame_equal

from hedgeframe.data import (
    FAILURE_SCHEMA,
    OPTION_QUOTE_SCHEMA,
    UNDERLYING_BAR_SCHEMA,
    validate_option_quotes,
    validate_underlying_bars,
)
from hedgeframe.errors import FailureReason, InvalidMarketDataError

DAYS = [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)]


def _bar_failures(frame: pl.DataFrame) -> pl.DataFrame:
    with pytest.raises(InvalidMarketDataError) as info:
        validate_underlying_bars(frame)
    assert info.value.failures.schema == FAILURE_SCHEMA
    return info.value.failures


def _quote_failures(frame: pl.DataFrame) -> pl.DataFrame:
    with pytest.raises(InvalidMarketDataError) as info:
        validate_option_quotes(frame)
    assert info.value.failures.schema == FAILURE_SCHEMA
    return info.value.failures


def _rows(failures: pl.DataFrame) -> list[tuple[object, ...]]:
    return failures.rows()


# bars --------------------------------------------------------------------------------


def test_valid_bars_pass_unchanged() -> None:
    bars = make_bars("^GSPC", DAYS)
    assert_frame_equal(validate_underlying_bars(bars), bars)


def test_every_bad_cell_is_reported_once_with_its_row() -> None:
    bars = make_bars("^GSPC", DAYS).with_columns(
        close=pl.Series([float("nan"), -1.0, None]),
        open=pl.Series([float("inf"), 1.0, -2.0]),
    )
    assert _rows(_bar_failures(bars)) == [
        (0, "open", "inf", FailureReason.NOT_FINITE),
        (0, "close", "NaN", FailureReason.NOT_FINITE),
        (1, "close", "-1.0", FailureReason.NOT_POSITIVE),
        (2, "open", "-2.0", FailureReason.NEGATIVE),
        (2, "close", None, FailureReason.MISSING),
    ]


def test_message_counts_shows_five_rows_and_says_nothing_was_written() -> None:
    bars = make_bars("^GSPC", [date(2020, 1, d) for d in range(1, 8)]).with_columns(
        close=pl.lit(0.0)
    )
    with pytest.raises(InvalidMarketDataError) as info:
        validate_underlying_bars(bars)
    message = str(info.value)
    assert message.startswith("underlying bars: 7 bad cell(s) refused; nothing was written")
    assert "row 0: close=0.0 (not_positive)" in message
    assert "row 4: close=0.0" in message
    assert "row 5:" not in message
    assert "... and 2 more" in message


def test_duplicate_keys_name_every_copy() -> None:
    bars = pl.concat([make_bars("^GSPC", DAYS), make_bars("^GSPC", DAYS[1:2])])
    failures = _bar_failures(bars)
    assert failures.get_column("row").to_list() == [1, 3]
    assert set(failures.get_column("reason")) == {FailureReason.DUPLICATE_KEY}
    assert failures.item(0, "value") == "^GSPC, 2020-01-03"


def test_missing_and_unexpected_columns_are_whole_column_failures() -> None:
    bars = make_bars("^GSPC", DAYS).drop("date").with_columns(adj_close=pl.lit(1.0))
    assert _rows(_bar_failures(bars)) == [
        (None, "adj_close", "unexpected column", FailureReason.BAD_VALUE),
        (None, "date", None, FailureReason.MISSING_COLUMN),
    ]


@pytest.mark.parametrize(
    ("column", "series"),
    [
        ("close", pl.Series(["1.0", "2.0", "3.0"])),
        ("date", pl.Series(["2020-01-02", "2020-01-03", "2020-01-06"])),
        ("close", pl.Series([True, False, True])),
        ("symbol", pl.Series([1, 2, 3])),
    ],
)
def test_store_writes_refuse_text_and_other_wrong_dtypes(column: str, series: pl.Series) -> None:
    bars = make_bars("^GSPC", DAYS).with_columns(series.alias(column))
    (row,) = _rows(_bar_failures(bars))
    assert row[:2] == (None, column)
    assert str(row[2]).startswith(f"dtype {series.dtype}")


def test_lossless_coercions_are_accepted() -> None:
    frame = pl.DataFrame(
        {
            "symbol": pl.Series(["^GSPC"] * 3, dtype=pl.Enum(["^GSPC"])),
            "date": pl.Series(DAYS).cast(pl.Datetime("ns")),
            "close": pl.Series([1, 2, 3], dtype=pl.UInt16),
            "high": pl.Series([Decimal("1.5"), None, Decimal("3.5")]),
            "volume": pl.Series([10, 20, 30], dtype=pl.Int32),
            "low": pl.Series([None, None, None], dtype=pl.Null),
        }
    )
    got = validate_underlying_bars(frame)
    assert got.schema == UNDERLYING_BAR_SCHEMA
    assert got.get_column("date").to_list() == DAYS
    assert got.get_column("close").to_list() == [1.0, 2.0, 3.0]
    assert got.get_column("high").to_list() == [1.5, None, 3.5]
    assert got.get_column("source").to_list() == ["unknown"] * 3


def test_time_zone_aware_midnights_become_their_local_dates() -> None:
    frame = pl.DataFrame(
        {
            "symbol": ["^GSPC", "^GSPC"],
            "date": pl.Series(DAYS[:2]).cast(pl.Datetime).dt.replace_time_zone("America/New_York"),
            "close": [1.0, 2.0],
        }
    )
    assert validate_underlying_bars(frame).get_column("date").to_list() == DAYS[:2]

    in_utc = frame.with_columns(pl.col("date").dt.convert_time_zone("UTC"))
    reasons = _bar_failures(in_utc).get_column("reason").to_list()
    assert reasons == [FailureReason.BAD_VALUE, FailureReason.BAD_VALUE]


def test_intraday_datetimes_are_refused() -> None:
    frame = pl.DataFrame(
        {
            "symbol": ["^GSPC"],
            "date": [datetime(2020, 1, 2, 16, 0, tzinfo=UTC)],
            "close": [1.0],
        }
    )
    assert _rows(_bar_failures(frame)) == [
        (0, "date", "2020-01-02 16:00:00.000000+00:00", FailureReason.BAD_VALUE)
    ]


def test_null_source_and_empty_symbol_are_missing() -> None:
    bars = make_bars("^GSPC", DAYS[:2]).with_columns(
        source=pl.Series(["x", None]), symbol=pl.Series(["", "^GSPC"])
    )
    assert _rows(_bar_failures(bars)) == [
        (0, "symbol", "", FailureReason.MISSING),
        (1, "source", None, FailureReason.MISSING),
    ]


def test_text_is_parsed_only_when_asked_and_bad_text_is_named() -> None:
    frame = pl.DataFrame(
        {
            "symbol": ["A", "A", "A"],
            "date": ["2020-01-02", "02/01/2020", ""],
            "close": ["1.5", "abc", " 2 "],
            "volume": ["", "1e3", "7"],
        }
    )
    assert _rows(_bar_failures_parsed(frame)) == [
        (1, "date", "02/01/2020", FailureReason.BAD_VALUE),
        (1, "close", "abc", FailureReason.BAD_VALUE),
        (2, "date", "", FailureReason.MISSING),
    ]
    ok = validate_underlying_bars(frame.head(1), parse_strings=True)
    assert ok.row(0) == ("A", date(2020, 1, 2), None, None, None, 1.5, None, "unknown")


def _bar_failures_parsed(frame: pl.DataFrame) -> pl.DataFrame:
    with pytest.raises(InvalidMarketDataError) as info:
        validate_underlying_bars(frame, parse_strings=True)
    return info.value.failures


def test_years_outside_four_digits_are_refused() -> None:
    bars = make_bars("^GSPC", [date(999, 12, 31), date(2020, 1, 2)])
    assert _rows(_bar_failures(bars)) == [(0, "date", "0999-12-31", FailureReason.BAD_VALUE)]


# quotes ------------------------------------------------------------------------------


def _quote(**changes: object) -> pl.DataFrame:
    return (
        make_quotes("^SPX", date(2020, 1, 2))
        .head(1)
        .with_columns(
            **{name: pl.lit(value, OPTION_QUOTE_SCHEMA[name]) for name, value in changes.items()}
        )
    )


def test_valid_quotes_pass_unchanged() -> None:
    quotes = make_quotes("^SPX", date(2020, 1, 2))
    assert_frame_equal(validate_option_quotes(quotes), quotes)


@pytest.mark.parametrize(
    ("changes", "column", "reason"),
    [
        ({"bid": 2.0, "ask": 1.0, "mid": None}, "bid", FailureReason.BID_ABOVE_ASK),
        ({"ask": -0.5, "bid": None, "mid": None}, "ask", FailureReason.NEGATIVE),
        ({"mid": -0.1}, "mid", FailureReason.NEGATIVE),
        ({"strike": 0.0}, "strike", FailureReason.NOT_POSITIVE),
        ({"strike": -5.0}, "strike", FailureReason.NOT_POSITIVE),
        ({"expiry": date(2020, 1, 1)}, "expiry", FailureReason.EXPIRY_BEFORE_AS_OF),
        ({"option_type": "P"}, "option_type", FailureReason.BAD_VALUE),
        ({"option_type": None}, "option_type", FailureReason.MISSING),
        ({"implied_volatility": float("inf")}, "implied_volatility", FailureReason.NOT_FINITE),
        ({"implied_volatility": -0.2}, "implied_volatility", FailureReason.NEGATIVE),
        ({"delta": float("nan")}, "delta", FailureReason.NOT_FINITE),
        ({"delta": -40.0}, "delta", FailureReason.BAD_VALUE),
        ({"open_interest": -1}, "open_interest", FailureReason.NEGATIVE),
        ({"underlying_close": 0.0}, "underlying_close", FailureReason.NOT_POSITIVE),
        ({"mid": 9.0}, "mid", FailureReason.BAD_VALUE),
        ({"bid": None, "ask": None}, "mid", FailureReason.BAD_VALUE),
    ],
)
def test_each_quote_rule(changes: dict[str, object], column: str, reason: FailureReason) -> None:
    failures = _quote_failures(_quote(**changes))
    assert (0, column, reason) in [(r, c, why) for r, c, _, why in failures.rows()]


def test_missing_mid_is_filled_only_when_the_ask_is_usable() -> None:
    frame = pl.concat(
        [
            _quote(strike=1.0, bid=1.0, ask=1.5, mid=None),
            _quote(strike=2.0, bid=0.0, ask=0.05, mid=None),
            _quote(strike=3.0, bid=0.0, ask=0.0, mid=None),
            _quote(strike=4.0, bid=None, ask=0.5, mid=None),
            _quote(strike=5.0, bid=None, ask=0.5, mid=0.3),
            _quote(strike=6.0, bid=0.2, ask=None, mid=None),
        ]
    )
    mids = validate_option_quotes(frame).get_column("mid").to_list()
    assert mids == [1.25, 0.025, None, None, 0.3, None]


def test_optional_quote_columns_may_be_absent() -> None:
    frame = make_quotes("^SPX", date(2020, 1, 2)).select(
        "symbol", "as_of_date", "option_type", "expiry", "strike", "bid", "ask"
    )
    got = validate_option_quotes(frame)
    assert got.schema == OPTION_QUOTE_SCHEMA
    assert got.get_column("source").unique().to_list() == ["unknown"]
    assert got.get_column("mid").null_count() == 0


def test_float_counts_must_be_whole_numbers() -> None:
    frame = make_quotes("^SPX", date(2020, 1, 2)).head(3)
    frame = frame.with_columns(open_interest=pl.Series([5.0, 5.5, float("nan")]))
    assert _rows(_quote_failures(frame)) == [
        (1, "open_interest", "5.5", FailureReason.BAD_VALUE),
        (2, "open_interest", "NaN", FailureReason.NOT_FINITE),
    ]
    ok = validate_option_quotes(frame.head(1))
    assert ok.get_column("open_interest").to_list() == [5]


def test_duplicate_quote_keys_are_refused() -> None:
    quotes = make_quotes("^SPX", date(2020, 1, 2))
    failures = _quote_failures(pl.concat([quotes, quotes.slice(4, 1)]))
    assert failures.get_column("row").to_list() == [4, 12]
    assert failures.item(0, "column") == "symbol, as_of_date, option_type, expiry, strike"
