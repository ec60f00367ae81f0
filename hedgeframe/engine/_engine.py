"""The backtest engine: SPEC section 4, for many templates in one pass.

How it runs
-----------
1. **Decide** (a loop over the days on which something happens, each step on a
   :class:`~hedgeframe.providers.PointInTimeView` of that day): settle expiries, roll,
   enter. Decisions depend only on the day's close, the chain the provider shows for that
   day and the exchange calendar; never on marks, values or later data. Every leg of
   every template is handled together, vectorized.
2. **Mark** every ``(position, day)`` pair with one vectorized provider call per chunk;
   each pair is priced from its own day's data only, so a mark cannot see the future.
3. **Account**: cash, values, LTVs and flags as ``(templates, days)`` arrays; then the
   summary metrics and the ranking.

The worked example in ``docs/semantics.md`` is this module's specification in numbers.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe import _memory as memory
from hedgeframe._blocks import for_each_block
from hedgeframe.engine._lender import (
    CollateralSales,
    LenderPath,
    PositionBook,
    lender_pass,
    needs_lender_pass,
)
from hedgeframe.engine._metrics import summary_metrics
from hedgeframe.engine._schemas import (
    DAILY_PATH_SCHEMA,
    POSITIONS_SCHEMA,
    SUMMARY_SCHEMA,
    TRADES_SCHEMA,
)
from hedgeframe.engine._shadow import UnhedgedPath, unhedged_path
from hedgeframe.engine._steps import backtest_running
from hedgeframe.engine._strings import StringViews, take_strings
from hedgeframe.errors import InvalidScenarioError
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    ContractMode,
    ContractRounding,
    ExecutionModel,
    LegSide,
    OptionType,
    RollPolicyType,
    StrategyTemplate,
    StrikeRuleType,
    TemplateKind,
    TemplateResultStatus,
    TradeAction,
    TradeReason,
)
from hedgeframe.providers import (
    ContractArrays,
    ContractRequest,
    HistoricalMarketDataProvider,
    MarketTimeline,
    PointInTimeView,
    StrikeNotFoundError,
    StrikeTarget,
)
from hedgeframe.providers._timeline import as_date

__all__ = ["EngineOutput", "simulate"]

NoteFn = Callable[[int, int, str], None]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
DayArray = npt.NDArray[np.datetime64]
_Scalar = TypeVar("_Scalar", bound=np.generic)

DAYS_PER_YEAR = 365.0
MARK_CHUNK_PAIRS = 1_000_000
"""Pairs marked per provider call: bounds memory on large sweeps, costs nothing at size."""
_CELLS_PER_BLOCK = 1 << 16
"""(template, day) cells whose position ids are gathered at a time (temporaries in cache)."""

# Close kinds of a position, in the order the day's steps apply them (a liquidation is
# step 8, SPEC 9.2).
_EXPIRED, _ROLLED, _SCENARIO_END, _LIQUIDATED = 0, 1, 2, 5


_RULE_CODE = {
    StrikeRuleType.SPOT_PCT: 0,
    StrikeRuleType.FIXED_STRIKE: 1,
    StrikeRuleType.DELTA_TARGET: 2,
    StrikeRuleType.ZERO_COST: 3,
}
_SPOT_PCT, _FIXED_STRIKE, _DELTA_TARGET, _ZERO_COST = 0, 1, 2, 3


@dataclass(frozen=True)
class _Legs:
    """Every leg of every template, one element each (in template order)."""

    template: IntArray
    leg_id: list[str]
    is_call: BoolArray
    is_short: BoolArray
    rule: IntArray  # _RULE_CODE
    value: FloatArray  # the strike rule's value (NaN for zero_cost)
    tenor_days: IntArray
    roll_sessions: IntArray  # 0: hold to expiry
    quantity: FloatArray  # underlying units, signed: negative for a short leg
    contracts: FloatArray  # signed like quantity; NaN for continuous units
    fee: FloatArray  # paid on each opening and closing trade of a position (>= 0)
    share: FloatArray  # signed share of the units held that the leg covers (9.2 sizing)

    @classmethod
    def build(
        cls,
        templates: Sequence[StrategyTemplate],
        underlying_units: float,
        execution: ExecutionModel,
        fees: tuple[float, float],
    ) -> _Legs:
        """Size every leg (SPEC 4 step 4 and 9.1); ``fees`` per unit and per contract."""
        fee_per_unit, fee_per_contract = fees
        rows: list[
            tuple[int, str, bool, bool, int, float, int, int, float, float, float, float]
        ] = []
        for t, tpl in enumerate(templates):
            n_roll = (
                tpl.roll_policy.days_before_expiry or 0
                if tpl.roll_policy.policy_type is RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY
                else 0
            )
            for leg in tpl.legs:
                sign = -1.0 if leg.side is LegSide.SHORT else 1.0
                units = underlying_units * leg.units_share
                n_contracts, fee = float("nan"), fee_per_unit * units
                if tpl.contract_mode is ContractMode.LISTED_CONTRACTS:
                    n_contracts = _round_contracts(
                        units / execution.contract_multiplier, execution.contract_rounding
                    )
                    units = n_contracts * execution.contract_multiplier
                    fee = fee_per_contract * n_contracts
                rule = leg.strike_rule
                rows.append(
                    (
                        t,
                        leg.leg_id,
                        leg.option_type is OptionType.CALL,
                        leg.side is LegSide.SHORT,
                        _RULE_CODE[rule.rule_type],
                        rule.value if rule.value is not None else float("nan"),
                        leg.target_expiry_days,
                        n_roll,
                        sign * units,
                        sign * n_contracts,
                        fee,
                        sign * leg.units_share,
                    )
                )
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(12)]
        ints, flags, floats = np.int64, np.bool_, np.float64
        return cls(
            np.array(columns[0], dtype=ints),
            list(columns[1]),
            np.array(columns[2], dtype=flags),
            np.array(columns[3], dtype=flags),
            np.array(columns[4], dtype=ints),
            np.array(columns[5], dtype=floats),
            np.array(columns[6], dtype=ints),
            np.array(columns[7], dtype=ints),
            np.array(columns[8], dtype=floats),
            np.array(columns[9], dtype=floats),
            np.array(columns[10], dtype=floats),
            np.array(columns[11], dtype=floats),
        )


def _round_contracts(contracts: float, rounding: ContractRounding) -> float:
    if rounding is ContractRounding.DOWN:
        return float(np.floor(contracts + 1e-9))
    if rounding is ContractRounding.UP:
        return float(np.ceil(contracts - 1e-9))
    return float(np.floor(contracts + 0.5))


@dataclass(frozen=True)
class EngineOutput:
    """The engine's tables and notes for a batch of templates (ranking comes after)."""

    daily_path: pl.DataFrame
    trades: pl.DataFrame
    positions: pl.DataFrame
    summary: pl.DataFrame
    warnings: list[str]
    validation_notes: dict[tuple[str, int], list[str]]


