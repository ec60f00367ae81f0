"""The HTML shell every report shares: one self-contained page and its chart files.

Everything is inline (CSS in a ``<style>`` block, charts as base64 PNG, no script, no
link), so a report opens offline, survives e-mail and prints as it shows. Tables are
rendered from a frame and a column list of :mod:`hedgeframe.report._format`, the same list
the command line prints with.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import polars as pl

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.errors import BadInputError
from hedgeframe.report._format import NUMERIC_FORMATS, Column
from hedgeframe.report._plot import Chart

__all__ = [
    "caveat_box",
    "chart_html",
    "check_report_path",
    "esc",
    "facts_table",
    "meta_table",
    "page",
    "table",
    "warning_list",
    "write_report_files",
]

_CSS: Final = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1d1d1f;
       margin: 0 auto; max-width: 1240px; padding: 24px 32px 48px; line-height: 1.45; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 12px; border-top: 2px solid #d0d7de; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.subtitle { color: #57606a; margin: 0 0 16px; }
.meta { font-size: 13px; color: #57606a; }
.meta td { padding: 1px 14px 1px 0; border: none; }
.caveat { background: #fff8e1; border: 1px solid #e0c36a; border-left: 6px solid #d4a017;
          padding: 10px 16px; margin: 16px 0; font-size: 14px; }
.caveat ul { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; }
th { background: #f3f5f8; text-align: left; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.rank { text-align: center; font-weight: 600; }
tr.best td { background: #eef8ee; }
.chart { margin: 8px 0 20px; }
.chart img { max-width: 100%; border: 1px solid #e5e5e5; }
.notes { font-size: 13px; color: #333; }
.warnings li { font-size: 13px; }
.toc { font-size: 14px; columns: 2; }
footer { margin-top: 40px; font-size: 12px; color: #57606a; border-top: 1px solid #d0d7de;
         padding-top: 8px; }
"""


def esc(value: object) -> str:
    """Escape text for HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(str(value), quote=True)


def table(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    *,
    highlight_first: bool = False,
) -> str:
    """Render chosen columns of a frame as an HTML table, formatted per column."""
    head = "".join(f"<th>{esc(label)}</th>" for _, label, _ in columns)
    rows = []
    for index, row in enumerate(frame.iter_rows(named=True)):
        cells = []
        for name, _, fmt in columns:
            css = "rank" if name == "rank" else ("num" if fmt in NUMERIC_FORMATS else "")
            cells.append(f'<td class="{css}">{esc(fmt(row[name]))}</td>')
        best = ' class="best"' if highlight_first and index == 0 else ""
        rows.append(f"<tr{best}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def meta_table(pairs: Iterable[tuple[str, str]]) -> str:
    """Render a small two-column table of facts (generated at, versions, ids)."""
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f"<table class='meta'>{rows}</table>"


def facts_table(pairs: Iterable[tuple[str, str]]) -> str:
    """Render a two-column table of labelled facts (a scenario, a portfolio)."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs)
    return f"<table class='facts'><tbody>{rows}</tbody></table>"


def warning_list(warnings: Sequence[str]) -> str:
    """Every warning as a list item, or one item "none"."""
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings) or "<li>none</li>"
    return f"<ul class='warnings'>{items}</ul>"


def caveat_box(items: Sequence[str]) -> str:
    """Render the yellow box of caveats; ``items`` are trusted HTML."""
    return '<div class="caveat"><ul>' + "".join(f"<li>{i}</li>" for i in items) + "</ul></div>"


def chart_html(chart: Chart) -> str:
    """Render the chart as an ``<img>`` with its PNG inline (base64) and its alt text."""
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure class="chart"><img alt="{esc(chart.alt)}" '
        f'src="data:image/png;base64,{data}"></figure>'
    )


def page(title: str, body: str) -> str:
    """Wrap a report body in the HTML document with the shared stylesheet."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def check_report_path(
    path: str | Path, *, charts_dir: str | Path | None = None
) -> tuple[Path, Path]:
    """Check that a report and its charts can be written there; return both places.

    ``charts_dir`` defaults to ``charts/`` beside the HTML file. Called before anything
    is drawn or written (and by the command line before a run starts), so a report that
    cannot be written leaves nothing behind.

    Raises
    ------
    BadInputError
        When ``path`` is a folder, or a file stands where a folder is needed.
    """
    target = Path(path)
    folder = Path(charts_dir) if charts_dir is not None else target.parent / "charts"
    if target.is_dir():
        example = str(target / "report.html")
        msg = f"report path {str(target)!r} is a folder; name the HTML file, e.g. {example!r}"
        raise BadInputError(msg)
    for needed in (target.parent, folder):
        existing = next(p for p in (needed, *needed.parents) if p.exists())
        if not existing.is_dir():
            msg = (
                f"cannot write the report into {str(needed)!r}: {str(existing)!r} is a file, "
                "not a folder"
            )
            raise BadInputError(msg)
    return target, folder


def write_report_files(
    path: str | Path, charts: Sequence[Chart], document: str, *, charts_dir: str | Path | None
) -> Path:
    """Write each chart as ``<charts_dir>/<name>.png`` and then the HTML file, atomically."""
    target, folder = check_report_path(path, charts_dir=charts_dir)
    for chart in charts:
        atomic_write_bytes(folder / f"{chart.name}.png", chart.png)
    atomic_write_bytes(target, document.encode("utf-8"))
    return target
