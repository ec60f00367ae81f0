"""Check the engine's numbers against the scalar reference backtester before timing them.

``benchmarks/reference.py`` is an independent, per-day per-position Python
implementation of SPEC section 4. Before a case is timed, the suite runs it once, runs
the same templates through the reference and compares every daily point, every trade and
every summary metric to :data:`REL_TOL` (relative, or absolute for numbers below 1). A
disagreement raises :class:`CrossCheckError` and the benchmark run stops: timing a wrong
answer is worse than no timing.

The reference takes each day's volatility as an input; :func:`trailing_realized_vol`
computes it here with plain Python (``math.log``, ``math.fsum``), not with the engine's
``TrailingRealizedVol``, so the check also covers the volatility regime.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from benchmarks.reference import ReferenceResult, ReferenceSummary, reference_backtest
from hedgeframe.models import BacktestPortfolioState, StrategyTemplate

__all__ = [
    "REL_TOL",
    "CrossCheckError",
    "ReferenceRun",
    "compare_frames",
    "compare_with_reference",
    "run_reference",
    "trailing_realized_vol",
]

REL_TOL: Final = 1e-9
"""Relative tolerance of every compared number (absolute below 1: a put worth 1e-13)."""

DAILY_FLOATS: Final = (
    "spot_close",
    "underlying_value",
    "option_market_value",
    "premium_cashflow",
    "realized_option_cashflow",
    "cash",
    "net_portfolio_value",
    "loan_amount",
    "ltv_unhedged",
    "ltv_hedged",
)
DAILY_BOOLS: Final = ("margin_call_unhedged", "margin_call_hedged")
TRADE_EXACT: Final = ("date", "action", "reason", "leg_id", "option_type", "expiry")
TRADE_FLOATS: Final = ("strike", "quantity", "price", "cashflow")
SUMMARY_FIELDS: Final = tuple(f.name for f in fields(ReferenceSummary))
_ACTION_ORDER: Final = {"expire": 0, "sell_close": 1, "buy_open": 2}
_SHOWN: Final = 5


class CrossCheckError(AssertionError):
    """The engine and the reference disagree: the benchmark numbers are not trustworthy."""


def trailing_realized_vol(
    dates: Sequence[date], closes: Sequence[float], window: int
) -> dict[date, float]:
    """Sample stdev (ddof 1) of the last ``window`` log returns up to each day, * sqrt(252).

    Only days with a full window get a value (the first is ``dates[window]``).
    """
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    sigma: dict[date, float] = {}
    for i in range(window, len(closes)):
        chunk = returns[i - window : i]
        mean = math.fsum(chunk) / window
        variance = math.fsum((r - mean) ** 2 for r in chunk) / (window - 1)
        sigma[dates[i]] = math.sqrt(variance) * math.sqrt(252.0)
    return sigma


@dataclass(frozen=True)
class ReferenceRun:
    """The reference's results for some templates, and the seconds it took."""

    results: dict[str, ReferenceResult]  # by template_id
    seconds: float


def run_reference(
    bars: Sequence[tuple[date, float]],
    templates: Sequence[StrategyTemplate],
    *,
    portfolio: BacktestPortfolioState,
    sigma: dict[date, float],
    rate: float,
    dividend_yield: float,
    spread_pct: float,
    sessions: Sequence[date],
) -> ReferenceRun:
    """Run each template through the scalar reference, one after the other, timed."""
    results: dict[str, ReferenceResult] = {}
    start = time.perf_counter()
    for template in templates:
        results[template.template_id] = reference_backtest(
            bars,
            template=template,
            portfolio=portfolio,
            sigma=sigma,
            rate=rate,
            dividend_yield=dividend_yield,
            spread_pct=spread_pct,
            sessions=sessions,
        )
    return ReferenceRun(results, time.perf_counter() - start)


def _close(got: npt.NDArray[Any], want: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    got = got.astype(np.float64)
    want = want.astype(np.float64)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.maximum(np.abs(got), np.abs(want)), 1.0)
        ok: npt.NDArray[np.bool_] = (got == want) | (np.abs(got - want) <= REL_TOL * scale)
    return ok


def _fail(context: str, what: str, rows: list[str], total: int) -> CrossCheckError:
    more = f" (first {_SHOWN} of {total})" if total > _SHOWN else ""
    lines = "\n  ".join(rows[:_SHOWN])
    return CrossCheckError(f"{context}: {what} differ from the reference{more}:\n  {lines}")


