"""The ``hedgeframe`` command line: a thin layer that parses and calls the public API.

``main(argv)`` returns an exit code, so tests call it directly. Errors hedgeframe raises on
purpose print as one line (no traceback) and exit with code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console

import hedgeframe as hf
from hedgeframe.engine import engine_version
from hedgeframe.errors import HedgeframeError

__all__ = ["app", "console_main", "main"]

app = typer.Typer(
    help="Backtest option hedges on Lombard-loan collateral, point in time.",
    no_args_is_help=True,
    add_completion=False,
)

DEMO_START, DEMO_END = date(2007, 10, 1), date(2009, 12, 31)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the Parquet results.")] = Path(
        "hedgeframe-demo"
    ),
) -> None:
    """Run the four seed templates through the 2007-2009 crisis on the bundled S&P 500.

    A preview of the main job (the event comparison report arrives with BT-003): synthetic
    Black-Scholes-Merton prices with 21-day trailing realized volatility, 1 % bid/ask,
    a loan at 60 % of the collateral and a margin call at 75 %.
    """
    store = hf.sample_store()
    templates = hf.seed_templates()
    provider = hf.SyntheticHistoricalProvider(
        store, volatility=hf.TrailingRealizedVol(21), rate=0.02, spread_pct=0.01
    )
    entry_spot = float(store.underlying_bars("^GSPC", DEMO_START, DEMO_START)["close"][0])
    units = 1_000.0
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol="^GSPC",
        start_date=DEMO_START,
        end_date=DEMO_END,
        slug="gfc-2007-2009-preview",
        portfolio=hf.BacktestPortfolioState(
            underlying_units=units,
            entry_spot=entry_spot,
            loan_amount=0.6 * units * entry_spot,
            margin_call_ltv=0.75,
        ),
    )
    result = hf.run_backtest(scenario, templates, provider)
    result.write_parquet(out)
    columns = [
        "rank",
        "template_slug",
        "margin_call_days_unhedged",
        "margin_call_days_hedged",
        "max_ltv_hedged",
        "total_hedge_cost",
        "end_value_hedged_net",
    ]
    typer.echo(
        f"^GSPC {DEMO_START} .. {DEMO_END}: {units:,.0f} units at {entry_spot:,.2f}, "
        "loan 60 % of collateral, margin call at LTV 0.75 (preview; BT-003 brings the report)"
    )
    with pl.Config(
        tbl_rows=20, tbl_cols=20, tbl_width_chars=200, float_precision=3, fmt_str_lengths=40
    ):
        typer.echo(str(result.comparison.select(columns)))
    typer.echo(f"Parquet tables under {out}/<table>/run_id={result.run_id}/part-0.parquet")


@app.command()
def version() -> None:
    """Print the package and engine versions."""
    typer.echo(f"hedgeframe {engine_version()}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    command = typer.main.get_command(app)
    try:
        command.main(
            args=list(argv) if argv is not None else None,
            prog_name="hedgeframe",
            standalone_mode=True,
        )
    except HedgeframeError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return 2
    except SystemExit as exc:  # usage errors, --help and Ctrl-C end here
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0


def console_main() -> None:
    """Entry point of the ``hedgeframe`` script."""
    sys.exit(main())
