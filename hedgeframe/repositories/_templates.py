"""The strategy template repository (EXEC-001A): named, versioned, immutable templates.

File: ``<data_dir>/strategy_templates.json``, one record per *version* of a template
(see :mod:`hedgeframe.repositories._json_collection` for the envelope and guarantees).

Decisions
---------
- **Versions are never edited.** Records are only appended: :meth:`TemplateRepository.save`
  adds version 1 of a new template, :meth:`~TemplateRepository.update` adds version n+1.
  A run pins ``(template_id, version)`` and loads exactly what it ran, forever.
- **Archive is a new version.** :meth:`~TemplateRepository.archive` appends version n+1
  that equals version n except ``status="archived"`` and ``updated_at``. A template's
  current status is the status of its latest version; an older version keeps the status
  it was written with. Why: a status kept beside the versions would have to override the
  ``status`` field stored inside each version, so a loaded version would no longer be the
  object that was saved. Archiving an archived template writes nothing.
- **Slugs are unique among active templates** (a template is active when its latest
  version is). Drafts and archived templates may share a slug with the active one, so a
  replacement can be drafted before the old one is archived. Restoring an archived
  template is ``update(template_id, status="active")``, checked like any other change.
- ``get_by_slug`` returns the active template with that slug; when none is active, the
  most recently updated draft or archived template with that slug.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hedgeframe.errors import DuplicateSlugError, TemplateNotFoundError
from hedgeframe.models import StrategyTemplate, TemplateStatus
from hedgeframe.repositories._json_collection import (
    DuplicateRecordError,
    JsonCollection,
    first_duplicate,
)

__all__ = ["TEMPLATES_FILE_NAME", "TEMPLATES_FORMAT", "TemplateRepository"]

TEMPLATES_FILE_NAME = "strategy_templates.json"
TEMPLATES_FORMAT = "hedgeframe.strategy_templates"

_REPOSITORY_OWNED_FIELDS = frozenset({"template_id", "version", "created_at", "updated_at"})
_SHOWN_SLUGS = 10


def _versions_by_id(records: list[StrategyTemplate]) -> dict[str, list[StrategyTemplate]]:
    """Group records by template, each group sorted by version."""
    groups: dict[str, list[StrategyTemplate]] = defaultdict(list)
    for record in records:
        groups[record.template_id].append(record)
    for versions in groups.values():
        versions.sort(key=lambda template: template.version)
    return dict(groups)


def _latest(records: list[StrategyTemplate]) -> list[StrategyTemplate]:
    """Return the latest version of every template, in first-saved order."""
    return [versions[-1] for versions in _versions_by_id(records).values()]


def _check_templates(records: list[StrategyTemplate]) -> str | None:
    """Describe a broken invariant: a repeated (id, version), or a shared active slug."""
    repeated = first_duplicate(records, lambda t: (t.template_id, t.version))
    if repeated is not None:
        first, second, _ = repeated
        both = records[first]
        return (
            f"records {first} and {second} are both template {both.template_id!r} "
            f"version {both.version}"
        )
    active = [t for t in _latest(records) if t.status is TemplateStatus.ACTIVE]
    clash = first_duplicate(active, lambda t: t.slug)
    if clash is not None:
        first, second, slug = clash
        return (
            f"templates {active[first].template_id!r} and {active[second].template_id!r} "
            f"are both active with slug {slug!r}"
        )
    return None


def _ensure_slug_free(records: list[StrategyTemplate], candidate: StrategyTemplate) -> None:
    """Refuse ``candidate`` if it is active and another active template has its slug."""
    if candidate.status is not TemplateStatus.ACTIVE:
        return
    for holder in _latest(records):
        if (
            holder.template_id != candidate.template_id
            and holder.status is TemplateStatus.ACTIVE
            and holder.slug == candidate.slug
        ):
            msg = (
                f"slug {candidate.slug!r} is already used by active template "
                f"{holder.template_id!r} (version {holder.version}); archive that template "
                "or choose another slug"
            )
            raise DuplicateSlugError(msg)


def _version_list(versions: list[StrategyTemplate]) -> str:
    return ", ".join(str(template.version) for template in versions)


class TemplateRepository:
    """Save, version, archive and look up strategy templates in one JSON file.

    Every stored version stays loadable by ``get(template_id, version)``, so a backtest
    run can always reload the exact template it ran. Safe to use from several processes.

    Parameters
    ----------
    data_dir
        The data folder; the templates live in ``<data_dir>/strategy_templates.json``.

    Examples
    --------
    >>> import tempfile
    >>> import hedgeframe as hf
    >>> from hedgeframe.repositories import TemplateRepository
    >>> repo = TemplateRepository(tempfile.mkdtemp())
    >>> saved = repo.save(hf.protective_put("pp-atm-12m"))
    >>> repo.update(saved.template_id, description="ATM put, 12 months").version
    2
    >>> repo.get(saved.template_id, version=1).description
    ''
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / TEMPLATES_FILE_NAME
        self._collection = JsonCollection(
            self.path, StrategyTemplate, format_name=TEMPLATES_FORMAT, check=_check_templates
        )

    def __repr__(self) -> str:
        return f"TemplateRepository({str(self.path.parent)!r})"

    def save(self, template: StrategyTemplate) -> StrategyTemplate:
        """Store a new template exactly as given (normally its version 1).

        Parameters
        ----------
        template
            A template whose ``template_id`` is not stored yet.

        Returns
        -------
        StrategyTemplate
            The stored template (the object given).

        Raises
        ------
        DuplicateRecordError
            When any version of ``template.template_id`` is already stored; new versions
            are written by :meth:`update`.
        DuplicateSlugError
            When the template is active and another active template has its slug.
        CorruptFileError
            When the stored file is corrupt (it is not overwritten).
        """

        def change(
            records: list[StrategyTemplate],
        ) -> tuple[list[StrategyTemplate], StrategyTemplate]:
            stored = _versions_by_id(records).get(template.template_id)
            if stored:
                msg = (
                    f"template_id {template.template_id!r} is already stored (slug "
                    f"{stored[-1].slug!r}, versions {_version_list(stored)}); "
                    "use update() to write a new version"
                )
                raise DuplicateRecordError(msg)
            _ensure_slug_free(records, template)
            return [*records, template], template

        return self._collection.modify(change)

    def get(self, template_id: str, version: int | None = None) -> StrategyTemplate:
        """Return one version of a template: the latest when ``version`` is ``None``.

        Raises
        ------
        TemplateNotFoundError
            When the id is unknown, or it has no such version (the message lists the
            stored versions).
        """
        records = self._collection.load()
        versions = _versions_by_id(records).get(template_id)
        if not versions:
            hint = ""
            if any(template.slug == template_id for template in records):
                hint = f"; {template_id!r} is a slug: use get_by_slug({template_id!r})"
            msg = f"no template with template_id {template_id!r} in {self.path}{hint}"
            raise TemplateNotFoundError(msg)
        name = f"{template_id!r} (slug {versions[-1].slug!r})"
        return self._pick_version(versions, version, name)

    def get_by_slug(self, slug: str, version: int | None = None) -> StrategyTemplate:
        """Return the active template with ``slug`` (or, if none is active, the latest other).

        "Latest other" is the most recently updated draft or archived template whose
        latest version has this slug, so an archived template stays reachable by name.

        Raises
        ------
        TemplateNotFoundError
            When no template has that slug, or it has no such version.
        """
        records = self._collection.load()
        named = [template for template in _latest(records) if template.slug == slug]
        if not named:
            slugs = sorted({template.slug for template in _latest(records)})
            shown = ", ".join(slugs[:_SHOWN_SLUGS]) + (", ..." if len(slugs) > _SHOWN_SLUGS else "")
            msg = f"no template with slug {slug!r}; stored slugs: {shown or '(none)'}"
            raise TemplateNotFoundError(msg)
        active = [template for template in named if template.status is TemplateStatus.ACTIVE]
        chosen = active[0] if active else max(named, key=lambda t: (t.updated_at, t.version))
        versions = _versions_by_id(records)[chosen.template_id]
        return self._pick_version(versions, version, repr(slug))

    def versions(self, template_id: str) -> builtins.list[StrategyTemplate]:
        """Return every stored version of a template, oldest first.

        Raises
        ------
        TemplateNotFoundError
            When the id is unknown.
        """
        versions = _versions_by_id(self._collection.load()).get(template_id)
        if not versions:
            msg = f"no template with template_id {template_id!r} in {self.path}"
            raise TemplateNotFoundError(msg)
        return versions

    def list(self, *, include_archived: bool = False) -> builtins.list[StrategyTemplate]:
        """Return the latest version of each template, sorted by slug.

        Parameters
        ----------
        include_archived
            Also return archived templates (by default only active and draft ones).
        """
        latest = _latest(self._collection.load())
        if not include_archived:
            latest = [t for t in latest if t.status is not TemplateStatus.ARCHIVED]
        return sorted(latest, key=lambda t: (t.slug, t.template_id))

    def update(self, template_id: str, /, **changes: Any) -> StrategyTemplate:
        """Write version n+1 of a template: the latest version with ``changes`` applied.

        The stored versions are not touched. The new version keeps ``template_id`` and
        ``created_at``, gets ``updated_at`` = now, and is validated as a whole model, so
        every template invariant holds for it.

        Parameters
        ----------
        template_id
            The template to change.
        **changes
            New field values, e.g. ``slug="pp-95-12m"``, ``legs=[...]``,
            ``status="active"``. ``template_id``, ``version``, ``created_at`` and
            ``updated_at`` are set by the repository and refused here.

        Returns
        -------
        StrategyTemplate
            The new version.

        Raises
        ------
        TypeError
            When ``changes`` is empty or names a field the repository sets.
        pydantic.ValidationError
            When the changed template breaks a template invariant (nothing is written).
        DuplicateSlugError
            When the new version is active and another active template has its slug.
        TemplateNotFoundError
            When the id is unknown.
        """
        owned = sorted(_REPOSITORY_OWNED_FIELDS & changes.keys())
        if owned:
            msg = f"update() cannot set {owned}: the repository assigns them"
            raise TypeError(msg)
        if not changes:
            msg = "update() needs at least one field to change, e.g. update(id, description=...)"
            raise TypeError(msg)
        return self._append_version(template_id, changes)

    def archive(self, template_id: str) -> StrategyTemplate:
        """Archive a template by writing a new version with ``status="archived"``.

        Every earlier version stays loadable with :meth:`get`; the slug becomes free for
        another active template. Archiving an archived template writes nothing.

        Returns
        -------
        StrategyTemplate
            The latest version, now archived.

        Raises
        ------
        TemplateNotFoundError
            When the id is unknown.
        """
        return self._append_version(template_id, {"status": TemplateStatus.ARCHIVED})

    def _append_version(self, template_id: str, changes: dict[str, Any]) -> StrategyTemplate:
        def change(
            records: list[StrategyTemplate],
        ) -> tuple[list[StrategyTemplate], StrategyTemplate]:
            versions = _versions_by_id(records).get(template_id)
            if not versions:
                msg = f"no template with template_id {template_id!r} in {self.path}"
                raise TemplateNotFoundError(msg)
            current = versions[-1]
            if changes == {"status": TemplateStatus.ARCHIVED} and (
                current.status is TemplateStatus.ARCHIVED
            ):
                return records, current
            fields = current.model_dump()
            fields.update(changes)
            fields["version"] = current.version + 1
            fields["updated_at"] = datetime.now(UTC)
            new_version = StrategyTemplate.model_validate(fields)
            _ensure_slug_free(records, new_version)
            return [*records, new_version], new_version

        return self._collection.modify(change)

    @staticmethod
    def _pick_version(
        versions: builtins.list[StrategyTemplate], version: int | None, name: str
    ) -> StrategyTemplate:
        if version is None:
            return versions[-1]
        for template in versions:
            if template.version == version:
                return template
        stored = _version_list(versions)
        msg = f"template {name} has no version {version}; stored versions: {stored}"
        raise TemplateNotFoundError(msg)
