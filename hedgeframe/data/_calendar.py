"""Exchange trading calendars as sorted ``datetime64[D]`` arrays.

The engine asks calendar questions for every position on every day (expiry = the session
nearest ``T + n`` days, roll = ``N`` sessions before expiry), so the answers are numpy
``searchsorted`` over one sorted, read-only array of sessions, vectorized over many days.
Sessions come from ``exchange_calendars`` once per calendar name and process.

The calendar covers 1970-01-01 to the end of the third calendar year after today (UTC),
so it is usable from before the bundled data (1999) to at least two years ahead. A
calendar is the one forward-looking input the engine may use (it is published in
advance); sessions beyond the next few years are projections of today's holiday rules.
"""

from __future__ import annotations

import functools
import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from hedgeframe.errors import NotASessionError, SessionOutOfBoundsError

__all__ = [
    "NotASessionError",
    "SessionOutOfBoundsError",
    "TradingCalendar",
    "get_calendar",
]

CALENDAR_START: Final = date(1970, 1, 1)
"""First day of every calendar built by :func:`get_calendar`."""

YEARS_AHEAD: Final = 3
"""Calendars run to December 31 of this many years after the current year."""

DayArray = npt.NDArray[np.datetime64]

_EPOCH: Final = date(1970, 1, 1)


def _day(value: date) -> np.datetime64:
    if isinstance(value, datetime):
        value = value.date()
    return np.datetime64(value.isoformat(), "D")


def _text(day: np.datetime64) -> str:
    return str(day.astype("datetime64[D]"))


def _to_date(day: np.datetime64) -> date:
    return _EPOCH + timedelta(days=int(day.astype("datetime64[D]").astype(np.int64)))


