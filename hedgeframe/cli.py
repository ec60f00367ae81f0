"""The ``hedgeframe`` command line: a thin layer that parses and calls the public API.

``main(argv)`` returns an exit code, so tests call it directly. Exit codes scripts can
trust: 0 done; 2 bad input or usage (printed as one line, no traceback); 1 unexpected (a
bug: the traceback is printed); 130 interrupted. Progress bars go to stderr, and only when
it is a terminal. ``docs/cli.md`` describes every command.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Final

import polars as pl
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer._click.exceptions import NoArgsIsHelpError

import hedgeframe as hf
from hedgeframe.data import (
    BarDownloader,
    fetch_yfinance_bars,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.engine import engine_version
from hedgeframe.errors import HedgeframeError, TemplateNotFoundError
from hedgeframe.events import (
    BUNDLED_SAMPLE_TAG,
    EventComparison,
    EventPortfolio,
    builtin_event_presets,
    compare_events,
)
from hedgeframe.models import EventPreset, StrategyTemplate
from hedgeframe.pricing import VolatilityRegime
from hedgeframe.providers import HistoricalMarketDataProvider
from hedgeframe.report import ACROSS_COLUMNS, EVENTS_COLUMNS, NUMERIC_FORMATS, Column
from hedgeframe.report import describe_provider as _describe_provider_lines
from hedgeframe.templates import seed_templates

__all__ = ["PROVIDER_BUILDERS", "CliContext", "app", "console_main", "main", "provider_from_config"]

EXIT_BAD_INPUT: Final = 2
EXIT_UNEXPECTED: Final = 1

DEMO_PROVIDER: Final[dict[str, Any]] = {
    "kind": "synthetic",
    "volatility": {
        "kind": "first_available",
        "regimes": [
            {"kind": "index", "symbol": "^VIX", "scale": 0.01},
            {"kind": "trailing_realized", "window": 21},
        ],
    },
    "rate": 0.02,
    "dividend_yield": 0.0,
    "spread_pct": 0.01,
    "calendar": "XNYS",
}
"""The demo's provider: VIX/100 where the sample has it, 21-day realized volatility before,
2 % rate, 1 % bid/ask. ``store`` is added: the bundled sample unless ``--store`` is given."""

app = typer.Typer(
    help="Backtest option hedges on Lombard-loan collateral, point in time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Market data: the bundled sample, downloads and CSV imports.")
templates_app = typer.Typer(help="Strategy templates in a data folder (JSON in, JSON out).")
events_app = typer.Typer(help="Selloff event presets and the event comparison report.")
runs_app = typer.Typer(help="Stored backtest runs and their results.")
for _sub, _name in (
    (data_app, "data"),
    (templates_app, "templates"),
    (events_app, "events"),
    (runs_app, "runs"),
):
    _sub.info.no_args_is_help = True
    app.add_typer(_sub, name=_name)


@dataclass(frozen=True)
class CliContext:
    """What ``main`` hands every command: injectable dependencies (tests, offline work)."""

    downloader: BarDownloader | None = None


DataOption = Annotated[
    Path, typer.Option("--data", help="Data folder of templates, event presets and runs.")
]
StoreOption = Annotated[
    Path, typer.Option("--store", help="Market data store folder (hive-partitioned Parquet).")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


# -- input and output helpers -----------------------------------------------------------


class BadInputError(HedgeframeError, ValueError):
    """The command line was given input it cannot use (exit code 2)."""


def _read_json(source: str, what: str) -> Any:
    """Read JSON from a file, ``-`` (stdin) or an inline ``{...}``/``[...]`` string."""
    text = source
    if source == "-":
        text = sys.stdin.read()
    elif not source.lstrip().startswith(("{", "[")):
        path = Path(source)
        if not path.is_file():
            msg = f"{what} file {source!r} does not exist"
            raise BadInputError(msg)
        text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        msg = f"{what} {source!r} is not valid JSON ({exc.msg} at {where})"
        raise BadInputError(msg) from None


def _stdout() -> Console:
    """Return a console on stdout, wide enough for tables when it is not a terminal."""
    console = Console(highlight=False, markup=False, soft_wrap=True)
    if console.is_terminal:
        return console
    return Console(highlight=False, markup=False, soft_wrap=True, width=200)


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _print_table(frame: pl.DataFrame, columns: Sequence[Column], title: str | None = None) -> None:
    table = Table(title=title, title_justify="left", header_style="bold")
    cells = [[fmt(row[name]) for name, _, fmt in columns] for row in frame.iter_rows(named=True)]
    for index, (_, header, fmt) in enumerate(columns):
        if fmt in NUMERIC_FORMATS:
            table.add_column(header, justify="right")
        else:  # names and dates are never cut or wrapped: numbers' headers wrap instead
            width = max((len(row[index]) for row in cells), default=0)
            table.add_column(header, no_wrap=True, min_width=width)
    for row in cells:
        table.add_row(*row)
    _stdout().print(table)


def _text_columns(*names: str) -> list[Column]:
    return [(name, name.replace("_", " "), lambda v: "" if v is None else str(v)) for name in names]


@contextmanager
def _progress(description: str, total: int) -> Iterator[Callable[[], None]]:
    """Show a progress bar on stderr (only on a terminal); yield the function that advances it."""
    err = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


# -- providers from JSON ------------------------------------------------------------------


def _volatility(config: Any) -> VolatilityRegime:
    """Build a volatility regime from the form ``describe()`` writes into every run."""
    if isinstance(config, int | float):
        return hf.ConstantVol(float(config))
    if not isinstance(config, dict) or "kind" not in config:
        msg = f"volatility must be a number or an object with a 'kind' (got {config!r})"
        raise BadInputError(msg)
    kind = config["kind"]
    if kind == "constant":
        return hf.ConstantVol(float(config["value"]))
    if kind == "step":
        return hf.StepVol([(date.fromisoformat(d), float(s)) for d, s in config["steps"]])
    if kind == "index":
        return hf.IndexVol(str(config["symbol"]), scale=float(config.get("scale", 0.01)))
    if kind == "trailing_realized":
        return hf.TrailingRealizedVol(int(config.get("window", 21)))
    if kind == "first_available":
        return hf.FirstAvailableVol([_volatility(regime) for regime in config["regimes"]])
    msg = (
        f"unknown volatility kind {kind!r}; use constant, step, index, trailing_realized "
        "or first_available"
    )
    raise BadInputError(msg)


def _synthetic_provider(config: dict[str, Any]) -> HistoricalMarketDataProvider:
    known = {"kind", "store", "volatility", "rate", "dividend_yield", "spread_pct", "calendar"}
    unknown = sorted(set(config) - known)
    if unknown:
        msg = f"synthetic provider config has unknown keys {unknown}; known: {sorted(known)}"
        raise BadInputError(msg)
    store = hf.MarketDataStore(config["store"]) if config.get("store") else hf.sample_store()
    return hf.SyntheticHistoricalProvider(
        store,
        volatility=_volatility(config.get("volatility", 0.16)),
        rate=float(config.get("rate", 0.0)),
        dividend_yield=float(config.get("dividend_yield", 0.0)),
        spread_pct=float(config.get("spread_pct", 0.0)),
        calendar=str(config.get("calendar", "XNYS")),
    )


def _snapshot_provider(config: dict[str, Any]) -> HistoricalMarketDataProvider:
    known = {"kind", "store", "calendar", "max_stale_days", "fill"}
    unknown = sorted(set(config) - known)
    if unknown:
        msg = f"snapshot provider config has unknown keys {unknown}; known: {sorted(known)}"
        raise BadInputError(msg)
    if not config.get("store"):
        msg = 'a snapshot provider config needs a "store" holding option quotes'
        raise BadInputError(msg)
    fill = str(config.get("fill", "mid"))
    if fill not in ("mid", "bid_ask"):
        msg = f"snapshot provider fill must be 'mid' or 'bid_ask' (got {fill!r})"
        raise BadInputError(msg)
    return hf.DailyOptionsSnapshotProvider(
        hf.MarketDataStore(config["store"]),
        calendar=str(config.get("calendar", "XNYS")),
        max_stale_days=int(config.get("max_stale_days", 5)),
        fill="bid_ask" if fill == "bid_ask" else "mid",
    )


PROVIDER_BUILDERS: dict[str, Callable[[dict[str, Any]], HistoricalMarketDataProvider]] = {
    "synthetic": _synthetic_provider,
    "snapshot": _snapshot_provider,
}
"""Provider ``kind`` -> builder from its JSON config."""


def provider_from_config(config: Any) -> HistoricalMarketDataProvider:
    """Build a provider from a JSON config such as ``{"kind": "synthetic", ...}``.

    The keys besides ``kind`` are those a run stores in ``provider_snapshot.config``, so a
    stored run's provider can be rebuilt from its record. A missing ``store`` means the
    bundled sample.

    Raises
    ------
    BadInputError
        When the config is not an object, names an unknown kind or has unknown keys.
    """
    if not isinstance(config, dict):
        msg = f"a provider config must be a JSON object (got {type(config).__name__})"
        raise BadInputError(msg)
    kind = config.get("kind", "synthetic")
    builder = PROVIDER_BUILDERS.get(kind)
    if builder is None:
        msg = f"unknown provider kind {kind!r}; known: {sorted(PROVIDER_BUILDERS)}"
        raise BadInputError(msg)
    return builder(config)


def _provider(provider: str | None, store: Path | None) -> HistoricalMarketDataProvider:
    config = dict(_read_json(provider, "provider config")) if provider else dict(DEMO_PROVIDER)
    if store is not None:
        config["store"] = str(store)
    return provider_from_config(config)


# -- demo and events ------------------------------------------------------------------------


def _compare_and_report(
    presets: list[EventPreset],
    templates: list[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    portfolio: EventPortfolio,
    out: Path,
    *,
    skip_missing: bool,
) -> EventComparison:
    """Run the comparison, write Parquet and the report, print the ranking."""
    with _progress("events", len(presets)) as advance:
        comparison = compare_events(
            presets,
            templates,
            provider,
            portfolio,
            skip_missing=skip_missing,
            on_event=lambda _: advance(),
        )
    comparison.write_parquet(out)
    with _progress("report", 1) as advance:
        report = comparison.write_html(out / "report.html")
        advance()
    console = _stdout()
    snapshot = comparison.provider_snapshot
    console.print(
        f"{len(comparison.templates)} templates x {comparison.events.height} events; "
        f"portfolio: {portfolio.describe()}"
    )
    for line in _describe_provider_lines(
        snapshot.provider_id, comparison.pricing_mode.value, snapshot.config
    ):
        console.print(f"  {line}")
    _print_table(comparison.events, EVENTS_COLUMNS[:1] + EVENTS_COLUMNS[2:4] + EVENTS_COLUMNS[8:])
    _print_table(comparison.across_events, ACROSS_COLUMNS, "Across events (1 = best)")
    for warning in comparison.warnings:
        console.print(f"warning: {warning}")
    console.print(f"report: {report}")
    console.print(f"charts: {report.parent / 'charts'}/*.png")
    console.print(
        f"parquet: {out}/<table>/comparison_id={comparison.comparison_id}/part-0.parquet "
        f"and {out}/<table>/run_id=<run_id>/part-0.parquet"
    )
    return comparison


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the report, charts and Parquet.")
    ] = Path("hedgeframe-demo"),
) -> None:
    """Compare the four seed templates over every selloff in the bundled S&P 500 sample.

    Synthetic Black-Scholes-Merton prices (VIX/100 where the sample has it, 21-day
    realized volatility before), 2 % rate, 1 % bid/ask; USD 1m of collateral at each
    event's first close, loan 60 %, margin call at 75 %. Writes report.html, charts/*.png
    and Parquet tables into OUT, and prints the ranking.
    """
    presets = [p for p in builtin_event_presets() if BUNDLED_SAMPLE_TAG in p.tags]
    provider = provider_from_config(DEMO_PROVIDER)
    _compare_and_report(
        presets, seed_templates(), provider, EventPortfolio(), out, skip_missing=False
    )


@app.command()
def version() -> None:
    """Print the package and engine versions."""
    typer.echo(f"hedgeframe {engine_version()}")


def _all_presets(data: Path) -> list[tuple[EventPreset, str]]:
    stored = hf.BacktestService(data).events.list()
    builtin = builtin_event_presets()
    taken = {p.slug for p in stored}
    merged = [(p, "stored") for p in stored] + [
        (p, "builtin") for p in builtin if p.slug not in taken
    ]
    return sorted(merged, key=lambda item: (item[0].window_start, item[0].slug))


@events_app.command("list")
def events_list(
    data: DataOption = Path("data"),
    tag: Annotated[str | None, typer.Option(help="Only presets with this tag.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the built-in presets and those stored in the data folder."""
    presets = [(p, origin) for p, origin in _all_presets(data) if tag is None or tag in p.tags]
    if as_json:
        _print_json([{**p.model_dump(mode="json"), "origin": o} for p, o in presets])
        return
    frame = pl.DataFrame(
        [
            {
                "slug": p.slug,
                "symbol": p.symbol,
                "window": f"{p.window_start} .. {p.window_end}",
                "anchor": p.anchor_date,
                "recovery_days": p.scenario_overrides.recovery_days,
                "origin": o,
                "tags": ", ".join(p.tags),
            }
            for p, o in presets
        ]
    )
    if frame.height:
        _print_table(frame, _text_columns(*frame.columns))
    else:
        typer.echo("no event presets")


