"""Read a report's HTML back into its tables, as a person would read them.

The report tests compare every cell shown with the result table it comes from; this
parser (the standard library's, not the report's own code) gives them the cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["HtmlTable", "read_tables"]


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
