"""Build strategy templates in one line, and the four seed examples.

Examples
--------
>>> import hedgeframe as hf
>>> template = hf.put_ladder("ladder-demo", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5])
>>> [leg.leg_id for leg in template.legs]
['put-100', 'put-90']
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from hedgeframe.models import (
    ContractMode,
    DeRiskRule,
    LegSide,
    OptionType,
    RollPolicy,
    StrategyTemplate,
    StrikeRule,
    StrikeRuleType,
    TemplateKind,
    TemplateLeg,
)

__all__ = [
    "collar",
    "de_risk",
    "demo_templates",
    "protective_put",
    "put_ladder",
    "put_spread",
    "seed_templates",
    "slug_pct",
    "slug_tenor",
    "unhedged",
    "zero_cost_collar",
]

_SEED_NAMESPACE = uuid.UUID("6f1c2a53-0d5e-4b8e-9a57-2f3c8d1e4b60")
SEED_TIMESTAMP = datetime(2026, 11, 25, tzinfo=UTC)
"""When the seed templates were defined (fixed, so they compare equal across calls)."""


def slug_pct(spot_pct: float) -> str:
    """Name a strike in a slug the seed's way: ``atm`` at spot, else ``95pct``."""
    return "atm" if spot_pct == 1.0 else f"{round(spot_pct * 100, 2):g}pct".replace(".", "_")


def slug_tenor(days: int) -> str:
    """Name a tenor in a slug: ``12m`` for 365 days, ``6m`` for 182, else ``45d``."""
    months = round(days * 12 / 365)
    return f"{months}m" if months and abs(days - months * 365 / 12) <= 2 else f"{days}d"


def _template(
    slug: str,
    kind: TemplateKind,
    legs: Sequence[TemplateLeg],
    roll_policy: RollPolicy | None,
    underlying_symbol: str,
    options: _Options,
) -> StrategyTemplate:
    fields: dict[str, object] = {
        "slug": slug,
        "display_name": options.display_name if options.display_name is not None else slug,
        "description": options.description,
        "template_kind": kind,
        "underlying_symbol": underlying_symbol,
        "contract_mode": options.contract_mode,
        "legs": list(legs),
        "roll_policy": roll_policy if roll_policy is not None else RollPolicy(),
        "tags": list(options.tags),
    }
    if options.template_id is not None:
        fields["template_id"] = options.template_id
    return StrategyTemplate.model_validate(fields)


@dataclass(frozen=True)
class _Options:
    """The keyword options every helper shares (labels, sizing mode, id)."""

    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS
    display_name: str | None = None
    description: str = ""
    tags: Sequence[str] = ()
    template_id: str | None = None


def _leg_ids(spot_pcts: Sequence[float]) -> list[str]:
    """Readable leg ids (``put-95`` for a 95 % strike), made unique if two legs share one."""
    ids = [f"put-{round(pct * 100, 2):g}".replace(".", "_") for pct in spot_pcts]
    return [f"{leg_id}-{i}" if ids.count(leg_id) > 1 else leg_id for i, leg_id in enumerate(ids)]


