"""``EventPortfolio``: a collateral-and-loan position defined once, sized per event."""

from __future__ import annotations

from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from hedgeframe.models import (
    BacktestPortfolioState,
    MarginCallPolicy,
)
from hedgeframe.models._base import FrozenModel, check_ratio


class EventPortfolio(FrozenModel):
    """A collateral-and-loan position defined once, sized at each event's first close.

    Events happen at very different index levels (the S&P 500 was 1,527 in March 2000 and
    2,931 in September 2018), so the position is defined by ratios and sized per event:
    either a fixed ``collateral_value`` (the default: USD 1,000,000 at every event, so
    currency totals add up across events) or a fixed number of ``underlying_units``. The
    loan is ``loan_to_value`` of the collateral (underlying plus cash) on the first day, so
    every event starts at the same unhedged LTV.

    Parameters
    ----------
    collateral_value
        Value of the underlying at each event's first close (exclusive with units).
    underlying_units
        Units held at every event, whatever their price (exclusive with value).
    loan_to_value
        Loan as a fraction of the first day's collateral, in [0, 1).
    margin_call_ltv
        LTV at which the lender calls margin.
    cash_ratio
        Cash beside the underlying, as a fraction of the underlying's first-day value.
    financing_rate
        Rate the cash accrues at (SPEC section 4 step 1).
    loan_rate, margin_call_policy, cure_ltv
        The loan's interest and what a margin call does (SPEC 9.2; default: no interest,
        the call is only flagged).
    currency
        Reporting currency.

    Examples
    --------
    >>> round(EventPortfolio().state_at(1565.15).underlying_units, 2)
    638.92
    """

    collateral_value: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    underlying_units: float | None = Field(default=None, gt=0.0, allow_inf_nan=False)
    loan_to_value: float = Field(default=0.6, ge=0.0, allow_inf_nan=False)
    margin_call_ltv: float = Field(default=0.75, gt=0.0, allow_inf_nan=False)
    cash_ratio: float = Field(default=0.0, ge=0.0, allow_inf_nan=False)
    financing_rate: float = Field(default=0.0, ge=-1.0, le=1.0, allow_inf_nan=False)
    loan_rate: float = Field(default=0.0, ge=-0.5, lt=1.0, allow_inf_nan=False)
    margin_call_policy: MarginCallPolicy = MarginCallPolicy.NONE
    cure_ltv: float = Field(default=0.60, gt=0.0, lt=1.0, allow_inf_nan=False)
    currency: str = Field(default="USD", min_length=3, max_length=3)

    @model_validator(mode="before")
    @classmethod
    def _default_value(cls, data: Any) -> Any:
        sized = isinstance(data, dict) and (
            data.get("collateral_value") is not None or data.get("underlying_units") is not None
        )
        if isinstance(data, dict) and not sized:
            return {**data, "collateral_value": 1_000_000.0}
        return data

    @field_validator("loan_to_value")
    @classmethod
    def _loan_is_a_ratio(cls, value: float) -> float:
        return check_ratio(value, "loan_to_value", high=1.0, inclusive=False)

    @field_validator("margin_call_ltv")
    @classmethod
    def _ltv_is_a_ratio(cls, value: float) -> float:
        return check_ratio(value, "margin_call_ltv", high=1.0)

    @model_validator(mode="after")
    def _one_size(self) -> Self:
        if self.collateral_value is not None and self.underlying_units is not None:
            msg = (
                f"give collateral_value ({self.collateral_value}) or underlying_units "
                f"({self.underlying_units}), not both"
            )
            raise ValueError(msg)
        return self

    @classmethod
    def from_state(cls, state: BacktestPortfolioState) -> EventPortfolio:
        """Keep a state's units and ratios; its ``entry_spot`` is replaced per event."""
        underlying = state.underlying_units * state.entry_spot
        return cls(
            underlying_units=state.underlying_units,
            loan_to_value=state.loan_amount / (underlying + state.cash_balance),
            margin_call_ltv=state.margin_call_ltv,
            cash_ratio=state.cash_balance / underlying,
            financing_rate=state.financing_rate,
            loan_rate=state.loan_rate,
            margin_call_policy=state.margin_call_policy,
            cure_ltv=state.cure_ltv,
            currency=state.currency,
        )

    def state_at(self, entry_spot: float) -> BacktestPortfolioState:
        """Return the concrete day-0 position for an event whose first close is ``entry_spot``."""
        units = (
            self.underlying_units
            if self.underlying_units is not None
            else float(self.collateral_value or 0.0) / entry_spot
        )
        underlying = units * entry_spot
        cash = self.cash_ratio * underlying
        return BacktestPortfolioState(
            currency=self.currency,
            underlying_units=units,
            entry_spot=entry_spot,
            loan_amount=self.loan_to_value * (underlying + cash),
            margin_call_ltv=self.margin_call_ltv,
            cash_balance=cash,
            financing_rate=self.financing_rate,
            loan_rate=self.loan_rate,
            margin_call_policy=self.margin_call_policy,
            cure_ltv=self.cure_ltv,
        )

    def describe(self) -> str:
        """One sentence for reports: how the position is sized and financed."""
        size = (
            f"{self.underlying_units:,.4g} units of the underlying"
            if self.underlying_units is not None
            else f"{self.currency} {self.collateral_value:,.0f} of the underlying"
        )
        cash = f" plus cash of {self.cash_ratio:.1%} of it" if self.cash_ratio else ""
        rate = f"; cash accrues at {self.financing_rate:.2%}" if self.financing_rate else ""
        interest = f"; the loan accrues {self.loan_rate:.2%}" if self.loan_rate else ""
        lender = {
            MarginCallPolicy.NONE: "",
            MarginCallPolicy.CURE: f" (cured by selling collateral down to {self.cure_ltv:.0%})",
            MarginCallPolicy.LIQUIDATE: " (everything sold on the first call)",
        }[self.margin_call_policy]
        return (
            f"{size} at each event's first close{cash}; loan {self.loan_to_value:.0%} of the "
            f"collateral{interest}; margin call at LTV {self.margin_call_ltv:.0%}{lender}{rate}"
        )
