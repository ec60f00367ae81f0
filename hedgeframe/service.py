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

from hedgeframe.data import MarketDataStore
from hedgeframe.engine import TABLE_SCHEMAS, BacktestRunResult, run_backtest
from hedgeframe.errors import HedgeframeError, RunNotFoundError, RunNotReproducibleError
from hedgeframe.models import BacktestRun, BacktestScenario, RunStatus, StrategyTemplate
from hedgeframe.providers import HistoricalMarketDataProvider, provider_from_config
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

    def rerun(self, run_id: str, *, store: MarketDataStore | None = None) -> BacktestRunResult:
        """Run a completed run again from its record alone, and check it reproduces.

        The provider is rebuilt from the stored configuration
        (:func:`~hedgeframe.provider_from_config`; ``store`` replaces the recorded store,
        e.g. a copy on another machine), and the frozen scenario runs on the frozen template
        versions. The result must read the same market data (its fingerprint) under the same
        rules and give equal tables; the new result is returned, nothing is stored.

        Raises
        ------
        RunNotFoundError
            When there is no such completed run.
        RunNotReproducibleError
            Naming what changed: the provider configuration no longer builds, the run fails
            on the data now (a moved store: pass ``store``), the market data the run read,
            the engine's rules, or (same data and rules) a table.
        """
        stored = self.load_result(run_id)
        try:
            provider = provider_from_config(stored.provider_snapshot.config, store)
        except HedgeframeError as exc:
            msg = f"run {run_id}: its provider configuration cannot be rebuilt: {exc}"
            raise RunNotReproducibleError(msg) from exc
        try:
            again = run_backtest(
                stored.scenario_snapshot,
                stored.template_snapshots,
                provider,
                run_id=run_id,
                keep_daily_path=not stored.daily_path.is_empty(),
                keep_trades=not (stored.trades.is_empty() and stored.positions.is_empty()),
            )
        except HedgeframeError as exc:
            used = stored.provider_snapshot.config.get("store") or "the bundled sample"
            msg = f"run {run_id} does not reproduce: it fails on the data now (store {used}): {exc}"
            raise RunNotReproducibleError(msg) from exc
        changed = _what_changed(stored, again)
        if changed:
            msg = f"run {run_id} does not reproduce: {changed}"
            raise RunNotReproducibleError(msg)
        return again

    def list_runs(self) -> list[BacktestRun]:
        """Return every stored run, oldest first."""
        return self.runs.list()


def _what_changed(stored: BacktestRunResult, again: BacktestRunResult) -> str | None:
    """Say what differs between a stored result and its rerun (None: nothing)."""
    before, now = stored.provider_snapshot.source_version, again.provider_snapshot.source_version
    if before != now:
        return (
            f"the market data it read changed (fingerprint {before} at the run, {now} now; "
            f"store {again.provider_snapshot.config.get('store') or 'the bundled sample'})"
        )
    versions = f"engine {stored.engine_version} at the run, {again.engine_version} now"
    if stored.rules_version != again.rules_version:
        rules = f"{stored.rules_version} -> {again.rules_version}"
        return f"the engine's rules changed ({rules}; {versions})"
    for name, frame in stored.tables().items():
        rerun = again.tables()[name]
        if not frame.equals(rerun):
            return f"table {name} differs ({_first_difference(frame, rerun)}; {versions})"
    return None


def _first_difference(stored: pl.DataFrame, again: pl.DataFrame) -> str:
    if stored.shape != again.shape:
        return f"{stored.height} rows at the run, {again.height} now"
    for column in stored.columns:
        differs = ~stored[column].eq_missing(again[column])
        if differs.any():
            row = int(differs.arg_true()[0])
            then, now = stored[column][row], again[column][row]
            return f"column {column}, row {row}: {then!r} then, {now!r} now"
    return "equal values in another order"
