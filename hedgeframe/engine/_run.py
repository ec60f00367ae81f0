"""``run_backtest``: check a scenario against its templates and provider, run, freeze."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hedgeframe._version import __version__
from hedgeframe.engine._engine import simulate
from hedgeframe.engine._metrics import rank_summary
from hedgeframe.engine._result import BacktestRunResult, notes_key
from hedgeframe.errors import InvalidScenarioError
from hedgeframe.models import BacktestScenario, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider, MarketTimeline
from hedgeframe.providers._timeline import as_date

__all__ = [
    "ENTRY_SPOT_TOLERANCE",
    "RULES_SEMANTICS",
    "engine_version",
    "rules_version",
    "run_backtest",
]

SUMMARY_ONLY_BATCH = 1_000
"""Templates simulated together when daily paths are not kept (bounds working memory)."""

RULES_SEMANTICS = "hedgeframe-spec-4/v1"
"""Version of the engine semantics (SPEC section 4); bump whenever a rule changes."""


@functools.cache
def engine_version() -> str:
    """Return the package version, plus the git commit when running from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{sha}" if sha else __version__


def rules_version(scenario: BacktestScenario) -> str:
    """Hash the semantics' version and the engine configuration a run used."""
    payload = json.dumps(
        {
            "semantics": RULES_SEMANTICS,
            "execution_model": scenario.execution_model.model_dump(mode="json"),
            "valuation_frequency": scenario.valuation_frequency.value,
            "benchmark_mode": scenario.benchmark_mode.value,
        },
        sort_keys=True,
    )
    return "rules:" + hashlib.sha256(payload.encode()).hexdigest()[:16]


def _templates_in_ref_order(
    scenario: BacktestScenario, templates: Sequence[StrategyTemplate]
) -> list[StrategyTemplate]:
    by_key = {(t.template_id, t.version): t for t in templates}
    if len(by_key) != len(templates):
        msg = "templates must not repeat a (template_id, version) pair"
        raise InvalidScenarioError(msg)
    wanted = [(ref.template_id, ref.version) for ref in scenario.template_refs]
    missing = [f"{tid} v{v}" for tid, v in wanted if (tid, v) not in by_key]
    referenced = set(wanted)
    extra = [f"{t.slug} v{t.version}" for key, t in by_key.items() if key not in referenced]
    if missing or extra:
        msg = (
            f"scenario {scenario.slug!r} template_refs do not match the templates given: "
            f"missing {missing or 'none'}, not referenced {extra or 'none'}"
        )
        raise InvalidScenarioError(msg)
    ordered = [by_key[key] for key in wanted]
    for template in ordered:
        if not template.matches_symbol(scenario.symbol):
            msg = (
                f"template {template.slug} v{template.version} hedges "
                f"{template.underlying_symbol!r}, not the scenario's {scenario.symbol!r}"
            )
            raise InvalidScenarioError(msg)
    return ordered


ENTRY_SPOT_TOLERANCE = 0.01
"""How far ``entry_spot`` may be from the first close (relative) before a run is refused."""


def _check_entry_spot(scenario: BacktestScenario, timeline: MarketTimeline) -> None:
    """Refuse a portfolio sized at a price the scenario does not start at.

    ``entry_spot`` sizes the loan against the collateral (``loan < units * entry_spot``),
    while every value is ``units * close``: a portfolio sized at another price (a stale
    quote, another share class, a typo) starts the run at an LTV nobody intended.
    """
    if timeline.n_days == 0:
        return
    entry = scenario.initial_portfolio.entry_spot
    first = float(timeline.closes[0])
    if abs(entry / first - 1.0) > ENTRY_SPOT_TOLERANCE:
        msg = (
            f"scenario {scenario.slug!r}: initial_portfolio.entry_spot {entry:g} is "
            f"{entry / first - 1.0:+.1%} away from the first {scenario.symbol} close {first:g} "
            f"on {as_date(timeline.days[0])} (at most {ENTRY_SPOT_TOLERANCE:.0%}); set "
            f"entry_spot={first:g} and size the loan at it, or give an hf.EventPortfolio, "
            "which is sized at the first close"
        )
        raise InvalidScenarioError(msg)


def run_backtest(
    scenario: BacktestScenario,
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    *,
    run_id: str | None = None,
    keep_daily_path: bool = True,
    keep_trades: bool = True,
) -> BacktestRunResult:
    """Run every template of a scenario over history, day by day (SPEC section 4).

    Parameters
    ----------
    scenario
        The experiment; its ``template_refs`` must match ``templates`` exactly and its
        ``provider_ref`` must name ``provider``.
    templates
        The template versions the scenario references (from a repository or built inline).
    provider
        The historical data source, e.g. :class:`~hedgeframe.SyntheticHistoricalProvider`.
    run_id
        Id for the result; a new UUID by default.
    keep_daily_path
        False drops the daily table (summary, trades and positions are kept) for large sweeps.
    keep_trades
        False also drops the trades and positions tables. With ``keep_daily_path=False``
        that is a summary-only sweep: one summary row per template is all that is kept, so
        memory stays flat however many templates run.

    Raises
    ------
    InvalidScenarioError
        When templates, provider and scenario do not fit, or the rules refuse the scenario.
    """
    ref = scenario.provider_ref
    if ref.provider_id != provider.provider_id or ref.pricing_mode != provider.pricing_mode:
        msg = (
            f"scenario {scenario.slug!r} names provider {ref.provider_id!r} "
            f"({ref.pricing_mode}) but was given {provider.provider_id!r} "
            f"({provider.pricing_mode})"
        )
        raise InvalidScenarioError(msg)
    ordered = _templates_in_ref_order(scenario, templates)
    timeline = provider.load_timeline(scenario.symbol, scenario.start_date, scenario.end_date)
    _check_entry_spot(scenario, timeline)
    # Templates are independent: without daily paths, run them in batches so working
    # memory stays flat however many there are. The tables are the same either way.
    size = len(ordered) if keep_daily_path else SUMMARY_ONLY_BATCH
    outputs = [
        simulate(
            scenario,
            ordered[i : i + size],
            provider,
            timeline,
            keep_daily_path=keep_daily_path,
            keep_trades=keep_trades,
        )
        for i in range(0, len(ordered), size)
    ]
    summary = pl.concat([o.summary for o in outputs])
    return BacktestRunResult(
        run_id=run_id or str(uuid.uuid4()),
        scenario_snapshot=scenario,
        template_snapshots=ordered,
        provider_snapshot=provider.snapshot(timeline),
        engine_version=engine_version(),
        rules_version=rules_version(scenario),
        warnings=[*timeline.warnings, *(w for o in outputs for w in o.warnings)],
        validation_notes={
            notes_key(*key): notes for o in outputs for key, notes in o.validation_notes.items()
        },
        daily_path=pl.concat([o.daily_path for o in outputs]),
        trades=pl.concat([o.trades for o in outputs]),
        positions=pl.concat([o.positions for o in outputs]),
        summary=summary,
        comparison=rank_summary(summary, forced_sales_first=scenario.initial_portfolio.lender_acts),
    )
