"""The event preset repository: unique ids and slugs, lookups, deletion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from hedgeframe.errors import DuplicateSlugError, RecordNotFoundError
from hedgeframe.models import EventPreset
from hedgeframe.repositories import DuplicateRecordError, EventPresetRepository


def _preset(slug: str, start: date, end: date, **fields: object) -> EventPreset:
    return EventPreset.model_validate(
        {"slug": slug, "symbol": "^GSPC", "window_start": start, "window_end": end, **fields}
    )


GFC = _preset("gfc-2008", date(2007, 10, 9), date(2009, 3, 9), event_preset_id="gfc")
FLASH = _preset("flash-crash-2010", date(2010, 5, 6), date(2010, 5, 7), event_preset_id="flash")
DOTCOM = _preset("dotcom", date(2000, 3, 24), date(2002, 10, 9), event_preset_id="dotcom")


@pytest.fixture
def repo(tmp_path: Path) -> EventPresetRepository:
    repository = EventPresetRepository(tmp_path)
    for preset in (GFC, FLASH, DOTCOM):
        repository.save(preset)
    return repository


def test_presets_round_trip(repo: EventPresetRepository) -> None:
    reopened = EventPresetRepository(repo.path.parent)
    assert reopened.get("gfc") == GFC
    assert reopened.get_by_slug("flash-crash-2010") == FLASH


def test_list_is_chronological(repo: EventPresetRepository) -> None:
    assert repo.list() == [DOTCOM, GFC, FLASH]


def test_an_empty_repository_lists_nothing(tmp_path: Path) -> None:
    assert EventPresetRepository(tmp_path).list() == []


def test_ids_and_slugs_are_unique(repo: EventPresetRepository) -> None:
    before = repo.path.read_bytes()
    same_id = _preset("other", date(2020, 2, 19), date(2020, 3, 23), event_preset_id="gfc")
    with pytest.raises(DuplicateRecordError, match="event_preset_id 'gfc' is already stored"):
        repo.save(same_id)
    same_slug = _preset("gfc-2008", date(2020, 2, 19), date(2020, 3, 23))
    with pytest.raises(DuplicateSlugError, match=r"slug 'gfc-2008' is already used by .*'gfc'"):
        repo.save(same_slug)
    assert repo.path.read_bytes() == before


def test_lookup_errors_name_the_key(repo: EventPresetRepository) -> None:
    with pytest.raises(RecordNotFoundError, match="no event preset with event_preset_id 'x'"):
        repo.get("x")
    with pytest.raises(RecordNotFoundError) as error:
        repo.get_by_slug("covid")
    assert str(error.value) == (
        "no event preset with slug 'covid'; stored slugs: dotcom, flash-crash-2010, gfc-2008"
    )


@pytest.mark.parametrize("key", ["gfc", "gfc-2008"])
def test_delete_by_id_or_slug(repo: EventPresetRepository, key: str) -> None:
    assert repo.delete(key) == GFC
    assert repo.list() == [DOTCOM, FLASH]
    with pytest.raises(RecordNotFoundError, match=f"id or slug '{key}'"):
        repo.delete(key)
    repo.save(GFC)  # the slug and id are free again


def test_delete_refuses_a_key_that_is_one_id_and_another_slug(tmp_path: Path) -> None:
    repo = EventPresetRepository(tmp_path)
    repo.save(_preset("a", date(2020, 1, 1), date(2020, 2, 1), event_preset_id="b"))
    repo.save(_preset("b", date(2020, 1, 1), date(2020, 2, 1), event_preset_id="c"))
    before = repo.path.read_bytes()
    with pytest.raises(ValueError, match="'b' is the id of one event preset and the slug"):
        repo.delete("b")
    assert repo.path.read_bytes() == before
