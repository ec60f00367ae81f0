"""Hedge structures in the engine (SPEC 9.1): short legs, strike rules, fees, and their laws.

Fills and cashflows of short legs, fees (opening and closing trades, never expiry), and
properties over generated markets: put-call parity at every mark, a zero-cost collar's zero
net premium on every entry day, a collar's value between its floor and its cap, a put
spread's payoff at expiry, point-in-time safety with every new kind and rule. The engine
is also cross-checked number by number against the scalar reference
(``tests/engine/test_reference_crosscheck.py``).
"""

from __future__ import annotations

import math
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, portfolio, roll
from hypothesis import given
from hypothesis import strategies as st

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.models import LegSide, OptionType, StrikeRuleType, TemplateKind
from hedgeframe.pricing import black_scholes_price
from hedgeframe.providers._timeline import as_date

SESSIONS = get_calendar("XNYS").sessions


def _market(
    root: Path, closes: list[float], start: str = "2015-03-02"
) -> tuple[MarketDataStore, list[date]]:
    first = int(np.searchsorted(SESSIONS, np.datetime64(start)))
    days = [as_date(d) for d in SESSIONS[first : first + len(closes)]]
    store = MarketDataStore(root)
    store.write_underlying_bars(bars("SYN", days, closes))
    return store, days


def _run(
    store: MarketDataStore,
    days: list[date],
    templates: list[hf.StrategyTemplate],
    *,
    sigma: float = 0.25,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    spread_pct: float = 0.0,
    fee_per_unit: float = 0.0,
    units: float = 100.0,
) -> hf.BacktestRunResult:
    provider = hf.SyntheticHistoricalProvider(
        store,
        volatility=hf.ConstantVol(sigma),
        rate=rate,
        dividend_yield=dividend_yield,
        spread_pct=spread_pct,
        fee_per_unit=fee_per_unit,
    )
    spot = float(store.underlying_bars("SYN", days[0], days[0])["close"][0])
    scenario = hf.make_scenario(
        templates, provider, symbol="SYN", start_date=days[0], end_date=days[-1],
        portfolio=portfolio(spot, units=units),
    )  # fmt: skip
    return hf.run_backtest(scenario, templates, provider)


def _mid(
    option_type: str, spot: float, strike: float, start: date, expiry: date, **kw: float
) -> float:
    tau = (expiry - start).days / 365
    return float(
        black_scholes_price(option_type, spot, strike, tau, kw["sigma"], kw["rate"], kw["q"])
    )


# -- fills, cashflows, fees -------------------------------------------------------------


def test_short_legs_sell_to_open_and_buy_to_close_at_the_spread_and_pay_fees(
    tmp_path: Path,
) -> None:
    closes = [100.0, 101.0, 103.0, 106.0, 104.0, 107.0]
    store, days = _market(tmp_path, closes)
    collar = hf.collar("c", put_pct=0.95, call_pct=1.05, target_expiry_days=60)
    result = _run(store, days, [collar], sigma=0.3, rate=0.01, spread_pct=0.04, fee_per_unit=0.02)
    trades = result.trades.sort("date", "leg_id")
    opened = trades.filter(pl.col("reason") == "initial_entry").rows_by_key("leg_id", named=True)
    closed = trades.filter(pl.col("reason") == "scenario_end").rows_by_key("leg_id", named=True)
    call_open, call_close = opened["short-call-105"][0], closed["short-call-105"][0]
    put_open = opened["put-95"][0]
    expiry = call_open["expiry"]
    kw = {"sigma": 0.3, "rate": 0.01, "q": 0.0}
    call_mid = _mid("call", 100.0, 105.0, days[0], expiry, **kw)
    put_mid = _mid("put", 100.0, 95.0, days[0], expiry, **kw)
    assert call_open["action"] == "sell_open"
    assert call_open["quantity"] == -100.0
    assert call_open["price"] == pytest.approx(call_mid * 0.98, rel=1e-12)
    assert call_open["fee"] == pytest.approx(100 * 0.02)
    assert call_open["cashflow"] == pytest.approx(100 * call_mid * 0.98 - 2.0, rel=1e-12)
    assert put_open["action"] == "buy_open"
    assert put_open["cashflow"] == pytest.approx(-100 * put_mid * 1.02 - 2.0, rel=1e-12)
    call_mid_end = _mid("call", 107.0, 105.0, days[-1], expiry, **kw)
    assert call_close["action"] == "buy_close"
    assert call_close["price"] == pytest.approx(call_mid_end * 1.02, rel=1e-12)
    assert call_close["cashflow"] == pytest.approx(-100 * call_mid_end * 1.02 - 2.0, rel=1e-12)

    daily = result.daily_path
    first, last = daily.row(0, named=True), daily.row(-1, named=True)
    assert first["premium_cashflow"] == pytest.approx(
        call_open["cashflow"] + put_open["cashflow"], rel=1e-12
    )
    assert last["realized_option_cashflow"] == pytest.approx(
        call_close["cashflow"] + closed["put-95"][0]["cashflow"], rel=1e-12
    )
    # The day's value holds the short call at minus its mark.
    assert first["option_market_value"] == pytest.approx(100 * (put_mid - call_mid), rel=1e-12)
    summary = result.summary.row(0, named=True)
    assert summary["total_hedge_cost"] == pytest.approx(-first["premium_cashflow"], rel=1e-15)


