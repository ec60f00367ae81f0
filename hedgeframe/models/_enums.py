"""String enums with the seed design document's values."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BenchmarkMode",
    "ContractMode",
    "ContractRounding",
    "EntryTiming",
    "EventType",
    "ExecutionTiming",
    "LegSide",
    "MarginCallPolicy",
    "MarkStatus",
    "OptionType",
    "PricingMode",
    "PricingSide",
    "QuantityRule",
    "RollPolicyType",
    "RunStatus",
    "StrikeRuleType",
    "TemplateKind",
    "TemplateResultStatus",
    "TemplateStatus",
    "TradeAction",
    "TradeReason",
    "ValuationFrequency",
]


class TemplateKind(StrEnum):
    """What a template is (SPEC 9.1): which legs it may hold."""

    PROTECTIVE_PUT = "protective_put"
    LADDERED_PUT = "laddered_put"
    COLLAR = "collar"
    PUT_SPREAD = "put_spread"
    COLLAR_SPREAD = "collar_spread"
    UNHEDGED = "unhedged"
    DE_RISK = "de_risk"


class MarginCallPolicy(StrEnum):
    """What the lender does on a margin call (SPEC 9.2)."""

    NONE = "none"
    """Flag the day, nothing more (SPEC section 4)."""
    CURE = "cure"
    """Sell collateral at the close down to ``cure_ltv``."""
    LIQUIDATE = "liquidate"
    """On the first call, sell every unit and close every option position."""


class TemplateStatus(StrEnum):
    """Lifecycle of a template; archived versions stay loadable."""

    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class ContractMode(StrEnum):
    """How positions are sized: continuous underlying units or whole listed contracts."""

    CONTINUOUS_UNITS = "continuous_units"
    LISTED_CONTRACTS = "listed_contracts"


class LegSide(StrEnum):
    """Long (bought) or short (sold, a negative quantity; SPEC 9.1)."""

    LONG = "long"
    SHORT = "short"


class OptionType(StrEnum):
    """Put or call."""

    PUT = "put"
    CALL = "call"


class StrikeRuleType(StrEnum):
    """How a leg's strike is resolved on its entry day (SPEC 4 and 9.1)."""

    SPOT_PCT = "spot_pct"
    FIXED_STRIKE = "fixed_strike"
    DELTA_TARGET = "delta_target"
    ZERO_COST = "zero_cost"


class QuantityRule(StrEnum):
    """How a leg is sized; MVP: a fraction of the underlying units."""

    TARGET_COVERAGE_PCT = "target_coverage_pct"


class RollPolicyType(StrEnum):
    """When an expiring hedge is replaced."""

    HOLD_TO_EXPIRY = "hold_to_expiry"
    ROLL_N_DAYS_BEFORE_EXPIRY = "roll_n_days_before_expiry"


class EntryTiming(StrEnum):
    """When the first hedge is bought; MVP: the scenario's first close."""

    SCENARIO_START_CLOSE = "scenario_start_close"


class ValuationFrequency(StrEnum):
    """How often positions are marked; MVP: every trading day."""

    DAILY = "daily"


class BenchmarkMode(StrEnum):
    """What the hedged path is compared with; MVP: the unhedged collateral."""

    UNHEDGED_ONLY = "unhedged_only"


class PricingMode(StrEnum):
    """Where option prices come from."""

    SYNTHETIC_BS_MID = "synthetic_bs_mid"
    SNAPSHOT_MID = "snapshot_mid"


class ExecutionTiming(StrEnum):
    """When a decision is filled; MVP: at the same day's close it was made on."""

    SAME_DAY_CLOSE = "same_day_close"


class ContractRounding(StrEnum):
    """How a continuous quantity becomes whole listed contracts."""

    NEAREST = "nearest"
    DOWN = "down"
    UP = "up"


class RunStatus(StrEnum):
    """Lifecycle of a backtest run."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TradeAction(StrEnum):
    """What a trade did: long legs buy to open and sell to close, short legs the reverse."""

    BUY_OPEN = "buy_open"
    SELL_CLOSE = "sell_close"
    SELL_OPEN = "sell_open"
    BUY_CLOSE = "buy_close"
    EXPIRE = "expire"
    ROLL = "roll"
    SELL_COLLATERAL = "sell_collateral"


class TradeReason(StrEnum):
    """Why a trade happened."""

    INITIAL_ENTRY = "initial_entry"
    SCHEDULED_ROLL = "scheduled_roll"
    EXPIRY = "expiry"
    SCENARIO_END = "scenario_end"
    DE_RISK_INITIAL = "de_risk_initial"
    DE_RISK_TRIGGER = "de_risk_trigger"
    MARGIN_CALL_CURE = "margin_call_cure"
    MARGIN_CALL_LIQUIDATION = "margin_call_liquidation"


class EventType(StrEnum):
    """What kind of market window an event preset names."""

    SELLOFF = "selloff"
    RECOVERY = "recovery"
    STRESS_TEST = "stress_test"


class PricingSide(StrEnum):
    """Which side of a quote a query prices at; MVP: the mid."""

    MID = "mid"


class TemplateResultStatus(StrEnum):
    """Whether a template's result covers the whole scenario."""

    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


class MarkStatus(StrEnum):
    """Where a position's mark for a day came from."""

    FRESH = "fresh"
    STALE = "stale"
    INTRINSIC = "intrinsic"
    MISSING = "missing"