class _Cuts:
    """Where each template's result ends, and why (SPEC 9.3).

    ``valid_days[t]`` counts the days template ``t`` ran (all of them unless something
    cut it); a cut at day ``d`` keeps days ``0 .. d-1``. The earliest cut wins; its reason,
    with its date, becomes the summary's ``incomplete_reason``.
    """

    def __init__(self, timeline: MarketTimeline, n_templates: int) -> None:
        self._days = timeline.days
        self.valid_days: IntArray = np.full(n_templates, timeline.n_days, dtype=np.int64)
        self.reasons: list[str | None] = [None] * n_templates

    def cut(self, template: int, day: int, reason: str) -> None:
        """End ``template``'s result before ``day`` unless an earlier cut already did."""
        if day < self.valid_days[template]:
            self.valid_days[template] = day
            self.reasons[template] = f"{as_date(self._days[day])}: {reason}"


def _label(template: StrategyTemplate) -> str:
    return f"{template.slug} v{template.version}"


def _key(template: StrategyTemplate) -> tuple[str, int]:
    return (template.template_id, template.version)


def _contract_text(contracts: ContractArrays, i: int) -> str:
    kind = "C" if contracts.is_call[i] else "P"
    return f"{kind} {contracts.strike[i]:g} {as_date(contracts.expiry[i])}"


@dataclass(frozen=True)
class _Marked:
    """The book's positions with their prices, and the marked value of every cell."""

    book: _Book
    template: IntArray
    quantity: FloatArray  # signed: negative for a short leg
    contracts: FloatArray  # signed; NaN for continuous units
    exists: BoolArray  # False: never opened (no units held, or after a liquidation)
    is_short: BoolArray
    entry_price: FloatArray  # the opening fill: buy (long) or sell (short)
    exit_price: FloatArray  # the closing fill, or intrinsic value at expiry
    fee_open: FloatArray
    fee_close: FloatArray  # 0 at expiry
    option_value: FloatArray  # (templates, days): sum of quantity * mark at each close
    held: npt.NDArray[np.int32]  # (cells, legs of the widest template): held positions
    pair_start: IntArray  # each position's first mark in the unique marks
    marks: _UniqueMarks

    def position_book(self, legs: _Legs) -> PositionBook:
        """Return the positions per unit of size, as the lender pass replays them (SPEC 9.2)."""
        book = self.book
        return PositionBook(
            self.template,
            book.leg,
            legs.template,
            book.open_day,
            book.close_day,
            book.close_kind == _EXPIRED,
            self.is_short,
            legs.share[book.leg],
            self.entry_price,
            self.exit_price,
            self.pair_start,
            self.marks.mid,
            self.marks.buy,
            self.marks.sell,
        )

    def sized(self, path: LenderPath, legs: _Legs, n_days: int) -> _Marked:
        """Return the positions as the path sized and closed them (SPEC 9.2).

        A position never opened, or the days after a liquidation closed one, leave the
        cells they held empty (``held``): only those runs of cells are touched.
        """
        kind = np.where(path.liquidated, _LIQUIDATED, self.book.close_kind)
        exists = path.exists
        held = self.held
        changed = np.flatnonzero(~exists | path.liquidated)
        if held.size and changed.size:
            first = np.where(exists[changed], path.close_day[changed], self.book.open_day[changed])
            length = np.maximum(self.book.close_day[changed] - first, 0)
            cells = _runs(self.template[changed] * n_days + first, length)
            rank = np.arange(legs.template.size) - np.searchsorted(legs.template, legs.template)
            held[cells, np.repeat(rank[self.book.leg[changed]], length)] = -1
        return replace(
            self,
            book=replace(self.book, close_day=path.close_day, close_kind=kind),
            quantity=path.quantity,
            contracts=path.contracts,
            exists=exists,
            exit_price=path.exit_price,
            fee_open=path.fee_open,
            fee_close=path.fee_close,
            option_value=path.option_value,
            held=held,
        )


@dataclass(frozen=True)
class _Accounts:
    """Each template's money and LTV at every close, after the day's trades (and step 8).

    ``(templates, days)`` arrays, except ``units`` and ``loan``, which are ``(days,)`` when
    every template holds the same (no lender action can change them) and
    ``(templates, days)`` when the lender pass ran (SPEC 9.2).
    """

    premium: FloatArray
    realized: FloatArray
    option_value: FloatArray
    cash: FloatArray
    net_value: FloatArray
    units: FloatArray
    loan: FloatArray
    ltv_hedged: FloatArray
    ltv_hedged_after: FloatArray
    sales: CollateralSales | None

    @classmethod
    def of_book(
        cls,
        marked: _Marked,
        shadow: UnhedgedPath,
        portfolio: BacktestPortfolioState,
        timeline: MarketTimeline,
    ) -> _Accounts:
        """Account a run whose positions keep their initial sizes (no lender action).

        Cash solves the day-by-day recursion in closed form (``_accrue``), every
        ``(templates, days)`` array comes from the memory pool, and the units and the loan
        (which grows only with its rate) are the shadow's, one row for every template.
        """
        book = marked.book
        n_templates, n_days = marked.option_value.shape

        def grid() -> FloatArray:
            """Return an uninitialized ``(templates, days)`` array."""
            array: FloatArray = memory.empty((n_templates, n_days))
            return array

        def per_cell(cells: IntArray, values: FloatArray) -> FloatArray:
            total: FloatArray = memory.zeros((n_templates, n_days))
            np.add.at(total.reshape(-1), cells, values)  # in input order, as a running sum
            return total

        # Opening cashflows -q * fill - fee; closing q * fill - fee (SPEC 4 and 9.1).
        premium = per_cell(
            marked.template * n_days + book.open_day,
            marked.quantity * marked.entry_price + marked.fee_open,
        )
        # `0.0 -` rather than unary minus: days without a purchase read 0.0, not -0.0.
        np.subtract(0.0, premium, out=premium)
        realized = per_cell(
            marked.template * n_days + book.close_day,
            marked.quantity * marked.exit_price - marked.fee_close,
        )
        days_elapsed = np.diff(timeline.days).astype(np.float64)
        growth = np.concatenate(
            ([1.0], 1.0 + portfolio.financing_rate * days_elapsed / DAYS_PER_YEAR)
        )
        cash = _accrue(portfolio.cash_balance, growth, np.add(premium, realized, out=grid()))
        net_value = np.add(marked.option_value, cash, out=grid())
        net_value += shadow.underlying_value[None, :]
        ltv_hedged: FloatArray = memory.full(net_value.shape, np.inf)
        np.divide(shadow.loan[None, :], net_value, out=ltv_hedged, where=net_value > 0.0)
        return cls(
            premium,
            realized,
            marked.option_value,
            cash,
            net_value,
            shadow.units,
            shadow.loan,
            ltv_hedged,
            ltv_hedged,
            None,
        )

    @classmethod
    def of_path(cls, path: LenderPath) -> _Accounts:
        """Account a run replayed by the lender pass (SPEC 9.2)."""
        return cls(
            path.premium,
            path.realized,
            path.option_value,
            path.cash,
            path.net_value,
            path.units,
            path.loan,
            path.ltv_hedged,
            path.ltv_hedged_after,
            path.sales,
        )