def test_a_short_call_in_the_money_at_expiry_pays_its_intrinsic_value_without_fee(
    tmp_path: Path,
) -> None:
    closes = [100.0 + 2.0 * i for i in range(25)]  # 100 -> 148: the call ends deep in the money
    store, days = _market(tmp_path, closes)
    collar = hf.collar("c", put_pct=0.9, call_pct=1.1, target_expiry_days=14)
    result = _run(store, days, [collar], spread_pct=0.02, fee_per_unit=0.5)
    expiries = result.trades.filter(pl.col("action") == "expire").sort("date", "leg_id")
    first_call = expiries.filter(pl.col("leg_id") == "short-call-110").row(0, named=True)
    settle = float(store.underlying_bars("SYN", first_call["date"], first_call["date"])["close"][0])
    intrinsic = settle - first_call["strike"]
    assert intrinsic > 0
    assert first_call["price"] == pytest.approx(intrinsic, rel=1e-15)
    assert first_call["fee"] == 0.0
    assert first_call["cashflow"] == pytest.approx(-100 * intrinsic, rel=1e-15)
    worthless = expiries.filter(pl.col("leg_id") == "put-90").row(0, named=True)
    assert (worthless["price"], worthless["cashflow"]) == (0.0, 0.0)
    assert math.copysign(1.0, worthless["cashflow"]) == 1.0  # 0.0, never -0.0


def test_a_net_credit_is_a_negative_hedge_cost(tmp_path: Path) -> None:
    store, days = _market(tmp_path, [100.0, 100.5, 99.5, 100.0])
    # A far put bought with an at-the-money call sold: the premium is a credit.
    credit = hf.collar("credit", put_pct=0.8, call_pct=1.0, target_expiry_days=90)
    summary = _run(store, days, [credit]).summary.row(0, named=True)
    assert summary["total_hedge_cost"] < 0


def test_a_zero_cost_collar_with_no_call_to_pay_for_it_is_refused_naming_the_day(
    tmp_path: Path,
) -> None:
    store, days = _market(tmp_path, [100.0, 101.0, 102.0])
    # A put far in the money costs more than an at-the-money call fetches.
    template = hf.zero_cost_collar("zc", put_pct=1.5, target_expiry_days=30)
    with pytest.raises(hf.InvalidScenarioError) as caught:
        _run(store, days, [template])
    message = str(caught.value)
    assert message.startswith(f"{days[0]} template zc v1 leg 'short-call-zero-cost': ")
    assert "no call strike in [1, 3] x spot is worth" in message


def test_a_delta_the_bracket_cannot_reach_is_refused_naming_the_leg(tmp_path: Path) -> None:
    store, days = _market(tmp_path, [100.0, 101.0, 102.0])
    leg = hf.TemplateLeg(
        leg_id="deep",
        strike_rule=hf.StrikeRule(rule_type=StrikeRuleType.DELTA_TARGET, value=-0.9999999),
        allocation_weight=1.0,
        target_expiry_days=30,
    )
    template = hf.StrategyTemplate(
        slug="deep-put", template_kind=TemplateKind.PROTECTIVE_PUT, legs=[leg]
    )
    with pytest.raises(hf.InvalidScenarioError, match="deep-put v1 leg 'deep': no strike within"):
        _run(store, days, [template], dividend_yield=0.05)


