"""The package's error types.

Every error subclasses :class:`HedgeframeError` and the builtin it naturally is, so callers
can catch either. Messages name the parameter, the value, the bound and the remedy.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, cast

from pydantic_core import ValidationError

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl
    from pydantic_core import InitErrorDetails

__all__ = [
    "BadInputError",
    "CorruptFileError",
    "DataFetchError",
    "DuplicateRecordError",
    "DuplicateSlugError",
    "FailureReason",
    "HedgeframeError",
    "InvalidMarketDataError",
    "InvalidModelError",
    "InvalidRunIdError",
    "InvalidRunTransitionError",
    "InvalidScenarioError",
    "LookaheadError",
    "MissingMarketDataError",
    "NotASessionError",
    "RecordNotFoundError",
    "RunNotFoundError",
    "RunNotReproducibleError",
    "SessionOutOfBoundsError",
    "TemplateNotFoundError",
]


class HedgeframeError(Exception):
    """Base class of every error hedgeframe raises on purpose."""


class FailureReason(StrEnum):
    """Why a market-data row was refused; the `reason` column of a refused write."""

    MISSING = "missing"
    NOT_FINITE = "not_finite"
    NOT_POSITIVE = "not_positive"
    NEGATIVE = "negative"
    DUPLICATE_KEY = "duplicate_key"
    BID_ABOVE_ASK = "bid_above_ask"
    EXPIRY_BEFORE_AS_OF = "expiry_before_as_of_date"
    BAD_VALUE = "bad_value"
    MISSING_COLUMN = "missing_column"


class InvalidMarketDataError(HedgeframeError, ValueError):
    """A frame was refused; nothing was written.

    ``failures`` is a ``pl.DataFrame`` with columns ``row, column, value, reason`` (one row
    per failing cell; ``row`` is the 0-based row of the input frame). A CSV reader's have
    ``line, date, column, value, reason`` instead: the file line (the header is line 1) and
    the row's date as written. ``remedy``, when given, ends the message.
    """

    def __init__(self, what: str, failures: pl.DataFrame, *, remedy: str | None = None) -> None:
        self.failures = failures
        lines = "\n".join(
            _failure_line(failure) for failure in failures.head(5).iter_rows(named=True)
        )
        more = f"\n  ... and {failures.height - 5} more" if failures.height > 5 else ""
        advice = f"\n  {remedy}" if remedy else ""
        super().__init__(
            f"{what}: {failures.height} bad cell(s) refused; nothing was written\n"
            f"{lines}{more}{advice}"
        )


def _failure_line(failure: dict[str, object]) -> str:
    """Describe one failure in a message line: where, the cell and the reason."""
    column, value, reason = failure["column"], failure["value"], failure["reason"]
    if failure.get("line") is not None:
        day = f" ({failure['date']})" if failure.get("date") is not None else ""
        return f"  line {failure['line']}{day}: {column}={value} ({reason})"
    if failure.get("row") is not None:
        return f"  row {failure['row']}: {column}={value} ({reason})"
    return f"  column {column}: {reason}"


class CorruptFileError(HedgeframeError, ValueError):
    """A stored file cannot be read; it is left untouched for a person to inspect."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(f"{path}: {detail}; the file was left unchanged")


class RecordNotFoundError(HedgeframeError, KeyError):
    """A repository has no record under that key."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a sentence reads better unquoted.
        return str(self.args[0]) if self.args else ""


class TemplateNotFoundError(RecordNotFoundError):
    """No stored template matches the id, slug or version asked for."""


class RunNotFoundError(RecordNotFoundError):
    """No stored backtest run has that id."""


class DuplicateSlugError(HedgeframeError, ValueError):
    """A slug is already used by another active record."""


class LookaheadError(HedgeframeError, RuntimeError):
    """Something asked for data dated after the step's ``as_of_date``."""


class MissingMarketDataError(HedgeframeError, LookupError):
    """The store holds no data where the request needs some."""


class InvalidScenarioError(HedgeframeError, ValueError):
    """A scenario or template cannot be run as given."""


class DataFetchError(HedgeframeError, ConnectionError):
    """Downloading data failed (offline, or the source refused)."""


class DuplicateRecordError(HedgeframeError, ValueError):
    """A record with that id is already stored (ids are never reused or overwritten)."""


class InvalidRunTransitionError(HedgeframeError, ValueError):
    """A run change breaks its lifecycle (e.g. any change after it has completed)."""


class InvalidRunIdError(HedgeframeError, ValueError):
    """A ``run_id`` is not a safe file name."""


class NotASessionError(HedgeframeError, ValueError):
    """A day that must be a trading session is not one."""


class SessionOutOfBoundsError(HedgeframeError, ValueError):
    """A day, or a day reached by an offset, lies outside the calendar's sessions."""


class BadInputError(HedgeframeError, ValueError):
    """Input from a user (a command line, a config file, a request) that cannot be used."""


class InvalidModelError(HedgeframeError, ValidationError):
    """A model (template, scenario, portfolio, provider configuration...) refused a value.

    It is pydantic's ``ValidationError`` (so ``errors()`` lists every failing field with
    its location, value and rule) and a :class:`HedgeframeError`. The message names the
    model and each field; pydantic's documentation links are left out.
    """

    @classmethod
    def of(cls, error: ValidationError) -> InvalidModelError:
        """Return ``error`` as an :class:`InvalidModelError` (itself when it is one)."""
        if isinstance(error, InvalidModelError):
            return error
        return cls.from_exception_data(error.title, cast("list[InitErrorDetails]", error.errors()))

    def __str__(self) -> str:
        lines = [f"invalid {self.title}: {self.error_count()} field(s) refused"]
        for error in self.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"]) or "(whole record)"
            value = error.get("input")
            shown = "" if isinstance(value, dict | list) else f" = {value!r}"
            lines.append(f"  {where}{shown}: {error['msg']}")
        return "\n".join(lines)


class RunNotReproducibleError(HedgeframeError, RuntimeError):
    """Running a stored run again from its record did not give its tables; says what changed."""
