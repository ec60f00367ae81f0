"""Dates in CSV files: the format is told from the values, the day/month order never guessed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from hedgeframe.data import read_bars_csv, read_chain_csv, validate_underlying_bars
from hedgeframe.data._dates import infer_date_format
from hedgeframe.errors import BadInputError, InvalidMarketDataError


def _format(*values: str | None, other: list[str] | None = None) -> str:
    columns = {"d": pl.Series(values, dtype=pl.String)}
    if other is not None:
        columns["e"] = pl.Series(other, dtype=pl.String)
    return infer_date_format(columns, what="x.csv", where=lambda row: f"line {row + 2}")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2020-01-02", "2020-01-03"], "%Y-%m-%d"),
        (["2020/01/02"], "%Y/%m/%d"),
        (["2020.1.2"], "%Y.%m.%d"),
        (["20200102", "20200103"], "%Y%m%d"),
        (["01/13/2020", "01/02/2020"], "%m/%d/%Y"),  # a day above 12 in second place
        (["13/01/2020", "02/01/2020"], "%d/%m/%Y"),  # ... in first place
        (["13.01.2020", "1.2.2020"], "%d.%m.%Y"),
        (["01-13-2020"], "%m-%d-%Y"),
        (["01/01/2020", "12/12/2020"], "%m/%d/%Y"),  # day equals month: both orders agree
        ([" 2020-01-02 ", None, ""], "%Y-%m-%d"),  # blanks around, nulls and empty cells
        ([None, ""], "%Y-%m-%d"),  # nothing to tell: any format reads nothing
    ],
)
def test_the_format_is_told_from_the_values(values: list[str | None], expected: str) -> None:
    assert _format(*values) == expected


def test_the_shape_of_most_values_wins_and_iso_wins_a_tie() -> None:
    assert _format("01/13/2020", "01/14/2020", "2020-01-15") == "%m/%d/%Y"
    assert _format("2020-01-02", "02/01/2020") == "%Y-%m-%d"


def test_date_columns_read_together_share_the_evidence() -> None:
    # No as_of_date tells the order; an expiry does.
    assert _format("01/02/2020", "01/03/2020", other=["01/17/2020", "02/21/2020"]) == "%m/%d/%Y"


def test_an_order_the_values_do_not_show_is_refused_with_examples_and_remedy() -> None:
    with pytest.raises(BadInputError) as info:
        _format("01/02/2020", "01/03/2020", "01/02/2020", "02/01/2020", "03/01/2020")
    message = str(info.value)
    assert message.startswith("x.csv: cannot tell day from month")
    assert "'01/02/2020' (d, line 2), '01/03/2020' (d, line 3), '02/01/2020' (d, line 5)" in message
    assert "--date-format %m/%d/%Y for month first, %d/%m/%Y for day first" in message


def test_values_in_both_orders_are_refused() -> None:
    with pytest.raises(BadInputError, match="day first in some rows") as info:
        _format("13/01/2020", "01/02/2020", "01/14/2020")
    assert "'13/01/2020' (d, line 2)" in str(info.value)
    assert "'01/14/2020' (d, line 4)" in str(info.value)


def test_values_of_no_known_shape_are_refused() -> None:
    with pytest.raises(BadInputError, match="cannot tell the date format from values like"):
        _format("Jan 2, 2020", "Jan 3, 2020")
    with pytest.raises(BadInputError, match="cannot tell the date format"):
        _format("01/02/20")  # two-digit years: the century is not told either


def test_validation_of_text_tells_the_format_by_the_same_rule() -> None:
    frame = pl.DataFrame(
        {"symbol": ["A", "A"], "date": ["01/02/2020", "01/03/2020"], "close": ["1", "2"]}
    )
    with pytest.raises(BadInputError, match=r"row 0\)"):
        validate_underlying_bars(frame, parse_strings=True)
    frame = frame.with_columns(date=pl.Series(["01/02/2020", "01/13/2020"]))
    bars = validate_underlying_bars(frame, parse_strings=True)
    assert bars.get_column("date").to_list() == [date(2020, 1, 2), date(2020, 1, 13)]


# in files --------------------------------------------------------------------------------

US_AMBIGUOUS = "Date,Close\n01/02/2020,324.87\n01/03/2020,322.41\n01/06/2020,323.64\n"


def test_a_file_whose_day_month_order_is_unclear_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "broker.csv"
    path.write_text(US_AMBIGUOUS)
    with pytest.raises(BadInputError) as info:
        read_bars_csv(path, symbol="SPY")
    message = str(info.value)
    assert message.startswith("broker.csv: cannot tell day from month")
    assert "'01/02/2020' (Date, line 2)" in message
    assert "--date-format %m/%d/%Y" in message
    bars = read_bars_csv(path, symbol="SPY", date_format="%m/%d/%Y").rows
    assert bars.get_column("date").to_list() == [
        date(2020, 1, 2),
        date(2020, 1, 3),
        date(2020, 1, 6),
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Date,Close\n01/10/2020,1\n01/13/2020,2\n01/14/2020,3\n", "month first"),
        ("Date,Close\n10/01/2020,1\n13/01/2020,2\n14/01/2020,3\n", "day first"),
        ("Date,Close\n10.01.2020,1\n13.01.2020,2\n14.01.2020,3\n", "day first, dots"),
    ],
)
def test_a_file_whose_order_the_values_show_is_read_right(
    tmp_path: Path, text: str, name: str
) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(text)
    imported = read_bars_csv(path, symbol="X")
    assert imported.rows.get_column("date").to_list() == [
        date(2020, 1, 10),
        date(2020, 1, 13),
        date(2020, 1, 14),
    ], name
    assert imported.warnings == ()


def test_a_chain_is_dated_by_as_of_date_and_expiry_together(tmp_path: Path) -> None:
    path = tmp_path / "chain.csv"
    path.write_text(
        "symbol,as_of_date,option_type,expiry,strike,bid,ask\n"
        "SPY,01/02/2020,P,01/17/2020,320,1.0,1.1\n"
        "SPY,01/03/2020,P,02/21/2020,320,1.2,1.3\n"
    )
    quotes = read_chain_csv(path).rows
    assert quotes.select("as_of_date", "expiry").rows() == [
        (date(2020, 1, 2), date(2020, 1, 17)),
        (date(2020, 1, 3), date(2020, 2, 21)),
    ]


def test_a_date_of_another_shape_is_a_bad_cell_of_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("Date,Close\n2020-01-02,1\n01/03/2020,2\n2020-01-06,3\n")
    with pytest.raises(
        InvalidMarketDataError, match=r"line 3 \(01/03/2020\): Date=01/03/2020 \(bad_value\)"
    ):
        read_bars_csv(path, symbol="X")


# exchange sessions -------------------------------------------------------------------------


def test_bars_on_non_sessions_are_read_with_a_warning_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(
        "Date,Close\n2020-07-02,1\n2020-07-03,2\n2020-07-04,3\n2020-07-06,4\n2020-07-04,5\n"
    )
    with pytest.raises(InvalidMarketDataError, match="duplicate_key"):
        read_bars_csv(path, symbol="X")
    path.write_text("Date,Close\n2020-07-02,1\n2020-07-03,2\n2020-07-04,3\n2020-07-06,4\n")
    imported = read_bars_csv(path, symbol="X")
    assert imported.rows.height == 4
    (warning,) = imported.warnings
    assert warning.startswith("bars.csv: 2 row(s) on 2 day(s) that are not XNYS sessions:")
    assert "2020-07-03 (Fri, line 3), 2020-07-04 (Sat, line 4)" in warning
    assert read_bars_csv(path, symbol="X", calendar=None).warnings == ()
    assert (
        read_bars_csv(path, symbol="X", calendar="XLON")
        .warnings[0]
        .startswith(
            "bars.csv: 1 row(s) on 1 day(s) that are not XLON sessions: 2020-07-04 (Sat, line 4)"
        )
    )


def test_the_wrong_order_forced_on_a_file_lands_on_weekends_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "broker.csv"
    path.write_text(US_AMBIGUOUS)
    imported = read_bars_csv(path, symbol="SPY", date_format="%d/%m/%Y")
    assert imported.rows.get_column("date").to_list() == [
        date(2020, 2, 1),
        date(2020, 3, 1),
        date(2020, 6, 1),
    ]
    (warning,) = imported.warnings
    assert "2020-02-01 (Sat, line 2), 2020-03-01 (Sun, line 3)" in warning
    assert "a wrong day/month order puts rows on weekends" in warning