def simulate(
    scenario: BacktestScenario,
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    timeline: MarketTimeline,
    *,
    keep_daily_path: bool = True,
    keep_trades: bool = True,
) -> EngineOutput:
    """Run every template over the timeline (SPEC section 4); see the module docstring.

    Tables not kept come back empty, with their schema (and are never built).

    Raises
    ------
    InvalidScenarioError
        Fewer than two trading days, or a position due to roll on its own entry day.
    """
    with backtest_running():
        return _simulate(
            scenario,
            templates,
            provider,
            timeline,
            keep_daily_path=keep_daily_path,
            keep_trades=keep_trades,
        )


def _simulate(
    scenario: BacktestScenario,
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    timeline: MarketTimeline,
    *,
    keep_daily_path: bool,
    keep_trades: bool,
) -> EngineOutput:
    n_days = timeline.n_days
    if n_days < 2:
        msg = (
            f"scenario {scenario.slug!r} has {n_days} trading day(s) with a {scenario.symbol} "
            f"bar in {scenario.start_date}..{scenario.end_date}; a backtest needs at least two"
        )
        raise InvalidScenarioError(msg)
    portfolio = scenario.initial_portfolio
    fees = (provider.config.fee_per_unit, provider.config.fee_per_contract)
    legs = _Legs.build(templates, portfolio.underlying_units, scenario.execution_model, fees)
    raised: list[tuple[int, int, str]] = []  # (day, template, text), reported at the end
    cuts = _Cuts(timeline, len(templates))

    def note(template_index: int, day: int, text: str) -> None:
        raised.append((day, template_index, text))

    book = _decide(legs, templates, provider, timeline)
    for leg, day in book.unselected:
        text = f"no eligible contract for leg {legs.leg_id[leg]!r}"
        note(int(legs.template[leg]), day, text)
        cuts.cut(int(legs.template[leg]), day, text)
    valid_days = cuts.valid_days
    marked = _price(
        book,
        legs,
        provider,
        timeline,
        cuts,
        note,
        n_templates=len(templates),
        keep_cells=keep_daily_path,
    )

    # Notes in date order, none after a template's result has ended (it is incomplete).
    warnings: list[str] = []
    notes: dict[tuple[str, int], list[str]] = {_key(t): [] for t in templates}
    for day, template_index, text in sorted(raised):
        if day <= valid_days[template_index]:
            tpl = templates[template_index]
            message = f"{as_date(timeline.days[day])} {_label(tpl)}: {text}"
            warnings.append(message)
            notes[_key(tpl)].append(message)

    shadow = unhedged_path(timeline.closes, portfolio, timeline.days)
    if needs_lender_pass(portfolio, templates):
        path = lender_pass(
            marked.position_book(legs),
            templates,
            portfolio,
            scenario.execution_model,
            fees,
            timeline.days,
            timeline.closes,
        )
        marked = marked.sized(path, legs, n_days)
        accounts = _Accounts.of_path(path)
    else:
        accounts = _Accounts.of_book(marked, shadow, portfolio, timeline)

    # A roll day is a day after the first on which a template opens any position.
    reopened = (book.open_day > 0) & (book.open_day < valid_days[marked.template]) & marked.exists
    rolled_on = np.zeros((len(templates), n_days), dtype=bool)
    rolled_on[marked.template[reopened], book.open_day[reopened]] = True
    on_equity = np.array(
        [portfolio.lender_acts or t.template_kind is TemplateKind.DE_RISK for t in templates]
    )
    metrics = summary_metrics(
        shadow=shadow,
        net_value=accounts.net_value,
        loan=accounts.loan,
        premium=accounts.premium,
        realized=accounts.realized,
        ltv_hedged=accounts.ltv_hedged,
        margin_call_hedged=accounts.ltv_hedged >= portfolio.margin_call_ltv,
        roll_count=rolled_on.sum(axis=1),
        valid_days=valid_days,
        on_equity=on_equity,
        sales=accounts.sales,
    )
    tables = _Tables(templates, legs, timeline, marked, valid_days)
    summary = pl.DataFrame(
        {
            **tables.template_columns(np.arange(len(templates)), with_slug=True),
            "status": np.where(
                valid_days == n_days,
                TemplateResultStatus.COMPLETE.value,
                TemplateResultStatus.INCOMPLETE.value,
            ),
            "complete": valid_days == n_days,
            "days_run": valid_days,
            "incomplete_reason": cuts.reasons,
            **metrics,
        },
        schema=SUMMARY_SCHEMA,
    )
    daily_path = (
        tables.daily_path(scenario, shadow, accounts)
        if keep_daily_path
        else DAILY_PATH_SCHEMA.to_frame()
    )
    return EngineOutput(
        daily_path=daily_path,
        trades=tables.trades(accounts.sales) if keep_trades else TRADES_SCHEMA.to_frame(),
        positions=tables.positions() if keep_trades else POSITIONS_SCHEMA.to_frame(),
        summary=summary,
        warnings=warnings,
        validation_notes=notes,
    )


