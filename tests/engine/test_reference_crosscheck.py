"""The vectorized engine equals the scalar reference backtester on generated markets.

``benchmarks/reference.py`` is a second, independent implementation of SPEC section 4
(plain loops, ``math.erf`` Black-Scholes). Hypothesis generates markets (XNYS sessions
2000-2024, random walks, dropped sessions), templates, portfolios and provider settings;
the engine and the reference must agree on every daily field, every trade and every
summary metric to 1e-9 (relative, or absolute for small numbers), and must refuse the same
templates (a position due to roll on its own entry day).
"""

from __future__ import annotations

import bisect
import math
import tempfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import polars as pl
import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import hedgeframe as hf
from benchmarks.crosscheck import (
    DAILY_BOOLS,
    DAILY_FLOATS,
    REL_TOL,
    SUMMARY_FIELDS,
    TRADE_EXACT,
    TRADE_FLOATS,
)
from benchmarks.reference import ReferenceResult, reference_backtest
from hedgeframe.data import UNDERLYING_BAR_SCHEMA, MarketDataStore, get_calendar
from hedgeframe.engine import BacktestRunResult, run_backtest
from hedgeframe.errors import InvalidScenarioError
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestScenario,
    ProviderRef,
    RollPolicy,
    StrategyTemplate,
    TemplateRef,
)
from hedgeframe.pricing._volatility import ConstantVol
from hedgeframe.providers import SyntheticHistoricalProvider

SYMBOL: Final = "XCHK"
ABS_TOL: Final = 1e-9
SESSIONS: Final[list[date]] = get_calendar("XNYS").sessions.astype("datetime64[D]").tolist()

ACTION_ORDER: Final = {"expire": 0, "sell_close": 1, "buy_open": 2}


# ---------------------------------------------------------------------------------------
# One generated case
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSpec:
    spot_pcts: tuple[float, ...]
    weights: tuple[float, ...]
    tenor: int
    roll_n: int | None  # None: hold to expiry
    coverage: float

    def build(self, slug: str) -> StrategyTemplate:
        policy = (
            RollPolicy.model_validate({"policy_type": "hold_to_expiry"})
            if self.roll_n is None
            else RollPolicy.model_validate(
                {"policy_type": "roll_n_days_before_expiry", "days_before_expiry": self.roll_n}
            )
        )
        return hf.put_ladder(
            slug,
            spot_pcts=list(self.spot_pcts),
            weights=list(self.weights),
            target_expiry_days=self.tenor,
            roll_policy=policy,
            target_coverage_pct=self.coverage,
            template_id=slug,
        )


@dataclass(frozen=True)
class Case:
    """A market (store bars and scenario window), templates, a portfolio and a provider."""

    bars: tuple[tuple[date, float], ...]  # everything in the store, padding included
    start: date
    end: date
    templates: tuple[TemplateSpec, ...]
    units: float
    loan_frac: float
    margin_call_ltv: float
    cash_frac: float
    financing_rate: float
    vol: float
    rate: float
    dividend_yield: float
    spread_pct: float

    @property
    def scenario_bars(self) -> list[tuple[date, float]]:
        return [(day, close) for day, close in self.bars if self.start <= day <= self.end]

    def portfolio(self) -> BacktestPortfolioState:
        entry_spot = self.scenario_bars[0][1]
        collateral = self.units * entry_spot
        return BacktestPortfolioState(
            underlying_units=self.units,
            entry_spot=entry_spot,
            loan_amount=self.loan_frac * collateral,
            margin_call_ltv=self.margin_call_ltv,
            cash_balance=self.cash_frac * collateral,
            financing_rate=self.financing_rate,
        )

    def describe(self) -> str:
        return (
            f"case: window {self.start}..{self.end}, scenario bars {self.scenario_bars}, "
            f"store bars outside the window "
            f"{[b for b in self.bars if not self.start <= b[0] <= self.end]}, "
            f"templates {self.templates}, portfolio {self.portfolio().model_dump(mode='json')}, "
            f"provider ConstantVol({self.vol}) rate {self.rate} q {self.dividend_yield} "
            f"spread {self.spread_pct}"
        )


