"""The HTML reports: one self-contained file plus its charts as PNG, for a run or an event set.

:func:`write_run_report` is what :meth:`hedgeframe.BacktestRunResult.write_html` calls, and
:func:`write_report` what :meth:`hedgeframe.events.EventComparison.write_html` calls. Each
has two halves usable on their own (e.g. to put one chart in a slide deck): the charts
(:func:`render_run_charts`, :func:`render_charts`) and the page (:func:`build_run_html`,
:func:`build_html`). matplotlib is imported only when a chart is drawn.

Layout: ``_format`` (number formats and column lists, shared with the command line),
``_describe`` (assumptions in words), ``_html`` (the page shell, tables, files), ``_plot``
(chart building blocks), then one ``_*_charts`` and one ``_*_report`` module per report.
"""

from hedgeframe.report._event_charts import render_charts
from hedgeframe.report._event_report import build_html, write_report
from hedgeframe.report._format import (
    ACROSS_COLUMNS,
    EVENT_SUMMARY_COLUMNS,
    EVENTS_COLUMNS,
    FORCED_SALES_COLUMNS,
    NUMERIC_FORMATS,
    RUN_COMPARISON_COLUMNS,
    TRADE_COLUMNS,
    Column,
)
from hedgeframe.report._html import check_report_path
from hedgeframe.report._plot import Chart, SeriesStyle, template_styles
from hedgeframe.report._run_charts import render_run_charts
from hedgeframe.report._run_report import (
    MAX_TRADES,
    build_run_html,
    write_run_report,
)

__all__ = [
    "ACROSS_COLUMNS",
    "EVENTS_COLUMNS",
    "EVENT_SUMMARY_COLUMNS",
    "FORCED_SALES_COLUMNS",
    "MAX_TRADES",
    "NUMERIC_FORMATS",
    "RUN_COMPARISON_COLUMNS",
    "TRADE_COLUMNS",
    "Chart",
    "Column",
    "SeriesStyle",
    "build_html",
    "build_run_html",
    "check_report_path",
    "render_charts",
    "render_run_charts",
    "template_styles",
    "write_report",
    "write_run_report",
]
