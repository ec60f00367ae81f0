"""The base every hedgeframe model shares: frozen, strict about unknown fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

__all__ = ["FrozenModel", "Slug", "utc_now"]

_SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?$")


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
