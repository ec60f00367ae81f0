"""``BacktestRunResult``: a run's frozen inputs and its five tables."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final

import polars as pl
from pydantic import ConfigDict, Field, PlainSerializer, PlainValidator, ValidationError

from hedgeframe._atomic import atomic_write_bytes
from hedgeframe.engine._schemas import RUNS_SCHEMA, TABLE_SCHEMAS
from hedgeframe.errors import HedgeframeError
from hedgeframe.models import (
    BacktestDailyPoint,
    BacktestScenario,
    BacktestSummaryMetrics,
    BacktestTradeRecord,
    FrozenModel,
    HistoricalInstrumentKey,
    HistoricalOptionPosition,
    ProviderSnapshot,
    StrategyTemplate,
    TemplateBacktestResult,
)
from hedgeframe.models._base import utc_now
from hedgeframe.pricing import VOLATILITY_ADAPTER
from hedgeframe.providers import parse_provider_config

__all__ = ["BacktestRunResult", "notes_key"]


def notes_key(template_id: str, version: int) -> str:
    """Return the key of a template's validation notes: ``"<template_id>@v<version>"``."""
    return f"{template_id}@v{version}"


def _frame_field(table: str) -> Any:
    """Build a DataFrame field type: checked against the table's schema, JSON as rows."""
    schema = TABLE_SCHEMAS[table]
    temporal = [name for name, dtype in schema.items() if dtype == pl.Date]

    def validate(value: object) -> pl.DataFrame:
        if isinstance(value, pl.DataFrame):
            frame = value
        elif isinstance(value, list):
            loose = {k: (pl.String if k in temporal else v) for k, v in schema.items()}
            frame = pl.DataFrame(value, schema=loose, orient="row" if not value else None)
            frame = frame.with_columns(pl.col(temporal).str.to_date())
        else:
            msg = f"{table} must be a polars DataFrame or a list of rows"
            raise TypeError(msg)
        if frame.schema != schema:
            msg = f"{table} columns {dict(frame.schema)} do not match its schema {dict(schema)}"
            raise ValueError(msg)
        return frame

    def serialize(frame: pl.DataFrame) -> list[dict[str, Any]]:
        return frame.with_columns(pl.col(temporal).cast(pl.String)).to_dicts()

    return Annotated[
        pl.DataFrame, PlainValidator(validate), PlainSerializer(serialize, when_used="json")
    ]


