"""Selloff events (BT-003): built-in presets, preset -> scenario, and the event comparison.

An :class:`~hedgeframe.models.EventPreset` names a manually dated market window. To compare
hedges across events, a portfolio is defined once (an :class:`EventPortfolio`: the
collateral and the loan as ratios) and sized at each event's first close, each preset
becomes an ordinary :class:`~hedgeframe.models.BacktestScenario`
(:func:`materialize_event`), the same template set runs over every event (one
:func:`~hedgeframe.run_backtest` per event) and :func:`compare_events` gathers the ranked
summaries, the normalized value paths and the LTV paths into an :class:`EventComparison`.
Decisions are written down in ``docs/events-and-report.md``.

The engine only ever sees a scenario's ``start_date`` and ``end_date``, never the event's
window; and a longer window changes nothing dated before the shorter one's end (tests in
``tests/events/`` prove it), so event endpoints cannot steer a roll or an exit.
"""

from __future__ import annotations

from hedgeframe.events._compare import EventComparison, compare_events
from hedgeframe.events._materialize import event_templates, materialize_event
from hedgeframe.events._portfolio import EventPortfolio
from hedgeframe.events._presets import (
    BUNDLED_SAMPLE_TAG,
    NEEDS_FETCH_TAG,
    PRESETS_TIMESTAMP,
    builtin_event_presets,
)
from hedgeframe.events._schemas import (
    ACROSS_EVENTS_SCHEMA,
    EVENT_SUMMARY_SCHEMA,
    EVENTS_SCHEMA,
    LTV_PATHS_SCHEMA,
    NORMALIZED_PATHS_SCHEMA,
)

__all__ = [
    "ACROSS_EVENTS_SCHEMA",
    "BUNDLED_SAMPLE_TAG",
    "EVENTS_SCHEMA",
    "EVENT_SUMMARY_SCHEMA",
    "LTV_PATHS_SCHEMA",
    "NEEDS_FETCH_TAG",
    "NORMALIZED_PATHS_SCHEMA",
    "PRESETS_TIMESTAMP",
    "EventComparison",
    "EventPortfolio",
    "builtin_event_presets",
    "compare_events",
    "event_templates",
    "materialize_event",
]
