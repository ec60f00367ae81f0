"""The event comparison report: one self-contained HTML file plus its charts as PNG.

:func:`write_report` is what :meth:`hedgeframe.events.EventComparison.write_html` calls;
:func:`render_charts` and :func:`build_html` are its two halves, usable on their own (e.g.
to put one chart in a slide deck). matplotlib is imported only when a chart is drawn.
"""

from hedgeframe.report._charts import Chart, render_charts, template_colors
from hedgeframe.report._format import (
    ACROSS_COLUMNS,
    EVENT_SUMMARY_COLUMNS,
    EVENTS_COLUMNS,
    NUMERIC_FORMATS,
    Column,
)
from hedgeframe.report._html import build_html, describe_provider, write_report

__all__ = [
    "ACROSS_COLUMNS",
    "EVENTS_COLUMNS",
    "EVENT_SUMMARY_COLUMNS",
    "NUMERIC_FORMATS",
    "Chart",
    "Column",
    "build_html",
    "describe_provider",
    "render_charts",
    "template_colors",
    "write_report",
]
