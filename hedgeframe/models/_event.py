"""Event presets (BT-003): named market windows to compare hedges across."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Self

from pydantic import Field, model_validator

from hedgeframe.models._base import FrozenModel, Slug, utc_now
from hedgeframe.models._enums import EventType

__all__ = ["EventPreset", "EventScenarioOverrides"]


class EventScenarioOverrides(FrozenModel):
    """Defaults an event applies, each one explicitly, when it becomes a scenario."""

    lookback_days: int | None = Field(default=None, ge=0)
    recovery_days: int | None = Field(default=None, ge=0)
    default_template_slugs: list[Slug] = Field(default_factory=list)
    normalize_start_value: bool = True


def _new_id() -> str:
    return str(uuid.uuid4())


class EventPreset(FrozenModel):
    """A named, manually dated market window (no automatic peak/trough detection)."""

    event_preset_id: str = Field(default_factory=_new_id, min_length=1)
    slug: Slug
    display_name: str = ""
    symbol: str = Field(min_length=1, max_length=50)
    window_start: date
    window_end: date
    anchor_date: date | None = None
    event_type: EventType = EventType.SELLOFF
    tags: list[str] = Field(default_factory=list)
    description: str = ""
    scenario_overrides: EventScenarioOverrides = Field(default_factory=EventScenarioOverrides)
    created_at: datetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.window_start > self.window_end:
            msg = f"window_start {self.window_start} is after window_end {self.window_end}"
            raise ValueError(msg)
        if self.anchor_date is not None and not (
            self.window_start <= self.anchor_date <= self.window_end
        ):
            msg = (
                f"anchor_date {self.anchor_date} is outside the window "
                f"{self.window_start}..{self.window_end}"
            )
            raise ValueError(msg)
        return self
