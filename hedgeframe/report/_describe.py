"""Assumptions in words: provider, templates, execution, ranking, caveats.

Both reports describe a run's assumptions with these, so a template or the execution
reads the same in each; the provider's words are its typed configuration's own
(``describe()``, also what the command line prints). Functions ending in
``_notes``/``_note``/``_table`` return HTML; the others plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import polars as pl

from hedgeframe.errors import HedgeframeError
from hedgeframe.models import PricingMode
from hedgeframe.pricing import VolSurface
from hedgeframe.providers import SyntheticProviderConfig, parse_provider_config
from hedgeframe.report._html import esc

if TYPE_CHECKING:
    from hedgeframe.models import ProviderSnapshot, StrategyTemplate

__all__ = [
    "DAILY_CLOSES_CAVEAT",
    "LTV_DEFINITIONS",
    "RANKING_RULE",
    "execution_note",
    "incomplete_note",
    "pricing_caveats",
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


def provider_notes(snapshot: ProviderSnapshot) -> str:
    """Return the "Pricing and data" paragraph: the provider's configuration in words.

    The words are the typed configuration's own (``describe()``, as the command line
    prints them). A stored configuration this version cannot read is listed as stored,
    with the reason, rather than failing the report.
    """
    try:
        lines = parse_provider_config(snapshot.config).describe()
    except HedgeframeError as exc:
        lines = [
            f"provider {snapshot.provider_id}",
            *(f"{key}: {value}" for key, value in snapshot.config.items()),
            f"(not readable as a provider configuration by this version: {exc})",
        ]
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
        f"<td>{esc(t.describe())}</td></tr>"
        for t in templates
    )
    return (
        "<table><thead><tr><th>slug</th><th>version</th><th>name</th><th>rule</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def pricing_caveats(pricing_mode: PricingMode, snapshot: ProviderSnapshot) -> list[str]:
    """Return the caveats on where option prices come from (HTML, trusted text).

    A synthetic run also says which volatility priced it, flat or a surface.
    """
    volatility = _volatility_caveat(snapshot)
    return [_source_caveat(pricing_mode), *([volatility] if volatility else [])]


def _source_caveat(pricing_mode: PricingMode) -> str:
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


def incomplete_note(summary: pl.DataFrame) -> str:
    """Say why each incomplete template stopped early (SPEC 9.3), as HTML; empty if none.

    An incomplete result covers fewer days, so it ranks after every complete one; its
    reason names the day and what was missing.
    """
    cut = summary.filter(~pl.col("complete"))
    if cut.is_empty():
        return ""
    items = "".join(
        f"<li>{esc(row['template_slug'])} v{row['template_version']}: ran "
        f"{row['days_run']} day(s); {esc(row['incomplete_reason'] or '')}</li>"
        for row in cut.iter_rows(named=True)
    )
    return (
        "<p><b>Incomplete results</b> (ranked after the complete ones; their figures cover "
        f"only the days they ran):</p><ul class='notes'>{items}</ul>"
    )


def _volatility_caveat(snapshot: ProviderSnapshot) -> str | None:
    """Say which volatility regime priced a synthetic run, flat or a surface (HTML).

    None for a run priced from stored chains, or whose configuration this version cannot
    read (the "Pricing and data" notes list it as stored).
    """
    try:
        config = parse_provider_config(snapshot.config)
    except HedgeframeError:
        return None
    if not isinstance(config, SyntheticProviderConfig):
        return None
    regime = esc(str(config.volatility))
    if isinstance(config.volatility, VolSurface):
        return (
            "<b>Volatility.</b> Priced with a volatility surface, each strike and tenor at its "
            f"own volatility: {regime}."
        )
    return (
        "<b>Volatility.</b> Priced with one volatility a day for every strike and tenor "
        f"({regime}): no skew and no term structure, so out-of-the-money and long-dated "
        "puts can be far from listed prices (a calibrated VolSurface adds both)."
    )