def _compare_daily(daily: pl.DataFrame, reference: ReferenceResult, context: str) -> None:
    want = [asdict(point) for point in reference.daily]
    got_dates = daily["date"].to_list()
    want_dates = [point["date"] for point in want]
    if got_dates != want_dates:
        msg = (
            f"{context}: trading days differ: engine {len(got_dates)} days "
            f"{got_dates[:1]}..{got_dates[-1:]}, reference {len(want_dates)} days "
            f"{want_dates[:1]}..{want_dates[-1:]}"
        )
        raise CrossCheckError(msg)
    for name in DAILY_FLOATS:
        got = daily[name].to_numpy()
        expected = np.array([point[name] for point in want], dtype=np.float64)
        bad = np.flatnonzero(~_close(got, expected))
        if bad.size:
            rows = [
                f"{want_dates[i]}: engine {got[i]!r}, reference {expected[i]!r}"
                for i in bad[:_SHOWN].tolist()
            ]
            raise _fail(context, f"daily {name} values", rows, int(bad.size))
    for name in DAILY_BOOLS:
        got_flags = daily[name].to_list()
        want_flags = [point[name] for point in want]
        bad_days = [d for d, g, w in zip(want_dates, got_flags, want_flags, strict=True) if g != w]
        if bad_days:
            raise _fail(context, f"daily {name} flags", [str(d) for d in bad_days], len(bad_days))
    counts = daily["active_position_ids"].list.len().to_list()
    want_counts = [point["open_position_count"] for point in want]
    if counts != want_counts:
        bad_days = [d for d, g, w in zip(want_dates, counts, want_counts, strict=True) if g != w]
        raise _fail(context, "open position counts", [str(d) for d in bad_days], len(bad_days))


def _trade_key(leg_ids: list[str]) -> Any:
    def key(row: dict[str, Any]) -> tuple[date, int, int]:
        return (row["date"], _ACTION_ORDER[row["action"]], leg_ids.index(row["leg_id"]))

    return key


def _compare_trades(
    trades: pl.DataFrame, reference: ReferenceResult, leg_ids: list[str], context: str
) -> None:
    key = _trade_key(leg_ids)
    got = sorted(trades.to_dicts(), key=key)
    want = sorted((asdict(trade) for trade in reference.trades), key=key)
    if len(got) != len(want):
        msg = f"{context}: engine has {len(got)} trades, reference {len(want)}"
        raise CrossCheckError(msg)
    bad = [
        f"{w['date']} {w['action']} {w['leg_id']}: {name} engine {g[name]!r}, reference {w[name]!r}"
        for g, w in zip(got, want, strict=True)
        for name in TRADE_EXACT
        if g[name] != w[name]
    ]
    if bad:
        raise _fail(context, "trade fields", bad, len(bad))
    for name in TRADE_FLOATS:
        got_values = np.array([g[name] for g in got], dtype=np.float64)
        want_values = np.array([w[name] for w in want], dtype=np.float64)
        wrong = np.flatnonzero(~_close(got_values, want_values))
        if wrong.size:
            rows = [
                f"{want[i]['date']} {want[i]['action']} {want[i]['leg_id']}: engine "
                f"{got_values[i]!r}, reference {want_values[i]!r}"
                for i in wrong[:_SHOWN].tolist()
            ]
            raise _fail(context, f"trade {name}s", rows, int(wrong.size))


def _compare_summary(summary: pl.DataFrame, reference: ReferenceResult, context: str) -> None:
    if summary.height != 1:
        msg = f"{context}: expected one summary row, got {summary.height}"
        raise CrossCheckError(msg)
    row = summary.row(0, named=True)
    if row["status"] != "complete":
        msg = f"{context}: summary status {row['status']!r}, expected 'complete'"
        raise CrossCheckError(msg)
    want = asdict(reference.summary)
    bad = []
    for name in SUMMARY_FIELDS:
        got_value, want_value = row[name], want[name]
        same = (
            got_value == want_value
            if isinstance(want_value, int)
            else bool(_close(np.array([got_value]), np.array([want_value]))[0])
        )
        if not same:
            bad.append(f"{name}: engine {got_value!r}, reference {want_value!r}")
    if bad:
        raise _fail(context, "summary metrics", bad, len(bad))


def compare_with_reference(
    *,
    daily_path: pl.DataFrame,
    trades: pl.DataFrame,
    summary: pl.DataFrame,
    templates: Sequence[StrategyTemplate],
    reference: ReferenceRun,
    context: str,
) -> int:
    """Compare the engine's tables with the reference, template by template.

    Returns the number of numbers compared. Raises :class:`CrossCheckError` naming the
    case, template, field, day or trade and both values on the first disagreement.
    """
    compared = 0
    for template in templates:
        where = f"{context}, template {template.slug} v{template.version}"
        mine = pl.col("template_id") == template.template_id
        ref = reference.results[template.template_id]
        daily = daily_path.filter(mine).sort("date")
        _compare_daily(daily, ref, where)
        own_trades = trades.filter(mine)
        _compare_trades(own_trades, ref, [leg.leg_id for leg in template.legs], where)
        _compare_summary(summary.filter(mine), ref, where)
        compared += daily.height * (len(DAILY_FLOATS) + len(DAILY_BOOLS) + 1)
        compared += own_trades.height * (len(TRADE_EXACT) + len(TRADE_FLOATS))
        compared += len(SUMMARY_FIELDS)
    return compared


def compare_frames(got: pl.DataFrame, want: pl.DataFrame, what: str, context: str) -> None:
    """Two runs that must give equal tables (e.g. summary-only vs full daily path)."""
    if not got.equals(want):
        msg = (
            f"{context}: {what} differs between runs that must agree "
            f"({got.height} vs {want.height} rows)"
        )
        raise CrossCheckError(msg)