@events_app.command("add")
def events_add(
    preset_json: Annotated[str, typer.Argument(help="Preset JSON: a file, '-' or inline.")],
    data: DataOption = Path("data"),
) -> None:
    """Store a custom event preset (JSON in, the stored preset as JSON out)."""
    preset = EventPreset.model_validate(_read_json(preset_json, "event preset"))
    saved = hf.BacktestService(data).events.save(preset)
    _print_json(saved.model_dump(mode="json"))


def _templates_named(slugs: Sequence[str], data: Path) -> list[StrategyTemplate]:
    """Templates by slug: from the data folder's repository, else the seed templates."""
    if not slugs:
        return seed_templates()
    repository = hf.BacktestService(data).templates
    seeds = {t.slug: t for t in seed_templates()}
    chosen = []
    for slug in slugs:
        try:
            chosen.append(repository.get_by_slug(slug))
        except TemplateNotFoundError:
            if slug not in seeds:
                raise
            chosen.append(seeds[slug])
    return chosen


@events_app.command("compare")
def events_compare(
    slugs: Annotated[
        list[str] | None, typer.Argument(help="Event slugs (default: every preset).")
    ] = None,
    tag: Annotated[str | None, typer.Option(help="Only presets with this tag.")] = None,
    template: Annotated[
        list[str] | None,
        typer.Option(help="Template slug (repeat; default: the four seed templates)."),
    ] = None,
    data: DataOption = Path("data"),
    store: Annotated[
        Path | None,
        typer.Option(help="Market data store (default: the provider's, else the bundled sample)."),
    ] = None,
    provider: Annotated[
        str | None,
        typer.Option(help="Provider config JSON (file, '-' or inline; default: the demo's)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("hedgeframe-events"),
    collateral_value: Annotated[
        float | None, typer.Option(help="Collateral value at each event's start.")
    ] = None,
    units: Annotated[
        float | None, typer.Option(help="Units held at every event (instead of a value).")
    ] = None,
    loan_to_value: Annotated[float, typer.Option(help="Loan / collateral on day 0.")] = 0.6,
    margin_call_ltv: Annotated[float, typer.Option(help="Margin-call LTV.")] = 0.75,
    skip_missing: Annotated[
        bool | None,
        typer.Option(
            "--skip-missing/--require-data",
            help="Skip events without data (default: skip unless events are named).",
        ),
    ] = None,
) -> None:
    """Run one template set over several events; write the report and Parquet to OUT."""
    known = {p.slug: p for p, _ in _all_presets(data)}
    if slugs:
        unknown = [s for s in slugs if s not in known]
        if unknown:
            msg = f"unknown event slug(s) {unknown}; known: {', '.join(sorted(known))}"
            raise BadInputError(msg)
        presets = [known[s] for s in slugs]
    else:
        presets = list(known.values())
    if tag is not None:
        presets = [p for p in presets if tag in p.tags]
    if not presets:
        msg = f"no event presets match (tag {tag!r})"
        raise BadInputError(msg)
    portfolio = EventPortfolio(
        collateral_value=collateral_value,
        underlying_units=units,
        loan_to_value=loan_to_value,
        margin_call_ltv=margin_call_ltv,
    )
    _compare_and_report(
        presets,
        _templates_named(template or [], data),
        _provider(provider, store),
        portfolio,
        out,
        skip_missing=not slugs if skip_missing is None else skip_missing,
    )


# -- templates -------------------------------------------------------------------------------


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
        _print_json([t.model_dump(mode="json") for t in templates])
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
                "template_id": t.template_id,
            }
            for t in templates
        ]
    )
    _print_table(frame, _text_columns(*frame.columns))


