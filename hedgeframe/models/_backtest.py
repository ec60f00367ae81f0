"""Backtest scenarios and runs: the saved experiment and its execution record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from hedgeframe.models._base import FrozenModel, Slug, check_ratio, utc_now
from hedgeframe.models._enums import (
    BenchmarkMode,
    ContractRounding,
    ExecutionTiming,
    MarginCallPolicy,
    PricingMode,
    RunStatus,
    ValuationFrequency,
)
from hedgeframe.models._template import StrategyTemplate

__all__ = [
    "BacktestPortfolioState",
    "BacktestRun",
    "BacktestScenario",
    "ExecutionModel",
    "ProviderRef",
    "ProviderSnapshot",
    "TemplateRef",
]


def _new_id() -> str:
    return str(uuid.uuid4())


class BacktestPortfolioState(FrozenModel):
    """The collateral and loan at day 0, in neutral ``underlying_units``, and the lender.

    ``loan_rate`` accrues on the loan each day (SPEC 9.2 step 1); ``margin_call_policy``
    says what a margin call does (``none``: it is flagged; ``cure``: collateral is sold
    down to ``cure_ltv``; ``liquidate``: everything is sold on the first call).
    """

    currency: str = Field(default="USD", min_length=3, max_length=3)
    underlying_units: float = Field(gt=0.0, allow_inf_nan=False)
    entry_spot: float = Field(gt=0.0, allow_inf_nan=False)
    loan_amount: float = Field(ge=0.0, allow_inf_nan=False)
    margin_call_ltv: float = Field(gt=0.0, allow_inf_nan=False)
    cash_balance: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    financing_rate: float = Field(default=0.0, ge=-1.0, le=1.0, allow_inf_nan=False)
    loan_rate: float = Field(default=0.0, ge=-0.5, lt=1.0, allow_inf_nan=False)
    margin_call_policy: MarginCallPolicy = MarginCallPolicy.NONE
    cure_ltv: float = Field(default=0.60, gt=0.0, allow_inf_nan=False)

    @field_validator("margin_call_ltv")
    @classmethod
    def _ltv_is_a_ratio(cls, value: float) -> float:
        return check_ratio(value, "margin_call_ltv", high=1.0)

    @field_validator("cure_ltv")
    @classmethod
    def _cure_is_a_ratio(cls, value: float) -> float:
        return check_ratio(value, "cure_ltv", high=1.0, inclusive=False)

    @model_validator(mode="after")
    def _cure_below_the_call(self) -> Self:
        if self.margin_call_policy is MarginCallPolicy.CURE and not (
            self.cure_ltv < self.margin_call_ltv
        ):
            msg = (
                f"cure_ltv {self.cure_ltv} must be below margin_call_ltv "
                f"{self.margin_call_ltv}: a cure sells collateral down to it"
            )
            raise ValueError(msg)
        return self

    @property
    def lender_acts(self) -> bool:
        """Whether a margin call triggers a sale (policy ``cure`` or ``liquidate``)."""
        return self.margin_call_policy is not MarginCallPolicy.NONE

    @model_validator(mode="after")
    def _loan_below_collateral(self) -> Self:
        collateral = self.underlying_units * self.entry_spot
        if not self.loan_amount < collateral:
            msg = (
                f"loan_amount {self.loan_amount} must be below the initial collateral value "
                f"underlying_units * entry_spot = {collateral}"
            )
            raise ValueError(msg)
        return self


class TemplateRef(FrozenModel):
    """A pinned template version; runs never reference a mutable slug."""

    template_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    display_name_override: str | None = None


class ProviderRef(FrozenModel):
    """Which historical provider a scenario is priced with (always explicit)."""

    provider_id: str = Field(min_length=1)
    config_key: str = "default"
    pricing_mode: PricingMode


class ExecutionModel(FrozenModel):
    """How decisions are filled and sized; stored with every run.

    MVP: daily close-to-close, filled at the same close the decision was made on.
    ``contract_multiplier`` and ``contract_rounding`` size ``listed_contracts`` templates.
    """

    execution_timing: ExecutionTiming = ExecutionTiming.SAME_DAY_CLOSE
    contract_multiplier: int = Field(default=100, ge=1)
    contract_rounding: ContractRounding = ContractRounding.NEAREST


class BacktestScenario(FrozenModel):
    """A saved experiment: portfolio, window, template versions, provider and execution."""

    scenario_id: str = Field(default_factory=_new_id, min_length=1)
    slug: Slug
    display_name: str = ""
    description: str = ""
    symbol: str = Field(min_length=1, max_length=50)
    start_date: date
    end_date: date
    initial_portfolio: BacktestPortfolioState
    template_refs: list[TemplateRef] = Field(min_length=1)
    provider_ref: ProviderRef
    execution_model: ExecutionModel = Field(default_factory=ExecutionModel)
    valuation_frequency: ValuationFrequency = ValuationFrequency.DAILY
    benchmark_mode: BenchmarkMode = BenchmarkMode.UNHEDGED_ONLY
    event_preset_id: str | None = None
    notes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _scenario_invariants(self) -> Self:
        if self.start_date > self.end_date:
            msg = f"start_date {self.start_date} is after end_date {self.end_date}"
            raise ValueError(msg)
        refs = [(ref.template_id, ref.version) for ref in self.template_refs]
        if len(set(refs)) != len(refs):
            msg = f"template_refs must not repeat a (template_id, version) pair (got {refs})"
            raise ValueError(msg)
        return self


class ProviderSnapshot(FrozenModel):
    """The provider configuration a run used, frozen; ``source_version`` fingerprints data."""

    provider_id: str
    config: dict[str, Any] = Field(default_factory=dict)
    source_version: str | None = None


class BacktestRun(FrozenModel):
    """The execution record of one scenario; append-only once it has ended.

    ``scenario_snapshot`` and ``template_snapshots`` freeze exactly what was run, so a run
    stays reproducible after its templates get new versions.
    """

    run_id: str = Field(default_factory=_new_id, min_length=1)
    scenario_id: str
    scenario_snapshot: BacktestScenario | None = None
    template_snapshots: list[StrategyTemplate] = Field(default_factory=list)
    status: RunStatus = RunStatus.QUEUED
    provider_snapshot: ProviderSnapshot
    submitted_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    engine_version: str = ""
    rules_version: str = ""
    warnings: list[str] = Field(default_factory=list)
    validation_notes: dict[str, list[str]] = Field(default_factory=dict)
    error: str | None = None
