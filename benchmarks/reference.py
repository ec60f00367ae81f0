"""A slow, scalar reference backtester written only from SPEC section 4.

It exists to cross-check the vectorized engine (``hedgeframe.engine``): it shares no code
with it, not even the Black-Scholes pricer. Everything is a plain Python loop over days
and over open positions, in the order SPEC section 4 lists the steps:

1. accrue cash, 2. expire, 3. roll, 4. enter, 5. mark, 6. last day, 7. record.

Only the continuous-units synthetic (Black-Scholes-Merton mid) mode is covered. The
reference takes the day's volatility as an input (a callable or a per-day mapping), so it
needs no bars before the scenario's first day.

Examples
--------
>>> from datetime import date
>>> round(bsm_price("put", spot=100.0, strike=100.0, tau=1.0, sigma=0.2, rate=0.0,
...                 dividend_yield=0.0), 6)
7.965567
>>> expiry_session([date(2024, 3, 8), date(2024, 3, 11)], date(2024, 3, 9))
datetime.date(2024, 3, 8)
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hedgeframe.models import BacktestPortfolioState, StrategyTemplate

__all__ = [
    "ReferenceDailyPoint",
    "ReferencePosition",
    "ReferenceResult",
    "ReferenceSummary",
    "ReferenceTrade",
    "bsm_price",
    "expiry_session",
    "intrinsic_value",
    "norm_cdf",
    "reference_backtest",
    "roll_session",
]

# ---------------------------------------------------------------------------------------
# Pricing: Black-Scholes-Merton with math.erf
# ---------------------------------------------------------------------------------------


def norm_cdf(x: float) -> float:
    """Standard normal CDF, N(x) = 0.5 * (1 + erf(x / sqrt(2)))."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def intrinsic_value(option_type: str, spot: float, strike: float) -> float:
    """Payoff at expiry: max(K - S, 0) for a put, max(S - K, 0) for a call."""
    if option_type == "put":
        return max(strike - spot, 0.0)
    if option_type == "call":
        return max(spot - strike, 0.0)
    msg = f"option_type must be 'put' or 'call' (got {option_type!r})"
    raise ValueError(msg)


def bsm_price(
    option_type: str,
    *,
    spot: float,
    strike: float,
    tau: float,
    sigma: float,
    rate: float,
    dividend_yield: float,
) -> float:
    """Black-Scholes-Merton value of a European option; intrinsic value when tau <= 0."""
    if tau <= 0.0:
        return intrinsic_value(option_type, spot, strike)
    sqrt_tau = math.sqrt(tau)
    d1 = (math.log(spot / strike) + (rate - dividend_yield + 0.5 * sigma * sigma) * tau) / (
        sigma * sqrt_tau
    )
    d2 = d1 - sigma * sqrt_tau
    discounted_strike = strike * math.exp(-rate * tau)
    forward_spot = spot * math.exp(-dividend_yield * tau)
    if option_type == "put":
        return discounted_strike * norm_cdf(-d2) - forward_spot * norm_cdf(-d1)
    if option_type == "call":
        return forward_spot * norm_cdf(d1) - discounted_strike * norm_cdf(d2)
    msg = f"option_type must be 'put' or 'call' (got {option_type!r})"
    raise ValueError(msg)


# ---------------------------------------------------------------------------------------
# Calendar arithmetic on a plain sorted list of session dates
# ---------------------------------------------------------------------------------------


def expiry_session(sessions: Sequence[dt.date], target: dt.date) -> dt.date:
    """The session nearest to ``target``; on a tie, the earlier session."""
    if not sessions or not sessions[0] <= target <= sessions[-1]:
        msg = f"target expiry {target} is outside the sessions given"
        raise ValueError(msg)
    after = bisect.bisect_left(sessions, target)  # first session >= target
    later = sessions[after]
    if later == target or after == 0:
        return later
    earlier = sessions[after - 1]
    # On a tie (equal distance) the earlier session wins.
    if (target - earlier).days <= (later - target).days:
        return earlier
    return later


def roll_session(sessions: Sequence[dt.date], expiry: dt.date, n_sessions: int) -> dt.date:
    """The session ``n_sessions`` sessions before the session ``expiry``."""
    index = bisect.bisect_left(sessions, expiry)
    if index >= len(sessions) or sessions[index] != expiry:
        msg = f"expiry {expiry} is not one of the sessions given"
        raise ValueError(msg)
    if index - n_sessions < 0:
        msg = f"no session {n_sessions} sessions before {expiry} in the sessions given"
        raise ValueError(msg)
    return sessions[index - n_sessions]