@templates_app.command("show")
def templates_show(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    version: Annotated[int | None, typer.Option(help="Version (default: latest).")] = None,
    data: DataOption = Path("data"),
) -> None:
    """Print one template version as JSON."""
    _print_json(_template(data, key, version).model_dump(mode="json"))


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
        raw = _read_json(str(template_json), "template")
        items = raw if isinstance(raw, list) else [raw]
        templates = [StrategyTemplate.model_validate(item) for item in items]
    repository = hf.BacktestService(data).templates
    saved = [repository.save(t).model_dump(mode="json") for t in templates]
    _print_json(saved if len(saved) > 1 or seed else saved[0])


@templates_app.command("update")
def templates_update(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    changes_json: Annotated[
        str, typer.Argument(help="JSON object of changed fields: a file, '-' or inline.")
    ],
    data: DataOption = Path("data"),
) -> None:
    """Write version n+1 with the changed fields; print it as JSON."""
    changes = _read_json(changes_json, "changes")
    if not isinstance(changes, dict) or not changes:
        msg = 'changes must be a non-empty JSON object, e.g. \'{"description": "..."}\''
        raise BadInputError(msg)
    current = _template(data, key)
    try:
        updated = hf.BacktestService(data).templates.update(current.template_id, **changes)
    except TypeError as exc:
        raise BadInputError(str(exc)) from None
    _print_json(updated.model_dump(mode="json"))