def test_an_unhedged_template_is_the_unhedged_path(tmp_path: Path) -> None:
    store, days = _market(tmp_path, [100.0, 90.0, 80.0, 85.0])
    baseline = hf.unhedged()
    result = _run(store, days, [baseline, hf.protective_put("pp", target_expiry_days=30)])
    row = result.summary.filter(pl.col("template_slug") == "unhedged").row(0, named=True)
    assert row["max_ltv_hedged"] == row["max_ltv_unhedged"]
    assert row["margin_call_days_hedged"] == row["margin_call_days_unhedged"]
    assert (row["total_hedge_cost"], row["roll_count"]) == (0.0, 0)
    assert result.trades.filter(pl.col("template_id") == baseline.template_id).is_empty()


# -- properties over generated markets ----------------------------------------------------


@st.composite
def _paths(draw: st.DrawFn, n_min: int = 5, n_max: int = 40) -> list[float]:
    n = draw(st.integers(n_min, n_max))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    path: list[float] = (100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.03, n)))).round(4).tolist()
    return path


@given(
    closes=_paths(),
    pct=st.sampled_from([0.9, 1.0, 1.1]),
    tenor=st.integers(20, 120),
    rate=st.floats(0.0, 0.06),
    dividend_yield=st.floats(0.0, 0.04),
    sigma=st.floats(0.1, 0.6),
)
def test_put_call_parity_holds_at_every_mark(
    closes: list[float], pct: float, tenor: int, rate: float, dividend_yield: float, sigma: float
) -> None:
    # A long put and a short call at one strike: P - C = K e^{-r tau} - S e^{-q tau}.
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        template = hf.collar("parity", put_pct=pct, call_pct=pct, target_expiry_days=tenor)
        result = _run(
            store, days, [template], sigma=sigma, rate=rate, dividend_yield=dividend_yield
        )
    held = result.positions.filter(pl.col("option_type") == "put").sort("opened_at")
    for row in result.daily_path.iter_rows(named=True):
        day = row["date"]
        open_put = held.filter(
            (pl.col("opened_at") <= day)
            & (pl.col("closed_at").is_null() | (pl.col("closed_at") > day))
        )
        if open_put.is_empty() or open_put["expiry"][0] <= day:
            continue
        strike, expiry = open_put["strike"][0], open_put["expiry"][0]
        tau = (expiry - day).days / 365
        parity = 100.0 * (
            strike * math.exp(-rate * tau) - row["spot_close"] * math.exp(-dividend_yield * tau)
        )
        assert row["option_market_value"] == pytest.approx(parity, rel=1e-9, abs=1e-9 * strike), day


@given(
    closes=_paths(n_max=60),
    put_pct=st.sampled_from([0.8, 0.9, 0.95, 1.0]),
    tenor=st.integers(15, 60),
    policy=st.sampled_from([None, roll(3)]),
    rate=st.floats(0.0, 0.05),
)
def test_a_zero_cost_collar_pays_no_net_premium_on_any_entry_day(
    closes: list[float], put_pct: float, tenor: int, policy: hf.RollPolicy | None, rate: float
) -> None:
    # A put at or below spot never costs more than the at-the-money call (rate >= 0, q = 0).
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        template = hf.zero_cost_collar(
            "zc", put_pct=put_pct, target_expiry_days=tenor, roll_policy=policy
        )
        result = _run(store, days, [template], rate=rate)
    collateral = 100.0 * closes[0]
    entries = result.trades.filter(pl.col("action").is_in(["buy_open", "sell_open"]))
    per_day = entries.group_by("date").agg(pl.col("cashflow").sum())
    assert per_day.height >= 1
    assert per_day["cashflow"].abs().max() <= 1e-8 * collateral