def _price(
    book: _Book,
    legs: _Legs,
    provider: HistoricalMarketDataProvider,
    timeline: MarketTimeline,
    cuts: _Cuts,
    note: NoteFn,
    *,
    n_templates: int,
    keep_cells: bool,
) -> _Marked:
    """Mark every position on every day it is held, and price its entry and exit.

    A position is priced from its entry day to its close day, except that an expiry is
    settled at intrinsic value instead of the close day's mark. A position opened on a
    day is marked that day at the same mid it was bought at (one element serves both).
    Missing marks make the template incomplete from that day (``cuts``).

    Positions that are the same contract held over the same days (a sweep's templates
    share many legs) are marked once. Pairs are built in chunks of whole positions, so
    memory stays bounded however many templates run.
    """
    n_days = timeline.n_days
    template = legs.template[book.leg]
    quantity = legs.quantity[book.leg]
    settles = book.close_kind == _EXPIRED
    counts = book.close_day - settles - book.open_day + 1
    group, first_of_group = _same_pricing(book)

    marks = _mark_unique(
        provider,
        timeline,
        book.contracts.take(first_of_group),
        book.open_day[first_of_group],
        counts[first_of_group],
    )
    start = marks.start[group]  # each position's first pair among the unique marks
    # Long legs buy to open and sell to close; short legs sell to open and buy to close.
    short = legs.is_short[book.leg]
    entry_price = np.where(short, marks.sell[start], marks.buy[start])
    exit_price = np.where(short, marks.buy[start + counts - 1], marks.sell[start + counts - 1])
    fee_open = legs.fee[book.leg]
    fee_close = np.where(settles, 0.0, fee_open)  # no fee at expiry (SPEC 9.1)
    for k in np.flatnonzero(marks.stale != 0).tolist():
        g = int(np.searchsorted(marks.start, k, side="right")) - 1
        for position in np.flatnonzero(group == g).tolist():
            _stale_note(
                position,
                int(book.open_day[position]) + k - int(marks.start[g]),
                int(marks.stale[k]),
                book,
                template,
                timeline,
                cuts,
                note,
            )

    # A position is held at the close of each day from its entry day to the day before its
    # close day (sold on that day, or settled at expiry instead of marked): `close - open`
    # cells, a run of consecutive marks. A missing mark adds nothing (the template ends).
    # A leg's positions are held back to back (each opens on its predecessor's close day),
    # so the cells a leg holds within a chunk are one run of days: a slice, not a scatter.
    held_mid = np.where(marks.stale >= 0, marks.mid, 0.0)
    held_days = book.close_day - book.open_day
    option_value: FloatArray = memory.zeros(n_templates * n_days)
    # held[cell, r]: the position the template's r-th leg holds at that close, or -1.
    leg_rank = np.arange(legs.template.size) - np.searchsorted(legs.template, legs.template)
    width = int(leg_rank.max()) + 1 if leg_rank.size else 1
    held = memory.full((n_templates * n_days if keep_cells else 0, width), -1, np.int32)
    marked_ok = marks.stale >= 0
    all_marked = bool(marked_ok.all())
    for p0, p1 in _position_chunks(held_days):
        length = held_days[p0:p1]
        source = _runs(start[p0:p1], length)
        mids = held_mid[source]
        if keep_cells:
            owner = np.repeat(np.arange(p0, p1, dtype=np.int32), length)
            if not all_marked:
                owner[~marked_ok[source]] = -1
        leg = book.leg[p0:p1]
        first = np.flatnonzero(np.concatenate(([True], leg[1:] != leg[:-1])))
        last = np.append(first[1:], leg.size) - 1
        ends = np.cumsum(length)
        runs = zip(
            leg[first].tolist(),
            (ends[first] - length[first]).tolist(),
            ends[last].tolist(),
            (template[p0 + first] * n_days + book.open_day[p0 + first]).tolist(),
            strict=True,
        )
        for run_leg, lo, hi, cell in runs:
            option_value[cell : cell + hi - lo] += legs.quantity[run_leg] * mids[lo:hi]
            if keep_cells:
                held[cell : cell + hi - lo, leg_rank[run_leg]] = owner[lo:hi]

    expired = np.flatnonzero(settles)
    if expired.size:
        contracts = book.contracts.take(expired)
        exit_price[expired] = timeline.intrinsic_at_expiry(contracts)
        settled_on, _ = timeline.settlement_closes(contracts.expiry)
        for i in np.flatnonzero(settled_on != contracts.expiry).tolist():
            note(
                int(template[expired[i]]),
                int(book.close_day[expired[i]]),
                f"no {timeline.symbol} bar on the expiry {as_date(contracts.expiry[i])} of "
                f"{_contract_text(contracts, i)}; settled at the {as_date(settled_on[i])} close",
            )
    return _Marked(
        book=book,
        template=template,
        quantity=quantity,
        contracts=legs.contracts[book.leg],
        exists=np.ones(book.leg.size, dtype=bool),
        is_short=short,
        entry_price=entry_price,
        exit_price=exit_price,
        fee_open=fee_open,
        fee_close=fee_close,
        option_value=option_value.reshape(n_templates, n_days),
        held=held,
        pair_start=start,
        marks=marks,
    )


def _same_pricing(book: _Book) -> tuple[IntArray, IntArray]:
    """Group positions that are one contract over the same days (so have the same marks).

    Returns each position's group and each group's first position.
    """
    contracts = book.contracts
    # The integer parts packed into two keys (each bounded well inside int64), so the sort
    # compares three keys rather than six.
    n_days = int(book.close_day.max(initial=0)) + 1
    days = (book.close_kind * n_days + book.close_day) * n_days + book.open_day
    expiry = contracts.expiry.astype(np.int64)
    listed = (expiry - expiry.min(initial=0)) * 2 + contracts.is_call
    columns = (days, listed, contracts.strike)
    order = np.lexsort(columns)
    changed = np.zeros(order.size, dtype=bool)
    changed[:1] = True
    for column in columns:
        ordered = column[order]
        changed[1:] |= ordered[1:] != ordered[:-1]
    group = np.empty(order.size, dtype=np.int64)
    group[order] = np.cumsum(changed) - 1
    return group, order[changed]


@dataclass(frozen=True)
class _UniqueMarks:
    """Marks of each unique position's pairs, laid end to end (``start`` per position)."""

    start: IntArray
    mid: FloatArray
    buy: FloatArray
    sell: FloatArray
    stale: IntArray


def _mark_unique(
    provider: HistoricalMarketDataProvider,
    timeline: MarketTimeline,
    contracts: ContractArrays,
    open_day: IntArray,
    counts: IntArray,
) -> _UniqueMarks:
    """Mark each position from its open day over ``counts`` days, one provider call a chunk."""
    start = np.cumsum(counts) - counts
    total = int(counts.sum())
    mid, buy, sell = memory.empty(total), memory.empty(total), memory.empty(total)
    stale = memory.empty(total, np.int64)
    for p0, p1 in _position_chunks(counts):
        count = counts[p0:p1]
        lo, hi = int(start[p0]), int(start[p0] + count.sum())
        chunk = provider.mark_contracts(
            timeline,
            ContractArrays(
                np.repeat(contracts.is_call[p0:p1], count),
                np.repeat(contracts.strike[p0:p1], count),
                np.repeat(contracts.expiry[p0:p1], count),
                np.repeat(contracts.selected[p0:p1], count),
            ),
            _runs(open_day[p0:p1], count),
        )
        mid[lo:hi], buy[lo:hi], sell[lo:hi] = chunk.mid, chunk.buy, chunk.sell
        stale[lo:hi] = chunk.stale_sessions
    return _UniqueMarks(start, mid, buy, sell, stale)


