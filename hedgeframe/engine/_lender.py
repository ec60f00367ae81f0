"""Lender mechanics (SPEC 9.2): a margin call that sells collateral, and de-risking.

With ``margin_call_policy`` ``cure`` or ``liquidate``, or a ``de_risk`` template, a day's
value decides what is held the next day: a cure sells collateral down to ``cure_ltv``, a
liquidation sells everything and closes every option, a de-risking template sells on its
first day and whenever its LTV reaches its trigger. Entries are sized on the units held
when they open, so the quantities of later positions depend on earlier values. This pass
replays the days in order, vectorized across templates, on positions whose contracts and
dates the decision loop already fixed (which contract to hold never depends on how many
units are held) and whose marks per unit are already known; only sizes and money follow
the path. Every input of day ``T`` is dated ``T`` or earlier.

Step 8 of a day, after step 7 (SPEC 9.2): 8.1 a de-risking template whose LTV is at or
above its trigger sells down to its target; 8.2 under ``cure``, a template whose LTV was at
or above the margin-call line and is still above ``cure_ltv`` after 8.1 sells down to
``cure_ltv``; 8.3 under ``liquidate``, on the first call it sells every unit and closes
every option. Selling down to a target LTV ``c`` from net value ``V`` and loan ``L`` takes
proceeds ``P = (L - c V) / (1 - c)``, at most every unit held; sales are at the close with no
spread or fee, and repay the loan first, the surplus going to cash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from hedgeframe import _memory as memory
from hedgeframe.models import (
    BacktestPortfolioState,
    ContractMode,
    ContractRounding,
    ExecutionModel,
    MarginCallPolicy,
    StrategyTemplate,
    TemplateKind,
)

__all__ = [
    "CURE",
    "DE_RISK_INITIAL",
    "DE_RISK_TRIGGER",
    "FORCED_SALE_REASONS",
    "LIQUIDATION",
    "CollateralSales",
    "LenderPath",
    "PositionBook",
    "lender_pass",
    "needs_lender_pass",
    "sell_down",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DE_RISK_INITIAL: Final = 0
DE_RISK_TRIGGER: Final = 1
CURE: Final = 2
LIQUIDATION: Final = 3
"""Codes of why collateral was sold (trade reasons ``de_risk_initial`` ...)."""
FORCED_SALE_REASONS: Final = (CURE, LIQUIDATION)
"""The margin-call sales: those ``forced_sale_value`` counts (SPEC 9.2)."""


def needs_lender_pass(
    portfolio: BacktestPortfolioState, templates: Sequence[StrategyTemplate]
) -> bool:
    """Whether a run's values can change what it holds (SPEC 9.2)."""
    return portfolio.lender_acts or any(t.template_kind is TemplateKind.DE_RISK for t in templates)


def sell_down(
    net_value: FloatArray, loan: FloatArray, target: FloatArray | float, held: FloatArray
) -> FloatArray:
    """Proceeds that bring ``loan / net_value`` down to ``target``: ``(L - c V) / (1 - c)``.

    Capped at ``held`` (the value of every unit); zero where nothing needs selling.
    """
    proceeds = (loan - target * net_value) / (1.0 - target)
    result: FloatArray = np.clip(proceeds, 0.0, held)
    return result


@dataclass(frozen=True)
class PositionBook:
    """Every position the decisions made, per unit of its leg's base size, and its marks.

    ``base_quantity`` is the signed quantity sized on the initial units; ``share`` the
    fraction of the units its leg covers (``weight x coverage``, signed); marks and fills
    are per underlying unit: ``mid(p, d)`` is ``pair_mid[pair_start[p] + d - open_day[p]]``.
    """

    template: IntArray
    leg: IntArray
    leg_template: IntArray  # per leg (not per position): its template
    open_day: IntArray
    close_day: IntArray
    expires: BoolArray  # closed by expiry (intrinsic value, no fee)
    is_short: BoolArray
    share: FloatArray
    entry_price: FloatArray
    exit_price: FloatArray
    pair_start: IntArray
    pair_mid: FloatArray
    pair_buy: FloatArray
    pair_sell: FloatArray


@dataclass(frozen=True)
class CollateralSales:
    """Every sale of collateral: one row each, in the order of the days."""

    template: IntArray
    day: IntArray
    units: FloatArray
    price: FloatArray
    reason: IntArray


