"""``hedgeframe demo`` and ``hedgeframe events ...``: presets and the event comparison."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Final

import polars as pl
import typer

import hedgeframe as hf
from hedgeframe.cli._common import (
    AppendFlag,
    DataOption,
    JsonFlag,
    app,
    drop_older_partitions,
    events_app,
    print_json,
    print_table,
    progress,
    read_json,
    stdout,
    text_columns,
)
from hedgeframe.cli._providers import resolve_provider
from hedgeframe.errors import BadInputError, TemplateNotFoundError
from hedgeframe.events import (
    BUNDLED_SAMPLE_TAG,
    EventComparison,
    EventPortfolio,
    builtin_event_presets,
    compare_events,
)
from hedgeframe.models import EventPreset, MarginCallPolicy, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider, parse_provider_config
from hedgeframe.report import ACROSS_COLUMNS, EVENTS_COLUMNS, FORCED_SALES_COLUMNS
from hedgeframe.templates import demo_templates

LENDER_COLUMNS: Final = FORCED_SALES_COLUMNS + [
    column
    for column in ACROSS_COLUMNS
    if column[0] in ("margin_call_days_hedged", "max_ltv_hedged", "total_hedge_cost")
]
"""The demo's second table: forced sales first, then the protection and its cost."""


def _compare_and_report(
    presets: list[EventPreset],
    templates: list[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    portfolio: EventPortfolio,
    out: Path,
    *,
    skip_missing: bool,
    append: bool,
) -> EventComparison:
    """Run the comparison, write Parquet and the report, print the ranking.

    The Parquet partitions of an earlier run in ``out`` are removed once the new ones are
    written (a rerun replaces its results; a glob never counts them twice), unless
    ``append``.
    """
    with progress("events", len(presets)) as advance:
        comparison = compare_events(
            presets,
            templates,
            provider,
            portfolio,
            skip_missing=skip_missing,
            on_event=lambda _: advance(),
        )
    written = comparison.write_parquet(out).values()
    replaced = 0 if append else drop_older_partitions(written)
    with progress("report", 1) as advance:
        report = comparison.write_html(out / "report.html")
        advance()
    console = stdout()
    snapshot = comparison.provider_snapshot
    console.print(
        f"{len(comparison.templates)} templates x {comparison.events.height} events; "
        f"portfolio: {portfolio.describe()}"
    )
    for line in parse_provider_config(snapshot.config).describe():
        console.print(f"  {line}")
    print_table(comparison.events, EVENTS_COLUMNS[:1] + EVENTS_COLUMNS[2:4] + EVENTS_COLUMNS[8:])
    print_table(comparison.across_events, ACROSS_COLUMNS, "Across events (1 = best)")
    for warning in comparison.warnings:
        console.print(f"warning: {warning}")
    console.print(f"report: {report}")
    console.print(f"charts: {report.parent / 'charts'}/*.png")
    console.print(
        f"parquet: {out}/<table>/comparison_id={comparison.comparison_id}/part-0.parquet "
        f"and {out}/<table>/run_id=<run_id>/part-0.parquet"
        + (f" (replaced {replaced} earlier partition(s))" if replaced else "")
    )
    return comparison


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the report, charts and Parquet.")
    ] = Path("hedgeframe-demo"),
    append: AppendFlag = False,
) -> None:
    """Compare six hedges over every selloff in the bundled S&P 500 sample.

    The four seed templates (protective puts and ladders), a zero-cost collar and a 95/80
    put spread, all 12 months. Synthetic Black-Scholes-Merton prices (VIX/100 where the
    sample has it, 21-day realized volatility before), 2 % rate, 1 % bid/ask; USD 1m of
    collateral at each event's first close, loan 60 %, margin call at 75 %. Writes
    report.html, charts/*.png and Parquet tables into OUT, and prints the ranking.
    """
    presets = [p for p in builtin_event_presets() if BUNDLED_SAMPLE_TAG in p.tags]
    provider = resolve_provider(None, None)
    templates = demo_templates()
    _compare_and_report(
        presets, templates, provider, EventPortfolio(), out, skip_missing=False, append=append
    )
    # The same events with a lender that charges interest and acts on a call (SPEC 9.2).
    lender = EventPortfolio(loan_rate=0.04, margin_call_policy=MarginCallPolicy.CURE)
    with progress("events with a lender", len(presets)) as advance:
        cured = compare_events(presets, templates, provider, lender, on_event=lambda _: advance())
    cured.write_parquet(out)
    report = cured.write_html(out / "report-lender.html", charts_dir=out / "charts-lender")
    print_table(
        cured.across_events.with_columns(
            (pl.col("forced_sale_value_unhedged") - pl.col("forced_sale_value")).alias(
                "forced_sales_avoided"
            )
        ),
        LENDER_COLUMNS,
        "With a lender: loan at 4 % a year, margin calls cured by selling collateral down to "
        "60 % LTV (1 = best: fewest forced sales first)",
    )
    stdout().print(f"report: {report}")


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
        print_json([{**p.model_dump(mode="json"), "origin": o} for p, o in presets])
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
        print_table(frame, text_columns(*frame.columns))
    else:
        typer.echo("no event presets")


@events_app.command("add")
def events_add(
    preset_json: Annotated[str, typer.Argument(help="Preset JSON: a file, '-' or inline.")],
    data: DataOption = Path("data"),
) -> None:
    """Store a custom event preset (JSON in, the stored preset as JSON out)."""
    preset = EventPreset.model_validate(read_json(preset_json, "event preset"))
    saved = hf.BacktestService(data).events.save(preset)
    print_json(saved.model_dump(mode="json"))


def _templates_named(slugs: Sequence[str], data: Path) -> list[StrategyTemplate]:
    """Templates by slug: from the data folder's repository, else the demo's templates."""
    if not slugs:
        return demo_templates()
    repository = hf.BacktestService(data).templates
    seeds = {t.slug: t for t in demo_templates()}
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
        typer.Option(help="Template slug (repeat; default: the demo's six templates)."),
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
    append: AppendFlag = False,
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
        resolve_provider(provider, store),
        portfolio,
        out,
        skip_missing=not slugs if skip_missing is None else skip_missing,
        append=append,
    )
