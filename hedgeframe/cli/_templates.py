"""``hedgeframe templates ...``: stored strategy templates, JSON in and out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer

import hedgeframe as hf
from hedgeframe.cli._common import (
    DataOption,
    JsonFlag,
    print_json,
    print_table,
    read_json,
    templates_app,
    text_columns,
)
from hedgeframe.errors import BadInputError, TemplateNotFoundError
from hedgeframe.models import StrategyTemplate
from hedgeframe.templates import seed_templates


def _template(data: Path, key: str, version: int | None = None) -> StrategyTemplate:
    repository = hf.BacktestService(data).templates
    try:
        return repository.get(key, version)
    except TemplateNotFoundError:
        return repository.get_by_slug(key, version)


@templates_app.command("list")
def templates_list(
    data: DataOption = Path("data"),
    include_archived: Annotated[
        bool, typer.Option("--all", help="Include archived templates.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the latest version of each stored template."""
    templates = hf.BacktestService(data).templates.list(include_archived=include_archived)
    if as_json:
        print_json([t.model_dump(mode="json") for t in templates])
        return
    if not templates:
        typer.echo(f"no templates in {data} (try `hedgeframe templates create --seed`)")
        return
    frame = pl.DataFrame(
        [
            {
                "slug": t.slug,
                "version": t.version,
                "status": t.status.value,
                "kind": t.template_kind.value,
                "legs": len(t.legs),
                "rule": t.describe(),
                "template_id": t.template_id,
            }
            for t in templates
        ]
    )
    print_table(frame, text_columns(*frame.columns))


@templates_app.command("show")
def templates_show(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    data: DataOption = Path("data"),
) -> None:
    """Print one template version as JSON."""
    print_json(_template(data, key, version).model_dump(mode="json"))


@templates_app.command("create")
def templates_create(
    template_json: Annotated[
        str | None,
        typer.Argument(help="Template JSON (object or list): a file, '-' or inline."),
    ] = None,
    seed: Annotated[bool, typer.Option("--seed", help="Store the four seed templates.")] = False,
    data: DataOption = Path("data"),
) -> None:
    """Store new templates (version 1) and print them as JSON."""
    if (template_json is None) == (not seed):
        msg = "give a template JSON or --seed (one of them)"
        raise BadInputError(msg)
    if seed:
        templates = seed_templates()
    else:
        raw = read_json(str(template_json), "template")
        items = raw if isinstance(raw, list) else [raw]
        templates = [StrategyTemplate.model_validate(item) for item in items]
    repository = hf.BacktestService(data).templates
    saved = [repository.save(t).model_dump(mode="json") for t in templates]
    print_json(saved if len(saved) > 1 or seed else saved[0])


@templates_app.command("update")
def templates_update(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    changes_json: Annotated[
        str, typer.Argument(help="JSON object of changed fields: a file, '-' or inline.")
    ],
    data: DataOption = Path("data"),
) -> None:
    """Write version n+1 with the changed fields; print it as JSON."""
    changes = read_json(changes_json, "changes")
    if not isinstance(changes, dict) or not changes:
        msg = 'changes must be a non-empty JSON object, e.g. \'{"description": "..."}\''
        raise BadInputError(msg)
    current = _template(data, key)
    try:
        updated = hf.BacktestService(data).templates.update(current.template_id, **changes)
    except TypeError as exc:
        raise BadInputError(str(exc)) from None
    print_json(updated.model_dump(mode="json"))


@templates_app.command("archive")
def templates_archive(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    data: DataOption = Path("data"),
) -> None:
    """Archive a template (a new version; older versions stay loadable); print it."""
    current = _template(data, key)
    print_json(
        hf.BacktestService(data).templates.archive(current.template_id).model_dump(mode="json")
    )