class TradingCalendar:
    """The trading sessions of one exchange, with vectorized session arithmetic.

    Parameters
    ----------
    name
        The calendar's name, used in messages (e.g. ``"XNYS"``).
    sessions
        The session days; sorted and de-duplicated on construction. Days from
        ``sessions[0]`` to ``sessions[-1]`` are the calendar's bounds; asking about a day
        outside them raises :class:`SessionOutOfBoundsError`.

    Examples
    --------
    >>> from datetime import date
    >>> xnys = get_calendar("XNYS")
    >>> xnys.is_session(date(2008, 9, 15)), xnys.next_session(date(2012, 10, 26))
    (True, datetime.date(2012, 10, 31))
    """

    name: str
    sessions: DayArray

    def __init__(self, name: str, sessions: npt.ArrayLike) -> None:
        days = np.unique(np.asarray(sessions, dtype="datetime64[D]"))
        if days.size == 0 or np.isnat(days).any():
            msg = f"calendar {name!r} needs at least one session and no missing days"
            raise ValueError(msg)
        days.setflags(write=False)
        self.name = name
        self.sessions = days
        self._first = days[0]
        self._last = days[-1]

    def __repr__(self) -> str:
        return (
            f"TradingCalendar({self.name!r}, {self.sessions.size} sessions "
            f"{_text(self._first)}..{_text(self._last)})"
        )

    @property
    def first_session(self) -> date:
        """The earliest session (the lower bound)."""
        return _to_date(self._first)

    @property
    def last_session(self) -> date:
        """The latest session (the upper bound)."""
        return _to_date(self._last)

    # checks ---------------------------------------------------------------------------

    def _bounds_error(self, param: str, day: np.datetime64) -> SessionOutOfBoundsError:
        return SessionOutOfBoundsError(
            f"`{param}` {_text(day)} is outside the {self.name} calendar's bounds "
            f"{_text(self._first)}..{_text(self._last)}"
        )

    def _check_bounds(self, param: str, days: DayArray) -> None:
        flat = np.atleast_1d(days)
        if flat.size == 0:
            return
        low, high = flat.min(), flat.max()  # NaT if any day is NaT
        if not np.isnat(low) and self._first <= low and high <= self._last:
            return
        if np.isnat(flat).any():
            msg = f"`{param}` contains a missing day (NaT)"
            raise ValueError(msg)
        outside = (flat < self._first) | (flat > self._last)
        if outside.any():
            raise self._bounds_error(param, flat[np.argmax(outside)])

    def _as_days(self, param: str, days: npt.ArrayLike) -> DayArray:
        array = np.asarray(days, dtype="datetime64[D]")
        self._check_bounds(param, array)
        return array

    def _as_day(self, param: str, day: date) -> np.datetime64:
        value = _day(day)
        self._check_bounds(param, np.asarray([value]))
        return value

    # scalar questions -------------------------------------------------------------------

    def is_session(self, day: date) -> bool:
        """Whether ``day`` is a trading session.

        Raises
        ------
        SessionOutOfBoundsError
            If ``day`` is outside the calendar's bounds.
        """
        value = self._as_day("day", day)
        index = np.searchsorted(self.sessions, value)
        return bool(self.sessions[index] == value)

    def check_session(self, day: date, *, param: str = "day") -> date:
        """Return ``day`` if it is a session, else raise naming ``param`` and a neighbour.

        Raises
        ------
        NotASessionError
            E.g. "`as_of_date` 2008-09-13 is not an XNYS session (previous session
            2008-09-12)".
        SessionOutOfBoundsError
            If ``day`` is outside the calendar's bounds.
        """
        self.offset_sessions(np.asarray([_day(day)]), 0, param=param)
        return day

    def previous_session(self, day: date) -> date:
        """Return the last session strictly before ``day``.

        Raises
        ------
        SessionOutOfBoundsError
            If ``day`` is out of bounds or has no earlier session in the calendar.
        """
        value = self._as_day("day", day)
        index = int(np.searchsorted(self.sessions, value, side="left")) - 1
        if index < 0:
            msg = (
                f"`day` {_text(value)} has no earlier {self.name} session; "
                f"the first is {_text(self._first)}"
            )
            raise SessionOutOfBoundsError(msg)
        return _to_date(self.sessions[index])

    def next_session(self, day: date) -> date:
        """Return the first session strictly after ``day``.

        Raises
        ------
        SessionOutOfBoundsError
            If ``day`` is out of bounds or has no later session in the calendar.
        """
        value = self._as_day("day", day)
        index = int(np.searchsorted(self.sessions, value, side="right"))
        if index >= self.sessions.size:
            msg = (
                f"`day` {_text(value)} has no later {self.name} session; "
                f"the last is {_text(self._last)}"
            )
            raise SessionOutOfBoundsError(msg)
        return _to_date(self.sessions[index])

    # vectorized questions ---------------------------------------------------------------

    def sessions_in_range(self, start: date, end: date) -> DayArray:
        """Return the sessions ``start <= s <= end`` (a read-only view; empty if start > end).

        Raises
        ------
        SessionOutOfBoundsError
            If ``start`` or ``end`` is outside the calendar's bounds.
        """
        first = self._as_day("start", start)
        last = self._as_day("end", end)
        lo = np.searchsorted(self.sessions, first, side="left")
        hi = np.searchsorted(self.sessions, last, side="right")
        return self.sessions[lo : max(lo, hi)]

    def nearest_sessions(self, days: npt.ArrayLike, *, param: str = "days") -> DayArray:
        """For each day, the nearest session; on a tie, the earlier one.

        A session is its own nearest session. This is the expiry rule of SPEC section 4
        (the session nearest ``T + target_expiry_days``).

        Parameters
        ----------
        days
            ``datetime64[D]`` values (or anything numpy casts to them).
        param
            Names ``days`` in error messages.

        Raises
        ------
        SessionOutOfBoundsError
            Naming the first day outside the calendar's bounds.
        """
        values = np.asarray(days, dtype="datetime64[D]")
        offset = (values - self._first).astype(np.int64)  # NaT: the most negative int64
        table = self._nearest_session_by_day
        if offset.size and not (offset.min() >= 0 and offset.max() < table.size):
            self._check_bounds(param, values)  # raises, naming the first bad day
        nearest: DayArray = table[offset]
        return nearest

    @functools.cached_property
    def _nearest_session_by_day(self) -> DayArray:
        """The nearest session of every day in the bounds (a day-indexed table, ~22k days)."""
        values: DayArray = np.arange(self._first, self._last + 1)
        after = np.searchsorted(self.sessions, values, side="left")
        later = self.sessions[after]  # within bounds, `later >= value` always exists
        earlier = self.sessions[np.maximum(after - 1, 0)]  # ... `earlier` may not (after == 0)
        take_earlier = (after > 0) & ((values - earlier) <= (later - values))
        table: DayArray = np.where(take_earlier, earlier, later)
        table.setflags(write=False)
        return table

    def offset_sessions(
        self, sessions: npt.ArrayLike, n: int, *, param: str = "sessions"
    ) -> DayArray:
        """For each session, the session ``n`` sessions after it (``n < 0``: before it).

        Parameters
        ----------
        sessions
            ``datetime64[D]`` days that must all be sessions.
        n
            The offset in sessions; 0 returns the input (after checking it).
        param
            Names ``sessions`` in error messages.

        Raises
        ------
        NotASessionError
            Naming the first day that is not a session, and the session before it.
        SessionOutOfBoundsError
            If a day, or the session ``n`` away from it, is outside the calendar.
        """
        values = self._as_days(param, sessions)
        index = np.searchsorted(self.sessions, values, side="left")
        not_session = self.sessions[index] != values
        if not_session.any():
            first = int(np.argmax(not_session))
            previous = self.sessions[index[first] - 1]
            msg = (
                f"`{param}` {_text(values[first])} is not an {self.name} session "
                f"(previous session {_text(previous)})"
            )
            raise NotASessionError(msg)
        target = index + n
        outside = (target < 0) | (target >= self.sessions.size)
        if outside.any():
            first = int(np.argmax(outside))
            msg = (
                f"`{param}` {_text(values[first])} offset by {n} sessions falls outside "
                f"the {self.name} calendar's bounds {_text(self._first)}..{_text(self._last)}"
            )
            raise SessionOutOfBoundsError(msg)
        return self.sessions[target]


