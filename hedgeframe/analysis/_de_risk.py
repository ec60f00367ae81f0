"""The de-risking baseline priced like a hedge: borrow less, for the same cost (SPEC 9.2).

"Would simply borrowing less have done better for the same money?" A de-risking template
sells ``sell_fraction`` of the collateral on the first day and repays the loan with it.
Its cost over a scenario is the end equity it gave up against holding everything:
``end_equity_unhedged - end_equity_hedged``. :func:`match_de_risk` finds the fraction whose
cost equals a hedge's ``total_hedge_cost``, so the two can be compared at equal cost.

This is **hindsight**: the cost of a fraction is known only at the scenario's end, so the
fraction it finds could not have been chosen on the first day. It is a comparison tool,
never an input to a point-in-time decision, and it refuses to run inside a backtest step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl

from hedgeframe.engine import BacktestRunResult, run_backtest
from hedgeframe.engine._steps import refuse_inside_backtest
from hedgeframe.errors import InvalidScenarioError
from hedgeframe.models import BacktestScenario, StrategyTemplate, TemplateRef
from hedgeframe.providers import HistoricalMarketDataProvider
from hedgeframe.templates import de_risk

__all__ = ["DeRiskMatch", "match_de_risk"]

MAX_FRACTION: Final = 0.99
"""The largest fraction tried: selling everything would leave no collateral to compare."""
GRID: Final = 12
"""Fractions run together in one batch per refinement round."""
ROUNDS: Final = 8
"""Refinement rounds; each narrows the bracket ``GRID - 1`` fold."""


@dataclass(frozen=True)
class DeRiskMatch:
    """The de-risking template whose cost matches a target, and its run.

    ``cost`` is ``end_equity_unhedged - end_equity_hedged`` of ``template`` in ``result``;
    ``target`` the cost asked for.
    """

    sell_fraction: float
    cost: float
    target: float
    template: StrategyTemplate
    result: BacktestRunResult


def _costs(
    scenario: BacktestScenario,
    provider: HistoricalMarketDataProvider,
    fractions: np.ndarray,
    trigger_ltv: float | None,
    target_ltv: float | None,
) -> tuple[list[StrategyTemplate], BacktestRunResult, np.ndarray]:
    templates = [
        de_risk(
            f"match-{i}",
            sell_fraction=float(f),
            trigger_ltv=trigger_ltv,
            target_ltv=target_ltv,
            underlying_symbol=scenario.symbol,
        )
        for i, f in enumerate(fractions)
    ]
    refs = [TemplateRef(template_id=t.template_id, version=t.version) for t in templates]
    run = run_backtest(
        scenario.model_copy(update={"template_refs": refs}),
        templates,
        provider,
        keep_daily_path=False,
        keep_trades=False,
    )
    by_id = run.summary.select(
        "template_id", (pl.col("end_equity_unhedged") - pl.col("end_equity_hedged")).alias("cost")
    )
    costs = dict(by_id.iter_rows())
    return templates, run, np.array([costs[t.template_id] for t in templates])


def match_de_risk(
    scenario: BacktestScenario,
    provider: HistoricalMarketDataProvider,
    *,
    target_cost: float,
    trigger_ltv: float | None = None,
    target_ltv: float | None = None,
) -> DeRiskMatch:
    """Find the ``sell_fraction`` whose cost over ``scenario`` is ``target_cost`` (hindsight).

    The cost of a fraction is the end equity given up against the unhedged portfolio. The
    fractions in ``[0, 0.99]`` are run in batches of ``GRID`` templates; the first bracket
    in which the cost crosses the target is narrowed for ``ROUNDS`` rounds, and the
    fraction is interpolated in the last bracket.

    Parameters
    ----------
    scenario
        The window, portfolio and lender terms (its templates are not used).
    provider
        The scenario's provider.
    target_cost
        A hedge's ``total_hedge_cost`` over the same scenario.
    trigger_ltv, target_ltv
        The de-risking template's later sales (SPEC 9.2 step 8.1), if any.

    Raises
    ------
    LookaheadError
        When called inside a running backtest (a provider or a regime): it reads the
        scenario's end.
    InvalidScenarioError
        When no fraction costs ``target_cost`` (e.g. in a falling market, borrowing less
        costs nothing: it gains).
    """
    refuse_inside_backtest("match_de_risk")
    low, high = 0.0, MAX_FRACTION
    for _ in range(ROUNDS):
        fractions = np.linspace(low, high, GRID)
        templates, run, costs = _costs(scenario, provider, fractions, trigger_ltv, target_ltv)
        above = np.flatnonzero(costs >= target_cost)
        if above.size == 0 or costs[0] > target_cost:
            msg = (
                f"no sell_fraction in [{low:g}, {high:g}] costs {target_cost:,.2f} over scenario "
                f"{scenario.slug!r}: de-risking costs {costs.min():,.2f} to {costs.max():,.2f} "
                "there (in a falling market borrowing less gains, it does not cost)"
            )
            raise InvalidScenarioError(msg)
        first = int(above[0])
        if first == 0 or costs[first] == target_cost:
            return DeRiskMatch(
                float(fractions[first]),
                float(costs[first]),
                target_cost,
                templates[first],
                run,
            )
        low, high = float(fractions[first - 1]), float(fractions[first])
    weight = (target_cost - costs[first - 1]) / (costs[first] - costs[first - 1])
    fraction = low + weight * (high - low)
    templates, run, costs = _costs(
        scenario, provider, np.array([fraction]), trigger_ltv, target_ltv
    )
    return DeRiskMatch(fraction, float(costs[0]), target_cost, templates[0], run)
