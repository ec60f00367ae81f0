"""``BacktestService``: the repositories and the run orchestrator over one data folder.

Layout under ``root`` (SPEC section 3)::

    strategy_templates.json              templates (every version)
    event_presets.json                   event presets
    backtests/runs/<run_id>.json         one record per run (lifecycle, frozen inputs)
    backtests/<table>/run_id=<run_id>/part-0.parquet   result tables, one glob per table

A run is recorded ``queued`` before anything executes, ``running`` while it does, and
ends ``completed`` (tables written first, then the record), ``failed`` (with its error and
the warnings gathered so far) or ``cancelled`` (Ctrl-C).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from hedgeframe.engine import TABLE_SCHEMAS, BacktestRunResult, run_backtest
from hedgeframe.errors import HedgeframeError, RunNotFoundError
from hedgeframe.models import BacktestRun, BacktestScenario, RunStatus, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider
from hedgeframe.repositories import EventPresetRepository, RunRepository, TemplateRepository

__all__ = ["BacktestService"]


class BacktestService:
    """Repositories plus ``submit``/``load_result`` over one ``data/`` folder.

    Parameters
    ----------
    root
        The data folder; created on first write.

    Examples
    --------
    >>> import hedgeframe as hf, tempfile
    >>> service = hf.BacktestService(tempfile.mkdtemp())
    >>> saved = [service.templates.save(t) for t in hf.seed_templates()]
    >>> [t.slug for t in service.templates.list()][:2]
    ['ladder-33-33-33-atm-95pct-90pct-12m', 'ladder-50-50-atm-95pct-12m']
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.templates = TemplateRepository(self.root)
        self.events = EventPresetRepository(self.root)
        self.runs = RunRepository(self.root)
        self.results_root = self.root / "backtests"

    def submit(
        self,
        scenario: BacktestScenario,
        *,
        provider: HistoricalMarketDataProvider,
        templates: Sequence[StrategyTemplate] | None = None,
        keep_daily_path: bool = True,
        keep_trades: bool = True,
    ) -> BacktestRun:
        """Run a scenario and store its record and result tables.

        Templates are loaded from ``self.templates`` by the scenario's pinned versions
        unless given. The run's record is returned in its final state: ``completed``, or
        ``failed`` with the error (bad input or data does not raise here; it is recorded).
        ``keep_daily_path`` and ``keep_trades`` go to :func:`~hedgeframe.run_backtest`; a
        table it drops is stored empty.

        Raises
        ------
        KeyboardInterrupt
            Re-raised after the run is recorded ``cancelled``.
        """
        run = self.runs.create(
            BacktestRun(
                scenario_id=scenario.scenario_id,
                scenario_snapshot=scenario,
                provider_snapshot=provider.snapshot(),
            )
        )
        try:
            chosen = (
                list(templates)
                if templates is not None
                else [self.templates.get(r.template_id, r.version) for r in scenario.template_refs]
            )
            self.runs.transition(run.run_id, RunStatus.RUNNING, template_snapshots=chosen)
            result = run_backtest(
                scenario,
                chosen,
                provider,
                run_id=run.run_id,
                keep_daily_path=keep_daily_path,
                keep_trades=keep_trades,
            )
            result.write_parquet(self.results_root)
        except KeyboardInterrupt:
            self.runs.transition(
                run.run_id, RunStatus.CANCELLED, error="cancelled by the user (Ctrl-C)"
            )
            raise
        except (HedgeframeError, ValueError, LookupError, OSError) as exc:
            return self.runs.transition(
                run.run_id, RunStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
            )
        return self.runs.transition(
            run.run_id,
            RunStatus.COMPLETED,
            provider_snapshot=result.provider_snapshot,
            engine_version=result.engine_version,
            rules_version=result.rules_version,
            warnings=result.warnings,
            validation_notes=result.validation_notes,
        )

    def load_result(self, run_id: str) -> BacktestRunResult:
        """Load a completed run's result: its frozen inputs and its five tables.

        Raises
        ------
        RunNotFoundError
            When there is no such run, or it did not complete.
        """
        run = self.runs.get(run_id)
        if run.status is not RunStatus.COMPLETED or run.scenario_snapshot is None:
            msg = f"run {run_id!r} is {run.status.value!r}; only completed runs have results"
            raise RunNotFoundError(msg)
        tables = {
            name: pl.read_parquet(self.results_root / name / f"run_id={run_id}" / "part-0.parquet")
            for name in TABLE_SCHEMAS
        }
        return BacktestRunResult.model_validate(
            {
                "run_id": run.run_id,
                "scenario_snapshot": run.scenario_snapshot,
                "template_snapshots": run.template_snapshots,
                "provider_snapshot": run.provider_snapshot,
                "engine_version": run.engine_version,
                "rules_version": run.rules_version,
                "generated_at": run.completed_at or run.submitted_at,
                "warnings": run.warnings,
                "validation_notes": run.validation_notes,
                **tables,
            }
        )

    def list_runs(self) -> list[BacktestRun]:
        """Return every stored run, oldest first."""
        return self.runs.list()
