"""Slice 1 of the seed document: the named, versioned, immutable template repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

import hedgeframe as hf
from hedgeframe.errors import DuplicateSlugError, HedgeframeError, TemplateNotFoundError
from hedgeframe.models import StrategyTemplate, TemplateStatus
from hedgeframe.repositories import DuplicateRecordError, TemplateRepository


@pytest.fixture
def repo(tmp_path: Path) -> TemplateRepository:
    return TemplateRepository(tmp_path / "data")


def _stored_records(repo: TemplateRepository) -> list[dict[str, object]]:
    document = json.loads(repo.path.read_text(encoding="utf-8"))
    records: list[dict[str, object]] = document["records"]
    return records


# -- Slice 1: the seed document's suggested tests ---------------------------------------


def test_saving_template_round_trips_cleanly(repo: TemplateRepository) -> None:
    seeds = hf.seed_templates()
    for template in seeds:
        assert repo.save(template) is template

    reopened = TemplateRepository(repo.path.parent)
    for template in seeds:
        assert reopened.get(template.template_id) == template
        assert reopened.get(template.template_id, version=1) == template
        assert reopened.get_by_slug(template.slug) == template
    assert reopened.list() == sorted(seeds, key=lambda t: t.slug)
    assert _stored_records(repo) == [t.model_dump(mode="json") for t in seeds]


def test_updating_active_template_creates_version_2_not_in_place_mutation(
    repo: TemplateRepository,
) -> None:
    original = repo.save(hf.protective_put("pp-atm-12m"))
    before = _stored_records(repo)[0]

    updated = repo.update(original.template_id, description="now with a description")

    assert updated.version == 2
    assert updated.template_id == original.template_id
    assert updated.description == "now with a description"
    assert updated.created_at == original.created_at
    assert updated.updated_at >= original.updated_at
    assert original.description == ""  # the object given to save() is untouched
    assert repo.get(original.template_id, version=1) == original
    assert repo.get(original.template_id) == updated
    assert [t.version for t in repo.versions(original.template_id)] == [1, 2]
    records = _stored_records(repo)
    assert records[0] == before
    assert len(records) == 2


def test_archived_template_stays_loadable_for_historical_runs(repo: TemplateRepository) -> None:
    original = repo.save(hf.protective_put("pp-atm-12m"))
    updated = repo.update(original.template_id, tags=["v2"])

    archived = repo.archive(original.template_id)

    assert archived.status is TemplateStatus.ARCHIVED
    assert archived.version == 3
    assert archived.tags == ["v2"]
    assert repo.get(original.template_id, version=1) == original
    assert repo.get(original.template_id, version=2) == updated
    assert repo.get(original.template_id) == archived
    assert repo.get_by_slug("pp-atm-12m") == archived
    assert repo.get_by_slug("pp-atm-12m", version=1) == original
    assert repo.list() == []
    assert repo.list(include_archived=True) == [archived]


# -- versions, updates, archive ----------------------------------------------------------


def test_archiving_an_archived_template_writes_nothing(repo: TemplateRepository) -> None:
    template = repo.save(hf.protective_put("pp"))
    archived = repo.archive(template.template_id)
    before = repo.path.read_bytes()
    assert repo.archive(template.template_id) == archived
    assert repo.path.read_bytes() == before


def test_update_revalidates_the_whole_template(repo: TemplateRepository) -> None:
    template = repo.save(hf.put_ladder("ladder", spot_pcts=[1.0, 0.95], weights=[0.5, 0.5]))
    before = repo.path.read_bytes()
    bad_legs = [leg.model_copy(update={"allocation_weight": 0.4}) for leg in template.legs]
    with pytest.raises(ValidationError, match=r"must sum to 1\.0"):
        repo.update(template.template_id, legs=bad_legs)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        repo.update(template.template_id, colour="blue")
    assert repo.path.read_bytes() == before


def test_update_changes_legs_and_roll_policy(repo: TemplateRepository) -> None:
    template = repo.save(hf.protective_put("pp"))
    legs = [template.legs[0].model_copy(update={"target_expiry_days": 182})]
    roll = {"policy_type": "roll_n_days_before_expiry", "days_before_expiry": 21}
    updated = repo.update(template.template_id, legs=legs, roll_policy=roll)
    assert updated.target_expiry_days == 182
    assert updated.roll_policy.days_before_expiry == 21
    assert repo.get(template.template_id, version=1).target_expiry_days == 365


@pytest.mark.parametrize("field", ["template_id", "version", "created_at", "updated_at"])
def test_update_refuses_fields_the_repository_sets(repo: TemplateRepository, field: str) -> None:
    template = repo.save(hf.protective_put("pp"))
    with pytest.raises(TypeError, match=f"cannot set \\['{field}'\\]"):
        repo.update(template.template_id, **{field: 7})


def test_update_needs_a_change(repo: TemplateRepository) -> None:
    template = repo.save(hf.protective_put("pp"))
    with pytest.raises(TypeError, match="at least one field"):
        repo.update(template.template_id)


def test_update_and_archive_of_an_unknown_template(repo: TemplateRepository) -> None:
    with pytest.raises(TemplateNotFoundError, match="no template with template_id 'nope'"):
        repo.update("nope", description="x")
    with pytest.raises(TemplateNotFoundError, match="no template with template_id 'nope'"):
        repo.archive("nope")
    assert not repo.path.exists()


def test_save_refuses_a_stored_template_id_even_when_archived(repo: TemplateRepository) -> None:
    template = repo.save(hf.protective_put("pp", template_id="tpl-1"))
    repo.archive(template.template_id)
    with pytest.raises(DuplicateRecordError, match=r"'tpl-1' is already stored .*versions 1, 2"):
        repo.save(hf.protective_put("other", template_id="tpl-1"))


def test_save_keeps_the_version_given(repo: TemplateRepository) -> None:
    imported = hf.protective_put("pp").model_copy(update={"version": 4})
    repo.save(imported)
    assert repo.update(imported.template_id, description="x").version == 5


# -- slug uniqueness among active templates ----------------------------------------------


def test_two_active_templates_cannot_share_a_slug(repo: TemplateRepository) -> None:
    holder = repo.save(hf.protective_put("pp-atm", template_id="holder"))
    with pytest.raises(DuplicateSlugError) as error:
        repo.save(hf.protective_put("pp-atm", template_id="newcomer"))
    assert "slug 'pp-atm' is already used by active template 'holder'" in str(error.value)
    assert isinstance(error.value, ValueError)
    assert repo.versions(holder.template_id) == [holder]
    with pytest.raises(TemplateNotFoundError):
        repo.get("newcomer")


def test_an_archived_slug_is_free_again(repo: TemplateRepository) -> None:
    old = repo.save(hf.protective_put("pp-atm", template_id="old"))
    repo.archive(old.template_id)
    new = repo.save(hf.protective_put("pp-atm", template_id="new"))
    assert repo.get_by_slug("pp-atm") == new
    assert repo.get("old", version=1) == old
    with pytest.raises(DuplicateSlugError, match="active template 'new'"):
        repo.update("old", status="active")
    assert [t.template_id for t in repo.list(include_archived=True)] == ["new", "old"]


def test_drafts_may_share_an_active_slug(repo: TemplateRepository) -> None:
    active = repo.save(hf.protective_put("pp-atm", template_id="active"))
    draft = hf.protective_put("pp-atm", template_id="draft").model_copy(
        update={"status": TemplateStatus.DRAFT}
    )
    repo.save(draft)
    assert repo.get_by_slug("pp-atm") == active
    with pytest.raises(DuplicateSlugError, match="active template 'active'"):
        repo.update("draft", status="active")
    repo.archive("active")
    promoted = repo.update("draft", status="active")
    assert repo.get_by_slug("pp-atm") == promoted


def test_renaming_respects_slug_uniqueness(repo: TemplateRepository) -> None:
    repo.save(hf.protective_put("taken", template_id="a"))
    repo.save(hf.protective_put("mine", template_id="b"))
    with pytest.raises(DuplicateSlugError, match="slug 'taken'"):
        repo.update("b", slug="taken")
    assert repo.update("b", slug="mine", description="same slug, same template").version == 2
    assert repo.update("b", slug="renamed").slug == "renamed"
    assert repo.get_by_slug("renamed").template_id == "b"


def test_get_by_slug_without_an_active_template_picks_the_latest_updated(
    repo: TemplateRepository,
) -> None:
    repo.save(hf.protective_put("pp", template_id="first"))
    repo.archive("first")
    repo.save(hf.protective_put("pp", template_id="second"))
    repo.archive("second")
    assert repo.get_by_slug("pp").template_id == "second"
    repo.update("first", description="touched later")
    assert repo.get_by_slug("pp").template_id == "first"


# -- lookup errors -----------------------------------------------------------------------


def test_get_names_the_stored_versions(repo: TemplateRepository) -> None:
    template = repo.save(hf.protective_put("protective-put-atm-12m", template_id="tpl-1"))
    repo.update(template.template_id, description="v2")
    with pytest.raises(TemplateNotFoundError) as error:
        repo.get("tpl-1", version=3)
    assert str(error.value) == (
        "template 'tpl-1' (slug 'protective-put-atm-12m') has no version 3; stored versions: 1, 2"
    )
    with pytest.raises(TemplateNotFoundError) as by_slug:
        repo.get_by_slug("protective-put-atm-12m", version=3)
    assert str(by_slug.value) == (
        "template 'protective-put-atm-12m' has no version 3; stored versions: 1, 2"
    )


def test_get_of_an_unknown_id_hints_at_a_slug(repo: TemplateRepository) -> None:
    repo.save(hf.protective_put("pp-atm"))
    with pytest.raises(TemplateNotFoundError, match=r"'pp-atm' is a slug: use get_by_slug"):
        repo.get("pp-atm")
    with pytest.raises(TemplateNotFoundError, match="no template with template_id 'x'"):
        repo.versions("x")


def test_get_by_slug_of_an_unknown_slug_lists_the_stored_slugs(repo: TemplateRepository) -> None:
    with pytest.raises(TemplateNotFoundError, match=r"stored slugs: \(none\)"):
        repo.get_by_slug("pp")
    for template in hf.seed_templates():
        repo.save(template)
    with pytest.raises(TemplateNotFoundError) as error:
        repo.get_by_slug("pp")
    assert "no template with slug 'pp'; stored slugs: ladder-33-33-33" in str(error.value)


def test_not_found_errors_are_key_errors_with_readable_messages(
    repo: TemplateRepository,
) -> None:
    with pytest.raises(KeyError) as error:
        repo.get("missing")
    assert isinstance(error.value, HedgeframeError)
    assert str(error.value).startswith("no template with template_id 'missing'")


def test_list_hides_archived_and_shows_latest_versions_sorted_by_slug(
    repo: TemplateRepository,
) -> None:
    b = repo.save(hf.protective_put("b-slug"))
    a = repo.save(hf.protective_put("a-slug"))
    c = repo.save(hf.protective_put("c-slug"))
    b2 = repo.update(b.template_id, description="v2")
    repo.archive(c.template_id)
    listed: list[StrategyTemplate] = repo.list()
    assert listed == [a, b2]
    assert [t.slug for t in repo.list(include_archived=True)] == ["a-slug", "b-slug", "c-slug"]
