"""Assumptions in words: provider, volatility rule, templates, execution, ranking, caveats.

Both reports (and the command line, for the provider) describe a run's assumptions with
these, so a provider or a template reads the same wherever it is shown. Functions ending
in ``_note``/``_table`` return HTML; the others plain text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from hedgeframe.models import PricingMode, RollPolicyType
from hedgeframe.report._format import fmt_text
from hedgeframe.report._html import esc

if TYPE_CHECKING:
    from hedgeframe.models import StrategyTemplate

__all__ = [
    "DAILY_CLOSES_CAVEAT",
    "LTV_DEFINITIONS",
    "RANKING_RULE",
    "describe_provider",
    "describe_template",
    "execution_note",
    "pricing_caveat",
    "provider_notes",
    "templates_table",
]

RANKING_RULE: Final = (
    "best first: fewer hedged margin-call days, then lower maximum hedged LTV, then lower "
    "hedge cost, then higher hedged end value"
)
"""The SPEC's ranking order, as the reports state it."""

LTV_DEFINITIONS: Final = (
    "Unhedged LTV = loan / (collateral + initial cash); hedged LTV = loan / (collateral + "
    "option marks + cash, where cash has paid every premium and received every sale or "
    "payoff)."
)

DAILY_CLOSES_CAVEAT: Final = (
    "<b>Daily closes only.</b> Decisions, fills and marks use the same day's close; "
    "intraday margin calls are not seen."
)


def _describe_volatility(config: Any) -> str:
    if not isinstance(config, dict):
        return fmt_text(config)
    kind = config.get("kind")
    if kind == "constant":
        return f"constant {config['value']:.1%}"
    if kind == "index":
        return f"{config['symbol']} close x {config['scale']:g} on the same day"
    if kind == "trailing_realized":
        return (
            f"{config['window']}-day trailing realized volatility of the underlying "
            "(sample stdev of daily log returns up to the day, x sqrt("
            f"{config.get('annualization', 252)}))"
        )
    if kind == "step":
        steps = ", ".join(f"{d}: {s:.1%}" for d, s in config["steps"])
        return f"step schedule ({steps})"
    if kind == "first_available":
        parts = [_describe_volatility(regime) for regime in config["regimes"]]
        return "; where not yet available: ".join(parts)
    return json.dumps(config, sort_keys=True)


def describe_provider(provider_id: str, pricing_mode: str, config: dict[str, Any]) -> list[str]:
    """Describe a provider's frozen configuration as readable lines (report, CLI)."""
    lines = [f"provider {provider_id} ({pricing_mode})"]
    for key, value in config.items():
        if key == "volatility":
            lines.append(f"volatility: {_describe_volatility(value)}")
        elif key in ("rate", "dividend_yield"):
            lines.append(f"{key.replace('_', ' ')}: {value:.2%} (continuously compounded)")
        elif key == "spread_pct":
            lines.append(
                f"bid/ask spread: {value:.2%} of the mid (buys pay half of it, sales receive "
                "half less; settlement at expiry pays none)"
            )
        else:
            lines.append(f"{key.replace('_', ' ')}: {value}")
    return lines


def provider_notes(provider_id: str, pricing_mode: PricingMode, config: dict[str, Any]) -> str:
    """Return the "Pricing and data" paragraph: :func:`describe_provider` as a list."""
    lines = describe_provider(provider_id, pricing_mode.value, config)
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return f"<p><b>Pricing and data.</b></p><ul class='notes'>{items}</ul>"


def execution_note(first_day: str) -> str:
    """Return the "Execution" paragraph; ``first_day`` names when the hedges are bought."""
    return (
        "<p><b>Execution.</b> Daily close to close: each decision is filled at the close it "
        f"was made on. Every template buys its puts on {esc(first_day)}; expiries settle at "
        "intrinsic value; whatever is open on the last day is sold. Quantities are fixed by "
        "the template and the units, never by the path.</p>"
    )


def templates_table(templates: Sequence[StrategyTemplate]) -> str:
    """Each template's slug, version, name and rule in words, as an HTML table."""
    rows = "".join(
        f"<tr><td>{esc(t.slug)}</td><td>{t.version}</td><td>{esc(t.display_name)}</td>"
        f"<td>{esc(describe_template(t))}</td></tr>"
        for t in templates
    )
    return (
        "<table><thead><tr><th>slug</th><th>version</th><th>name</th><th>rule</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def describe_template(template: StrategyTemplate) -> str:
    """One line per template: its legs, how it rolls, and what share of the units it covers."""
    legs = ", ".join(
        f"{leg.side} {leg.option_type} at {leg.strike_rule.value:.0%} of spot, "
        f"weight {leg.allocation_weight:.0%}, {leg.target_expiry_days} days"
        for leg in template.legs
    )
    policy = template.roll_policy
    roll = (
        f"rolled {policy.days_before_expiry} sessions before expiry"
        if policy.policy_type is RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY
        else "held to expiry, then replaced"
    )
    coverage = {leg.target_coverage_pct for leg in template.legs}
    covered = ", ".join(f"{c:.0%}" for c in sorted(coverage))
    return f"{legs}; {roll}; covers {covered} of the units"


def pricing_caveat(pricing_mode: PricingMode) -> str:
    """Return the caveat on where option prices come from (HTML, trusted text)."""
    if pricing_mode is PricingMode.SYNTHETIC_BS_MID:
        return (
            "<b>Synthetic pricing.</b> Option prices are Black-Scholes-Merton model values on "
            "real closes with the volatility rule below, not traded quotes. Real puts in a "
            "selloff trade with skew and wider spreads; treat costs and payoffs as estimates."
        )
    return (
        "<b>Snapshot pricing.</b> Option prices are the stored daily chain mids "
        "(fallbacks for missing quotes are listed under warnings)."
    )
