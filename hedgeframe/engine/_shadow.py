"""The unhedged shadow portfolio: the same collateral and loan, with no hedge.

Every template of a run is compared with it, and an event's unhedged figures come from it
computed over the event's bars, never from one template's (possibly cut) path (SPEC 9.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hedgeframe.engine._metrics import drawdown
from hedgeframe.models import BacktestPortfolioState

__all__ = ["UnhedgedPath", "unhedged_path"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class UnhedgedPath:
    """The shadow portfolio day by day: value, loan, LTV and margin-call flags."""

    underlying_value: FloatArray
    value: FloatArray
    loan: FloatArray
    ltv: FloatArray
    margin_call: BoolArray

    @property
    def max_ltv(self) -> float:
        """The highest LTV over the path."""
        return float(self.ltv.max())

    @property
    def margin_call_days(self) -> int:
        """How many days the LTV was at or above the margin-call line."""
        return int(self.margin_call.sum())

    @property
    def worst_drawdown(self) -> float:
        """The largest fall of the value from its running peak, as a fraction."""
        return float(drawdown(self.value).max())


def unhedged_path(closes: FloatArray, portfolio: BacktestPortfolioState) -> UnhedgedPath:
    """Value the shadow portfolio at each close: ``units * close + initial cash``.

    Parameters
    ----------
    closes
        The underlying's closes on the scenario's trading days, at least one.
    portfolio
        The day-0 position.
    """
    underlying_value = portfolio.underlying_units * closes
    value = underlying_value + portfolio.cash_balance
    loan = np.full(closes.shape, portfolio.loan_amount)
    with np.errstate(divide="ignore"):
        ltv = loan / value
    return UnhedgedPath(underlying_value, value, loan, ltv, ltv >= portfolio.margin_call_ltv)
