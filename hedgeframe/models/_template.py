"""Strategy templates (EXEC-001A): named, versioned, immutable hedge definitions.

A template is a rule, not a dated contract: "buy a 12-month put at 95 % of spot and roll it
a month early". Its invariants are the seed design document's MVP rules.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Self

from pydantic import Field, field_validator, model_validator

from hedgeframe.models._base import FrozenModel, Slug, check_ratio, utc_now
from hedgeframe.models._enums import (
    ContractMode,
    EntryTiming,
    LegSide,
    OptionType,
    QuantityRule,
    RollPolicyType,
    StrikeRuleType,
    TemplateKind,
    TemplateStatus,
)

__all__ = [
    "MAX_SPOT_PCT",
    "WEIGHT_TOLERANCE",
    "EntryPolicy",
    "RollPolicy",
    "StrategyTemplate",
    "StrikeRule",
    "TemplateLeg",
]

WEIGHT_TOLERANCE = 1e-9
"""How far leg weights may sum from 1.0."""

MAX_SPOT_PCT = 5.0
"""The highest ``spot_pct`` strike (500 % of spot): above it, a percent was typed as a ratio."""


class StrikeRule(FrozenModel):
    """How a leg's strike is resolved on its entry day (MVP: ``value * spot``)."""

    rule_type: StrikeRuleType = StrikeRuleType.SPOT_PCT
    value: float = Field(gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _spot_pct_is_a_ratio(self) -> Self:
        if self.rule_type is StrikeRuleType.SPOT_PCT:
            check_ratio(self.value, "spot_pct strike value", high=MAX_SPOT_PCT)
        return self


class RollPolicy(FrozenModel):
    """When an expiring hedge is replaced."""

    policy_type: RollPolicyType = RollPolicyType.HOLD_TO_EXPIRY
    days_before_expiry: int | None = None
    rebalance_on_new_deposit: bool = False

    @model_validator(mode="after")
    def _days_match_policy(self) -> Self:
        if self.policy_type is RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY:
            if self.days_before_expiry is None or self.days_before_expiry < 1:
                msg = (
                    "days_before_expiry must be an integer >= 1 for policy_type "
                    f"'roll_n_days_before_expiry' (got {self.days_before_expiry!r})"
                )
                raise ValueError(msg)
        elif self.days_before_expiry is not None:
            msg = (
                "days_before_expiry must be empty for policy_type 'hold_to_expiry' "
                f"(got {self.days_before_expiry!r})"
            )
            raise ValueError(msg)
        if self.rebalance_on_new_deposit:
            msg = "rebalance_on_new_deposit is not supported in this release; leave it false"
            raise ValueError(msg)
        return self


class EntryPolicy(FrozenModel):
    """When the first hedge is entered (MVP: at the scenario's first close)."""

    entry_timing: EntryTiming = EntryTiming.SCENARIO_START_CLOSE
    stagger_days: int | None = None

    @field_validator("stagger_days")
    @classmethod
    def _no_stagger(cls, value: int | None) -> int | None:
        if value is not None:
            msg = f"stagger_days is not used in this release; leave it empty (got {value})"
            raise ValueError(msg)
        return value


class TemplateLeg(FrozenModel):
    """One parametric option leg of a template."""

    leg_id: Slug
    side: LegSide = LegSide.LONG
    option_type: OptionType = OptionType.PUT
    allocation_weight: float = Field(gt=0.0, le=1.0, allow_inf_nan=False)
    strike_rule: StrikeRule
    target_expiry_days: int = Field(ge=1, le=3660)
    quantity_rule: QuantityRule = QuantityRule.TARGET_COVERAGE_PCT
    target_coverage_pct: float = Field(default=1.0, gt=0.0, le=1.0, allow_inf_nan=False)


def _new_template_id() -> str:
    return str(uuid.uuid4())


class StrategyTemplate(FrozenModel):
    """A named, versioned hedge definition; a new version is a new object."""

    template_id: str = Field(default_factory=_new_template_id, min_length=1, max_length=100)
    slug: Slug
    display_name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    template_kind: TemplateKind
    status: TemplateStatus = TemplateStatus.ACTIVE
    version: int = Field(default=1, ge=1)
    underlying_symbol: str = Field(default="*", min_length=1, max_length=50)
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS
    legs: list[TemplateLeg] = Field(min_length=1, max_length=20)
    roll_policy: RollPolicy = Field(default_factory=RollPolicy)
    entry_policy: EntryPolicy = Field(default_factory=EntryPolicy)
    tags: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    @field_validator("template_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not all(ch.isalnum() or ch in "-_." for ch in value) or ".." in value:
            msg = f"template_id {value!r} may hold only letters, digits, '-', '_' and '.'"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _mvp_invariants(self) -> Self:
        if self.template_kind is TemplateKind.COLLAR:
            msg = "template_kind 'collar' is reserved for a later release; use a put template"
            raise ValueError(msg)
        leg_ids = [leg.leg_id for leg in self.legs]
        if len(set(leg_ids)) != len(leg_ids):
            msg = f"leg_id values must be unique within a template (got {leg_ids})"
            raise ValueError(msg)
        for leg in self.legs:
            if leg.side is not LegSide.LONG or leg.option_type is not OptionType.PUT:
                msg = (
                    f"leg {leg.leg_id!r} is a {leg.side} {leg.option_type}; "
                    f"{self.template_kind} templates hold long puts only"
                )
                raise ValueError(msg)
        if self.template_kind is TemplateKind.PROTECTIVE_PUT and len(self.legs) != 1:
            msg = f"a protective_put template has exactly one leg (got {len(self.legs)})"
            raise ValueError(msg)
        if self.template_kind is TemplateKind.LADDERED_PUT and len(self.legs) < 2:
            msg = f"a laddered_put template has at least two legs (got {len(self.legs)})"
            raise ValueError(msg)
        total = math.fsum(leg.allocation_weight for leg in self.legs)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            weights = [leg.allocation_weight for leg in self.legs]
            msg = f"leg allocation_weight values must sum to 1.0 (got {weights}, sum {total!r})"
            raise ValueError(msg)
        tenors = sorted({leg.target_expiry_days for leg in self.legs})
        if len(tenors) > 1:
            msg = f"all legs must share one target_expiry_days in this release (got {tenors})"
            raise ValueError(msg)
        return self

    @property
    def target_expiry_days(self) -> int:
        """The tenor every leg shares."""
        return self.legs[0].target_expiry_days

    def matches_symbol(self, symbol: str) -> bool:
        """Whether this template may hedge ``symbol`` (``*`` templates hedge any symbol)."""
        return self.underlying_symbol in ("*", symbol)