def _runs(first: IntArray, length: IntArray, step: int = 1) -> IntArray:
    """``first[i], first[i] + step, ..., first[i] + (length[i] - 1) step`` per ``i``, end to end.

    One running sum over steps that jump at each run's start: a third of the passes of
    ``np.repeat(first, length) + local offsets``. Empty runs are allowed.
    """
    ends = np.cumsum(length)
    total = int(ends[-1]) if ends.size else 0
    steps = np.full(total, step, dtype=np.int64)
    nonempty = length > 0
    starts, firsts = (ends - length)[nonempty], first[nonempty]
    if starts.size:
        steps[starts[0]] = firsts[0]
        last_of_previous = firsts[:-1] + step * (length[nonempty][:-1] - 1)
        steps[starts[1:]] = firsts[1:] - last_of_previous
    return np.cumsum(steps, out=steps)


def _position_chunks(counts: IntArray) -> list[tuple[int, int]]:
    """Split positions into consecutive ranges of about ``MARK_CHUNK_PAIRS`` pairs each."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    bounds = np.searchsorted(ends, np.arange(MARK_CHUNK_PAIRS, total, MARK_CHUNK_PAIRS))
    edges = [0, *np.unique(bounds).tolist(), counts.size]
    return [(p0, p1) for p0, p1 in itertools.pairwise(edges) if p1 > p0]


def _stale_note(
    position: int,
    on: int,
    stale: int,
    book: _Book,
    template: IntArray,
    timeline: MarketTimeline,
    cuts: _Cuts,
    note: NoteFn,
) -> None:
    """Report a carried-forward or missing mark; a missing one ends the template's path."""
    owner = int(template[position])
    contract = _contract_text(book.contracts, position)
    if stale < 0:
        note(owner, on, f"no usable quote for {contract}; result incomplete")
        cuts.cut(owner, on, f"no usable quote for {contract}")
    else:
        used = as_date(timeline.days[on - stale])
        sessions = "1 session" if stale == 1 else f"{stale} sessions"
        note(owner, on, f"no quote for {contract}; used the {used} mark ({sessions} stale)")


@dataclass(frozen=True)
class _Book:
    """Every position the decisions produced, sorted by (leg, open day)."""

    leg: IntArray
    open_day: IntArray
    close_day: IntArray
    close_kind: IntArray
    contracts: ContractArrays
    unselected: list[tuple[int, int]]  # (leg, day) where no contract could be opened


def _decide(
    legs: _Legs,
    templates: Sequence[StrategyTemplate],
    provider: HistoricalMarketDataProvider,
    timeline: MarketTimeline,
) -> _Book:
    """Apply steps 2-4 and 6 of SPEC section 4, visiting only the days a leg acts on.

    A position's close day is known when it opens (its roll or expiry day, or the last
    day), so a day's step only opens: the legs due that day are those whose position
    closes then, and each reopens at once unless it is the last day. How a position
    closed (step 2 expiry before step 3 roll before step 6 sale) is read off at the end.
    Legs are resolved in template order, zero-cost calls last, so that a zero-cost call
    sees the mids of its template's long legs (SPEC 9.1).
    """
    days = timeline.days
    last = timeline.n_days - 1
    sessions = provider.calendar.sessions
    never = timeline.n_days  # next_event of a leg that will not open again
    next_event = np.zeros(legs.template.size, dtype=np.int64)
    held = ContractArrays(
        legs.is_call,
        np.full(legs.template.size, np.nan),
        np.full(legs.template.size, np.datetime64("NaT"), dtype="datetime64[D]"),
        np.zeros(legs.template.size, dtype=bool),
    )  # each leg's latest contract, for zero-cost calls
    opened: list[tuple[IntArray, int, FloatArray, DayArray, IntArray]] = []
    unselected: list[tuple[int, int]] = []

    day = 0
    while day < last:
        due = np.flatnonzero(next_event == day)
        view = timeline.view(day)
        zero_cost = legs.rule[due] == _ZERO_COST
        for group in (due[~zero_cost], due[zero_cost]):
            if not group.size:
                continue
            request, askable = _request(legs, group, view, provider, held)
            chosen = _select(provider, view, request, legs, group, templates)
            ok = chosen.selected & askable
            unselected.extend((int(leg), day) for leg in group[~ok])
            next_event[group[~ok]] = never
            held.selected[group] = ok
            group = group[ok]
            strike, expiry = chosen.strike[ok], chosen.expiry[ok]
            held.strike[group], held.expiry[group] = strike, expiry
            event = _event_dates(expiry, legs.roll_sessions[group], sessions)
            due_day = np.searchsorted(days, event, side="left")  # unclipped: may be past `last`
            if due_day.size and due_day.min() <= day:
                _refuse_instant_roll(legs, templates, group, day, days, expiry, event, due_day)
            next_event[group] = np.minimum(due_day, last)
            opened.append((group, day, strike, expiry, due_day))
        day = int(next_event.min(initial=never))

    leg = _cat([o[0] for o in opened])
    open_day = _cat([np.full(o[0].size, o[1], dtype=np.int64) for o in opened])
    due_day = _cat([o[4] for o in opened])
    close_day = np.minimum(due_day, last)
    expiry = np.concatenate([o[3] for o in opened]) if opened else np.empty(0, "datetime64[D]")
    close_kind = np.where(
        expiry <= days[close_day],
        _EXPIRED,
        np.where(due_day <= last, _ROLLED, _SCENARIO_END),
    )
    contracts = ContractArrays(
        legs.is_call[leg],
        _cat_float([o[2] for o in opened]),
        expiry,
        np.ones(leg.size, dtype=bool),
    )
    order = np.lexsort((open_day, leg))
    return _Book(
        leg[order],
        open_day[order],
        close_day[order],
        close_kind[order],
        contracts.take(order),
        unselected,
    )