# ---------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------


@dataclass
class ReferencePosition:
    """One open option position."""

    number: int
    leg_id: str
    option_type: str
    strike: float
    expiry: dt.date
    quantity: float
    opened_at: dt.date
    roll_date: dt.date | None  # None under hold_to_expiry


@dataclass(frozen=True)
class ReferenceTrade:
    """One trade, as the engine's ``trades`` table records it."""

    date: dt.date
    action: str
    reason: str
    leg_id: str
    option_type: str
    strike: float
    expiry: dt.date
    quantity: float
    price: float
    cashflow: float
    position_number: int


@dataclass(frozen=True)
class ReferenceDailyPoint:
    """One day's state after that day's trades (SPEC section 4 step 7)."""

    date: dt.date
    spot_close: float
    underlying_value: float
    option_market_value: float
    premium_cashflow: float
    realized_option_cashflow: float
    cash: float
    net_portfolio_value: float
    loan_amount: float
    ltv_unhedged: float
    ltv_hedged: float
    margin_call_unhedged: bool
    margin_call_hedged: bool
    open_position_count: int


@dataclass(frozen=True)
class ReferenceSummary:
    """The summary metrics of SPEC section 4."""

    start_value: float
    end_value_unhedged: float
    end_value_hedged_net: float
    total_hedge_cost: float
    total_option_payoff_realized: float
    max_ltv_unhedged: float
    max_ltv_hedged: float
    margin_call_days_unhedged: int
    margin_call_days_hedged: int
    worst_drawdown_unhedged: float
    worst_drawdown_hedged: float
    days_protected_below_threshold: int
    roll_count: int


@dataclass
class ReferenceResult:
    """Everything the reference computes for one template."""

    trades: list[ReferenceTrade]
    daily: list[ReferenceDailyPoint]
    summary: ReferenceSummary
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# The backtest
# ---------------------------------------------------------------------------------------


def _worst_drawdown(values: Sequence[float]) -> float:
    """Largest 1 - V_t / max_{s<=t} V_s."""
    worst = 0.0
    peak = values[0]
    for value in values:
        peak = max(peak, value)
        worst = max(worst, 1.0 - value / peak)
    return worst


def _close_on_or_before(
    closes: Sequence[tuple[dt.date, float]], day: dt.date
) -> tuple[dt.date, float]:
    """The bar dated ``day``, or else the last bar before it."""
    found: tuple[dt.date, float] | None = None
    for bar_date, close in closes:
        if bar_date <= day:
            found = (bar_date, close)
    if found is None:
        msg = f"no close on or before {day}"
        raise ValueError(msg)
    return found


