from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hedgeframe.data import (
    NotASessionError,
    SessionOutOfBoundsError,
    TradingCalendar,
    get_calendar,
)
from hedgeframe.errors import HedgeframeError


def _days(*values: str) -> np.ndarray:
    return np.array(values, dtype="datetime64[D]")


@pytest.fixture(scope="module")
def xnys() -> TradingCalendar:
    return get_calendar("XNYS")


def test_default_calendar_is_xnys_and_cached(xnys: TradingCalendar) -> None:
    assert get_calendar() is xnys
    assert xnys.name == "XNYS"


def test_bounds_cover_1990_to_two_years_ahead(xnys: TradingCalendar) -> None:
    assert xnys.first_session <= date(1990, 1, 2)
    two_years_ahead = datetime.now(tz=UTC).date() + timedelta(days=2 * 366)
    assert xnys.last_session >= two_years_ahead


def test_sessions_are_sorted_unique_days_and_read_only(xnys: TradingCalendar) -> None:
    sessions = xnys.sessions
    assert sessions.dtype == np.dtype("datetime64[D]")
    assert (np.diff(sessions).astype(int) > 0).all()
    with pytest.raises(ValueError, match="read-only"):
        sessions[0] = np.datetime64("2000-01-01")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2008, 9, 15), True),  # Lehman Monday: open
        (date(2008, 9, 13), False),  # Saturday
        (date(2012, 10, 26), True),
        (date(2012, 10, 29), False),  # Hurricane Sandy
        (date(2012, 10, 30), False),  # Hurricane Sandy
        (date(2012, 10, 31), True),
        (date(2001, 9, 10), True),
        (date(2001, 9, 11), False),
        (date(2001, 9, 12), False),
        (date(2001, 9, 13), False),
        (date(2001, 9, 14), False),
        (date(2001, 9, 17), True),
        (date(2008, 3, 21), False),  # Good Friday
        (date(2015, 4, 3), False),  # Good Friday
        (date(2018, 12, 5), False),  # President G. H. W. Bush's funeral
        (date(2020, 3, 16), True),
        (date(1990, 1, 2), True),
    ],
)
def test_known_sessions_and_closures(xnys: TradingCalendar, day: date, expected: bool) -> None:
    assert xnys.is_session(day) is expected


def test_sessions_1999_to_2018_number_5031(xnys: TradingCalendar) -> None:
    sessions = xnys.sessions_in_range(date(1999, 1, 4), date(2018, 12, 31))
    assert sessions.size == 5031
    assert sessions[0] == np.datetime64("1999-01-04")
    assert sessions[-1] == np.datetime64("2018-12-31")


def test_sessions_in_range_is_inclusive_and_empty_when_reversed(xnys: TradingCalendar) -> None:
    got = xnys.sessions_in_range(date(2012, 10, 26), date(2012, 11, 1))
    assert got.tolist() == [date(2012, 10, 26), date(2012, 10, 31), date(2012, 11, 1)]
    assert xnys.sessions_in_range(date(2012, 11, 1), date(2012, 10, 26)).size == 0


def test_previous_and_next_session_are_strict(xnys: TradingCalendar) -> None:
    assert xnys.previous_session(date(2012, 10, 31)) == date(2012, 10, 26)
    assert xnys.next_session(date(2012, 10, 26)) == date(2012, 10, 31)
    assert xnys.previous_session(date(2008, 9, 13)) == date(2008, 9, 12)
    assert xnys.next_session(date(2001, 9, 10)) == date(2001, 9, 17)


def test_nearest_sessions_prefers_the_earlier_session_on_a_tie(xnys: TradingCalendar) -> None:
    days = _days(
        "2020-01-18",  # Sat: Fri 17 is 1 day away, Tue 21 is 3
        "2020-01-19",  # Sun before MLK day: Fri 17 and Tue 21 are both 2 days away -> Fri
        "2020-01-20",  # MLK day: Tue 21 is nearer
        "2012-10-29",  # Sandy: Fri 26 is 3 days away, Wed 31 is 2
        "2008-09-15",  # a session is its own nearest session
        "2008-09-13",
        "2008-09-14",
    )
    assert xnys.nearest_sessions(days).tolist() == [
        date(2020, 1, 17),
        date(2020, 1, 17),
        date(2020, 1, 21),
        date(2012, 10, 31),
        date(2008, 9, 15),
        date(2008, 9, 12),
        date(2008, 9, 15),
    ]


