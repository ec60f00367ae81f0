"""Strategy templates (EXEC-001A): named, versioned, immutable hedge definitions.

A template is a rule, not a dated contract: "buy a 12-month put at 95 % of spot and roll it
a month early". Its invariants are the seed design document's MVP rules.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
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
    "DeRiskRule",
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
    """How a leg's strike is resolved on its entry day (SPEC 4 and 9.1).

    ``spot_pct``: ``value * S_T``; ``fixed_strike``: the value is the strike;
    ``delta_target``: the strike whose Black-Scholes delta is the value (in (-1, 0) for
    puts, (0, 1) for calls); ``zero_cost``: no value, the short call whose premium pays for
    the template's long legs.
    """

    rule_type: StrikeRuleType = StrikeRuleType.SPOT_PCT
    value: float | None = Field(default=None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _value_fits_rule(self) -> Self:
        if self.rule_type is StrikeRuleType.ZERO_COST:
            if self.value is not None:
                msg = f"a zero_cost strike rule takes no value (got {self.value}); leave it empty"
                raise ValueError(msg)
            return self
        if self.value is None:
            msg = f"a {self.rule_type} strike rule needs a value"
            raise ValueError(msg)
        if self.rule_type is StrikeRuleType.DELTA_TARGET:
            if not (-1.0 < self.value < 1.0 and self.value != 0.0):
                msg = (
                    f"a delta_target value is a delta in (-1, 0) for puts or (0, 1) for calls "
                    f"(got {self.value})"
                )
                raise ValueError(msg)
            return self
        if not self.value > 0.0:
            msg = f"a {self.rule_type} strike value must be > 0 (got {self.value})"
            raise ValueError(msg)
        if self.rule_type is StrikeRuleType.SPOT_PCT:
            check_ratio(self.value, "spot_pct strike value", high=MAX_SPOT_PCT)
        return self

    def __str__(self) -> str:
        value = self.value
        if self.rule_type is StrikeRuleType.ZERO_COST or value is None:
            return "the strike whose premium pays for the long legs (zero cost)"
        if self.rule_type is StrikeRuleType.SPOT_PCT:
            return f"{value * 100:g} % of spot"
        if self.rule_type is StrikeRuleType.FIXED_STRIKE:
            return f"strike {value:,g}"
        return f"delta {value:g}"

    @property
    def number(self) -> float:
        """The rule's value, for rules that have one (every rule but ``zero_cost``)."""
        if self.value is None:
            msg = f"a {self.rule_type} strike rule has no value"
            raise ValueError(msg)
        return self.value


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
    """One parametric option leg of a template.

    A long leg's ``allocation_weight`` is its share of the hedged units (long weights sum to
    1); a short leg's is the share of the units it covers, in (0, 1] (SPEC 9.1).
    """

    leg_id: Slug
    side: LegSide = LegSide.LONG
    option_type: OptionType = OptionType.PUT
    allocation_weight: float = Field(gt=0.0, le=1.0, allow_inf_nan=False)
    strike_rule: StrikeRule
    target_expiry_days: int = Field(ge=1, le=3660)
    quantity_rule: QuantityRule = QuantityRule.TARGET_COVERAGE_PCT
    target_coverage_pct: float = Field(default=1.0, gt=0.0, le=1.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _rule_fits_leg(self) -> Self:
        rule = self.strike_rule
        if rule.rule_type is StrikeRuleType.DELTA_TARGET:
            value = rule.number
            if (value < 0.0) != (self.option_type is OptionType.PUT):
                msg = (
                    f"leg {self.leg_id!r}: a {self.option_type}'s delta_target is in "
                    f"{'(-1, 0)' if self.option_type is OptionType.PUT else '(0, 1)'} "
                    f"(got {value})"
                )
                raise ValueError(msg)
        if rule.rule_type is StrikeRuleType.ZERO_COST and not (
            self.side is LegSide.SHORT and self.option_type is OptionType.CALL
        ):
            msg = (
                f"leg {self.leg_id!r}: only a short call can take a zero_cost strike (it is the "
                f"call whose premium pays for the long legs); this leg is a {self.side} "
                f"{self.option_type}"
            )
            raise ValueError(msg)
        return self

    @property
    def units_share(self) -> float:
        """The share of the underlying units this leg covers: weight x coverage."""
        return self.allocation_weight * self.target_coverage_pct

    def describe(self) -> str:
        """Say the leg in words: ``short call at 110 % of spot, 365 days, covers 100 % ...``."""
        return (
            f"{self.side} {self.option_type} at {self.strike_rule}, "
            f"{self.target_expiry_days} days, covers {self.units_share * 100:.3g} % of the units"
        )


class DeRiskRule(FrozenModel):
    """The de-risking baseline (SPEC 9.2): borrow less instead of buying a hedge.

    On the first day ``sell_fraction`` of the units is sold and the proceeds repay the
    loan; then, each day the hedged LTV reaches ``trigger_ltv``, collateral is sold down to
    ``target_ltv``. Both thresholds or neither.
    """

    sell_fraction: float = Field(default=0.0, ge=0.0, lt=1.0, allow_inf_nan=False)
    trigger_ltv: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    target_ltv: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _thresholds(self) -> Self:
        trigger, target = self.trigger_ltv, self.target_ltv
        if (trigger is None) != (target is None):
            msg = f"give trigger_ltv and target_ltv together (got {trigger} and {target})"
            raise ValueError(msg)
        if trigger is not None and target is not None:
            check_ratio(trigger, "trigger_ltv", high=1.0)
            if not target < trigger:
                msg = f"target_ltv {target} must be below trigger_ltv {trigger}"
                raise ValueError(msg)
        return self

    def __str__(self) -> str:
        first = (
            f"sell {self.sell_fraction:.0%} of the units on the first day to repay the loan"
            if self.sell_fraction
            else "no sale on the first day"
        )
        trigger = (
            f"; sell down to LTV {self.target_ltv:.0%} whenever it reaches {self.trigger_ltv:.0%}"
            if self.trigger_ltv is not None and self.target_ltv is not None
            else ""
        )
        return f"de-risk: {first}{trigger}"


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
    legs: list[TemplateLeg] = Field(default_factory=list, max_length=20)
    roll_policy: RollPolicy = Field(default_factory=RollPolicy)
    entry_policy: EntryPolicy = Field(default_factory=EntryPolicy)
    de_risk: DeRiskRule | None = None
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
    def _invariants(self) -> Self:
        leg_ids = [leg.leg_id for leg in self.legs]
        if len(set(leg_ids)) != len(leg_ids):
            msg = f"leg_id values must be unique within a template (got {leg_ids})"
            raise ValueError(msg)
        _check_kind(self.template_kind, self.legs)
        if (self.template_kind is TemplateKind.DE_RISK) != (self.de_risk is not None):
            msg = (
                "a de_risk template needs a de_risk rule and no other kind takes one "
                f"(kind {self.template_kind}, de_risk {self.de_risk})"
            )
            raise ValueError(msg)
        longs = [leg for leg in self.legs if leg.side is LegSide.LONG]
        if longs:
            total = math.fsum(leg.allocation_weight for leg in longs)
            if abs(total - 1.0) > WEIGHT_TOLERANCE:
                weights = [leg.allocation_weight for leg in longs]
                msg = (
                    "long legs' allocation_weight values must sum to 1.0 "
                    f"(got {weights}, sum {total!r})"
                )
                raise ValueError(msg)
        tenors = sorted({leg.target_expiry_days for leg in self.legs})
        if len(tenors) > 1:
            msg = f"all legs must share one target_expiry_days in this release (got {tenors})"
            raise ValueError(msg)
        _check_short_calls(self.legs)
        _check_short_puts(self.legs)
        return self

    def describe(self) -> str:
        """Say the template's rule in words: its legs, and how they roll."""
        if self.de_risk is not None:
            return str(self.de_risk)
        if not self.legs:
            return "no hedge: the collateral and the loan alone"
        policy = self.roll_policy
        roll = (
            f"rolled {policy.days_before_expiry} sessions before expiry"
            if policy.policy_type is RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY
            else "held to expiry, then replaced"
        )
        return "; ".join([*(leg.describe() for leg in self.legs), roll])

    @property
    def target_expiry_days(self) -> int | None:
        """The tenor every leg shares (None for a template without legs)."""
        return self.legs[0].target_expiry_days if self.legs else None

    def matches_symbol(self, symbol: str) -> bool:
        """Whether this template may hedge ``symbol`` (``*`` templates hedge any symbol)."""
        return self.underlying_symbol in ("*", symbol)


_LONG_PUT, _SHORT_PUT = (LegSide.LONG, OptionType.PUT), (LegSide.SHORT, OptionType.PUT)
_SHORT_CALL = (LegSide.SHORT, OptionType.CALL)
_KIND_LEGS: dict[TemplateKind, tuple[str, frozenset[tuple[LegSide, OptionType]]]] = {
    TemplateKind.UNHEDGED: ("no legs", frozenset()),
    TemplateKind.DE_RISK: ("no option legs", frozenset()),
    TemplateKind.PROTECTIVE_PUT: ("exactly one long put", frozenset({_LONG_PUT})),
    TemplateKind.LADDERED_PUT: ("two or more long puts", frozenset({_LONG_PUT})),
    TemplateKind.COLLAR: ("long puts and short calls", frozenset({_LONG_PUT, _SHORT_CALL})),
    TemplateKind.PUT_SPREAD: ("long puts and lower short puts", frozenset({_LONG_PUT, _SHORT_PUT})),
    TemplateKind.COLLAR_SPREAD: (
        "long puts, lower short puts and short calls",
        frozenset({_LONG_PUT, _SHORT_PUT, _SHORT_CALL}),
    ),
}
"""Per kind, what it holds in words and its leg types (side, option type): each at least
once, and no other."""


def _check_kind(kind: TemplateKind, legs: Sequence[TemplateLeg]) -> None:
    described, types = _KIND_LEGS[kind]
    held = [(leg.side, leg.option_type) for leg in legs]
    for leg, side_type in zip(legs, held, strict=True):
        if side_type not in types:
            msg = (
                f"leg {leg.leg_id!r} is a {leg.side} {leg.option_type}; a {kind} template "
                f"holds {described}"
            )
            raise ValueError(msg)
    missing = sorted(f"{side} {option_type}" for side, option_type in types - set(held))
    if missing:
        msg = f"a {kind} template holds {described}: it has no {' and no '.join(missing)}"
        raise ValueError(msg)
    if kind is TemplateKind.PROTECTIVE_PUT and len(legs) != 1:
        msg = f"a protective_put template has exactly one leg (got {len(legs)})"
        raise ValueError(msg)
    if kind is TemplateKind.LADDERED_PUT and len(legs) < 2:
        msg = f"a laddered_put template has at least two legs (got {len(legs)})"
        raise ValueError(msg)
    zero_cost = [
        leg.leg_id for leg in legs if leg.strike_rule.rule_type is StrikeRuleType.ZERO_COST
    ]
    if len(zero_cost) > 1:
        msg = f"a template has at most one zero_cost leg (got {zero_cost})"
        raise ValueError(msg)


def _check_short_calls(legs: Sequence[TemplateLeg]) -> None:
    """No naked calls: short calls together cover at most the units (SPEC 9.1)."""
    calls = [
        leg for leg in legs if leg.side is LegSide.SHORT and leg.option_type is OptionType.CALL
    ]
    covered = math.fsum(leg.units_share for leg in calls)
    if covered > 1.0 + WEIGHT_TOLERANCE:
        shares = {leg.leg_id: leg.units_share for leg in calls}
        msg = (
            f"short calls cover {covered:g} of the units ({shares}); a call sold on more units "
            "than are held is naked: the short calls' weight x coverage may sum to at most 1"
        )
        raise ValueError(msg)


def _check_short_puts(legs: Sequence[TemplateLeg]) -> None:
    """Each short put sits below long puts of the same tenor that cover it (SPEC 9.1).

    "Below" compares strike rules of one type: a lower ``spot_pct`` or ``fixed_strike``
    value, or a delta nearer zero. For every short put, the short puts at or above its
    strike may cover no more units than the long puts strictly above it (so each short put
    can be matched to long puts above it).
    """
    puts = [leg for leg in legs if leg.option_type is OptionType.PUT]
    shorts = [leg for leg in puts if leg.side is LegSide.SHORT]
    longs = [leg for leg in puts if leg.side is LegSide.LONG]
    for short in shorts:
        rule = short.strike_rule.rule_type
        mixed = [leg.leg_id for leg in longs if leg.strike_rule.rule_type is not rule]
        if mixed:
            msg = (
                f"short put {short.leg_id!r} uses a {rule} strike but long puts {mixed} do not; "
                "give a short put the long puts' rule type, so that 'below' is decided when "
                "the template is saved"
            )
            raise ValueError(msg)
    for short in shorts:
        level = _strike_level(short)
        above = [leg for leg in longs if _strike_level(leg) > level]
        if not above:
            msg = (
                f"short put {short.leg_id!r} has no long put above it: a short put must sit "
                "below a long put of the same target_expiry_days (a put spread)"
            )
            raise ValueError(msg)
        owed = math.fsum(s.units_share for s in shorts if _strike_level(s) >= level)
        held = math.fsum(leg.units_share for leg in above)
        if owed > held + WEIGHT_TOLERANCE:
            msg = (
                f"short puts at or above {short.leg_id!r} cover {owed:g} of the units but the "
                f"long puts above them only {held:g}; short puts may not cover more units "
                "than the long puts above them"
            )
            raise ValueError(msg)


def _strike_level(leg: TemplateLeg) -> float:
    """Return a number that orders strikes of one rule type: higher is a higher strike."""
    value = leg.strike_rule.number
    # A put's delta runs from 0 (low strikes) to -1 (high strikes).
    return -value if leg.strike_rule.rule_type is StrikeRuleType.DELTA_TARGET else value