def _calendar_end() -> date:
    return date(datetime.now(tz=UTC).year + YEARS_AHEAD, 12, 31)


def get_calendar(name: str = "XNYS") -> TradingCalendar:
    """Return the trading calendar ``name`` from ``exchange_calendars``, built once.

    Parameters
    ----------
    name
        An ``exchange_calendars`` name such as ``"XNYS"`` (NYSE) or ``"XLON"``.

    Raises
    ------
    ValueError
        If ``exchange_calendars`` has no calendar of that name.

    Examples
    --------
    >>> get_calendar("XNYS").name
    'XNYS'
    """
    return _build_calendar(name)


@functools.cache
def _build_calendar(name: str) -> TradingCalendar:
    """Build a calendar from ``exchange_calendars`` (cached per name, not per call form)."""
    # Imported here: exchange_calendars is heavy, and `import hedgeframe` stays cheap.
    import exchange_calendars
    from exchange_calendars.errors import DateOutOfBounds, InvalidCalendarName

    end = _calendar_end()
    with warnings.catch_warnings():
        # exchange_calendars 4.13 calls pandas APIs that pandas >= 3.1 deprecates
        # (Pandas4Warning, a DeprecationWarning). Harmless, and silenced only here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            calendar = exchange_calendars.get_calendar(name, start=CALENDAR_START, end=end)
        except InvalidCalendarName as exc:
            msg = (
                f"unknown trading calendar {name!r}; use an exchange_calendars name such as 'XNYS'"
            )
            raise ValueError(msg) from exc
        except (ValueError, DateOutOfBounds):
            # This exchange's holidays are recorded for a shorter span: use all of it.
            kind = type(exchange_calendars.get_calendar(name))
            low, high = kind.bound_min(), kind.bound_max()
            calendar = exchange_calendars.get_calendar(
                name,
                start=CALENDAR_START if low is None else max(low.date(), CALENDAR_START),
                end=end if high is None else min(high.date(), end),
            )
        sessions = calendar.sessions.to_numpy().astype("datetime64[D]")
    return TradingCalendar(name, sessions)
