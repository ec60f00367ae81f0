"""Small builders shared by the engine tests, and the seed's anti-lookahead rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

import hedgeframe as hf
from hedgeframe.data import UNDERLYING_BAR_SCHEMA, MarketDataStore
from hedgeframe.models import BacktestPortfolioState, RollPolicy, RollPolicyType
from hedgeframe.pricing import VolatilityRegime

# The seed design document's anti-lookahead rules, verbatim; the point-in-time tests
# carry them in their docstrings.
ANTI_LOOKAHEAD_RULES = """\
- Contract selection rule: select options using only the entry-day snapshot.
- Daily MTM rule: mark open positions using only same-day data for the same contract.
- Expiry rule: once as_of_date >= expiry, option value becomes intrinsic-at-expiry or zero after expiry according to the provider contract; it is not repriced with negative time-to-expiry.
- Event preset rule: event presets may define scenario dates, but the strategy engine may not inspect future event endpoints when deciding to roll or exit.
- Synthetic vol rule: synthetic providers may use fixed or date-indexed IV schedules, but never realized future path statistics from dates after as_of_date.
- Metric rule: comparison metrics may summarize the whole run only after the run completes; they may not feed back into trading decisions during the run.
"""  # noqa: E501


def roll(days_before_expiry: int) -> RollPolicy:
    return RollPolicy(
        policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY,
        days_before_expiry=days_before_expiry,
    )


def bars(symbol: str, days: Sequence[date], closes: Sequence[float]) -> pl.DataFrame:
    n = len(days)
    return pl.DataFrame(
        {
            "symbol": [symbol] * n,
            "date": list(days),
            "open": [None] * n,
            "high": [None] * n,
            "low": [None] * n,
            "close": [float(c) for c in closes],
            "volume": [None] * n,
            "source": ["test"] * n,
        },
        schema=UNDERLYING_BAR_SCHEMA,
    )


def portfolio(
    entry_spot: float = 100.0,
    *,
    units: float = 100.0,
    loan_ratio: float = 0.6,
    margin_call_ltv: float = 0.7,
    cash: float = 0.0,
    financing_rate: float = 0.0,
) -> BacktestPortfolioState:
    return BacktestPortfolioState(
        underlying_units=units,
        entry_spot=entry_spot,
        loan_amount=loan_ratio * units * entry_spot,
        margin_call_ltv=margin_call_ltv,
        cash_balance=cash,
        financing_rate=financing_rate,
    )


def run(
    store: MarketDataStore,
    templates: Sequence[hf.StrategyTemplate],
    *,
    symbol: str = "FIX",
    start: date,
    end: date,
    volatility: VolatilityRegime | None = None,
    spread_pct: float = 0.0,
    rate: float = 0.0,
    state: BacktestPortfolioState | None = None,
) -> hf.BacktestRunResult:
    provider = hf.SyntheticHistoricalProvider(
        store,
        volatility=volatility or hf.ConstantVol(0.2),
        rate=rate,
        spread_pct=spread_pct,
    )
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol=symbol,
        start_date=start,
        end_date=end,
        portfolio=state or portfolio(),
    )
    return hf.run_backtest(scenario, templates, provider)
