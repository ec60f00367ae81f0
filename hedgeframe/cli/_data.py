"""``hedgeframe data ...``: the bundled sample, downloads, CSV imports, store listing."""

from __future__ import annotations

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
    fetch_yfinance_bars,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
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