def put_ladder(
    slug: str,
    spot_pcts: Sequence[float],
    weights: Sequence[float],
    target_expiry_days: int = 365,
    roll_policy: RollPolicy | None = None,
    underlying_symbol: str = "*",
    *,
    target_coverage_pct: float = 1.0,
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build a template of long puts at several strikes sharing one tenor.

    One strike gives a ``protective_put``; two or more a ``laddered_put``.

    Parameters
    ----------
    slug
        Unique human-readable name, e.g. ``"ladder-50-50-atm-95pct-12m"``.
    spot_pcts
        Strikes as fractions of the entry-day spot (``0.95`` = 95 % of spot).
    weights
        Each leg's share of the hedged units; they must sum to 1.
    target_expiry_days
        Calendar days from entry to the wanted expiry.
    roll_policy
        When to replace the hedge; default: hold to expiry.
    underlying_symbol
        The symbol the template hedges, or ``"*"`` for any.
    target_coverage_pct
        Fraction of the underlying units hedged, in (0, 1].
    contract_mode
        Continuous units, or whole listed contracts.
    display_name, description, tags
        Report labels.
    template_id
        A stable id; a new random one by default.

    Raises
    ------
    InvalidModelError
        When the legs break a template invariant (weights, strikes, tenor, coverage).
    """
    if len(spot_pcts) != len(weights):
        msg = f"spot_pcts has {len(spot_pcts)} entries but weights has {len(weights)}"
        raise ValueError(msg)
    legs = [
        TemplateLeg(
            leg_id=leg_id,
            allocation_weight=weight,
            strike_rule=StrikeRule(value=pct),
            target_expiry_days=target_expiry_days,
            target_coverage_pct=target_coverage_pct,
        )
        for leg_id, pct, weight in zip(_leg_ids(spot_pcts), spot_pcts, weights, strict=True)
    ]
    kind = TemplateKind.PROTECTIVE_PUT if len(legs) == 1 else TemplateKind.LADDERED_PUT
    options = _Options(contract_mode, display_name, description, tags, template_id)
    return _template(slug, kind, legs, roll_policy, underlying_symbol, options)


def protective_put(
    slug: str,
    spot_pct: float = 1.0,
    target_expiry_days: int = 365,
    roll_policy: RollPolicy | None = None,
    underlying_symbol: str = "*",
    *,
    target_coverage_pct: float = 1.0,
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build a one-leg long-put template; see :func:`put_ladder` for the parameters.

    Examples
    --------
    >>> import hedgeframe as hf
    >>> hf.protective_put("pp-95-6m", spot_pct=0.95, target_expiry_days=182).template_kind
    <TemplateKind.PROTECTIVE_PUT: 'protective_put'>
    """
    return put_ladder(
        slug,
        [spot_pct],
        [1.0],
        target_expiry_days,
        roll_policy,
        underlying_symbol,
        target_coverage_pct=target_coverage_pct,
        contract_mode=contract_mode,
        display_name=display_name,
        description=description,
        tags=tags,
        template_id=template_id,
    )


def seed_templates() -> list[StrategyTemplate]:
    """Return the seed design document's four example templates.

    Their ids are derived from their slugs and their timestamps are fixed, so every call
    (and every machine) gives equal templates and runs over them are reproducible.
    """
    specs: list[tuple[str, str, list[float], list[float], list[str]]] = [
        ("protective-put-atm-12m", "Protective put ATM 12m", [1.0], [1.0], ["conservative"]),
        ("protective-put-95pct-12m", "Protective put 95% 12m", [0.95], [1.0], ["cost-aware"]),
        (
            "ladder-50-50-atm-95pct-12m",
            "Ladder 50/50 ATM + 95% 12m",
            [1.0, 0.95],
            [0.5, 0.5],
            ["ladder"],
        ),
        (
            "ladder-33-33-33-atm-95pct-90pct-12m",
            "Ladder 33/33/33 ATM + 95% + 90% 12m",
            [1.0, 0.95, 0.90],
            [1 / 3, 1 / 3, 1 / 3],
            ["ladder"],
        ),
    ]
    built = [
        put_ladder(
            slug,
            pcts,
            weights,
            365,
            display_name=name,
            description=f"{name}: long puts held to expiry, replaced at expiry.",
            tags=tags,
            template_id=str(uuid.uuid5(_SEED_NAMESPACE, slug)),
        )
        for slug, name, pcts, weights, tags in specs
    ]
    stamp = {"created_at": SEED_TIMESTAMP, "updated_at": SEED_TIMESTAMP}
    return [StrategyTemplate.model_validate({**t.model_dump(), **stamp}) for t in built]


def _leg(
    leg_id: str,
    side: LegSide,
    option_type: OptionType,
    rule: StrikeRule,
    target_expiry_days: int,
    weight: float = 1.0,
) -> TemplateLeg:
    return TemplateLeg(
        leg_id=leg_id,
        side=side,
        option_type=option_type,
        allocation_weight=weight,
        strike_rule=rule,
        target_expiry_days=target_expiry_days,
    )


def collar(
    slug: str | None = None,
    put_pct: float = 0.95,
    call_pct: float = 1.10,
    target_expiry_days: int = 365,
    roll_policy: RollPolicy | None = None,
    underlying_symbol: str = "*",
    *,
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build a collar: a long put on every unit, financed by a short call on every unit.

    Below the put strike the loss is floored; above the call strike the gain is given up.
    The slug defaults to the seed style, e.g. ``collar-95pct-put-110pct-call-12m``; the
    other parameters are :func:`put_ladder`'s.

    Examples
    --------
    >>> import hedgeframe as hf
    >>> template = hf.collar()
    >>> template.slug, [(leg.side.value, leg.option_type.value) for leg in template.legs]
    ('collar-95pct-put-110pct-call-12m', [('long', 'put'), ('short', 'call')])
    """
    default = (
        f"collar-{slug_pct(put_pct)}-put-{slug_pct(call_pct)}-call-{slug_tenor(target_expiry_days)}"
    )
    legs = [
        _leg(_leg_ids([put_pct])[0], LegSide.LONG, OptionType.PUT, StrikeRule(value=put_pct),
             target_expiry_days),
        _leg(f"short-call-{round(call_pct * 100, 2):g}".replace(".", "_"), LegSide.SHORT,
             OptionType.CALL, StrikeRule(value=call_pct), target_expiry_days),
    ]  # fmt: skip
    options = _Options(contract_mode, display_name, description, tags, template_id)
    return _template(
        slug or default, TemplateKind.COLLAR, legs, roll_policy, underlying_symbol, options
    )


def zero_cost_collar(
    slug: str | None = None,
    put_pct: float = 0.95,
    target_expiry_days: int = 365,
    roll_policy: RollPolicy | None = None,
    underlying_symbol: str = "*",
    *,
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build a zero-cost collar: a long put paid for by the short call whose mid matches it.

    The call's strike is solved on every entry day (SPEC 9.1 ``zero_cost``), so the net
    premium is zero at the mid before spread and fees. The slug defaults to e.g.
    ``zero-cost-collar-95pct-put-12m``; the other parameters are :func:`put_ladder`'s.
    """
    default = f"zero-cost-collar-{slug_pct(put_pct)}-put-{slug_tenor(target_expiry_days)}"
    legs = [
        _leg(_leg_ids([put_pct])[0], LegSide.LONG, OptionType.PUT, StrikeRule(value=put_pct),
             target_expiry_days),
        _leg("short-call-zero-cost", LegSide.SHORT, OptionType.CALL,
             StrikeRule(rule_type=StrikeRuleType.ZERO_COST), target_expiry_days),
    ]  # fmt: skip
    options = _Options(contract_mode, display_name, description, tags, template_id)
    return _template(
        slug or default, TemplateKind.COLLAR, legs, roll_policy, underlying_symbol, options
    )


def put_spread(
    slug: str | None = None,
    long_pct: float = 0.95,
    short_pct: float = 0.80,
    target_expiry_days: int = 365,
    roll_policy: RollPolicy | None = None,
    underlying_symbol: str = "*",
    *,
    contract_mode: ContractMode = ContractMode.CONTINUOUS_UNITS,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build a put spread: a long put, cheapened by a lower short put on the same units.

    It protects from ``long_pct`` down to ``short_pct`` of the entry spot, and no further.
    The slug defaults to e.g. ``put-spread-95pct-80pct-12m``; the other parameters are
    :func:`put_ladder`'s.
    """
    tenor = slug_tenor(target_expiry_days)
    default = f"put-spread-{slug_pct(long_pct)}-{slug_pct(short_pct)}-{tenor}"
    legs = [
        _leg(_leg_ids([long_pct])[0], LegSide.LONG, OptionType.PUT, StrikeRule(value=long_pct),
             target_expiry_days),
        _leg(f"short-put-{round(short_pct * 100, 2):g}".replace(".", "_"), LegSide.SHORT,
             OptionType.PUT, StrikeRule(value=short_pct), target_expiry_days),
    ]  # fmt: skip
    options = _Options(contract_mode, display_name, description, tags, template_id)
    return _template(
        slug or default, TemplateKind.PUT_SPREAD, legs, roll_policy, underlying_symbol, options
    )


def unhedged(slug: str = "unhedged", underlying_symbol: str = "*") -> StrategyTemplate:
    """Build the baseline with no hedge, so the unhedged path ranks like any template.

    Its id is derived from its slug, so every call gives an equal template.
    """
    return StrategyTemplate(
        template_id=str(uuid.uuid5(_SEED_NAMESPACE, f"unhedged:{slug}")),
        slug=slug,
        display_name="Unhedged",
        description="No hedge: the collateral and the loan alone.",
        template_kind=TemplateKind.UNHEDGED,
        underlying_symbol=underlying_symbol,
        created_at=SEED_TIMESTAMP,
        updated_at=SEED_TIMESTAMP,
    )


def de_risk(
    slug: str | None = None,
    sell_fraction: float = 0.0,
    trigger_ltv: float | None = None,
    target_ltv: float | None = None,
    underlying_symbol: str = "*",
    *,
    display_name: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
    template_id: str | None = None,
) -> StrategyTemplate:
    """Build the de-risking baseline (SPEC 9.2): borrow less instead of hedging.

    On the first day ``sell_fraction`` of the units is sold at the close and repays the
    loan; then, whenever the LTV reaches ``trigger_ltv``, collateral is sold down to
    ``target_ltv``. It holds no options, so it ranks beside the hedges on what it gives up.
    The slug defaults to e.g. ``de-risk-20pct`` or ``de-risk-0pct-at-70pct-to-60pct``.

    Examples
    --------
    >>> import hedgeframe as hf
    >>> hf.de_risk(sell_fraction=0.2).slug
    'de-risk-20pct'
    """
    default = f"de-risk-{round(sell_fraction * 100, 2):g}pct".replace(".", "_")
    if trigger_ltv is not None and target_ltv is not None:
        default += f"-at-{slug_pct(trigger_ltv)}-to-{slug_pct(target_ltv)}"
    fields: dict[str, object] = {
        "slug": slug or default,
        "display_name": display_name if display_name is not None else slug or default,
        "description": description,
        "template_kind": TemplateKind.DE_RISK,
        "underlying_symbol": underlying_symbol,
        "de_risk": DeRiskRule(
            sell_fraction=sell_fraction, trigger_ltv=trigger_ltv, target_ltv=target_ltv
        ),
        "tags": list(tags),
    }
    if template_id is not None:
        fields["template_id"] = template_id
    return StrategyTemplate.model_validate(fields)


def demo_templates() -> list[StrategyTemplate]:
    """Return what ``hedgeframe demo`` compares, with stable ids and timestamps.

    The four seed templates, a zero-cost collar (95 % put) and a 95/80 put spread, all
    12 months.
    """
    extra = [
        zero_cost_collar(
            display_name="Zero-cost collar 95% put 12m",
            description="A 95% put paid for by the call whose premium matches it.",
            tags=["collar", "zero-cost"],
            template_id=str(uuid.uuid5(_SEED_NAMESPACE, "zero-cost-collar-95pct-put-12m")),
        ),
        put_spread(
            display_name="Put spread 95/80 12m",
            description="A 95% put with an 80% put sold under it: protection down to 80%.",
            tags=["spread", "cost-aware"],
            template_id=str(uuid.uuid5(_SEED_NAMESPACE, "put-spread-95pct-80pct-12m")),
        ),
    ]
    stamp = {"created_at": SEED_TIMESTAMP, "updated_at": SEED_TIMESTAMP}
    return [
        *seed_templates(),
        *(StrategyTemplate.model_validate({**t.model_dump(), **stamp}) for t in extra),
    ]
