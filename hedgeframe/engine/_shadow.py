"""The unhedged shadow portfolio: the same collateral and loan, with no hedge.

Every template of a run is compared with it, and an event's unhedged figures come from it
computed over the event's bars, never from one template's (possibly cut) path (SPEC 9.3).
It starts with the scenario's units, loan and initial cash, accrues the loan rate (no
financing on its cash), and takes the same margin-call policy as the templates (SPEC 9.2:
a cure sells collateral down to ``cure_ltv``, a liquidation sells everything on the first
call), on its own value ``units x close + cash``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hedgeframe.engine._lender import sell_down
from hedgeframe.engine._metrics import drawdown
from hedgeframe.models import BacktestPortfolioState, MarginCallPolicy

__all__ = ["UnhedgedPath", "unhedged_path"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
DayArray = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class UnhedgedPath:
    """The shadow portfolio day by day (SPEC 9.2).

    ``ltv`` and ``margin_call`` are the values before the lender acts; ``units``,
    ``underlying_value``, ``value`` (``underlying_value + cash``), ``loan`` and
    ``ltv_after`` after it. ``forced_sales`` are the proceeds of the day's cure or
    liquidation sale; ``start_value`` is the first close's value before any sale.
    ``on_equity`` says whether drawdowns are measured on equity (``value - loan``): when a
    sale can repay the loan, the value falls without a loss.
    """

    units: FloatArray
    underlying_value: FloatArray
    value: FloatArray
    loan: FloatArray
    ltv: FloatArray
    ltv_after: FloatArray
    margin_call: BoolArray
    forced_sales: FloatArray
    on_equity: bool
    start_value: float

    @property
    def equity(self) -> FloatArray:
        """Value less the loan, each day after the lender acts."""
        result: FloatArray = self.value - self.loan
        return result

    @property
    def drawdown_basis(self) -> FloatArray:
        """The series drawdowns are measured on: equity under a lender policy, else value."""
        return self.equity if self.on_equity else self.value

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
        """The largest fall of the value (or equity) from its running peak, as a fraction."""
        return float(drawdown(self.drawdown_basis).max())


def _ltv(loan: FloatArray, value: FloatArray) -> FloatArray:
    ltv = np.full(loan.shape, np.inf)
    np.divide(loan, value, out=ltv, where=value > 0.0)
    return ltv


def unhedged_path(
    closes: FloatArray, portfolio: BacktestPortfolioState, days: DayArray | None = None
) -> UnhedgedPath:
    """Value the shadow portfolio at each close: ``units * close + cash`` against its loan.

    Parameters
    ----------
    closes
        The underlying's closes on the scenario's trading days, at least one.
    portfolio
        The day-0 position and the lender's terms.
    days
        The trading days (needed when the loan accrues interest).
    """
    n = closes.size
    growth = np.ones(n)
    if portfolio.loan_rate and days is not None:
        growth[1:] = 1.0 + portfolio.loan_rate * np.diff(days).astype(np.float64) / 365.0
    if not portfolio.lender_acts:
        units = np.full(n, portfolio.underlying_units)
        underlying_value = portfolio.underlying_units * closes
        value = underlying_value + portfolio.cash_balance
        loan: FloatArray = np.multiply(np.cumprod(growth), portfolio.loan_amount)
        ltv = _ltv(loan, value)
        return UnhedgedPath(
            units,
            underlying_value,
            value,
            loan,
            ltv,
            ltv,
            ltv >= portfolio.margin_call_ltv,
            np.zeros(n),
            on_equity=False,
            start_value=float(value[0]),
        )
    return _with_lender(closes, growth, portfolio)


def _with_lender(
    closes: FloatArray, growth: FloatArray, portfolio: BacktestPortfolioState
) -> UnhedgedPath:
    """Replay the shadow day by day: its sales change what it holds (SPEC 9.2 step 8)."""
    n = closes.size
    units_path, loan_path, cash_path = np.empty(n), np.empty(n), np.empty(n)
    ltv_before, forced = np.empty(n), np.zeros(n)
    units = float(portfolio.underlying_units)
    loan, cash = float(portfolio.loan_amount), float(portfolio.cash_balance)
    liquidated = False
    for day in range(n):
        spot = float(closes[day])
        loan *= float(growth[day])
        value = units * spot + cash
        ltv = loan / value if value > 0.0 else np.inf
        ltv_before[day] = ltv
        if not liquidated and ltv >= portfolio.margin_call_ltv:
            if portfolio.margin_call_policy is MarginCallPolicy.CURE:
                proceeds = float(
                    sell_down(
                        np.array([value]),
                        np.array([loan]),
                        portfolio.cure_ltv,
                        np.array([units * spot]),
                    )[0]
                )
                if proceeds > 0.0:
                    units = max(units - proceeds / spot, 0.0)
                    repaid = min(proceeds, loan)
                    loan, cash = loan - repaid, cash + proceeds - repaid
                    forced[day] = proceeds
            else:
                proceeds = units * spot
                available = proceeds + cash
                repaid = min(max(available, 0.0), loan)
                units, loan, cash = 0.0, loan - repaid, available - repaid
                forced[day] = proceeds
                liquidated = True
        units_path[day], loan_path[day], cash_path[day] = units, loan, cash
    underlying_value = units_path * closes
    after: FloatArray = underlying_value + cash_path
    return UnhedgedPath(
        units_path,
        underlying_value,
        after,
        loan_path,
        ltv_before,
        _ltv(loan_path, after),
        ltv_before >= portfolio.margin_call_ltv,
        forced,
        on_equity=True,
        start_value=portfolio.underlying_units * float(closes[0]) + portfolio.cash_balance,
    )
