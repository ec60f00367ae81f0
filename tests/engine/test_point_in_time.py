"""Point-in-time safety: poison the future, and every output dated up to T is unchanged.

The seed design document's anti-lookahead rules, verbatim:
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from engine_helpers import ANTI_LOOKAHEAD_RULES, bars, portfolio, roll
from hypothesis import given, settings
from hypothesis import strategies as st

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.pricing import VolatilityRegime
from hedgeframe.providers._timeline import as_date

__doc__ = (__doc__ or "") + "\n" + ANTI_LOOKAHEAD_RULES

WARMUP = 12  # bars before the scenario start, for trailing windows


@dataclass(frozen=True)
class Market:
    days: list[date]
    closes: list[float]
    vol_index: list[float]


@st.composite
def markets(draw: st.DrawFn) -> Market:
    sessions = get_calendar("XNYS").sessions
    lo = int(np.searchsorted(sessions, np.datetime64("2001-01-02")))
    hi = int(np.searchsorted(sessions, np.datetime64("2024-01-02")))
    start = draw(st.integers(lo, hi))
    n = draw(st.integers(WARMUP + 20, WARMUP + 70))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    closes = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    vol_index = 15.0 + 30.0 * rng.random(n)
    days = [as_date(d) for d in sessions[start : start + n]]
    return Market(days, closes.round(4).tolist(), vol_index.round(2).tolist())


@st.composite
def template_sets(draw: st.DrawFn) -> list[hf.StrategyTemplate]:
    templates = []
    for i in range(draw(st.integers(1, 3))):
        tenor = draw(st.integers(15, 90))
        policy = draw(st.sampled_from([None, roll(1), roll(3), roll(7)]))
        pcts = draw(st.lists(st.sampled_from([0.8, 0.9, 0.95, 1.0, 1.05]), min_size=1, max_size=3))
        templates.append(
            hf.put_ladder(
                f"t{i}",
                spot_pcts=pcts,
                weights=[1 / len(pcts)] * len(pcts),
                target_expiry_days=tenor,
                roll_policy=policy,
            )
        )
    return templates


REGIMES: list[VolatilityRegime] = [
    hf.ConstantVol(0.25),
    hf.IndexVol("VOL", scale=0.01),
    hf.TrailingRealizedVol(window=5),
]


def _write(root: Path, market: Market, keep: int) -> MarketDataStore:
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("SYN", market.days[:keep], market.closes[:keep]))
    store.write_underlying_bars(bars("VOL", market.days[:keep], market.vol_index[:keep]))
    return store


def _run(
    store: MarketDataStore,
    market: Market,
    templates: list[hf.StrategyTemplate],
    regime: VolatilityRegime,
    end: date,
) -> hf.BacktestRunResult:
    provider = hf.SyntheticHistoricalProvider(store, volatility=regime, rate=0.01, spread_pct=0.01)
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol="SYN",
        start_date=market.days[WARMUP],
        end_date=end,
        portfolio=portfolio(market.closes[WARMUP], cash=500.0, financing_rate=0.03),
    )
    return hf.run_backtest(scenario, templates, provider)


def _known_at(
    result: hf.BacktestRunResult, cutoff: date, *, strict: bool
) -> dict[str, pl.DataFrame]:
    """Every output row dated on or before ``cutoff`` (before it when ``strict``)."""
    dated = (pl.col("date") < cutoff) if strict else (pl.col("date") <= cutoff)
    opened = (pl.col("opened_at") < cutoff) if strict else (pl.col("opened_at") <= cutoff)
    return {
        "daily_path": result.daily_path.filter(dated),
        "trades": result.trades.filter(dated),
        # What is known about a position at the cutoff: everything but how it ends.
        "positions": result.positions.filter(opened).drop(
            "closed_at", "exit_price", "close_reason"
        ),
    }


def _assert_same(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> None:
    for name, frame in left.items():
        assert frame.height > 0, name
        assert frame.equals(right[name]), f"{name} differs:\n{frame}\n{right[name]}"


@settings(max_examples=40)
@given(
    market=markets(),
    templates=template_sets(),
    regime=st.sampled_from(REGIMES),
    cut=st.floats(0.05, 0.95),
    poison=st.sampled_from([1e12, 1e-6, -1.0]),
)
def test_changing_every_input_after_t_leaves_rows_up_to_t_unchanged(
    market: Market,
    templates: list[hf.StrategyTemplate],
    regime: VolatilityRegime,
    cut: float,
    poison: float,
) -> None:
    t_index = WARMUP + int(cut * (len(market.days) - WARMUP - 2))
    t = market.days[t_index]
    # Poison: absurd closes and vol-index values on every day after T.
    after = len(market.days) - t_index - 1
    factor = [poison if poison > 0 else 1.5 + (i % 3) for i in range(after)]
    poisoned = Market(
        market.days,
        market.closes[: t_index + 1]
        + [c * f for c, f in zip(market.closes[t_index + 1 :], factor, strict=True)],
        market.vol_index[: t_index + 1]
        + [v * f for v, f in zip(market.vol_index[t_index + 1 :], factor, strict=True)],
    )
    with tempfile.TemporaryDirectory() as tmp:
        end = market.days[-1]
        clean = _run(
            _write(Path(tmp) / "clean", market, len(market.days)), market, templates, regime, end
        )
        dirty = _run(
            _write(Path(tmp) / "dirty", poisoned, len(market.days)),
            poisoned,
            templates,
            regime,
            end,
        )
    _assert_same(_known_at(clean, t, strict=False), _known_at(dirty, t, strict=False))


@settings(max_examples=25)
@given(
    market=markets(),
    templates=template_sets(),
    regime=st.sampled_from(REGIMES),
    cut=st.floats(0.05, 0.95),
)
def test_deleting_every_input_after_t_leaves_earlier_rows_unchanged(
    market: Market,
    templates: list[hf.StrategyTemplate],
    regime: VolatilityRegime,
    cut: float,
) -> None:
    """With the data after T deleted, T becomes the last trading day.

    Rows before T are unchanged; on T itself the last-day rule sells every position, which
    is exactly what a run that ends on T does.
    """
    t_index = WARMUP + 1 + int(cut * (len(market.days) - WARMUP - 3))
    t = market.days[t_index]
    with tempfile.TemporaryDirectory() as tmp:
        full = _write(Path(tmp) / "full", market, len(market.days))
        cut_store = _write(Path(tmp) / "cut", market, t_index + 1)
        clean = _run(full, market, templates, regime, market.days[-1])
        deleted = _run(cut_store, market, templates, regime, market.days[-1])
        ends_on_t = _run(full, market, templates, regime, t)
    _assert_same(_known_at(clean, t, strict=True), _known_at(deleted, t, strict=True))
    for name in ("daily_path", "trades", "positions", "summary"):
        assert deleted.tables()[name].equals(ends_on_t.tables()[name]), name


def test_event_endpoint_is_not_inspected_when_deciding_to_roll(tmp_path: Path) -> None:
    """Event preset rule: a later scenario end changes no trade dated before the earlier end."""
    rng = np.random.default_rng(7)
    sessions = get_calendar("XNYS").sessions_in_range(date(2008, 1, 2), date(2008, 12, 31))
    days = [as_date(d) for d in sessions]
    closes = (1400 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))).tolist()
    market = Market(days, closes, [20.0] * len(days))
    store = _write(tmp_path, market, len(days))
    templates = [hf.protective_put("roll", target_expiry_days=30, roll_policy=roll(5))]
    short = _run(store, market, templates, hf.ConstantVol(0.3), date(2008, 6, 30))
    long = _run(store, market, templates, hf.ConstantVol(0.3), date(2008, 12, 31))
    _assert_same(
        _known_at(short, date(2008, 6, 30), strict=True),
        _known_at(long, date(2008, 6, 30), strict=True),
    )