@templates_app.command("archive")
def templates_archive(
    key: Annotated[str, typer.Argument(help="Template id or slug.")],
    data: DataOption = Path("data"),
) -> None:
    """Archive a template (a new version; older versions stay loadable); print it."""
    current = _template(data, key)
    _print_json(
        hf.BacktestService(data).templates.archive(current.template_id).model_dump(mode="json")
    )


# -- runs -------------------------------------------------------------------------------------


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


@app.command()
def run(
    scenario_json: Annotated[str, typer.Argument(help="Scenario JSON: a file, '-' or inline.")],
    provider: Annotated[str, typer.Option(help="Provider config JSON: a file, '-' or inline.")],
    data: DataOption = Path("data"),
) -> None:
    """Run a scenario on the templates stored in DATA; print the run id and the ranking.

    The run and its tables are stored in DATA (``hedgeframe runs show RUN_ID``). A run
    that fails on its input is recorded as failed, and the command exits with code 2.
    """
    scenario = hf.BacktestScenario.model_validate(_read_json(scenario_json, "scenario"))
    service = hf.BacktestService(data)
    record = service.submit(
        scenario, provider=provider_from_config(_read_json(provider, "provider config"))
    )
    typer.echo(f"run {record.run_id} {record.status.value}")
    if record.error is not None:
        msg = f"run {record.run_id} failed: {record.error}"
        raise BadInputError(msg)
    result = service.load_result(record.run_id)
    _print_table(result.comparison, _RUN_COLUMNS)


