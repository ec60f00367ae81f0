"""The event report's tables show the comparison's tables, cell by cell.

As in ``test_run_report.py``: the HTML is read back with the standard library's parser
and each cell is compared with the formatted value of the table cell it shows, through
header-to-column maps written here, on events whose columns all differ somewhere.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from report_helpers import Cell, HtmlTable, assert_shown, column, read_tables

import hedgeframe as hf
from hedgeframe.events import EventComparison, builtin_event_presets, compare_events
from hedgeframe.models import RollPolicyType
from hedgeframe.report._format import fmt_int, fmt_ltv, fmt_money, fmt_num, fmt_pct, fmt_text

ACROSS_CELLS: dict[str, Cell] = {
    "rank": column("rank", fmt_int),
    "template": column("template_slug", fmt_text),
    "events": column("events", fmt_int),
    "mean rank": column("mean_rank", fmt_num),
    "1st places": column("first_places", fmt_int),
    "margin-call days unhedged": column("margin_call_days_unhedged", fmt_int),
    "margin-call days hedged": column("margin_call_days_hedged", fmt_int),
    "worst hedged LTV": column("max_ltv_hedged", fmt_ltv),
    "worst hedged drawdown": column("worst_drawdown_hedged", fmt_pct),
    "total hedge cost": column("total_hedge_cost", fmt_money),
    "mean hedge cost / collateral": column("mean_hedge_cost_pct", fmt_pct),
}
SUMMARY_CELLS: dict[str, Cell] = {
    "rank": column("rank", fmt_int),
    "template": column("template_slug", fmt_text),
    "margin-call days hedged": column("margin_call_days_hedged", fmt_int),
    "days kept out of a call": column("days_protected_below_threshold", fmt_int),
    "max hedged LTV": column("max_ltv_hedged", fmt_ltv),
    "hedged drawdown": column("worst_drawdown_hedged", fmt_pct),
    "hedge cost": column("total_hedge_cost", fmt_money),
    "cost / collateral": lambda row: fmt_pct(row["total_hedge_cost"] / row["start_value"]),
    "option proceeds": column("total_option_payoff_realized", fmt_money),
    "hedged end value": column("end_value_hedged_net", fmt_money),
    "unhedged end value": column("end_value_unhedged", fmt_money),
    "rolls": column("roll_count", fmt_int),
    "status": column("status", fmt_text),
}
EVENTS_CELLS: dict[str, Cell] = {
    "event": column("event_slug", fmt_text),
    "symbol": column("symbol", fmt_text),
    "window start": column("window_start", fmt_text),
    "window end": column("window_end", fmt_text),
    "first day": column("first_day", fmt_text),
    "last day": column("last_day", fmt_text),
    "trading days": column("trading_days", fmt_int),
    "first close": column("entry_spot", fmt_num),
    "unhedged drawdown": column("worst_drawdown_unhedged", fmt_pct),
    "max unhedged LTV": column("max_ltv_unhedged", fmt_ltv),
    "margin-call days unhedged": column("margin_call_days_unhedged", fmt_int),
}
SAME_EVERYWHERE = {("symbol", "event")}
"""Columns allowed to look alike here: one symbol, and its pairing is checked by name."""


@pytest.fixture(scope="module")
def comparison() -> EventComparison:
    """The GFC and the 2011 downgrade, entered two weeks early, with a rolled monthly put."""
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.ConstantVol(0.25), spread_pct=0.01
    )
    presets = [
        p.model_copy(
            update={
                "scenario_overrides": p.scenario_overrides.model_copy(update={"lookback_days": 14})
            }
        )
        for p in builtin_event_presets()
        if p.slug in ("gfc-2007-2009", "us-downgrade-2011")
    ]
    roll = hf.RollPolicy(policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY, days_before_expiry=5)
    templates = [*hf.seed_templates(), hf.protective_put("put-80pct-1m-rolled", 0.8, 30, roll)]
    return compare_events(presets, templates, provider)


@pytest.fixture(scope="module")
def tables(
    comparison: EventComparison, tmp_path_factory: pytest.TempPathFactory
) -> list[HtmlTable]:
    report: Path = comparison.write_html(tmp_path_factory.mktemp("events") / "report.html")
    return read_tables(report.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("table_name", "cells"),
    [("across_events", ACROSS_CELLS), ("summary", SUMMARY_CELLS), ("events", EVENTS_CELLS)],
)
def test_the_fixture_tells_every_column_apart(
    comparison: EventComparison, table_name: str, cells: dict[str, Cell]
) -> None:
    rows = list(getattr(comparison, table_name).iter_rows(named=True))
    for (a, cell_a), (b, cell_b) in itertools.combinations(cells.items(), 2):
        if (a, b) not in SAME_EVERYWHERE and (b, a) not in SAME_EVERYWHERE:
            assert [cell_a(r) for r in rows] != [cell_b(r) for r in rows], (a, b)


def test_across_events_table(comparison: EventComparison, tables: list[HtmlTable]) -> None:
    (table,) = [t for t in tables if t.heading == "Across events"]
    assert_shown(table, comparison.across_events, ACROSS_CELLS)


def test_events_table(comparison: EventComparison, tables: list[HtmlTable]) -> None:
    (table,) = [t for t in tables if t.heading == "Events"]
    assert_shown(table, comparison.events, EVENTS_CELLS)


def test_each_event_summary(comparison: EventComparison, tables: list[HtmlTable]) -> None:
    for preset in comparison.presets:
        (table,) = [t for t in tables if t.heading == preset.display_name]
        summary = comparison.summary.filter(pl.col("event_slug") == preset.slug)
        assert_shown(table, summary, SUMMARY_CELLS)


def test_rank_heat_table(comparison: EventComparison, tables: list[HtmlTable]) -> None:
    (table,) = [t for t in tables if t.heading == "Rank in each event"]
    events = [p.slug for p in comparison.presets]
    assert table.head == ["template", *events, "mean rank", "overall rank"]
    ranks = {
        (r["template_slug"], r["event_slug"]): r["rank"] for r in comparison.summary.to_dicts()
    }
    for shown, row in zip(
        table.as_dicts(), comparison.across_events.iter_rows(named=True), strict=True
    ):
        assert shown["template"] == row["template_slug"]
        assert [shown[e] for e in events] == [str(ranks[row["template_slug"], e]) for e in events]
        assert shown["mean rank"] == fmt_num(row["mean_rank"])
        assert shown["overall rank"] == str(row["rank"])