def make_case(
    first_session: date,
    n_sessions: int,
    closes: list[float],
    *,
    dropped: tuple[int, ...] = (),
    pad_before: int = 0,
    pad_after: int = 0,
    templates: tuple[TemplateSpec, ...],
    units: float = 100.0,
    loan_frac: float = 0.6,
    margin_call_ltv: float = 0.7,
    cash_frac: float = 0.02,
    financing_rate: float = 0.03,
    vol: float = 0.25,
    rate: float = 0.02,
    dividend_yield: float = 0.01,
    spread_pct: float = 0.01,
) -> Case:
    """Bars on consecutive XNYS sessions from ``first_session``; ``dropped`` are gaps.

    ``closes`` has one close per session of padding + window + padding.
    """
    first = bisect.bisect_left(SESSIONS, first_session)
    window = SESSIONS[first : first + n_sessions]
    days = SESSIONS[first - pad_before : first + n_sessions + pad_after]
    assert len(closes) == len(days)
    gaps = {window[i] for i in dropped}
    bars = tuple((day, close) for day, close in zip(days, closes, strict=True) if day not in gaps)
    return Case(
        bars=bars,
        start=window[0],
        end=window[-1],
        templates=templates,
        units=units,
        loan_frac=loan_frac,
        margin_call_ltv=margin_call_ltv,
        cash_frac=cash_frac,
        financing_rate=financing_rate,
        vol=vol,
        rate=rate,
        dividend_yield=dividend_yield,
        spread_pct=spread_pct,
    )


def walk(start: float, returns: list[float]) -> list[float]:
    closes = [start]
    for step in returns:
        closes.append(closes[-1] * math.exp(step))
    return closes