@runs_app.command("list")
def runs_list(data: DataOption = Path("data"), as_json: JsonFlag = False) -> None:
    """List the stored runs, oldest first."""
    runs = hf.BacktestService(data).list_runs()
    if as_json:
        _print_json([r.model_dump(mode="json") for r in runs])
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
    _print_table(frame, _text_columns(*frame.columns))


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="The run id.")],
    data: DataOption = Path("data"),
    as_json: JsonFlag = False,
) -> None:
    """Print a completed run's ranking (or, with --json, its comparison rows)."""
    result = hf.BacktestService(data).load_result(run_id)
    if as_json:
        _print_json(result.comparison.with_columns(pl.selectors.date().cast(pl.String)).to_dicts())
        return
    _print_table(result.comparison, _RUN_COLUMNS, f"run {run_id}")


# -- data -------------------------------------------------------------------------------------


def _bars_overview(store: hf.MarketDataStore) -> pl.DataFrame:
    rows = []
    for symbol in store.symbols():
        bars = store.underlying_bars(symbol)
        rows.append(
            {
                "symbol": symbol,
                "bars": bars.height,
                "first": bars.get_column("date").min(),
                "last": bars.get_column("date").max(),
                "source": ", ".join(sorted(bars.get_column("source").drop_nulls().unique())),
            }
        )
    return pl.DataFrame(rows)