def _request(
    legs: _Legs,
    due: IntArray,
    view: PointInTimeView,
    provider: HistoricalMarketDataProvider,
    held: ContractArrays,
) -> tuple[ContractRequest, BoolArray]:
    """Build what the due legs ask the provider for, and say which can ask at all.

    ``spot_pct`` asks for ``value * S_T``, ``fixed_strike`` for the value, ``delta_target``
    for the delta. A zero-cost call asks for the call whose mid per unit pays for its
    template's long legs at their current contracts' same-day mids: ``sum(q_l * mid_l) /
    |q_c|``; it cannot ask when a long leg has no contract or no mark that day.
    """
    rule, value = legs.rule[due], legs.value[due]
    target = np.where(rule == _SPOT_PCT, value * view.spot, value)
    kind = np.select(
        [rule == _DELTA_TARGET, rule == _ZERO_COST],
        [StrikeTarget.DELTA, StrikeTarget.CALL_PREMIUM],
        StrikeTarget.STRIKE,
    ).astype(np.int8)
    askable = np.ones(due.size, dtype=bool)
    zero_cost = np.flatnonzero(rule == _ZERO_COST)
    if zero_cost.size:
        owner = legs.template[due[zero_cost]]
        longs = np.flatnonzero(np.isin(legs.template, owner) & ~legs.is_short)
        marks = provider.mark_contracts(
            view.timeline, held.take(longs), np.full(longs.size, view.index, dtype=np.int64)
        )
        priced = held.selected[longs] & (marks.stale_sessions >= 0)
        cost = np.zeros(legs.template.size)
        np.add.at(cost, legs.template[longs], np.where(priced, legs.quantity[longs] * marks.mid, 0))
        unpriced = np.unique(legs.template[longs[~priced]])
        target[zero_cost] = cost[owner] / np.abs(legs.quantity[due[zero_cost]])
        askable[zero_cost] = ~np.isin(owner, unpriced)
    return ContractRequest(legs.is_call[due], legs.tenor_days[due], kind, target), askable


def _select(
    provider: HistoricalMarketDataProvider,
    view: PointInTimeView,
    request: ContractRequest,
    legs: _Legs,
    due: IntArray,
    templates: Sequence[StrategyTemplate],
) -> ContractArrays:
    """Ask the provider; a strike no rule can meet is refused naming the template and leg."""
    try:
        return provider.select_contracts(view, request)
    except StrikeNotFoundError as exc:
        leg = int(due[exc.legs[0]])
        msg = (
            f"{view.as_of_date} template {_label(templates[legs.template[leg]])} leg "
            f"{legs.leg_id[leg]!r}: {exc.reason}"
        )
        raise InvalidScenarioError(msg) from exc


def _refuse_instant_roll(
    legs: _Legs,
    templates: Sequence[StrategyTemplate],
    opening: IntArray,
    day: int,
    days: DayArray,
    expiry: DayArray,
    event: DayArray,
    due_day: IntArray,
) -> None:
    """Raise for the first position due to roll or expire on or before its own entry day."""
    first = int(np.flatnonzero(due_day <= day)[0])
    leg = opening[first]
    tpl = templates[legs.template[leg]]
    msg = (
        f"template {_label(tpl)} leg {legs.leg_id[leg]!r}: a position opened on "
        f"{as_date(days[day])} expires {as_date(expiry[first])} and would be "
        f"due to roll or expire on {as_date(event[first])}, on or before its "
        "own entry day; lengthen target_expiry_days or shorten days_before_expiry"
    )
    raise InvalidScenarioError(msg)


def _cat(parts: list[IntArray]) -> IntArray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _cat_float(parts: list[FloatArray]) -> FloatArray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.float64)


def _event_dates(
    expiry: npt.NDArray[np.datetime64],
    roll_sessions: IntArray,
    sessions: npt.NDArray[np.datetime64],
) -> npt.NDArray[np.datetime64]:
    """When each new position acts: its expiry, or ``N`` sessions before its expiry session.

    An expiry that is not a session (e.g. an old Saturday expiry) counts from the session
    before it.
    """
    target = np.searchsorted(sessions, expiry, side="right") - 1 - roll_sessions
    rolling = roll_sessions > 0
    # Two reductions first: the elementwise test is rarely needed.
    suspect = expiry.size and (expiry.max() > sessions[-1] or target.min() < 0)
    if suspect and (rolling & ((expiry > sessions[-1]) | (target < 0))).any():
        msg = "an expiry or roll date is outside the exchange calendar's range"
        raise InvalidScenarioError(msg)
    event: npt.NDArray[np.datetime64] = np.where(rolling, sessions[target], expiry)
    return event


def _accrue(cash0: float, growth: FloatArray, flows: FloatArray) -> FloatArray:
    """Cash after step 1's accrual and the day's flows: ``c_d = c_{d-1} g_d + f_d``.

    Solved in closed form, ``c_d = G_d (c_0 + sum_{k<=d} f_k / G_k)`` with ``G`` the
    running product of the growth factors: prefix sums only, so a day's cash depends on
    earlier days alone. Exact (a plain running sum) when the financing rate is zero.
    ``flows`` is scratch: the cash is computed in its place.
    """
    running = np.cumprod(growth)
    cash: FloatArray = np.divide(flows, running, out=flows)
    np.cumsum(cash, axis=1, out=cash)
    cash += cash0
    cash *= running
    return cash


# Names of trade reasons by code: closes use the close kind (0..2, and 5 for a liquidation),
# opens 3 and 4 (an initial entry, or a replacement on a later day), collateral sales 5-8.
_REASON_BY_CODE = {
    _EXPIRED: TradeReason.EXPIRY.value,
    _ROLLED: TradeReason.SCHEDULED_ROLL.value,
    _SCENARIO_END: TradeReason.SCENARIO_END.value,
    3: TradeReason.INITIAL_ENTRY.value,
    4: TradeReason.SCHEDULED_ROLL.value,
    _LIQUIDATED: TradeReason.MARGIN_CALL_LIQUIDATION.value,
    6: TradeReason.DE_RISK_INITIAL.value,
    7: TradeReason.DE_RISK_TRIGGER.value,
    8: TradeReason.MARGIN_CALL_CURE.value,
}
_OPEN_INITIAL, _OPEN_REPLACEMENT = 3, 4
_SALE_REASON = np.array([6, 7, 8, _LIQUIDATED])
"""Reason codes of collateral sales, by the lender pass's sale codes (``_lender``)."""
# Trade actions by code: (opening?, short?) for trades before expiry, the expiry, and the
# sale of collateral.
_ACTION_BY_CODE = {
    0: TradeAction.SELL_CLOSE.value,
    1: TradeAction.BUY_CLOSE.value,
    2: TradeAction.BUY_OPEN.value,
    3: TradeAction.SELL_OPEN.value,
    4: TradeAction.EXPIRE.value,
    5: TradeAction.SELL_COLLATERAL.value,
}
# Where a trade falls in its day: steps 2-3 (closes), step 4 (opens), step 8 (a
# liquidation's closes, then sales of collateral).
_PHASES = 4


def _action_codes(is_open: BoolArray, is_short: BoolArray, close_kind: IntArray) -> IntArray:
    """Code each option trade's action (:data:`_ACTION_BY_CODE`)."""
    code: IntArray = np.where(
        ~is_open & (close_kind == _EXPIRED), 4, is_open.astype(np.int64) * 2 + is_short
    )
    return code


