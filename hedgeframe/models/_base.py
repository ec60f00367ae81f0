"""The base every hedgeframe model shares: frozen, strict about unknown fields."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from hedgeframe.errors import InvalidModelError

__all__ = ["FrozenModel", "Slug", "check_ratio", "refusals_named", "utc_now"]

_SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")


@contextmanager
def refusals_named() -> Iterator[None]:
    """Re-raise pydantic's ``ValidationError`` as :class:`~hedgeframe.errors.InvalidModelError`.

    Users catch one family of errors (``hf.HedgeframeError``) whatever refused their input.
    """
    try:
        yield
    except ValidationError as exc:
        raise InvalidModelError.of(exc) from None


def check_ratio(value: float, name: str, *, high: float, inclusive: bool = True) -> float:
    """Refuse a ratio above ``high``, with a hint when it looks like a percent.

    ``margin_call_ltv=75`` or ``spot_pct=90`` means 75 % and 90 %; saying so beats the bare
    bound. ``inclusive`` says whether ``high`` itself is allowed.
    """
    if value < high or (inclusive and value == high):
        return value
    bound = f"at most {high:g}" if inclusive else f"below {high:g}"
    hint = (
        f"; {value:g} looks like a percent: give the ratio {value / 100:g} for {value:g} %"
        if value <= 100 * high
        else ""
    )
    msg = f"{name} must be a ratio {bound} (got {value:g}){hint}"
    raise ValueError(msg)


def utc_now() -> datetime:
    """Return the current time in UTC (audit timestamps are always timezone-aware)."""
    return datetime.now(UTC)


def _check_slug(value: str) -> str:
    if not _SLUG_PATTERN.fullmatch(value) or ".." in value:
        shown = value if len(value) <= 60 else f"{value[:57]}..."
        msg = (
            f"slug {shown!r} is not a safe identifier: use 1-100 lowercase letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit (no path separators)"
        )
        raise ValueError(msg)
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]
"""A human-readable key that is also safe as a file or folder name."""


class FrozenModel(BaseModel):
    """Immutable model: a stored record can only be replaced, never edited in place.

    ``inf`` and ``nan`` serialize as JSON constants so that JSON round-trips are exact
    (an LTV is ``inf`` when the hedged portfolio is worth nothing).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        ser_json_inf_nan="constants",
        validate_default=True,
        # Each model's validator is built on its first use, not on `import hedgeframe`.
        defer_build=True,
    )

    def __init__(self, /, **data: Any) -> None:
        with refusals_named():
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate ``obj``; a refusal is an :class:`~hedgeframe.errors.InvalidModelError`."""
        with refusals_named():
            return super().model_validate(obj, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Validate JSON; a refusal is an :class:`~hedgeframe.errors.InvalidModelError`."""
        with refusals_named():
            return super().model_validate_json(json_data, **kwargs)