@data_app.command("sample")
def data_sample(
    to: Annotated[
        Path | None, typer.Option("--to", help="Copy the sample's bars into this store.")
    ] = None,
) -> None:
    """Show the bundled sample store (S&P 500, NASDAQ, VIX); optionally copy it."""
    sample = hf.sample_store()
    overview = _bars_overview(sample)
    typer.echo(f"bundled sample store: {sample.root} (sample data, not for trading)")
    _print_table(overview, _text_columns(*overview.columns))
    if to is not None:
        target = hf.MarketDataStore(to)
        for symbol in sample.symbols():
            target.write_underlying_bars(sample.underlying_bars(symbol))
        typer.echo(f"copied {overview.height} symbols into {to}")


def _span(dates: pl.Series) -> str:
    text = dates.cast(pl.String)
    return f"{text.min()!s}..{text.max()!s}"


def _write_bars(store: Path, bars: pl.DataFrame, what: str) -> None:
    hf.MarketDataStore(store).write_underlying_bars(bars)
    dates = bars.get_column("date")
    typer.echo(
        f"{what}: {bars.height} bars {_span(dates)} "
        f"({', '.join(sorted(bars.get_column('source').unique()))}) -> {store}"
    )


@data_app.command("fetch")
def data_fetch(
    ctx: typer.Context,
    symbols: Annotated[list[str], typer.Argument(help="Yahoo symbols, e.g. ^GSPC ^VIX GLD.")],
    start: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="First day.")],
    end: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Last day (inclusive).")],
    store: StoreOption = Path("data/market"),
    raw: Annotated[
        bool, typer.Option("--raw", help="Raw closes instead of dividend-adjusted ones.")
    ] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Folder that caches downloads for re-use.")
    ] = None,
) -> None:
    """Download daily bars from Yahoo Finance (yfinance) into a store."""
    obj = ctx.obj if isinstance(ctx.obj, CliContext) else CliContext()
    with _progress("download", len(symbols)) as advance:
        for symbol in symbols:
            bars = fetch_yfinance_bars(
                symbol,
                start.date(),
                end.date(),
                auto_adjust=not raw,
                cache_dir=cache,
                downloader=obj.downloader,
            )
            _write_bars(store, bars, symbol)
            advance()