_OPTION_TYPE_BY_CODE = {0: OptionType.PUT.value, 1: OptionType.CALL.value}
_TRADE_SUFFIX_BY_CODE = {0: "-close", 1: "-open"}


def _names(codes: IntArray, names: dict[int, str]) -> pl.Series:
    """Map integer codes ``0 .. len(names) - 1`` to their names (no Python string per row)."""
    return take_strings([names[code] for code in range(len(names))], codes)


class _Tables:
    """Builds the output tables from the priced book (SPEC section 5)."""

    def __init__(
        self,
        templates: Sequence[StrategyTemplate],
        legs: _Legs,
        timeline: MarketTimeline,
        marked: _Marked,
        valid_days: IntArray,
    ) -> None:
        self.templates = templates
        self.legs = legs
        self.timeline = timeline
        self.marked = marked
        self.valid_days = valid_days
        self.opened = (marked.book.open_day < valid_days[marked.template]) & marked.exists
        self.closed = (marked.book.close_day < valid_days[marked.template]) & marked.exists

    @functools.cached_property
    def position_ids(self) -> StringViews:
        """``<slug>-v<version>-<leg_id>-<n>``: the n-th position of a template's leg."""
        book, legs, templates = self.marked.book, self.legs, self.templates
        # Sequence number of each position within its leg (the book is sorted by leg).
        first_of_leg = np.searchsorted(book.leg, book.leg, side="left")
        leg_prefix = [
            f"{templates[t].slug}-v{templates[t].version}-{leg_id}-"
            for t, leg_id in zip(legs.template.tolist(), legs.leg_id, strict=True)
        ]
        return StringViews(
            take_strings(leg_prefix, book.leg)
            + pl.Series(np.arange(book.leg.size) - first_of_leg).cast(pl.String)
        )

    def template_columns(
        self, template: npt.NDArray[np.integer], *, with_slug: bool = False
    ) -> dict[str, pl.Series]:
        """``template_id``, ``template_version`` (and ``template_slug``) for each row."""
        versions = np.array([t.version for t in self.templates], dtype=np.int64)
        columns = {
            "template_id": take_strings([t.template_id for t in self.templates], template),
            "template_version": pl.Series(
                np.take(versions, template, out=memory.empty(template.size, np.int64))
            ),
        }
        if with_slug:
            columns["template_slug"] = take_strings([t.slug for t in self.templates], template)
        return columns

    def _contract_columns(self, rows: IntArray) -> dict[str, pl.Series]:
        book, legs = self.marked.book, self.legs
        contracts = book.contracts.take(rows)
        n_contracts = self.marked.contracts[rows]
        return {
            "leg_id": take_strings(legs.leg_id, book.leg[rows]),
            "position_id": self.position_ids.series(self.position_ids.take(rows)),
            "symbol": pl.repeat(self.timeline.symbol, rows.size, eager=True),
            "option_type": _names(contracts.is_call.astype(np.int64), _OPTION_TYPE_BY_CODE),
            "expiry": pl.Series(contracts.expiry),
            "strike": pl.Series(contracts.strike),
            "quantity": pl.Series(self.marked.quantity[rows]),
            "contracts": pl.Series(n_contracts, dtype=pl.Float64).fill_nan(None),
        }

    def trades(self, sales: CollateralSales | None) -> pl.DataFrame:
        """Every buy, sale and expiry, in the order they happened within each day.

        Option trades are put in order (template, day, step, leg) with integer keys before
        any column is built, so no string column is ever sorted; the few sales of
        collateral (SPEC 9.2) are merged in by the same key, after the day's option trades.
        """
        book, marked = self.marked.book, self.marked
        opens = np.flatnonzero(self.opened)
        closes = np.flatnonzero(self.closed)
        rows = np.concatenate((closes, opens))
        is_open = np.concatenate((np.zeros(closes.size, bool), np.ones(opens.size, bool)))
        day = np.where(is_open, book.open_day[rows], book.close_day[rows])
        phase = np.where(is_open, 1, np.where(book.close_kind[rows] == _LIQUIDATED, 2, 0))
        key = self._trade_key(marked.template[rows], day, phase, book.leg[rows])
        order = np.argsort(key)
        rows, is_open, day, key = rows[order], is_open[order], day[order], key[order]
        code = np.where(
            is_open,
            np.where(day == 0, _OPEN_INITIAL, _OPEN_REPLACEMENT),
            book.close_kind[rows],
        )
        price = np.where(is_open, marked.entry_price[rows], marked.exit_price[rows])
        fee = np.where(is_open, marked.fee_open[rows], marked.fee_close[rows])
        quantity = marked.quantity[rows]
        contract_columns = self._contract_columns(rows)
        action = _action_codes(is_open, marked.is_short[rows], book.close_kind[rows])
        cashflow = np.where(is_open, -quantity * price, quantity * price) - fee
        cashflow[cashflow == 0.0] = 0.0  # a short expiring worthless pays 0.0, not -0.0
        frame = pl.DataFrame(
            {
                **self.template_columns(marked.template[rows]),
                "trade_id": contract_columns["position_id"]
                + _names(is_open.astype(np.int64), _TRADE_SUFFIX_BY_CODE),
                "date": self.timeline.days[day],
                "action": _names(action, _ACTION_BY_CODE),
                **contract_columns,
                "price": price,
                "fee": fee,
                "cashflow": cashflow,
                "reason": _names(code, _REASON_BY_CODE),
            },
            schema=TRADES_SCHEMA,
        )
        if sales is None or sales.template.size == 0:
            return frame
        return self._with_sales(frame, key, sales)

    def _trade_key(
        self, template: IntArray, day: IntArray, phase: IntArray, slot: IntArray
    ) -> IntArray:
        """(template, day, step, leg or sale) packed into one unique integer."""
        width = max(self.legs.template.size, len(_SALE_REASON))
        key: IntArray = ((template * self.timeline.n_days + day) * _PHASES + phase) * width
        return key + slot

    def _with_sales(
        self, trades: pl.DataFrame, key: IntArray, sales: CollateralSales
    ) -> pl.DataFrame:
        """Merge the sales of collateral into the trades, each after its day's options."""
        kept = sales.day < self.valid_days[sales.template]
        template, day = sales.template[kept], sales.day[kept]
        units, price, reason = sales.units[kept], sales.price[kept], sales.reason[kept]
        sale_key = self._trade_key(template, day, np.full(day.size, _PHASES - 1), reason)
        order = np.argsort(sale_key, kind="stable")
        template, day, units, price = template[order], day[order], units[order], price[order]
        reason, sale_key = reason[order], sale_key[order]
        number = np.arange(template.size) - np.searchsorted(template, template)
        labels = [f"{t.slug}-v{t.version}-collateral-" for t in self.templates]
        collateral = pl.DataFrame(
            {
                **self.template_columns(template),
                "trade_id": take_strings(labels, template) + pl.Series(number).cast(pl.String),
                "date": self.timeline.days[day],
                "action": pl.repeat(TradeAction.SELL_COLLATERAL.value, day.size, eager=True),
                "symbol": pl.repeat(self.timeline.symbol, day.size, eager=True),
                "quantity": units,
                "price": price,
                "fee": np.zeros(day.size),
                "cashflow": units * price,
                "reason": _names(_SALE_REASON[reason], _REASON_BY_CODE),
            },
        )
        merged = pl.concat(
            [
                trades.with_columns(pl.Series("__key", key)),
                collateral.with_columns(pl.Series("__key", sale_key)),
            ],
            how="diagonal_relaxed",
        )
        return merged.sort("__key").select(TRADES_SCHEMA.names()).cast(TRADES_SCHEMA)

    def positions(self) -> pl.DataFrame:
        """One row per position; an incomplete template's unfinished positions stay open."""
        book, marked = self.marked.book, self.marked
        rows = np.flatnonzero(self.opened)
        closed = self.closed[rows]
        kind = book.close_kind[rows]
        frame = pl.DataFrame(
            {
                **self.template_columns(marked.template[rows]),
                **self._contract_columns(rows),
                "opened_at": self.timeline.days[book.open_day[rows]],
                "closed_at": self.timeline.days[book.close_day[rows]],
                "entry_price": marked.entry_price[rows],
                "exit_price": marked.exit_price[rows],
                "close_reason": _names(kind, _REASON_BY_CODE),
                "source_snapshot_date": self.timeline.days[book.open_day[rows]],
            },
            schema_overrides=dict(POSITIONS_SCHEMA),
        )
        still_open = pl.Series(~closed)
        return frame.with_columns(
            pl.when(still_open).then(None).otherwise(pl.col(name)).alias(name)
            for name in ("closed_at", "exit_price", "close_reason")
        ).select(POSITIONS_SCHEMA.names())

    def daily_path(
        self, scenario: BacktestScenario, shadow: UnhedgedPath, accounts: _Accounts
    ) -> pl.DataFrame:
        """One row per (template, day) up to each template's last valid day.

        Columns that are the same for every template (the date, the underlying, the loan
        unless a lender acted, the unhedged LTV) are one chunk per template, every chunk a
        view of one ``(days,)`` buffer: nothing is copied per template.
        """
        n_templates, n_days = accounts.net_value.shape
        keep = (np.arange(n_days)[None, :] < self.valid_days[:, None]).ravel()
        complete = bool(keep.all())
        schema = DAILY_PATH_SCHEMA

        def per_template(values: npt.NDArray[_Scalar]) -> npt.NDArray[_Scalar]:
            """``(templates, days)`` values, one per kept row."""
            flat = values.ravel()
            return flat if complete else flat[keep]

        def per_day(name: str, values: npt.NDArray[np.generic]) -> pl.Series:
            """``(days,)`` values shared by every template, one per kept row."""
            shared = pl.Series(name, values).cast(schema[name])
            chunks = [shared.slice(0, days) for days in self.valid_days.tolist()]
            return pl.concat(chunks, rechunk=False)  # a scenario has at least one template

        def either(name: str, values: FloatArray) -> pl.Series | FloatArray:
            """Return a ``(days,)`` array shared per day, or a ``(templates, days)`` one per row."""
            return per_day(name, values) if values.ndim == 1 else per_template(values)

        template = memory.empty((n_templates, n_days), np.int32)
        template[:] = np.arange(n_templates, dtype=np.int32)[:, None]
        template = per_template(template)
        portfolio = scenario.initial_portfolio
        ltv_h = per_template(accounts.ltv_hedged)
        underlying = (
            shadow.underlying_value
            if accounts.units.ndim == 1
            else accounts.units * self.timeline.closes[None, :]
        )
        columns = {
            **self.template_columns(template, with_slug=True),
            "date": per_day("date", self.timeline.days.astype(np.int32)),  # pl.Date: int32
            "spot_close": per_day("spot_close", self.timeline.closes),
            "underlying_units": either("underlying_units", accounts.units),
            "underlying_value": either("underlying_value", underlying),
            "option_market_value": per_template(accounts.option_value),
            "premium_cashflow": per_template(accounts.premium),
            "realized_option_cashflow": per_template(accounts.realized),
            "cash": per_template(accounts.cash),
            "net_portfolio_value": per_template(accounts.net_value),
            "loan_amount": either("loan_amount", accounts.loan),
            "ltv_unhedged": per_day("ltv_unhedged", shadow.ltv),
            "ltv_hedged": ltv_h,
            "margin_call_unhedged": per_day("margin_call_unhedged", shadow.margin_call),
            "margin_call_hedged": ltv_h >= portfolio.margin_call_ltv,
            "ltv_unhedged_after": per_day("ltv_unhedged_after", shadow.ltv_after),
            "ltv_hedged_after": per_template(accounts.ltv_hedged_after),
        }
        frame = pl.DataFrame(columns, schema_overrides={k: schema[k] for k in columns})
        return frame.with_columns(self._active_ids(keep).alias("active_position_ids")).select(
            schema.names()
        )

    def _active_ids(self, keep: BoolArray) -> pl.Series:
        """Each kept (template, day) cell's open positions, in leg order, as a list column.

        Gathered in blocks of cells straight into the list's one views buffer, so no
        full-size mask or position array is ever built.
        """
        held = self.marked.held if keep.all() else self.marked.held[keep]
        offsets = memory.zeros(held.shape[0] + 1, np.int64)
        per_cell = offsets[1:]  # counted, then summed, in place
        for column in held.T:  # a few wide passes: far faster than sum(axis=1)
            per_cell += column >= 0
        np.cumsum(per_cell, out=per_cell)
        ids = self.position_ids
        views = ids.empty(int(offsets[-1]))

        def gather(c0: int) -> None:
            block = held[c0 : c0 + _CELLS_PER_BLOCK]
            ids.take(block[block >= 0], out=views[offsets[c0] : offsets[c0 + len(block)]])

        for_each_block(gather, range(0, held.shape[0], _CELLS_PER_BLOCK))
        import pyarrow as pa  # imported when first needed: `import hedgeframe` stays fast

        # The ids are string views into the position ids' buffers (no string is copied),
        # and a list of string views is already Polars' own layout.
        lists = pa.LargeListArray.from_arrays(
            pa.array(offsets, pa.int64()),
            ids.series(views).to_arrow(compat_level=pl.CompatLevel.newest()),
        )
        return pl.Series(lists).cast(pl.List(pl.String))