def reference_backtest(
    closes: Sequence[tuple[dt.date, float]],
    *,
    template: StrategyTemplate,
    portfolio: BacktestPortfolioState,
    sigma: Callable[[dt.date], float] | Mapping[dt.date, float],
    rate: float,
    dividend_yield: float,
    spread_pct: float,
    sessions: Sequence[dt.date],
) -> ReferenceResult:
    """Backtest one continuous-units template over ``closes`` by SPEC section 4, scalar.

    Parameters
    ----------
    closes
        The scenario's bars ``(date, close)``: its trading days are exactly these dates.
    template
        The strategy template (long puts, shared tenor, a roll policy).
    portfolio
        The initial portfolio (units, loan, margin-call LTV, cash, financing rate).
    sigma
        The volatility of each trading day (a callable, or a mapping keyed by date).
    rate, dividend_yield
        Continuously compounded, constant.
    spread_pct
        Full bid/ask width as a fraction of the mid; fills pay half of it.
    sessions
        The exchange calendar's sessions, sorted, covering every expiry and roll session.

    Raises
    ------
    ValueError
        Fewer than two trading days, unsorted or duplicate dates, or a new position that
        would be due to roll (or expire) on its own entry day.
    """
    bars = list(closes)
    if len(bars) < 2:
        msg = f"a scenario needs at least two trading days (got {len(bars)})"
        raise ValueError(msg)
    for (earlier, _), (later, _) in itertools.pairwise(bars):
        if not earlier < later:
            msg = f"closes must be sorted by date without duplicates ({earlier}, {later})"
            raise ValueError(msg)
    session_list = list(sessions)

    def sigma_on(day: dt.date) -> float:
        if callable(sigma):
            return float(sigma(day))
        return float(sigma[day])

    policy_type = str(template.roll_policy.policy_type)
    roll_n: int | None = None
    if policy_type == "roll_n_days_before_expiry":
        roll_n = template.roll_policy.days_before_expiry
        if roll_n is None or roll_n < 1:
            msg = f"days_before_expiry must be >= 1 (got {roll_n})"
            raise ValueError(msg)
    elif policy_type != "hold_to_expiry":
        msg = f"unknown roll policy {policy_type!r}"
        raise ValueError(msg)

    units = portfolio.underlying_units
    loan = portfolio.loan_amount
    initial_cash = portfolio.cash_balance
    half_spread = spread_pct / 2.0

    def mid(position: ReferencePosition, day: dt.date, spot: float) -> float:
        tau = (position.expiry - day).days / 365
        return bsm_price(
            position.option_type,
            spot=spot,
            strike=position.strike,
            tau=tau,
            sigma=sigma_on(day),
            rate=rate,
            dividend_yield=dividend_yield,
        )

    cash = initial_cash
    open_positions: list[ReferencePosition] = []
    trades: list[ReferenceTrade] = []
    daily: list[ReferenceDailyPoint] = []
    warnings: list[str] = []
    next_number = 0
    roll_count = 0
    last_index = len(bars) - 1

    for day_index, (day, spot) in enumerate(bars):
        is_first = day_index == 0
        is_last = day_index == last_index
        premium = 0.0
        realized = 0.0
        closed_a_position = False

        # 1. Accrue cash (not on the first day).
        if not is_first:
            previous_day = bars[day_index - 1][0]
            cash *= 1 + portfolio.financing_rate * (day - previous_day).days / 365

        # 2. Expire every position with expiry <= T, at intrinsic of the expiry-date close.
        still_open: list[ReferencePosition] = []
        for position in open_positions:
            if position.expiry <= day:
                settle_date, settle_close = _close_on_or_before(bars, position.expiry)
                if settle_date != position.expiry:
                    warnings.append(
                        f"{day} {template.slug} v{template.version}: no bar on expiry "
                        f"{position.expiry}; settled at the {settle_date} close"
                    )
                price = intrinsic_value(position.option_type, settle_close, position.strike)
                cashflow = position.quantity * price
                trades.append(
                    ReferenceTrade(
                        date=day,
                        action="expire",
                        reason="expiry",
                        leg_id=position.leg_id,
                        option_type=position.option_type,
                        strike=position.strike,
                        expiry=position.expiry,
                        quantity=position.quantity,
                        price=price,
                        cashflow=cashflow,
                        position_number=position.number,
                    )
                )
                realized += cashflow
                closed_a_position = True
            else:
                still_open.append(position)
        open_positions = still_open

        # 3. Roll every position whose roll session R has been reached (T >= R).
        still_open = []
        for position in open_positions:
            if position.roll_date is not None and day >= position.roll_date:
                price = mid(position, day, spot) * (1 - half_spread)
                cashflow = position.quantity * price
                trades.append(
                    ReferenceTrade(
                        date=day,
                        action="sell_close",
                        reason="scheduled_roll",
                        leg_id=position.leg_id,
                        option_type=position.option_type,
                        strike=position.strike,
                        expiry=position.expiry,
                        quantity=position.quantity,
                        price=price,
                        cashflow=cashflow,
                        position_number=position.number,
                    )
                )
                realized += cashflow
                closed_a_position = True
            else:
                still_open.append(position)
        open_positions = still_open

        # 4. Enter: on the first day, and after a close on any day but the last.
        if is_first or (closed_a_position and not is_last):
            reason = "initial_entry" if is_first else "scheduled_roll"
            for leg in template.legs:
                expiry = expiry_session(
                    session_list, day + dt.timedelta(days=leg.target_expiry_days)
                )
                if expiry <= day:
                    msg = (
                        f"template {template.slug!r} v{template.version}: a position opened "
                        f"on {day} would expire on {expiry}, its own entry day or earlier"
                    )
                    raise ValueError(msg)
                roll_date: dt.date | None = None
                if roll_n is not None:
                    roll_date = roll_session(session_list, expiry, roll_n)
                    if roll_date <= day:
                        msg = (
                            f"template {template.slug!r} v{template.version}: a position "
                            f"opened on {day} expiring {expiry} would be due to roll on "
                            f"{roll_date} ({roll_n} sessions before expiry), on or before "
                            f"its own entry day"
                        )
                        raise ValueError(msg)
                position = ReferencePosition(
                    number=next_number,
                    leg_id=str(leg.leg_id),
                    option_type=str(leg.option_type),
                    strike=leg.strike_rule.number * spot,
                    expiry=expiry,
                    quantity=units * leg.target_coverage_pct * leg.allocation_weight,
                    opened_at=day,
                    roll_date=roll_date,
                )
                next_number += 1
                price = mid(position, day, spot) * (1 + half_spread)
                cashflow = -position.quantity * price
                trades.append(
                    ReferenceTrade(
                        date=day,
                        action="buy_open",
                        reason=reason,
                        leg_id=position.leg_id,
                        option_type=position.option_type,
                        strike=position.strike,
                        expiry=position.expiry,
                        quantity=position.quantity,
                        price=price,
                        cashflow=cashflow,
                        position_number=position.number,
                    )
                )
                premium += cashflow
                open_positions.append(position)
            if not is_first:
                roll_count += 1

        # 5. Mark (step 6 sells on the last day, so the mark only matters before it).
        # 6. Last day: sell everything at the day's fill price.
        if is_last:
            for position in open_positions:
                price = mid(position, day, spot) * (1 - half_spread)
                cashflow = position.quantity * price
                trades.append(
                    ReferenceTrade(
                        date=day,
                        action="sell_close",
                        reason="scenario_end",
                        leg_id=position.leg_id,
                        option_type=position.option_type,
                        strike=position.strike,
                        expiry=position.expiry,
                        quantity=position.quantity,
                        price=price,
                        cashflow=cashflow,
                        position_number=position.number,
                    )
                )
                realized += cashflow
            open_positions = []

        option_market_value = 0.0
        for position in open_positions:
            option_market_value += position.quantity * mid(position, day, spot)

        # 7. Record the daily point.
        cash = cash + premium + realized
        underlying_value = units * spot
        net_value = underlying_value + option_market_value + cash
        ltv_unhedged = loan / (underlying_value + initial_cash)
        ltv_hedged = loan / net_value if net_value > 0 else math.inf
        daily.append(
            ReferenceDailyPoint(
                date=day,
                spot_close=spot,
                underlying_value=underlying_value,
                option_market_value=option_market_value,
                premium_cashflow=premium,
                realized_option_cashflow=realized,
                cash=cash,
                net_portfolio_value=net_value,
                loan_amount=loan,
                ltv_unhedged=ltv_unhedged,
                ltv_hedged=ltv_hedged,
                margin_call_unhedged=ltv_unhedged >= portfolio.margin_call_ltv,
                margin_call_hedged=ltv_hedged >= portfolio.margin_call_ltv,
                open_position_count=len(open_positions),
            )
        )

    unhedged_values = [point.underlying_value + initial_cash for point in daily]
    hedged_values = [point.net_portfolio_value for point in daily]
    summary = ReferenceSummary(
        start_value=daily[0].underlying_value + initial_cash,
        end_value_unhedged=daily[-1].underlying_value + initial_cash,
        end_value_hedged_net=daily[-1].net_portfolio_value,
        total_hedge_cost=-sum(point.premium_cashflow for point in daily),
        total_option_payoff_realized=sum(point.realized_option_cashflow for point in daily),
        max_ltv_unhedged=max(point.ltv_unhedged for point in daily),
        max_ltv_hedged=max(point.ltv_hedged for point in daily),
        margin_call_days_unhedged=sum(1 for point in daily if point.margin_call_unhedged),
        margin_call_days_hedged=sum(1 for point in daily if point.margin_call_hedged),
        worst_drawdown_unhedged=_worst_drawdown(unhedged_values),
        worst_drawdown_hedged=_worst_drawdown(hedged_values),
        days_protected_below_threshold=sum(
            1 for point in daily if point.margin_call_unhedged and not point.margin_call_hedged
        ),
        roll_count=roll_count,
    )
    return ReferenceResult(trades=trades, daily=daily, summary=summary, warnings=warnings)
