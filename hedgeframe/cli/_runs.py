"""``hedgeframe run`` and ``hedgeframe runs ...``: scenarios run and stored in a data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import polars as pl
import typer

import hedgeframe as hf
from hedgeframe.cli._common import (
    DataOption,
    JsonFlag,
    app,
    print_json,
    print_table,
    read_json,
    runs_app,
    text_columns,
)
from hedgeframe.cli._providers import resolve_provider
from hedgeframe.errors import BadInputError
from hedgeframe.report import ACROSS_COLUMNS, check_report_path

_RUN_COLUMNS: Final = [
    ("rank", "rank", ACROSS_COLUMNS[0][2]),
    ("template_slug", "template", ACROSS_COLUMNS[1][2]),
    *(
        c
        for c in ACROSS_COLUMNS
        if c[0] in ("margin_call_days_unhedged", "margin_call_days_hedged")
    ),
    *(c for c in ACROSS_COLUMNS if c[0] in ("max_ltv_hedged", "total_hedge_cost")),
]


ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Also write the run's HTML report to this file (charts go to charts/ beside it).",
    ),
]


def _write_report(result: hf.BacktestRunResult, report: Path, *, err: bool = False) -> None:
    """Write the run report and say where it is (on stderr when stdout carries JSON)."""
    path = result.write_html(report)
    typer.echo(f"report: {path} (charts in {path.parent / 'charts'})", err=err)


@app.command()
def run(
    scenario_json: Annotated[str, typer.Argument(help="Scenario JSON: a file, '-' or inline.")],
    provider: Annotated[str, typer.Option(help="Provider config JSON: a file, '-' or inline.")],
    data: DataOption = Path("data"),
    report: ReportOption = None,
) -> None:
    """Run a scenario on the templates stored in DATA; print the run id and the ranking.

    The run and its tables are stored in DATA (``hedgeframe runs show RUN_ID``). A run
    that fails on its input is recorded as failed, and the command exits with code 2.
    With --report, the run's HTML report is written too.
    """
    if report is not None:  # refuse a bad path before anything runs or is stored
        check_report_path(report)
    scenario = hf.BacktestScenario.model_validate(read_json(scenario_json, "scenario"))
    service = hf.BacktestService(data)
    record = service.submit(scenario, provider=resolve_provider(provider, None))
    typer.echo(f"run {record.run_id} {record.status.value}")
    if record.error is not None:
        msg = f"run {record.run_id} failed: {record.error}"
        raise BadInputError(msg)
    result = service.load_result(record.run_id)
    print_table(result.comparison, _RUN_COLUMNS)
    if report is not None:
        _write_report(result, report)


@runs_app.command("list")
def runs_list(data: DataOption = Path("data"), as_json: JsonFlag = False) -> None:
    """List the stored runs, oldest first."""
    runs = hf.BacktestService(data).list_runs()
    if as_json:
        print_json([r.model_dump(mode="json") for r in runs])
        return
    if not runs:
        typer.echo(f"no runs in {data}")
        return
    frame = pl.DataFrame(
        [
            {
                "run_id": r.run_id,
                "status": r.status.value,
                "scenario": r.scenario_snapshot.slug if r.scenario_snapshot else "",
                "submitted_at": r.submitted_at.isoformat(timespec="seconds"),
                "warnings": len(r.warnings),
            }
            for r in runs
        ]
    )
    print_table(frame, text_columns(*frame.columns))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    data: DataOption = Path("data"),
    as_json: JsonFlag = False,
    report: ReportOption = None,
) -> None:
    """Print a completed run's ranking (or, with --json, its comparison rows).

    With --report, the run's HTML report is written too (its path goes to stderr with
    --json, so stdout stays JSON).
    """
    result = hf.BacktestService(data).load_result(run_id)
    if as_json:
        print_json(result.comparison.with_columns(pl.selectors.date().cast(pl.String)).to_dicts())
    else:
        print_table(result.comparison, _RUN_COLUMNS, f"run {run_id}")
    if report is not None:
        _write_report(result, report, err=as_json)


@runs_app.command("rerun")
def runs_rerun(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    data: DataOption = Path("data"),
    store: Annotated[
        Path | None,
        typer.Option(help="Market data store to use instead of the one the run recorded."),
    ] = None,
) -> None:
    """Run a completed run again from its record; exit 2 naming what changed if it differs."""
    service = hf.BacktestService(data)
    result = service.rerun(run_id, store=hf.MarketDataStore(store) if store is not None else None)
    print_table(result.comparison, _RUN_COLUMNS, f"run {run_id} reproduced: equal tables")
