"""``hedgeframe data ...``: the bundled sample, downloads, CSV imports, store listing."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

import hedgeframe as hf
from hedgeframe.cli._common import (
    CliContext,
    StoreOption,
    data_app,
    print_table,
    progress,
    text_columns,
)
from hedgeframe.data import (
    CsvImport,
    fetch_yfinance_bars,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.data._csv import CloseChoice
from hedgeframe.errors import BadInputError


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
    print_table(overview, text_columns(*overview.columns))
    if to is not None:
        target = hf.MarketDataStore(to)
        for symbol in sample.symbols():
            target.write_underlying_bars(sample.underlying_bars(symbol))
        typer.echo(f"copied {overview.height} symbols into {to}")


def _span(dates: pl.Series) -> str:
    if dates.is_empty():
        return "(none)"
    text = dates.cast(pl.String)
    return f"{text.min()!s}..{text.max()!s}"


def _bars_line(store: Path, bars: pl.DataFrame, what: str) -> str:
    sources = ", ".join(sorted(bars.get_column("source").unique()))
    return f"{what}: {bars.height} bars {_span(bars.get_column('date'))} ({sources}) -> {store}"


def _write_bars(store: Path, bars: pl.DataFrame, what: str) -> None:
    hf.MarketDataStore(store).write_underlying_bars(bars)
    typer.echo(_bars_line(store, bars, what))


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
    with progress("download", len(symbols)) as advance:
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


def _column_map(pairs: list[str]) -> dict[str, str]:
    """``--map SRC=DEST`` options as ``{SRC: DEST}`` (a file column may hold ``=``)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, equals, target = pair.rpartition("=")
        if not equals or not source or not target:
            msg = f"--map expects FILE_COLUMN=STORE_COLUMN, e.g. 'Adj Close=close' (got {pair!r})"
            raise BadInputError(msg)
        mapping[source] = target.strip()
    return mapping


def _roots(text: str | None) -> list[str] | None:
    if text is None:
        return None
    roots = [root.strip() for root in text.split(",") if root.strip()]
    if not roots:
        msg = f"--roots expects option roots separated by commas, e.g. SPX,SPXW (got {text!r})"
        raise BadInputError(msg)
    return roots


def _write_import(imported: CsvImport, store: Path, summary: str) -> None:
    """Write an import into the store; print what was written, notes, warnings, drops."""
    quarantine = imported.write_to(hf.MarketDataStore(store))
    typer.echo(summary)
    for note in imported.notes:
        typer.echo(note)
    for warning in imported.warnings:
        typer.echo(f"warning: {warning}")
    if quarantine is not None:
        counts = imported.dropped.group_by("reason").agg(pl.col("line").n_unique()).sort("reason")
        reasons = ", ".join(f"{reason} {lines}" for reason, lines in counts.iter_rows())
        typer.echo(f"dropped {imported.dropped_rows} row(s) ({reasons}) -> {quarantine}")


CsvArgument = Annotated[
    Path, typer.Argument(help="CSV file, or a zip holding one.", exists=True, dir_okay=False)
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="SRC=DEST",
        help="Read file column SRC as store column DEST (repeatable), e.g. 'Adj Close=close'.",
    ),
]
DateFormatOption = Annotated[
    str | None,
    typer.Option(
        help="strftime format of the dates, e.g. %m/%d/%Y; needed when the values do not "
        "show the day/month order."
    ),
]
DropOption = Annotated[
    bool,
    typer.Option(
        "--drop-bad-rows",
        help="Import the good rows; write rows breaking a rule to STORE.quarantine/.",
    ),
]
CalendarOption = Annotated[
    str, typer.Option(help="Exchange calendar: rows on its non-sessions are warned about.")
]


@data_app.command("import-bars")
def data_import_bars(
    csv: CsvArgument,
    symbol: Annotated[str, typer.Option(help="Symbol of every row.")],
    store: StoreOption = Path("data/market"),
    source: Annotated[str, typer.Option(help="Source tag stored with the rows.")] = "csv",
    date_format: DateFormatOption = None,
    column_map: MapOption = None,
    close: Annotated[
        CloseChoice | None,
        typer.Option(help="Which close of a file with two (Yahoo: 'Close' is raw)."),
    ] = None,
    drop_bad_rows: DropOption = False,
    calendar: CalendarOption = "XNYS",
) -> None:
    """Import daily bars of one symbol from a CSV file (Date, Open, ..., Close)."""
    imported = read_bars_csv(
        csv,
        symbol=symbol,
        column_map=_column_map(column_map or []),
        close=close,
        date_format=date_format,
        drop_bad_rows=drop_bad_rows,
        calendar=calendar,
        source=source,
    )
    _write_import(imported, store, _bars_line(store, imported.rows, symbol))


@data_app.command("import-chain")
def data_import_chain(
    csv: CsvArgument,
    fmt: Annotated[
        str, typer.Option("--format", help="'generic' (store columns) or 'cboe' (DataShop EOD).")
    ] = "generic",
    symbol: Annotated[
        str | None, typer.Option(help="Symbol of every row (generic format).")
    ] = None,
    store: StoreOption = Path("data/market"),
    source: Annotated[str, typer.Option(help="Source tag (generic format).")] = "csv",
    roots: Annotated[
        str | None,
        typer.Option(help="Keep only these option roots, e.g. SPX,SPXW (a root column)."),
    ] = None,
    date_format: DateFormatOption = None,
    column_map: MapOption = None,
    drop_bad_rows: DropOption = False,
    calendar: CalendarOption = "XNYS",
) -> None:
    """Import end-of-day option quotes into a store."""
    if fmt not in {"generic", "cboe"}:
        msg = f"--format must be 'generic' or 'cboe' (got {fmt!r})"
        raise BadInputError(msg)
    read = (
        read_cboe_chain_csv
        if fmt == "cboe"
        else functools.partial(read_chain_csv, symbol=symbol, source=source)
    )
    imported = read(
        csv,
        column_map=_column_map(column_map or []),
        roots=_roots(roots),
        date_format=date_format,
        drop_bad_rows=drop_bad_rows,
        calendar=calendar,
    )
    quotes = imported.rows
    days = quotes.get_column("as_of_date")
    symbols = ", ".join(sorted(quotes.get_column("symbol").unique())) or "no symbol"
    summary = (
        f"{symbols}: {quotes.height} quotes on {days.n_unique()} day(s) {_span(days)} -> {store}"
    )
    _write_import(imported, store, summary)


@data_app.command("list")
def data_list(store: StoreOption = Path("data/market")) -> None:
    """List what a store holds: bars per symbol, option quote days per symbol."""
    market = hf.MarketDataStore(store)
    overview = _bars_overview(market)
    if overview.height:
        print_table(overview, text_columns(*overview.columns), "underlying bars")
    else:
        typer.echo(f"no underlying bars in {store}")
    options = [
        {"symbol": s, "quote_days": len(d), "first": d[0], "last": d[-1]}
        for s in market.option_symbols()
        if (d := market.option_quote_dates(s))
    ]
    if options:
        frame = pl.DataFrame(options)
        print_table(frame, text_columns(*frame.columns), "option quotes")