@given(
    closes=_paths(),
    put_pct=st.sampled_from([0.85, 0.9, 0.95, 1.0]),
    call_pct=st.sampled_from([1.02, 1.05, 1.1, 1.25]),
    rate=st.floats(0.0, 0.06),
    sigma=st.floats(0.1, 0.8),
)
def test_a_collars_value_stays_between_its_floor_and_its_cap(
    closes: list[float], put_pct: float, call_pct: float, rate: float, sigma: float
) -> None:
    # Per unit, S + P(K_p) - C(K_c) lies in [K_p e^{-r tau}, K_c e^{-r tau}] (q = 0): the
    # hedged value less the cash (the costs paid) lies between the floor and the cap.
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        template = hf.collar("c", put_pct=put_pct, call_pct=call_pct, target_expiry_days=400)
        result = _run(store, days, [template], rate=rate, sigma=sigma)
    strikes = result.positions.sort("option_type").select("strike", "expiry").rows()
    (k_call, expiry), (k_put, _) = strikes
    for row in result.daily_path.iter_rows(named=True):
        if not row["active_position_ids"]:  # the last day: everything was sold
            continue
        discount = math.exp(-rate * (expiry - row["date"]).days / 365)
        covered = row["underlying_value"] + row["option_market_value"]
        assert (
            100 * k_put * discount * (1 - 1e-12) <= covered <= 100 * k_call * discount * (1 + 1e-12)
        )


@given(
    closes=_paths(n_min=25, n_max=50),
    long_pct=st.sampled_from([1.0, 0.95]),
    short_pct=st.sampled_from([0.9, 0.8]),
)
def test_a_put_spread_pays_the_difference_of_its_puts_at_expiry(
    closes: list[float], long_pct: float, short_pct: float
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, days = _market(Path(tmp), closes)
        template = hf.put_spread(
            "ps", long_pct=long_pct, short_pct=short_pct, target_expiry_days=14
        )
        result = _run(store, days, [template], spread_pct=0.02, fee_per_unit=0.01)
    expired = result.trades.filter(pl.col("action") == "expire")
    assert expired.height >= 2
    closes_on = dict(result.daily_path.select("date", "spot_close").unique().rows())
    for day, rows in expired.group_by("date"):
        settle = closes_on[day[0]]
        strikes = dict(rows.select("leg_id", "strike").rows())
        k1, k2 = (
            strikes["put-" + f"{long_pct * 100:g}"],
            strikes["short-put-" + f"{short_pct * 100:g}"],
        )
        payoff = max(k1 - settle, 0.0) - max(k2 - settle, 0.0)
        assert rows["cashflow"].sum() == pytest.approx(100 * payoff, rel=1e-12, abs=1e-9)
        assert rows["fee"].sum() == 0.0


def _structures() -> list[hf.StrategyTemplate]:
    delta_put = hf.TemplateLeg(
        leg_id="put-d30",
        strike_rule=hf.StrikeRule(rule_type=StrikeRuleType.DELTA_TARGET, value=-0.3),
        allocation_weight=1.0,
        target_expiry_days=21,
    )
    delta_call = hf.TemplateLeg(
        leg_id="call-d20",
        side=LegSide.SHORT,
        option_type=OptionType.CALL,
        strike_rule=hf.StrikeRule(rule_type=StrikeRuleType.DELTA_TARGET, value=0.2),
        allocation_weight=0.5,
        target_expiry_days=21,
    )
    return [
        hf.collar("collar", target_expiry_days=21, roll_policy=roll(3)),
        hf.zero_cost_collar("zc", target_expiry_days=30),
        hf.put_spread("spread", target_expiry_days=25, roll_policy=roll(2)),
        hf.StrategyTemplate(
            slug="delta-collar", template_kind=TemplateKind.COLLAR, legs=[delta_put, delta_call]
        ),
        hf.unhedged(),
    ]


@given(closes=_paths(n_min=30, n_max=60), cut=st.integers(5, 25), seed=st.integers(0, 2**16))
def test_poisoning_the_future_leaves_every_row_up_to_t_unchanged(
    closes: list[float], cut: int, seed: int
) -> None:
    # The seed document's anti-lookahead rules hold with every new kind and strike rule.
    rng = np.random.default_rng(seed)
    poisoned = closes[: cut + 1] + (np.array(closes[cut + 1 :]) * rng.uniform(0.2, 5.0)).tolist()
    templates, runs = _structures(), []
    for path in (closes, poisoned):
        with tempfile.TemporaryDirectory() as tmp:
            store, days = _market(Path(tmp), path)
            runs.append(_run(store, days, templates, rate=0.02, spread_pct=0.01, fee_per_unit=0.01))
    t = days[cut]
    for name in ("daily_path", "trades"):
        before, after = (r.tables()[name].filter(pl.col("date") <= t) for r in runs)
        assert before.equals(after), name