@settings(max_examples=60)
@given(st.dates(date(1991, 1, 1), date(2027, 12, 1)))
@example(date(2020, 1, 19))
def test_nearest_session_matches_a_brute_force_search(day: date) -> None:
    xnys = get_calendar("XNYS")
    got = xnys.nearest_sessions(np.array([day], dtype="datetime64[D]"))[0].item()
    candidates = [day + timedelta(days=k) for k in range(-10, 11)]
    best = min(
        (c for c in candidates if xnys.is_session(c)),
        key=lambda c: (abs((c - day).days), c),
    )
    assert got == best


def test_offset_sessions_walks_sessions_both_ways(xnys: TradingCalendar) -> None:
    start = _days("2012-10-25", "2001-09-10")
    assert xnys.offset_sessions(start, 1).tolist() == [date(2012, 10, 26), date(2001, 9, 17)]
    assert xnys.offset_sessions(start, 2).tolist() == [date(2012, 10, 31), date(2001, 9, 18)]
    back = xnys.offset_sessions(_days("2012-10-31"), -1)
    assert back.tolist() == [date(2012, 10, 26)]
    assert xnys.offset_sessions(start, 0).tolist() == start.tolist()


def test_offset_from_a_non_session_names_it_and_its_previous_session(
    xnys: TradingCalendar,
) -> None:
    with pytest.raises(NotASessionError) as info:
        xnys.offset_sessions(_days("2008-09-12", "2008-09-13", "2008-09-14"), -5)
    assert str(info.value) == (
        "`sessions` 2008-09-13 is not an XNYS session (previous session 2008-09-12)"
    )
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, HedgeframeError)


def test_check_session_names_the_parameter(xnys: TradingCalendar) -> None:
    assert xnys.check_session(date(2008, 9, 12)) == date(2008, 9, 12)
    with pytest.raises(
        NotASessionError,
        match=r"^`as_of_date` 2008-09-13 is not an XNYS session \(previous session 2008-09-12\)$",
    ):
        xnys.check_session(date(2008, 9, 13), param="as_of_date")


def test_out_of_range_dates_name_the_date_and_the_bounds(xnys: TradingCalendar) -> None:
    bounds = f"{xnys.first_session}..{xnys.last_session}"
    with pytest.raises(SessionOutOfBoundsError, match=rf"`day` 1960-01-04 .*{bounds}"):
        xnys.is_session(date(1960, 1, 4))
    with pytest.raises(SessionOutOfBoundsError, match="`days` 2200-01-01"):
        xnys.nearest_sessions(_days("2000-01-03", "2200-01-01"))
    with pytest.raises(SessionOutOfBoundsError, match="offset by -5 sessions"):
        xnys.offset_sessions(np.array([xnys.sessions[2]]), -5)
    with pytest.raises(SessionOutOfBoundsError, match="no earlier XNYS session"):
        xnys.previous_session(xnys.first_session)
    with pytest.raises(SessionOutOfBoundsError, match="`end`"):
        xnys.sessions_in_range(date(2000, 1, 3), date(2300, 1, 1))
    with pytest.raises(ValueError, match="NaT"):
        xnys.nearest_sessions(np.array(["NaT"], dtype="datetime64[D]"))


def test_unknown_calendar_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown trading calendar 'NOPE'"):
        get_calendar("NOPE")


def test_a_calendar_can_be_built_from_any_sessions() -> None:
    tiny = TradingCalendar("TINY", ["2020-01-06", "2020-01-02", "2020-01-03", "2020-01-03"])
    assert tiny.sessions.tolist() == [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6)]
    assert tiny.nearest_sessions(_days("2020-01-04", "2020-01-05")).tolist() == [
        date(2020, 1, 3),
        date(2020, 1, 6),
    ]
    with pytest.raises(ValueError, match="at least one session"):
        TradingCalendar("EMPTY", np.array([], dtype="datetime64[D]"))


def test_vectorized_calls_handle_many_days_at_once(xnys: TradingCalendar) -> None:
    days = np.arange(np.datetime64("2000-01-01"), np.datetime64("2018-12-25"))
    nearest = xnys.nearest_sessions(days)
    assert nearest.shape == days.shape
    assert np.isin(nearest, xnys.sessions).all()
    assert (np.abs((nearest - days).astype(int)) <= 3).all()
    sessions = xnys.sessions_in_range(date(2000, 1, 3), date(2018, 12, 31))
    assert (xnys.offset_sessions(xnys.offset_sessions(sessions[5:], -5), 5) == sessions[5:]).all()