@dataclass(frozen=True)
class LenderPath:
    """What the path did: ``(templates, days)`` money and LTVs, and per-position sizes.

    Money columns are after step 8; ``ltv_hedged`` is before it (the margin-call flag's
    value), ``ltv_hedged_after`` after. A position never opened (no units left, or after a
    liquidation) has ``quantity`` 0; one closed by a liquidation has its ``close_day`` and
    ``exit_price`` changed and ``liquidated`` set.
    """

    units: FloatArray
    option_value: FloatArray
    premium: FloatArray
    realized: FloatArray
    cash: FloatArray
    net_value: FloatArray
    loan: FloatArray
    ltv_hedged: FloatArray
    ltv_hedged_after: FloatArray
    exists: BoolArray
    quantity: FloatArray
    contracts: FloatArray
    fee_open: FloatArray
    fee_close: FloatArray
    close_day: IntArray
    exit_price: FloatArray
    liquidated: BoolArray
    sales: CollateralSales


@dataclass(frozen=True)
class _Sizing:
    """How an entry's quantity follows the units held (SPEC 4 step 4, 9.2 "Sizing")."""

    listed: BoolArray  # per template
    multiplier: float
    rounding: ContractRounding
    fee_per_unit: float
    fee_per_contract: float

    def size(
        self, units: FloatArray, share: FloatArray, listed: BoolArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return signed quantities, signed contracts (NaN: continuous) and fees."""
        wanted = units * np.abs(share)
        contracts = np.full(wanted.shape, np.nan)
        quantity = wanted.copy()
        fee = self.fee_per_unit * wanted
        if listed.any():
            count = _round(wanted[listed] / self.multiplier, self.rounding)
            contracts[listed] = count
            quantity[listed] = count * self.multiplier
            fee[listed] = self.fee_per_contract * count
        sign = np.sign(share)
        return sign * quantity, sign * contracts, fee


def _round(contracts: FloatArray, rounding: ContractRounding) -> FloatArray:
    if rounding is ContractRounding.DOWN:
        result: FloatArray = np.floor(contracts + 1e-9)
    elif rounding is ContractRounding.UP:
        result = np.ceil(contracts - 1e-9)
    else:
        result = np.floor(contracts + 0.5)
    return result


def lender_pass(
    book: PositionBook,
    templates: Sequence[StrategyTemplate],
    portfolio: BacktestPortfolioState,
    execution: ExecutionModel,
    fees: tuple[float, float],
    days: npt.NDArray[np.datetime64],
    closes: FloatArray,
) -> LenderPath:
    """Replay the days with sizes and lender actions that follow the path (module docstring)."""
    n_templates, n_days = len(templates), days.size
    sizing = _Sizing(
        np.array([t.contract_mode is ContractMode.LISTED_CONTRACTS for t in templates]),
        float(execution.contract_multiplier),
        execution.contract_rounding,
        fees[0],
        fees[1],
    )
    rules = [t.de_risk for t in templates]
    initial = np.array([r.sell_fraction if r is not None else 0.0 for r in rules])
    trigger = np.array(
        [r.trigger_ltv if r and r.trigger_ltv is not None else np.inf for r in rules]
    )
    target = np.array([r.target_ltv if r and r.target_ltv is not None else 0.0 for r in rules])
    policy = portfolio.margin_call_policy
    elapsed = np.diff(days).astype(np.float64) / 365.0
    loan_growth = np.concatenate(([1.0], 1.0 + portfolio.loan_rate * elapsed))
    cash_growth = np.concatenate(([1.0], 1.0 + portfolio.financing_rate * elapsed))

    # Day-major while replaying (one contiguous row written a day), transposed at the end.
    out_units, out_options, out_premium, out_realized, out_cash, out_net, out_loan = (
        memory.empty((n_days, n_templates)) for _ in range(7)
    )
    out_ltv, out_after = memory.empty((n_days, n_templates)), memory.empty((n_days, n_templates))

    n_positions = book.template.size
    quantity = np.zeros(n_positions)
    contracts = np.full(n_positions, np.nan)
    fee_open = np.zeros(n_positions)
    fee_close = np.zeros(n_positions)
    close_day = book.close_day.copy()
    exit_price = book.exit_price.copy()
    liquidated_position = np.zeros(n_positions, dtype=bool)
    exists = np.zeros(n_positions, dtype=bool)
    opens = np.argsort(book.open_day, kind="stable")
    closes_order = np.argsort(book.close_day, kind="stable")
    open_bounds = np.searchsorted(book.open_day[opens], np.arange(n_days + 1))
    close_bounds = np.searchsorted(book.close_day[closes_order], np.arange(n_days + 1))

    units = np.full(n_templates, portfolio.underlying_units)
    loan = np.full(n_templates, portfolio.loan_amount)
    cash = np.full(n_templates, portfolio.cash_balance)
    done = np.zeros(n_templates, dtype=bool)  # liquidated: cash (and any loan) only
    sales: list[tuple[IntArray, int, FloatArray, float, int]] = []

    def sell(who: IntArray, day: int, proceeds: FloatArray, reason: int) -> None:
        """Sell ``proceeds`` of collateral at the close; repay the loan first."""
        if not who.size:
            return
        spot = closes[day]
        units[who] -= proceeds / spot
        units[who] = np.maximum(units[who], 0.0)
        repaid = np.minimum(proceeds, loan[who])
        loan[who] -= repaid
        cash[who] += proceeds - repaid
        sales.append((who, day, proceeds / spot, spot, reason))

    holdings = _Holdings(book, n_templates)
    no_flows: FloatArray = np.zeros(n_templates)
    has_trigger = bool(np.isfinite(trigger).any())
    for day in range(n_days):
        spot = closes[day]
        loan *= loan_growth[day]
        cash *= cash_growth[day]
        if day == 0 and initial.any():
            who = np.flatnonzero(initial > 0.0)
            sell(who, day, initial[who] * units[who] * spot, DE_RISK_INITIAL)
        premium = realized = no_flows
        if close_bounds[day] != close_bounds[day + 1]:
            closing = closes_order[close_bounds[day] : close_bounds[day + 1]]
            closing = closing[holdings.position[book.leg[closing]] == closing]
            flows = quantity[closing] * exit_price[closing] - fee_close[closing]
            realized = _by_template(book.template[closing], flows, n_templates)
            holdings.close(book.leg[closing])
        if open_bounds[day] != open_bounds[day + 1]:
            opening = opens[open_bounds[day] : open_bounds[day + 1]]
            owner = book.template[opening]
            q, n, fee = sizing.size(units[owner], book.share[opening], sizing.listed[owner])
            live = ~done[owner] & (units[owner] > 0.0)  # nothing held: nothing opens
            opening, q, n, fee = opening[live], q[live], n[live], fee[live]
            exists[opening] = True
            quantity[opening], contracts[opening] = q, n
            fee_open[opening] = fee
            fee_close[opening] = np.where(book.expires[opening], 0.0, fee)
            holdings.open(book.leg[opening], opening, q)
            flows = -(q * book.entry_price[opening] + fee)
            premium = _by_template(book.template[opening], flows, n_templates)
        if premium is not no_flows or realized is not no_flows:
            cash += premium + realized
        option_value = holdings.value(day)
        net = units * spot
        net += option_value
        net += cash
        ltv = _ltv(loan, net)
        out_ltv[day] = ltv

        # Step 8: 8.1 de-risking, then 8.2 cure or 8.3 liquidation.
        de_risking = np.flatnonzero(~done & (ltv >= trigger)) if has_trigger else ()
        if len(de_risking):
            proceeds = sell_down(
                net[de_risking], loan[de_risking], target[de_risking], units[de_risking] * spot
            )
            sell(de_risking[proceeds > 0.0], day, proceeds[proceeds > 0.0], DE_RISK_TRIGGER)
        called = ~done & (ltv >= portfolio.margin_call_ltv)
        if policy is MarginCallPolicy.CURE and called.any():
            after_81 = _ltv(loan, units * spot + option_value + cash)
            curing = np.flatnonzero(called & (after_81 > portfolio.cure_ltv))
            net_now = units[curing] * spot + option_value[curing] + cash[curing]
            proceeds = sell_down(net_now, loan[curing], portfolio.cure_ltv, units[curing] * spot)
            sell(curing[proceeds > 0.0], day, proceeds[proceeds > 0.0], CURE)
        elif policy is MarginCallPolicy.LIQUIDATE and called.any():
            who = np.flatnonzero(called)
            legs = np.flatnonzero(np.isin(book.leg_template, who) & (holdings.position >= 0))
            closing = holdings.position[legs]
            fill = _fills(book, closing, day)
            flows = quantity[closing] * fill - fee_close[closing]
            by_template = _by_template(book.template[closing], flows, n_templates)
            realized = realized + by_template
            cash += by_template
            holdings.close(legs)
            close_day[closing], exit_price[closing] = day, fill
            liquidated_position[closing] = True
            option_value[who] = 0.0
            everything = units[who] * spot
            sales.append((who, day, units[who].copy(), spot, LIQUIDATION))
            units[who] = 0.0
            available = everything + cash[who]
            repaid = np.clip(available, 0.0, loan[who])
            loan[who] -= repaid
            cash[who] = available - repaid
            done[who] = True
        net = units * spot
        net += option_value
        net += cash
        out_units[day], out_options[day] = units, option_value
        out_premium[day], out_realized[day] = premium, realized
        out_cash[day], out_net[day], out_loan[day] = cash, net, loan
        out_after[day] = _ltv(loan, net)

    def transposed(values: FloatArray) -> FloatArray:
        result: FloatArray = memory.empty((n_templates, n_days))
        result[:] = values.T
        return result

    return LenderPath(
        units=transposed(out_units),
        option_value=transposed(out_options),
        premium=transposed(out_premium),
        realized=transposed(out_realized),
        cash=transposed(out_cash),
        net_value=transposed(out_net),
        loan=transposed(out_loan),
        ltv_hedged=transposed(out_ltv),
        ltv_hedged_after=transposed(out_after),
        exists=exists,
        quantity=quantity,
        contracts=contracts,
        fee_open=fee_open,
        fee_close=fee_close,
        close_day=close_day,
        exit_price=exit_price,
        liquidated=liquidated_position,
        sales=_gather(sales),
    )


def _by_template(template: IntArray, values: FloatArray, n_templates: int) -> FloatArray:
    """Sum ``values`` per template."""
    return cast("FloatArray", np.bincount(template, values, n_templates))


def _ltv(loan: FloatArray, net_value: FloatArray) -> FloatArray:
    """``loan / net_value``, ``inf`` where the value is gone (SPEC 4 step 7)."""
    ltv = np.full(loan.shape, np.inf)
    np.divide(loan, net_value, out=ltv, where=net_value > 0.0)
    return ltv


class _Holdings:
    """The position each leg holds at the close, and their value a day (one array call).

    Between entries and exits the held positions and their quantities do not change, and a
    position's mark of day ``d`` is at ``pair_start - open_day + d``: those are worked out
    once per change, not once a day.
    """

    def __init__(self, book: PositionBook, n_templates: int) -> None:
        self.book = book
        self.n_templates = n_templates
        self.position = np.full(book.leg_template.size, -1)
        self._quantity = np.zeros(book.leg_template.size)
        self._changed = True
        self._legs: IntArray = np.empty(0, dtype=np.int64)
        self._offset: IntArray = np.empty(0, dtype=np.int64)
        self._held: FloatArray = np.empty(0)

    def open(self, legs: IntArray, positions: IntArray, quantity: FloatArray) -> None:
        """Hold ``positions`` (with their quantities) on their ``legs`` from today."""
        self.position[legs] = positions
        self._quantity[legs] = quantity
        self._changed = True

    def close(self, legs: IntArray) -> None:
        """Hold nothing on ``legs`` from today."""
        self.position[legs] = -1
        self._changed = True

    def value(self, day: int) -> FloatArray:
        """Sum of ``quantity x mark`` of the held positions, per template."""
        if self._changed:
            book = self.book
            self._legs = np.flatnonzero(self.position >= 0)
            held = self.position[self._legs]
            self._offset = book.pair_start[held] - book.open_day[held]
            self._held = self._quantity[self._legs]
            self._changed = False
        weights = self._held * self.book.pair_mid[self._offset + day]
        return _by_template(self.book.leg_template[self._legs], weights, self.n_templates)


def _fills(book: PositionBook, positions: IntArray, day: int) -> FloatArray:
    """Return the day's closing fill of each position: longs sell, shorts buy back."""
    pair = book.pair_start[positions] + day - book.open_day[positions]
    fill: FloatArray = np.where(book.is_short[positions], book.pair_buy[pair], book.pair_sell[pair])
    return fill


def _gather(sales: list[tuple[IntArray, int, FloatArray, float, int]]) -> CollateralSales:
    if not sales:
        empty = np.empty(0, dtype=np.int64)
        return CollateralSales(empty, empty, np.empty(0), np.empty(0), empty)
    return CollateralSales(
        np.concatenate([who for who, *_ in sales]),
        np.concatenate([np.full(who.size, day) for who, day, *_ in sales]),
        np.concatenate([units for _, _, units, _, _ in sales]),
        np.concatenate([np.full(who.size, price) for who, _, _, price, _ in sales]),
        np.concatenate([np.full(who.size, reason) for who, *_, reason in sales]),
    )
