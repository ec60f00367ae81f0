"""The event preset repository (BT-003): named market windows, one JSON file.

File: ``<data_dir>/event_presets.json`` (envelope and guarantees as in
:mod:`hedgeframe.repositories._json_collection`). Presets are not versioned: a run keeps
the dates it used in its scenario snapshot, so deleting a preset never breaks a run.
Both ``event_preset_id`` and ``slug`` are unique across all stored presets.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Hashable
from pathlib import Path

from hedgeframe.errors import DuplicateSlugError, RecordNotFoundError
from hedgeframe.models import EventPreset
from hedgeframe.repositories._json_collection import (
    DuplicateRecordError,
    JsonCollection,
    first_duplicate,
)

__all__ = ["EVENTS_FILE_NAME", "EVENTS_FORMAT", "EventPresetRepository"]

EVENTS_FILE_NAME = "event_presets.json"
EVENTS_FORMAT = "hedgeframe.event_presets"


def _check_presets(records: list[EventPreset]) -> str | None:
    """Describe a broken invariant: a repeated id or a repeated slug."""
    keys: dict[str, Callable[[EventPreset], Hashable]] = {
        "event_preset_id": lambda preset: preset.event_preset_id,
        "slug": lambda preset: preset.slug,
    }
    for field, key in keys.items():
        repeated = first_duplicate(records, key)
        if repeated is not None:
            first, second, value = repeated
            return f"records {first} and {second} share {field} {value!r}"
    return None


class EventPresetRepository:
    """Save, look up, list and delete event presets in one JSON file.

    Safe to use from several processes (see
    :mod:`hedgeframe.repositories._json_collection`).

    Parameters
    ----------
    data_dir
        The data folder; the presets live in ``<data_dir>/event_presets.json``.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / EVENTS_FILE_NAME
        self._collection = JsonCollection(
            self.path, EventPreset, format_name=EVENTS_FORMAT, check=_check_presets
        )

    def __repr__(self) -> str:
        return f"EventPresetRepository({str(self.path.parent)!r})"

    def save(self, preset: EventPreset) -> EventPreset:
        """Store a new preset exactly as given.

        Raises
        ------
        DuplicateRecordError
            When a preset with that ``event_preset_id`` is stored.
        DuplicateSlugError
            When another preset has that slug.
        CorruptFileError
            When the stored file is corrupt (it is not overwritten).
        """

        def change(records: list[EventPreset]) -> tuple[list[EventPreset], EventPreset]:
            for stored in records:
                if stored.event_preset_id == preset.event_preset_id:
                    msg = (
                        f"event_preset_id {preset.event_preset_id!r} is already stored "
                        f"(slug {stored.slug!r}); delete it first to replace it"
                    )
                    raise DuplicateRecordError(msg)
                if stored.slug == preset.slug:
                    msg = (
                        f"slug {preset.slug!r} is already used by event preset "
                        f"{stored.event_preset_id!r}; delete it or choose another slug"
                    )
                    raise DuplicateSlugError(msg)
            return [*records, preset], preset

        return self._collection.modify(change)

    def get(self, event_preset_id: str) -> EventPreset:
        """Return the preset with that id.

        Raises
        ------
        RecordNotFoundError
            When no preset has that id.
        """
        for preset in self._collection.load():
            if preset.event_preset_id == event_preset_id:
                return preset
        msg = f"no event preset with event_preset_id {event_preset_id!r} in {self.path}"
        raise RecordNotFoundError(msg)

    def get_by_slug(self, slug: str) -> EventPreset:
        """Return the preset with that slug.

        Raises
        ------
        RecordNotFoundError
            When no preset has that slug (the message lists the stored slugs).
        """
        records = self._collection.load()
        for preset in records:
            if preset.slug == slug:
                return preset
        slugs = ", ".join(sorted(preset.slug for preset in records)) or "(none)"
        msg = f"no event preset with slug {slug!r}; stored slugs: {slugs}"
        raise RecordNotFoundError(msg)

    def list(self) -> builtins.list[EventPreset]:
        """Return every preset in chronological order (``window_start``, then slug)."""
        return sorted(self._collection.load(), key=lambda p: (p.window_start, p.slug))

    def delete(self, key: str) -> EventPreset:
        """Remove the preset whose ``event_preset_id`` or ``slug`` is ``key``.

        Returns
        -------
        EventPreset
            The removed preset.

        Raises
        ------
        RecordNotFoundError
            When no preset has that id or slug.
        ValueError
            When ``key`` is one preset's id and another preset's slug.
        """

        def change(records: list[EventPreset]) -> tuple[list[EventPreset], EventPreset]:
            by_id = [p for p in records if p.event_preset_id == key]
            by_slug = [p for p in records if p.slug == key]
            matches = {p.event_preset_id: p for p in [*by_id, *by_slug]}
            if not matches:
                msg = f"no event preset with event_preset_id or slug {key!r} in {self.path}"
                raise RecordNotFoundError(msg)
            if len(matches) > 1:
                msg = (
                    f"{key!r} is the id of one event preset and the slug of another "
                    f"({sorted(matches)}); nothing was deleted"
                )
                raise ValueError(msg)
            (doomed,) = matches.values()
            kept = [p for p in records if p.event_preset_id != doomed.event_preset_id]
            return kept, doomed

        return self._collection.modify(change)