@data_app.command("import-bars")
def data_import_bars(
    csv: Annotated[
        Path, typer.Argument(help="CSV file of daily bars.", exists=True, dir_okay=False)
    ],
    symbol: Annotated[str, typer.Option(help="Symbol of every row.")],
    store: StoreOption = Path("data/market"),
    source: Annotated[str, typer.Option(help="Source tag stored with the rows.")] = "csv",
    date_format: Annotated[str | None, typer.Option(help="strftime format of dates.")] = None,
) -> None:
    """Import daily bars of one symbol from a CSV file (Date, Open, ..., Close)."""
    bars = read_bars_csv(csv, symbol=symbol, source=source, date_format=date_format)
    _write_bars(store, bars, symbol)


@data_app.command("import-chain")
def data_import_chain(
    csv: Annotated[
        Path, typer.Argument(help="CSV file of option quotes.", exists=True, dir_okay=False)
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="'generic' (store columns) or 'cboe' (DataShop EOD).")
    ] = "generic",
    symbol: Annotated[
        str | None, typer.Option(help="Symbol of every row (generic format).")
    ] = None,
    store: StoreOption = Path("data/market"),
    source: Annotated[str, typer.Option(help="Source tag (generic format).")] = "csv",
) -> None:
    """Import end-of-day option quotes into a store."""
    if fmt == "cboe":
        quotes = read_cboe_chain_csv(csv)
    elif fmt == "generic":
        quotes = read_chain_csv(csv, symbol=symbol, source=source)
    else:
        msg = f"--format must be 'generic' or 'cboe' (got {fmt!r})"
        raise BadInputError(msg)
    hf.MarketDataStore(store).write_option_quotes(quotes)
    days = quotes.get_column("as_of_date")
    symbols = ", ".join(sorted(quotes.get_column("symbol").unique()))
    typer.echo(
        f"{symbols}: {quotes.height} quotes on {days.n_unique()} day(s) {_span(days)} -> {store}"
    )


@data_app.command("list")
def data_list(store: StoreOption = Path("data/market")) -> None:
    """List what a store holds: bars per symbol, option quote days per symbol."""
    market = hf.MarketDataStore(store)
    overview = _bars_overview(market)
    if overview.height:
        _print_table(overview, _text_columns(*overview.columns), "underlying bars")
    else:
        typer.echo(f"no underlying bars in {store}")
    options = [
        {"symbol": s, "quote_days": len(d), "first": d[0], "last": d[-1]}
        for s in market.option_symbols()
        if (d := market.option_quote_dates(s))
    ]
    if options:
        frame = pl.DataFrame(options)
        _print_table(frame, _text_columns(*frame.columns), "option quotes")


# -- entry points -------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(whole record)"
        more = exc.error_count() - 1
        extra = f" (and {more} more error(s))" if more else ""
        return f"invalid {exc.title}: field {where!r}: {first['msg']}{extra}"
    return " ".join(str(exc).split())


def main(argv: Sequence[str] | None = None, *, downloader: BarDownloader | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Parameters
    ----------
    argv
        The arguments after the program name.
    downloader
        Replaces the yfinance download of ``data fetch`` (tests, recorded data).
    """
    command = typer.main.get_command(app)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="hedgeframe",
            standalone_mode=False,
            obj=CliContext(downloader=downloader),
        )
    except NoArgsIsHelpError as exc:  # the help was printed (typer prints it with rich)
        if exc.format_message().strip():
            err.print(exc.format_message(), markup=False)
        return EXIT_BAD_INPUT
    except typer.TyperException as exc:  # usage errors: unknown command, bad option...
        err.print(f"error: {_one_line(exc)} (see `hedgeframe --help`)", markup=False)
        return EXIT_BAD_INPUT
    except (HedgeframeError, ValueError, FileNotFoundError, PermissionError) as exc:
        err.print(f"error: {_one_line(exc)}", markup=False)
        return EXIT_BAD_INPUT
    except typer.Abort:
        err.print("aborted", markup=False)
        return EXIT_UNEXPECTED
    except Exception as exc:  # a bug: show where
        traceback.print_exc()
        err.print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)}", markup=False)
        return EXIT_UNEXPECTED
    return result if isinstance(result, int) else 0


def console_main() -> None:
    """Entry point of the ``hedgeframe`` script."""
    sys.exit(main())