class BacktestRunResult(FrozenModel):
    """Everything a run produced: frozen inputs, warnings and the five output tables.

    The tables (SPEC section 5) are Polars frames; ``write_parquet`` lays them out for
    BI tools, hive-partitioned by ``run_id``. ``template_results`` gives the same data as
    per-template records.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_id: str
    scenario_snapshot: BacktestScenario
    template_snapshots: list[StrategyTemplate]
    provider_snapshot: ProviderSnapshot
    engine_version: str
    rules_version: str
    generated_at: datetime = Field(default_factory=utc_now)
    warnings: list[str] = Field(default_factory=list)
    validation_notes: dict[str, list[str]] = Field(default_factory=dict)
    daily_path: _frame_field("daily_path")  # type: ignore[valid-type]
    trades: _frame_field("trades")  # type: ignore[valid-type]
    positions: _frame_field("positions")  # type: ignore[valid-type]
    summary: _frame_field("summary")  # type: ignore[valid-type]
    comparison: _frame_field("comparison")  # type: ignore[valid-type]

    def tables(self) -> dict[str, pl.DataFrame]:
        """Return the five output tables by name."""
        return {name: getattr(self, name) for name in TABLE_SCHEMAS}

    def run_info(self) -> pl.DataFrame:
        """Return the run's one-row ``runs`` table (:data:`RUNS_SCHEMA`): what ran, on what.

        The provider's configuration is read back into its typed model where it can be
        (its settings become columns); an older, unreadable one is kept as JSON only.
        """
        scenario, snapshot = self.scenario_snapshot, self.provider_snapshot
        portfolio = scenario.initial_portfolio
        config = snapshot.config
        try:
            described: str | None = "; ".join(parse_provider_config(config).describe())
        except HedgeframeError:
            described = None
        volatility = config.get("volatility")
        row = {
            "run_id": self.run_id,
            "scenario_id": scenario.scenario_id,
            "scenario_slug": scenario.slug,
            "event_preset_id": scenario.event_preset_id,
            "symbol": scenario.symbol,
            "start_date": scenario.start_date,
            "end_date": scenario.end_date,
            "templates": self.summary.height,
            "complete_templates": int(self.summary["complete"].sum()),
            "provider_id": snapshot.provider_id,
            "pricing_mode": scenario.provider_ref.pricing_mode.value,
            "provider_kind": config.get("kind"),
            "provider": described,
            "provider_config": json.dumps(config, sort_keys=True),
            "volatility": _volatility_text(volatility),
            **{name: config.get(name) for name in _PROVIDER_SETTINGS},
            "data_fingerprint": snapshot.source_version,
            **{name: getattr(portfolio, name) for name in _PORTFOLIO_FIELDS},
            "engine_version": self.engine_version,
            "rules_version": self.rules_version,
            "created_at": self.generated_at,
        }
        return pl.DataFrame([row], schema=RUNS_SCHEMA)

    def write_parquet(self, root: str | Path) -> dict[str, Path]:
        """Write ``<root>/<table>/run_id=<run_id>/part-0.parquet`` for each table, atomically.

        The five tables and the one-row ``runs`` table (:meth:`run_info`). One glob over
        ``<root>/<table>/*/*.parquet`` with hive partitioning then queries every run at once
        (DuckDB, Polars, Spark, Power BI), joined on ``run_id``.
        """
        written: dict[str, Path] = {}
        for name, frame in {**self.tables(), "runs": self.run_info()}.items():
            path = Path(root) / name / f"run_id={self.run_id}" / "part-0.parquet"
            atomic_write_bytes(path, _parquet_bytes(frame))
            written[name] = path
        return written

    def write_html(
        self,
        path: str | Path,
        *,
        charts_dir: str | Path | None = None,
        max_trades: int = 100,
    ) -> Path:
        """Write the self-contained HTML report of this run, and its charts as PNG files.

        The report shows the assumptions (scenario, portfolio, provider, templates,
        warnings), the ranked comparison, value and LTV paths, and each template's trades
        (``docs/events-and-report.md``).

        Parameters
        ----------
        path
            The HTML file.
        charts_dir
            Folder for the PNG copies of the charts; default ``<path's folder>/charts``.
        max_trades
            Trades shown per template; a longer log shows its first ``max_trades`` and
            says how many there are (all of them are in :attr:`trades`).

        Raises
        ------
        BadInputError
            When ``max_trades`` is below 1 or the report cannot be written there
            (nothing is written then).
        """
        from hedgeframe.report import write_run_report  # matplotlib loads only when reporting

        return write_run_report(self, path, charts_dir=charts_dir, max_trades=max_trades)

    @property
    def template_results(self) -> list[TemplateBacktestResult]:
        """The tables as one record per template (convenient for small runs)."""
        return [self._template_result(row) for row in self.summary.iter_rows(named=True)]

    def _template_result(self, row: dict[str, Any]) -> TemplateBacktestResult:
        key = (pl.col("template_id") == row["template_id"]) & (
            pl.col("template_version") == row["template_version"]
        )
        metric_names = BacktestSummaryMetrics.model_fields
        daily = self.daily_path.filter(key)
        trades = self.trades.filter(key)
        positions = self.positions.filter(key)
        return TemplateBacktestResult(
            template_id=row["template_id"],
            template_version=row["template_version"],
            template_name=next(
                (t.display_name or t.slug)
                for t in self.template_snapshots
                if (t.template_id, t.version) == (row["template_id"], row["template_version"])
            ),
            template_slug=row["template_slug"],
            status=row["status"],
            days_run=row["days_run"],
            incomplete_reason=row["incomplete_reason"],
            summary_metrics=BacktestSummaryMetrics(**{k: row[k] for k in metric_names}),
            daily_path=[
                BacktestDailyPoint.model_validate(
                    {k: v for k, v in r.items() if k in BacktestDailyPoint.model_fields}
                )
                for r in daily.iter_rows(named=True)
            ],
            position_log=[_position_record(r) for r in positions.iter_rows(named=True)],
            trade_log=[_trade_record(r) for r in trades.iter_rows(named=True)],
            validation_notes=self.validation_notes.get(
                notes_key(row["template_id"], row["template_version"]), []
            ),
        )


_PROVIDER_SETTINGS: Final = (
    "rate",
    "dividend_yield",
    "spread_pct",
    "fill",
    "max_stale_days",
    "calendar",
    "store",
)
_PORTFOLIO_FIELDS: Final = (
    "currency",
    "underlying_units",
    "entry_spot",
    "loan_amount",
    "margin_call_ltv",
    "cash_balance",
    "financing_rate",
)


def _volatility_text(config: Any) -> str | None:
    """Describe the volatility regime in words (its JSON when it cannot be read back)."""
    if config is None:
        return None
    try:
        return str(VOLATILITY_ADAPTER.validate_python(config))
    except ValidationError:
        return json.dumps(config, sort_keys=True)


def _instrument(row: dict[str, Any]) -> HistoricalInstrumentKey:
    return HistoricalInstrumentKey(
        symbol=row["symbol"],
        option_type=row["option_type"],
        expiry=row["expiry"],
        strike=row["strike"],
    )


def _trade_record(row: dict[str, Any]) -> BacktestTradeRecord:
    fields = {k: row[k] for k in BacktestTradeRecord.model_fields if k in row}
    return BacktestTradeRecord.model_validate({**fields, "instrument_key": _instrument(row)})


def _position_record(row: dict[str, Any]) -> HistoricalOptionPosition:
    fields = {k: row[k] for k in HistoricalOptionPosition.model_fields if k in row}
    return HistoricalOptionPosition.model_validate(
        {
            **fields,
            "instrument_key": _instrument(row),
            "template_leg_id": row["leg_id"],
        }
    )


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()
