"""What the report tests share: the HTML read back as tables, cell maps, a sample run.

The report tests compare every cell shown with the result table it comes from: the HTML
is parsed with the standard library's parser (not the report's own code), and each
header is mapped, in the test, to the cell it must show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any

import polars as pl

import hedgeframe as hf

__all__ = ["Cell", "HtmlTable", "assert_shown", "column", "gfc_run", "read_tables"]

Cell = Callable[[dict[str, Any]], str]
"""What one header must show, computed from the row of the table it comes from."""


def column(name: str, fmt: Callable[[Any], str]) -> Cell:
    """The cell that shows column ``name`` in format ``fmt``."""
    return lambda row: fmt(row[name])


@dataclass
class HtmlTable:
    """One ``<table>``: the last heading above it, its header cells and its body rows."""

    heading: str
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, str]]:
        """Each body row keyed by the header cell above it."""
        return [dict(zip(self.head, row, strict=True)) for row in self.rows]

    def as_facts(self) -> dict[str, str]:
        """A two-column table (label, value) as a mapping."""
        assert all(len(row) == 2 for row in self.rows), self.rows
        return dict(self.rows)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[HtmlTable] = []
        self._heading = ""
        self._text: list[str] | None = None
        self._section = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h1", "h2", "h3", "th", "td"):
            self._text = []
        elif tag == "table":
            self.tables.append(HtmlTable(heading=self._heading))
            self._section = "tbody"
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._text is not None:
            self._heading = "".join(self._text).strip()
            self._text = None
        elif tag in ("th", "td") and self._text is not None and self._row is not None:
            self._row.append("".join(self._text))
            self._text = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[-1]
            if self._section == "thead":
                table.head = self._row
            else:
                table.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def read_tables(document: str) -> list[HtmlTable]:
    """Every table of an HTML document, in order, with the heading it sits under."""
    reader = _Reader()
    reader.feed(document)
    reader.close()
    return reader.tables


def assert_shown(table: HtmlTable, frame: pl.DataFrame, cells: dict[str, Cell]) -> None:
    """Every row and cell of ``table`` is ``frame``'s, formatted as ``cells`` says."""
    assert table.head == list(cells)
    assert len(table.rows) == frame.height
    for index, (shown, row) in enumerate(
        zip(table.as_dicts(), frame.iter_rows(named=True), strict=True)
    ):
        for header, value in shown.items():
            assert value == cells[header](row), f"row {index}, column {header!r}"


def gfc_run(
    templates: Sequence[hf.StrategyTemplate], portfolio: hf.BacktestPortfolioState
) -> hf.BacktestRunResult:
    """Run templates on the bundled S&P 500 from 2008-05-01 to 2009-03-31 (20 % vol, 1 % spread)."""
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.ConstantVol(0.2), spread_pct=0.01
    )
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol="^GSPC",
        start_date=date(2008, 5, 1),
        end_date=date(2009, 3, 31),
        portfolio=portfolio,
    )
    return hf.run_backtest(scenario, templates, provider)