@st.composite
def template_specs(draw: st.DrawFn) -> TemplateSpec:
    n_legs = draw(st.integers(1, 3))
    spot_pcts = tuple(
        draw(st.lists(st.floats(0.7, 1.2), min_size=n_legs, max_size=n_legs, unique=True))
    )
    raw_weights = draw(st.lists(st.integers(1, 10), min_size=n_legs, max_size=n_legs))
    weights = tuple(w / sum(raw_weights) for w in raw_weights)
    return TemplateSpec(
        spot_pcts=spot_pcts,
        weights=weights,
        tenor=draw(st.integers(5, 120)),
        roll_n=draw(st.none() | st.integers(1, 10)),
        coverage=draw(st.floats(0.05, 1.0)),
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    first = draw(st.dates(date(2000, 1, 10), date(2024, 12, 31)))
    n_sessions = draw(st.integers(20, 120))
    pad_before = draw(st.integers(0, 3))
    pad_after = draw(st.integers(0, 3))
    total = pad_before + n_sessions + pad_after
    daily_vol = draw(st.floats(0.002, 0.05))
    rng = draw(st.randoms(use_true_random=False))
    # Uniform steps with that standard deviation (bounded, unlike a Gaussian draw).
    returns = [rng.uniform(-1.0, 1.0) * daily_vol * math.sqrt(3.0) for _ in range(total - 1)]
    closes = walk(draw(st.floats(5.0, 20_000.0)), returns)
    dropped = tuple(draw(st.sets(st.integers(0, n_sessions - 1), max_size=4)))
    return make_case(
        first,
        n_sessions,
        closes,
        dropped=dropped,
        pad_before=pad_before,
        pad_after=pad_after,
        templates=(draw(template_specs()),),
        units=draw(st.floats(1.0, 1_000.0)),
        loan_frac=draw(st.floats(0.0, 0.95)),
        margin_call_ltv=draw(st.floats(0.2, 0.95)),
        cash_frac=draw(st.floats(0.0, 0.3)),
        financing_rate=draw(st.floats(-0.01, 0.08)),
        vol=draw(st.floats(0.05, 1.0)),
        rate=draw(st.floats(-0.01, 0.08)),
        dividend_yield=draw(st.floats(0.0, 0.05)),
        spread_pct=draw(st.floats(0.0, 0.05)),
    )


# ---------------------------------------------------------------------------------------
# Running both implementations
# ---------------------------------------------------------------------------------------


def run_engine(case: Case, templates: list[StrategyTemplate], root: Path) -> BacktestRunResult:
    n = len(case.bars)
    store = MarketDataStore(root)
    store.write_underlying_bars(
        pl.DataFrame(
            {
                "symbol": [SYMBOL] * n,
                "date": [day for day, _ in case.bars],
                "open": [None] * n,
                "high": [None] * n,
                "low": [None] * n,
                "close": [close for _, close in case.bars],
                "volume": [None] * n,
                "source": ["crosscheck"] * n,
            },
            schema=UNDERLYING_BAR_SCHEMA,
        )
    )
    scenario = BacktestScenario(
        slug="crosscheck",
        symbol=SYMBOL,
        start_date=case.start,
        end_date=case.end,
        initial_portfolio=case.portfolio(),
        template_refs=[
            TemplateRef(template_id=t.template_id, version=t.version) for t in templates
        ],
        provider_ref=ProviderRef.model_validate(
            {"provider_id": "synthetic_v1", "pricing_mode": "synthetic_bs_mid"}
        ),
    )
    provider = SyntheticHistoricalProvider(
        store,
        volatility=ConstantVol(case.vol),
        rate=case.rate,
        dividend_yield=case.dividend_yield,
        spread_pct=case.spread_pct,
        calendar="XNYS",
    )
    return run_backtest(scenario, templates, provider)


def run_reference(case: Case, template: StrategyTemplate) -> ReferenceResult:
    return reference_backtest(
        case.scenario_bars,
        template=template,
        portfolio=case.portfolio(),
        sigma=lambda _day: case.vol,
        rate=case.rate,
        dividend_yield=case.dividend_yield,
        spread_pct=case.spread_pct,
        sessions=SESSIONS,
    )


# ---------------------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------------------


def close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def sorted_trades(rows: list[dict[str, Any]], leg_ids: list[str]) -> list[dict[str, Any]]:
    return sorted(
        rows,
        key=lambda r: (r["date"], ACTION_ORDER[r["action"]], leg_ids.index(r["leg_id"])),
    )


def assert_matches_reference(
    result: BacktestRunResult,
    template: StrategyTemplate,
    reference: ReferenceResult,
    context: str,
) -> None:
    """Every daily field, trade and summary metric of ``template`` equals the reference."""
    mine = pl.col("template_id") == template.template_id
    leg_ids = [leg.leg_id for leg in template.legs]

    daily = result.daily_path.filter(mine).sort("date").to_dicts()
    assert [row["date"] for row in daily] == [p.date for p in reference.daily], (
        f"{context}\ntrading days differ: engine {[r['date'] for r in daily]}, "
        f"reference {[p.date for p in reference.daily]}"
    )
    for row, point in zip(daily, reference.daily, strict=True):
        want = asdict(point)
        where = f"{context}\ndaily point {point.date}:\n  engine    {row}\n  reference {want}"
        for name in DAILY_FLOATS:
            assert close(row[name], want[name]), f"{where}\nfield {name}"
        for name in DAILY_BOOLS:
            assert row[name] is want[name], f"{where}\nfield {name}"
        assert len(row["active_position_ids"]) == point.open_position_count, (
            f"{where}\nopen position count"
        )
        assert row["template_version"] == template.version, where
        assert row["template_slug"] == template.slug, where

    trades = sorted_trades(result.trades.filter(mine).to_dicts(), leg_ids)
    want_trades = sorted_trades([asdict(t) for t in reference.trades], leg_ids)
    assert len(trades) == len(want_trades), (
        f"{context}\ntrade count: engine {len(trades)}, reference {len(want_trades)}\n"
        f"engine: {[(t['date'], t['action'], t['reason'], t['leg_id']) for t in trades]}\n"
        f"reference: {[(t['date'], t['action'], t['reason'], t['leg_id']) for t in want_trades]}"
    )
    for got, want in zip(trades, want_trades, strict=True):
        where = f"{context}\ntrade:\n  engine    {got}\n  reference {want}"
        for name in TRADE_EXACT:
            assert got[name] == want[name], f"{where}\nfield {name}"
        for name in TRADE_FLOATS:
            assert close(got[name], want[name]), f"{where}\nfield {name}"
        assert got["symbol"] == SYMBOL, where

    summary_rows = result.summary.filter(mine).to_dicts()
    assert len(summary_rows) == 1, f"{context}\nsummary rows {summary_rows}"
    summary = summary_rows[0]
    want_summary = asdict(reference.summary)
    where = f"{context}\nsummary:\n  engine    {summary}\n  reference {want_summary}"
    assert summary["status"] == "complete", where
    for name in SUMMARY_FIELDS:
        got_value, want_value = summary[name], want_summary[name]
        if isinstance(want_value, int):
            assert got_value == want_value, f"{where}\nfield {name}"
        else:
            assert close(got_value, want_value), f"{where}\nfield {name}"


def check_case(case: Case) -> bool:
    """Run one single-template case both ways; True when both ran, False when both refused."""
    (spec,) = case.templates
    template = spec.build("xchk-template")
    context = case.describe()
    reference: ReferenceResult | None = None
    reference_error: ValueError | None = None
    try:
        reference = run_reference(case, template)
    except ValueError as error:
        reference_error = error
    result: BacktestRunResult | None = None
    engine_error: InvalidScenarioError | None = None
    with tempfile.TemporaryDirectory() as root:
        try:
            result = run_engine(case, [template], Path(root))
        except InvalidScenarioError as error:
            engine_error = error
    assert (engine_error is None) == (reference_error is None), (
        f"{context}\nonly one side refused: engine {engine_error!r}, reference {reference_error!r}"
    )
    if result is None or reference is None:
        return False
    # Settling at the last close before a bar-less expiry date is warned about (SPEC 4.2).
    assert bool(result.warnings) or not reference.warnings, (
        f"{context}\nthe engine did not warn; the reference did: {reference.warnings}"
    )
    assert_matches_reference(result, template, reference, context)
    return True


# ---------------------------------------------------------------------------------------
# Pinned edge cases
# ---------------------------------------------------------------------------------------

MARCH_2024: Final = date(2024, 3, 4)
WORKED_CLOSES: Final = [5000.0, 4950, 4800, 4700, 4850, 4600, 4500, 4650, 4700]
LADDER_7D_ROLL_2: Final = TemplateSpec((1.0, 0.9), (0.5, 0.5), 7, 2, 1.0)
PUT_7D_HOLD: Final = TemplateSpec((1.0,), (1.0,), 7, None, 1.0)
WORKED_PARAMS: Final[dict[str, Any]] = {
    "units": 100.0,
    "loan_frac": 0.6,
    "margin_call_ltv": 0.65,
    "cash_frac": 0.02,
    "financing_rate": 0.05,
    "vol": 0.2,
    "rate": 0.02,
    "dividend_yield": 0.0,
    "spread_pct": 0.02,
}

# The worked example of SPEC section 4.
WORKED_EXAMPLE: Final = make_case(
    MARCH_2024, 9, WORKED_CLOSES, templates=(LADDER_7D_ROLL_2,), **WORKED_PARAMS
)
# Ends on 03-12, the roll day of the 03-14 expiry: the roll sells, nothing replaces it.
ROLL_DUE_ON_LAST_DAY: Final = make_case(
    MARCH_2024, 7, WORKED_CLOSES[:7], templates=(LADDER_7D_ROLL_2,), **WORKED_PARAMS
)
# Held to expiry 03-11; the scenario ends on that day: settle at intrinsic, no replacement.
EXPIRY_ON_LAST_DAY: Final = make_case(
    MARCH_2024, 6, WORKED_CLOSES[:6], templates=(PUT_7D_HOLD,), **WORKED_PARAMS
)
# The expiry session 03-11 has no bar: settle on 03-12 at the 03-08 close, replace on 03-12.
EXPIRY_ON_A_GAP: Final = make_case(
    MARCH_2024, 9, WORKED_CLOSES, dropped=(5,), templates=(PUT_7D_HOLD,), **WORKED_PARAMS
)
# The roll session 03-07 has no bar: roll on 03-08, the first trading day after it.
ROLL_SESSION_IS_A_GAP: Final = make_case(
    MARCH_2024, 9, WORKED_CLOSES, dropped=(3,), templates=(LADDER_7D_ROLL_2,), **WORKED_PARAMS
)
# The first session has no bar: the first trading day is the next one.
FIRST_SESSION_IS_A_GAP: Final = make_case(
    MARCH_2024, 9, WORKED_CLOSES, dropped=(0,), templates=(LADDER_7D_ROLL_2,), **WORKED_PARAMS
)
# Rolled one session before expiry, itself just before a session that is also a gap.
ROLL_1_WITH_PADDING: Final = make_case(
    date(2008, 9, 2),
    40,
    walk(1250.0, [(-1) ** i * 0.03 - 0.004 for i in range(45)]),
    pad_before=3,
    pad_after=3,
    dropped=(10, 11, 25),
    templates=(TemplateSpec((1.0, 0.95, 0.8), (0.5, 0.3, 0.2), 9, 1, 0.75),),
    **WORKED_PARAMS,
)
# Refused: a 5-day put rolled 5 sessions before expiry is due on its entry day.
REFUSED_ROLL_ON_ENTRY: Final = make_case(
    MARCH_2024, 9, WORKED_CLOSES, templates=(TemplateSpec((1.0,), (1.0,), 5, 5, 1.0),)
)


PINNED: Final = {
    "worked-example": (WORKED_EXAMPLE, True),
    "roll-due-on-last-day": (ROLL_DUE_ON_LAST_DAY, True),
    "expiry-on-last-day": (EXPIRY_ON_LAST_DAY, True),
    "expiry-on-a-gap": (EXPIRY_ON_A_GAP, True),
    "roll-session-is-a-gap": (ROLL_SESSION_IS_A_GAP, True),
    "first-session-is-a-gap": (FIRST_SESSION_IS_A_GAP, True),
    "roll-1-with-padding": (ROLL_1_WITH_PADDING, True),
    "refused-roll-on-entry-day": (REFUSED_ROLL_ON_ENTRY, False),
}


@pytest.mark.parametrize(("case", "ran"), [pytest.param(*v, id=k) for k, v in PINNED.items()])
def test_pinned_case(case: Case, ran: bool) -> None:
    assert check_case(case) is ran


@settings(max_examples=60)
@given(case=cases())
@example(case=WORKED_EXAMPLE)
@example(case=REFUSED_ROLL_ON_ENTRY)
def test_engine_equals_reference(case: Case) -> None:
    ran = check_case(case)
    event("both ran" if ran else "both refused")


def test_a_batch_run_equals_each_template_run_alone(tmp_path: Path) -> None:
    """Several templates in one batch: each one's rows equal its run alone and the reference."""
    specs = {
        "pp-atm-30d-hold": TemplateSpec((1.0,), (1.0,), 30, None, 1.0),
        "pp-90-14d-roll3": TemplateSpec((0.9,), (1.0,), 14, 3, 0.5),
        "ladder-3-21d-roll1": TemplateSpec((1.05, 0.95, 0.85), (0.2, 0.5, 0.3), 21, 1, 0.8),
        "ladder-2-9d-hold": TemplateSpec((1.0, 0.9), (0.5, 0.5), 9, None, 1.0),
    }
    case = make_case(
        date(2008, 9, 2),
        80,
        walk(1280.0, [0.025 * math.sin(1.7 * i) - 0.003 for i in range(84)]),
        pad_before=2,
        pad_after=3,
        dropped=(7, 30, 31, 64),
        templates=tuple(specs.values()),
        units=250.0,
        loan_frac=0.55,
        margin_call_ltv=0.7,
        cash_frac=0.05,
        financing_rate=0.04,
        vol=0.35,
        rate=0.03,
        dividend_yield=0.02,
        spread_pct=0.015,
    )
    templates = [spec.build(slug) for slug, spec in specs.items()]
    batch = run_engine(case, templates, tmp_path / "batch")
    tables = ("daily_path", "trades", "positions", "summary")
    for template in templates:
        context = f"{case.describe()}\ntemplate {template.slug}"
        alone = run_engine(case, [template], tmp_path / template.slug)
        mine = pl.col("template_id") == template.template_id
        for table in tables:
            assert_frame_equal(
                getattr(batch, table).filter(mine),
                getattr(alone, table),
                check_exact=True,
            )
        assert_matches_reference(batch, template, run_reference(case, template), context)
    assert sorted(batch.summary["template_id"].to_list()) == sorted(specs)
