"""The seed's Slices 2-5 and SPEC section 4's edge rules, on the hand-made fixture markets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from engine_helpers import bars, portfolio, roll, run
from fixture_markets import fixture_store

import hedgeframe as hf
from hedgeframe.data import MarketDataStore, get_calendar
from hedgeframe.engine import rank_summary
from hedgeframe.errors import InvalidScenarioError, LookaheadError, MissingMarketDataError
from hedgeframe.models import OptionSnapshotQuery, OptionType, StrikeRule
from hedgeframe.providers import ContractArrays, ContractRequest, PointInTimeView

START, END = date(2024, 3, 1), date(2024, 4, 15)


@pytest.fixture
def selloff(tmp_path: Path) -> MarketDataStore:
    return fixture_store(tmp_path, "monotonic_selloff")


def _provider(store: MarketDataStore) -> hf.SyntheticHistoricalProvider:
    return hf.SyntheticHistoricalProvider(store, volatility=hf.ConstantVol(0.2))


# -- Slice 2: the synthetic provider contract -------------------------------------------


def test_provider_returns_stable_trading_day_list(selloff: MarketDataStore) -> None:
    provider = _provider(selloff)
    first = provider.get_trading_days("FIX", START, END)
    assert first == provider.get_trading_days("FIX", START, END)
    assert len(first) == 31
    assert first[0] == START
    assert first[-1] == END
    assert date(2024, 3, 29) not in first  # Good Friday


def test_spot_pct_strike_uses_same_day_spot_only(selloff: MarketDataStore) -> None:
    provider = _provider(selloff)
    snapshot = provider.get_option_snapshot(
        OptionSnapshotQuery(
            symbol="FIX",
            as_of_date=date(2024, 3, 8),
            target_expiry_days=30,
            strike_rule=StrikeRule(value=0.95),
        )
    )
    assert snapshot.underlying_close == 95.0  # the 2024-03-08 close
    assert snapshot.selected_contract.instrument_key.strike == pytest.approx(0.95 * 95.0)
    # 2024-04-07 is a Sunday: 04-05 (2 days) and 04-08 (1 day) -> the nearer, 04-08.
    assert snapshot.selected_contract.instrument_key.expiry == date(2024, 4, 8)


def test_expiry_tie_goes_to_the_earlier_session(selloff: MarketDataStore) -> None:
    provider = _provider(selloff)
    # 2024-03-01 + 29 days = 2024-03-30, a Saturday after Good Friday: 03-28 is 2 days
    # before, 04-01 2 days after -> the tie goes to the earlier session, 03-28.
    snapshot = provider.get_option_snapshot(
        OptionSnapshotQuery(
            symbol="FIX", as_of_date=START, target_expiry_days=29, strike_rule=StrikeRule(value=1)
        )
    )
    assert snapshot.selected_contract.instrument_key.expiry == date(2024, 3, 28)


def test_repricing_uses_decreasing_time_to_expiry(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, "flat")
    result = run(store, [hf.protective_put("atm", target_expiry_days=120)], start=START, end=END)
    values = result.daily_path["option_market_value"].to_numpy()[:-1]  # last day: sold
    assert np.all(np.diff(values) < 0.0), "an ATM put on a flat market loses time value daily"


def test_no_future_bar_needed_for_day_t_pricing(tmp_path: Path) -> None:
    full = fixture_store(tmp_path / "full", "monotonic_selloff")
    cut = MarketDataStore(tmp_path / "cut")
    cut.write_underlying_bars(full.underlying_bars("FIX", None, date(2024, 3, 8)))
    position = hf.HistoricalOptionPosition(
        position_id="p",
        instrument_key=hf.HistoricalInstrumentKey(
            symbol="FIX", option_type=OptionType.PUT, expiry=date(2024, 6, 21), strike=100.0
        ),
        opened_at=START,
        expiry=date(2024, 6, 21),
        quantity=1.0,
        entry_price=1.0,
        template_leg_id="put-100",
        source_snapshot_date=START,
    )
    on_full = _provider(full).price_open_position(position, date(2024, 3, 8))
    on_cut = _provider(cut).price_open_position(position, date(2024, 3, 8))
    assert on_full == on_cut


def test_view_refuses_future_reads(selloff: MarketDataStore) -> None:
    timeline = _provider(selloff).load_timeline("FIX", START, END)
    view = timeline.view_at(date(2024, 3, 8))
    assert view.spot == 95.0
    assert view.days[-1] == np.datetime64("2024-03-08")
    with pytest.raises(LookaheadError, match="2024-03-11 was requested at as_of_date 2024-03-08"):
        view.close_on_or_before(date(2024, 3, 11))
    with pytest.raises(LookaheadError):
        view.history(START, date(2024, 4, 1))
    assert view.close_on_or_before(date(2024, 3, 3)) == (date(2024, 3, 1), 100.0)


# -- Slice 3: one template ---------------------------------------------------------------


def test_hedge_premium_paid_on_entry_day(selloff: MarketDataStore) -> None:
    result = run(selloff, [hf.protective_put("atm", target_expiry_days=90)], start=START, end=END)
    first = result.daily_path.row(0, named=True)
    buy = result.trades.row(0, named=True)
    assert buy["action"] == "buy_open"
    assert buy["reason"] == "initial_entry"
    assert buy["date"] == START
    assert first["premium_cashflow"] == pytest.approx(-buy["quantity"] * buy["price"])
    assert first["premium_cashflow"] < 0.0
    assert first["cash"] == pytest.approx(first["premium_cashflow"])


def test_option_mtm_increases_when_spot_falls_below_strike(selloff: MarketDataStore) -> None:
    result = run(selloff, [hf.protective_put("atm", target_expiry_days=365)], start=START, end=END)
    values = result.daily_path["option_market_value"].to_numpy()[:-1]
    assert np.all(np.diff(values) > 0.0)
    assert values[-1] > 25.0 * 100  # at least the 70-close intrinsic less some time value


def test_hedged_max_ltv_not_above_unhedged_in_monotonic_selloff(selloff: MarketDataStore) -> None:
    templates = hf.seed_templates()
    result = run(selloff, templates, start=START, end=END, state=portfolio(margin_call_ltv=0.8))
    for row in result.summary.iter_rows(named=True):
        assert row["max_ltv_hedged"] <= row["max_ltv_unhedged"], row["template_slug"]
    atm = result.summary.filter(pl.col("template_slug") == "protective-put-atm-12m").row(
        0, named=True
    )
    assert atm["margin_call_days_unhedged"] > 0
    assert atm["margin_call_days_hedged"] == 0
    assert atm["days_protected_below_threshold"] == atm["margin_call_days_unhedged"]


def test_completed_run_freezes_scenario_and_template_versions(selloff: MarketDataStore) -> None:
    template = hf.protective_put("atm", target_expiry_days=90)
    result = run(selloff, [template], start=START, end=END)
    assert result.template_snapshots == [template]
    assert result.scenario_snapshot.template_refs[0].version == template.version
    assert result.provider_snapshot.config["volatility"] == {"kind": "constant", "value": 0.2}
    assert result.provider_snapshot.source_version is not None
    assert result.provider_snapshot.source_version.startswith("sha256:")
    assert result.rules_version.startswith("rules:")
    assert result.engine_version.startswith(hf.__version__)


def test_same_inputs_give_equal_tables(selloff: MarketDataStore) -> None:
    templates = hf.seed_templates()
    first = run(selloff, templates, start=START, end=END)
    second = run(selloff, templates, start=START, end=END)
    for name, frame in first.tables().items():
        assert frame.equals(second.tables()[name]), name


# -- Slice 4: several templates ----------------------------------------------------------


def test_all_templates_share_the_scenario_and_run_alone_equals_batch(
    selloff: MarketDataStore,
) -> None:
    templates = [
        hf.protective_put("atm", target_expiry_days=20, roll_policy=roll(3)),
        hf.put_ladder("ladder", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], target_expiry_days=15),
        hf.protective_put("otm", spot_pct=0.9, target_expiry_days=60),
    ]
    batch = run(selloff, templates, start=START, end=END)
    assert {r.template_slug for r in batch.template_results} == {"atm", "ladder", "otm"}
    for template in templates:
        alone = run(selloff, [template], start=START, end=END)
        for name in ("daily_path", "trades", "positions", "summary"):
            rows = batch.tables()[name].filter(pl.col("template_id") == template.template_id)
            assert rows.equals(alone.tables()[name]), (template.slug, name)


def test_ranking_uses_documented_order_with_deterministic_fallbacks() -> None:
    base = {
        "template_version": 1,
        "complete": True,
        "days_run": 10,
        "margin_call_days_hedged": 0,
        "max_ltv_hedged": 0.5,
        "total_hedge_cost": 100.0,
        "end_value_hedged_net": 1000.0,
    }
    cut = {**base, "complete": False, "margin_call_days_hedged": None, "max_ltv_hedged": None}
    rows = [
        {**base, "template_slug": "a-more-calls", "margin_call_days_hedged": 1},
        {**base, "template_slug": "b-higher-ltv", "max_ltv_hedged": 0.6},
        {**base, "template_slug": "c-costlier", "total_hedge_cost": 200.0},
        {**base, "template_slug": "d-lower-end", "end_value_hedged_net": 900.0},
        {**base, "template_slug": "f-tie"},
        {**base, "template_slug": "e-tie"},
        {**base, "template_slug": "e-tie", "template_version": 2},
        # SPEC 9.3: incomplete templates last, longer runs first, then slug; their metrics
        # (here better than every complete one's, or null) play no part.
        {**cut, "template_slug": "0-never-ran", "days_run": 0, "total_hedge_cost": None},
        {**cut, "template_slug": "1-cut-late", "days_run": 7, "margin_call_days_hedged": 0},
        {**cut, "template_slug": "0-cut-early", "days_run": 3, "max_ltv_hedged": 0.1},
        {**cut, "template_slug": "2-cut-late", "days_run": 7},
    ]
    ranked = rank_summary(pl.DataFrame(rows))
    assert ranked.select("template_slug", "template_version").rows() == [
        ("e-tie", 1),
        ("e-tie", 2),
        ("f-tie", 1),
        ("d-lower-end", 1),
        ("c-costlier", 1),
        ("b-higher-ltv", 1),
        ("a-more-calls", 1),
        ("1-cut-late", 1),
        ("2-cut-late", 1),
        ("0-cut-early", 1),
        ("0-never-ran", 1),
    ]
    assert ranked["rank"].to_list() == list(range(1, 12))


# -- Slice 5: rolls and expiry -----------------------------------------------------------


def test_roll_occurs_exactly_n_sessions_before_expiry(selloff: MarketDataStore) -> None:
    result = run(
        selloff,
        [hf.protective_put("atm", target_expiry_days=14, roll_policy=roll(3))],
        start=START,
        end=END,
    )
    sessions = get_calendar("XNYS").sessions
    rolls = result.trades.filter(pl.col("reason") == "scheduled_roll", action="sell_close")
    assert rolls.height >= 2
    for row in rolls.iter_rows(named=True):
        expiry_index = int(np.searchsorted(sessions, np.datetime64(row["expiry"])))
        assert sessions[expiry_index - 3] == np.datetime64(row["date"]), row


def test_expired_contracts_carry_no_time_value(selloff: MarketDataStore) -> None:
    result = run(selloff, [hf.protective_put("atm", target_expiry_days=7)], start=START, end=END)
    expiries = result.trades.filter(action="expire")
    assert expiries.height >= 4
    closes = dict(selloff.underlying_bars("FIX").select("date", "close").iter_rows())
    for row in expiries.iter_rows(named=True):
        assert row["reason"] == "expiry"
        assert row["date"] == row["expiry"]
        assert row["price"] == max(row["strike"] - closes[row["expiry"]], 0.0)
    # After the expiry the replacement is bought the same day, marked at its own mid.
    replaced = result.trades.filter(reason="scheduled_roll", action="buy_open")
    assert replaced["date"].to_list() == expiries["date"].to_list()


def test_expiry_without_a_bar_settles_on_the_last_close_before(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, "gap_day")
    result = run(store, [hf.protective_put("atm", target_expiry_days=14)], start=START, end=END)
    settled = result.trades.filter(action="expire").row(0, named=True)
    assert settled["expiry"] == date(2024, 3, 15)
    assert settled["date"] == date(2024, 3, 18)  # first trading day on or after the expiry
    assert settled["price"] == pytest.approx(100.0 - 91.0)  # the 03-14 close, not 90
    assert any("no FIX bar on the expiry 2024-03-15" in w for w in result.warnings)


def test_contract_identity_never_changes(selloff: MarketDataStore) -> None:
    result = run(
        selloff,
        [hf.put_ladder("l", spot_pcts=[1.0, 0.9], weights=[0.5, 0.5], target_expiry_days=10)],
        start=START,
        end=END,
    )
    per_position = result.trades.group_by("position_id").agg(
        pl.col("strike").n_unique(),
        pl.col("expiry").n_unique(),
        pl.col("option_type").n_unique(),
        pl.len(),
    )
    assert per_position.height == result.positions.height
    assert (per_position["len"] == 2).all()
    for column in ("strike", "expiry", "option_type"):
        assert (per_position[column] == 1).all()


def test_last_day_sells_everything_and_opens_nothing(selloff: MarketDataStore) -> None:
    result = run(selloff, hf.seed_templates(), start=START, end=END, spread_pct=0.01)
    last_day = result.trades.filter(pl.col("date") == END)
    assert set(last_day["action"]) == {"sell_close"}
    assert set(last_day["reason"]) == {"scenario_end"}
    last_points = result.daily_path.filter(pl.col("date") == END)
    assert (last_points["option_market_value"] == 0.0).all()
    assert all(ids == [] for ids in last_points["active_position_ids"].to_list())


def test_position_opened_on_t_is_marked_at_its_purchase_mid(selloff: MarketDataStore) -> None:
    result = run(selloff, [hf.protective_put("atm", target_expiry_days=30)], start=START, end=END)
    first = result.daily_path.row(0, named=True)
    assert first["option_market_value"] == -first["premium_cashflow"]  # no spread: fill = mid


def test_spread_and_financing_are_applied(selloff: MarketDataStore) -> None:
    state = portfolio(cash=1000.0, financing_rate=0.05)
    result = run(
        selloff,
        [hf.protective_put("atm", target_expiry_days=30)],
        start=START,
        end=END,
        spread_pct=0.02,
        state=state,
    )
    buy = result.trades.row(0, named=True)
    first, second = result.daily_path.head(2).iter_rows(named=True)
    assert buy["price"] * 100.0 == pytest.approx(first["option_market_value"] * 1.01)
    assert second["cash"] == pytest.approx(first["cash"] * (1 + 0.05 * 3 / 365))  # Fri -> Mon


# -- edge rules ----------------------------------------------------------------------------


def test_a_scenario_needs_two_trading_days(selloff: MarketDataStore) -> None:
    with pytest.raises(InvalidScenarioError, match="has 1 trading day"):
        run(selloff, [hf.protective_put("atm")], start=START, end=date(2024, 3, 3))


def test_roll_due_on_entry_day_is_refused(selloff: MarketDataStore) -> None:
    with pytest.raises(InvalidScenarioError, match="on or before its own entry day"):
        run(
            selloff,
            [hf.protective_put("atm", target_expiry_days=5, roll_policy=roll(10))],
            start=START,
            end=END,
        )


def test_missing_index_vol_carries_forward_with_warning(tmp_path: Path) -> None:
    store = fixture_store(tmp_path, "monotonic_selloff")
    sessions = [date(2024, 3, 1), date(2024, 3, 4), date(2024, 3, 6)]  # 03-05 missing
    store.write_underlying_bars(bars("VOL", sessions, [20.0, 30.0, 40.0]))
    result = run(
        store,
        [hf.protective_put("atm", target_expiry_days=60)],
        start=START,
        end=date(2024, 3, 6),
        volatility=hf.IndexVol("VOL", scale=0.01),
    )
    assert result.warnings == ["2024-03-05: no VOL close; used the 2024-03-04 close for volatility"]
    late = fixture_store(tmp_path / "late", "monotonic_selloff")
    late.write_underlying_bars(bars("VOL", sessions[1:], [30.0, 40.0]))
    with pytest.raises(MissingMarketDataError, match="no VOL close on or before 2024-03-01"):
        run(late, [hf.protective_put("atm")], start=START, end=END, volatility=hf.IndexVol("VOL"))


def test_templates_must_match_the_scenario_refs(selloff: MarketDataStore) -> None:
    provider = _provider(selloff)
    a, b = hf.protective_put("a"), hf.protective_put("b")
    scenario = hf.make_scenario(
        [a], provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    with pytest.raises(InvalidScenarioError, match="not referenced"):
        hf.run_backtest(scenario, [a, b], provider)
    with pytest.raises(InvalidScenarioError, match="missing"):
        hf.run_backtest(scenario, [b], provider)
    wrong_symbol = hf.protective_put("spx-only", underlying_symbol="^GSPC")
    scenario = hf.make_scenario(
        [wrong_symbol],
        provider,
        symbol="FIX",
        start_date=START,
        end_date=END,
        portfolio=portfolio(),
    )
    with pytest.raises(InvalidScenarioError, match="hedges '\\^GSPC', not the scenario's 'FIX'"):
        hf.run_backtest(scenario, [wrong_symbol], provider)


def test_batched_and_summary_only_runs_give_the_same_tables(
    selloff: MarketDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = [
        *hf.seed_templates(),
        hf.protective_put("short", target_expiry_days=10, roll_policy=roll(2)),
    ]
    full = run(selloff, templates, start=START, end=END)
    monkeypatch.setattr("hedgeframe.engine._run.SUMMARY_ONLY_BATCH", 2)
    provider = hf.SyntheticHistoricalProvider(selloff, volatility=hf.ConstantVol(0.2))
    scenario = hf.make_scenario(
        templates, provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    batched = hf.run_backtest(scenario, templates, provider, keep_daily_path=False)
    assert batched.daily_path.is_empty()
    for name in ("trades", "positions", "summary", "comparison"):
        assert batched.tables()[name].equals(full.tables()[name]), name
    summary_only = hf.run_backtest(
        scenario, templates, provider, keep_daily_path=False, keep_trades=False
    )
    for name in ("daily_path", "trades", "positions"):
        kept = summary_only.tables()[name]
        assert kept.is_empty(), name
        assert kept.schema == full.tables()[name].schema, name
    for name in ("summary", "comparison"):
        assert summary_only.tables()[name].equals(full.tables()[name]), name


class _Reselecting(hf.SyntheticHistoricalProvider):
    """The synthetic provider with the contracts it selects changed by ``change``."""

    def __init__(
        self, store: MarketDataStore, change: Callable[[ContractArrays], ContractArrays]
    ) -> None:
        super().__init__(store, volatility=hf.ConstantVol(0.2))
        self._change = change

    def select_contracts(self, view: PointInTimeView, request: ContractRequest) -> ContractArrays:
        return self._change(super().select_contracts(view, request))


def test_a_template_that_never_opens_is_incomplete_not_a_crash(selloff: MarketDataStore) -> None:
    provider = _Reselecting(
        selloff,
        lambda chosen: ContractArrays(
            chosen.is_call, chosen.strike, chosen.expiry, np.zeros_like(chosen.selected)
        ),
    )
    template = hf.protective_put("atm")
    scenario = hf.make_scenario(
        [template], provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    result = hf.run_backtest(scenario, [template], provider)
    assert result.summary["status"].to_list() == ["incomplete"]
    assert result.trades.is_empty()
    assert result.positions.is_empty()
    assert result.warnings == ["2024-03-01 atm v1: no eligible contract for leg 'put-100'"]


def test_a_roll_counted_from_an_expiry_beyond_the_calendar_is_refused(
    selloff: MarketDataStore,
) -> None:
    """Sessions before an expiry the calendar does not reach cannot be counted."""

    beyond = get_calendar().sessions[-1] + np.timedelta64(30, "D")
    provider = _Reselecting(
        selloff,
        lambda chosen: ContractArrays(
            chosen.is_call, chosen.strike, np.full_like(chosen.expiry, beyond), chosen.selected
        ),
    )
    rolled = hf.protective_put("atm", roll_policy=roll(5))
    scenario = hf.make_scenario(
        [rolled], provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    with pytest.raises(InvalidScenarioError, match="outside the exchange calendar's range"):
        hf.run_backtest(scenario, [rolled], provider)
    held = hf.protective_put("atm")  # held to expiry: no session count needed
    scenario = hf.make_scenario(
        [held], provider, symbol="FIX", start_date=START, end_date=END, portfolio=portfolio()
    )
    assert hf.run_backtest(scenario, [held], provider).summary["status"].to_list() == ["complete"]


def test_active_position_ids_are_the_positions_held_at_each_close(
    selloff: MarketDataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gathered in blocks of cells (here 5, so blocks split templates and days), each
    day's ids are the positions open at its close, in leg order."""
    templates = [
        hf.put_ladder("ladder", [1.0, 0.9], [0.5, 0.5], target_expiry_days=14, roll_policy=roll(3)),
        hf.protective_put("atm", target_expiry_days=21),
    ]
    monkeypatch.setattr("hedgeframe.engine._engine._CELLS_PER_BLOCK", 5)
    result = run(selloff, templates, start=START, end=END)
    monkeypatch.undo()
    daily = result.daily_path
    assert daily.equals(run(selloff, templates, start=START, end=END).daily_path)
    positions = result.positions.with_columns(pl.col("closed_at").fill_null(date.max))
    for row in daily.iter_rows(named=True):
        held = positions.filter(
            pl.col("template_id") == row["template_id"],
            pl.col("opened_at") <= row["date"],
            pl.col("closed_at") > row["date"],
        ).sort("leg_id", "opened_at")
        assert row["active_position_ids"] == held["position_id"].to_list(), row["date"]
    assert daily["active_position_ids"].list.len().max() == 2
