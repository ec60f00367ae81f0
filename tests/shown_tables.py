"""Read the tables a person sees (rich terminal tables, HTML report tables) as cells, and
check each against the result table it shows.

The header -> column -> format mapping is written out here, independently of
``hedgeframe.report._format``, so a swapped column, header or format there fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import polars as pl

Cells = list[dict[str, str]]


def count(value: Any) -> str:
    return f"{value:,d}"


def money(value: Any) -> str:
    return f"{value:,.0f}"


def share(value: Any) -> str:
    return f"{value:.1%}"


def ltv(value: Any) -> str:
    return "inf (hedged value <= 0)" if math.isinf(value) else f"{value:.1%}"


def number(value: Any) -> str:
    return f"{value:,.2f}"


def text(value: Any) -> str:
    return str(value)


SHOWN: dict[str, tuple[str, Callable[[Any], str]]] = {
    # header as printed -> (table column, how a person reads it)
    "rank": ("rank", count),
    "template": ("template_slug", text),
    "events": ("events", count),
    "mean rank": ("mean_rank", number),
    "1st places": ("first_places", count),
    "margin-call days unhedged": ("margin_call_days_unhedged", count),
    "margin-call days hedged": ("margin_call_days_hedged", count),
    "worst hedged LTV": ("max_ltv_hedged", ltv),
    "worst hedged drawdown": ("worst_drawdown_hedged", share),
    "total hedge cost": ("total_hedge_cost", money),
    "mean hedge cost / collateral": ("mean_hedge_cost_pct", share),
    "days kept out of a call": ("days_protected_below_threshold", count),
    "max hedged LTV": ("max_ltv_hedged", ltv),
    "hedged drawdown": ("worst_drawdown_hedged", share),
    "hedge cost": ("total_hedge_cost", money),
    "cost / collateral": ("hedge_cost_pct", share),
    "option proceeds": ("total_option_payoff_realized", money),
    "hedged end value": ("end_value_hedged_net", money),
    "unhedged end value": ("end_value_unhedged", money),
    "rolls": ("roll_count", count),
    "status": ("status", text),
    "event": ("event_slug", text),
    "symbol": ("symbol", text),
    "window start": ("window_start", text),
    "window end": ("window_end", text),
    "first day": ("first_day", text),
    "last day": ("last_day", text),
    "trading days": ("trading_days", count),
    "first close": ("entry_spot", number),
    "unhedged drawdown": ("worst_drawdown_unhedged", share),
    "max unhedged LTV": ("max_ltv_unhedged", ltv),
    "forced sales unhedged": ("forced_sale_value_unhedged", money),
    "forced sales hedged": ("forced_sale_value", money),
    "forced sales avoided": ("avoided", money),
}


def assert_shows(shown: Cells, table: pl.DataFrame, key: str) -> None:
    """Every shown cell equals its table value, read as a person reads it; rows by ``key``."""
    assert shown, "no table rows were shown"
    column_of_key = SHOWN[key][0]
    rows = {str(row[column_of_key]): row for row in table.iter_rows(named=True)}
    assert len(shown) == len(rows)
    for cells in shown:
        row = rows[cells[key]]
        for header, cell in cells.items():
            column, fmt = SHOWN[header]
            assert cell == fmt(row[column]), (header, cells[key], cell, row[column])


def rich_tables(output: str) -> list[Cells]:
    """The rows of every rich table in ``output``, as ``{header: cell}`` (headers joined
    over their wrapped lines)."""
    tables: list[Cells] = []
    headers: list[list[str]] = []
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("┏"):
            headers = []
            tables.append([])
        elif line.startswith("┃"):
            parts = [part.strip() for part in line.strip("┃").split("┃")]
            headers = headers or [[] for _ in parts]
            for pieces, part in zip(headers, parts, strict=True):
                if part:
                    pieces.append(part)
        elif line.startswith("│"):
            cells = [part.strip() for part in line.strip("│").split("│")]
            names = [" ".join(pieces) for pieces in headers]
            tables[-1].append(dict(zip(names, cells, strict=True)))
    return tables


class _HtmlTables(HTMLParser):
    """Collects every ``<table>`` with a ``<thead>`` as rows of ``{header: cell}``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Cells] = []
        self._current: Cells | None = None  # the table being read, if it has a head
        self._headers: list[str] = []
        self._row: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "thead":
            self._current, self._headers = [], []
            self.tables.append(self._current)
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._current is not None:
            if self._headers:
                self._current.append(dict(zip(self._headers, self._row, strict=True)))
            else:
                self._headers = self._row
        elif tag == "table":
            self._current = None


def html_tables(page: str) -> list[Cells]:
    parser = _HtmlTables()
    parser.feed(page)
    return parser.tables
