"""Unit mistakes are refused with a hint, as ``hf.HedgeframeError`` naming the field.

A percent typed where a ratio belongs (``margin_call_ltv=75``, ``loan_to_value=60``,
``spot_pct=90``, ``ConstantVol(16)``), an index in percent priced without ``scale=0.01``, and
a portfolio sized at a price the scenario does not start at.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from pydantic import ValidationError

import hedgeframe as hf
from hedgeframe.cli import main


def _state(margin_call_ltv: float) -> hf.BacktestPortfolioState:
    return hf.BacktestPortfolioState(
        underlying_units=100.0,
        entry_spot=100.0,
        loan_amount=6000.0,
        margin_call_ltv=margin_call_ltv,
    )


@pytest.mark.parametrize(
    ("make", "field", "hint"),
    [
        (lambda: _state(margin_call_ltv=75), "margin_call_ltv", "give the ratio 0.75 for 75 %"),
        (lambda: hf.EventPortfolio(loan_to_value=60), "loan_to_value", "the ratio 0.6 for 60 %"),
        (lambda: hf.EventPortfolio(margin_call_ltv=80), "margin_call_ltv", "0.8 for 80 %"),
        (lambda: hf.protective_put("p", spot_pct=90), "spot_pct", "the ratio 0.9 for 90 %"),
        (lambda: hf.ConstantVol(16), "value", "the ratio 0.16 for 16 %"),
        (
            lambda: hf.StepVol([(date(2008, 1, 2), 45.0)]),
            "steps",
            "the ratio 0.45 for 45 %",
        ),
    ],
)
def test_a_percent_typed_as_a_ratio_is_refused_with_a_hint(
    make: Callable[[], object], field: str, hint: str
) -> None:
    with pytest.raises(hf.InvalidModelError) as caught:
        make()
    error = caught.value
    assert isinstance(error, hf.HedgeframeError)
    assert isinstance(error, ValidationError)  # still pydantic's, with every field listed
    assert field in str(error)
    assert "looks like a percent" in str(error)
    assert hint in str(error)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _state(margin_call_ltv=1.0),
        lambda: hf.EventPortfolio(loan_to_value=0.95, margin_call_ltv=1.0),
        lambda: hf.protective_put("deep", spot_pct=5.0),
        lambda: hf.ConstantVol(5.0),
    ],
)
def test_the_bounds_themselves_are_allowed(make: Callable[[], object]) -> None:
    make()


def test_a_ratio_far_beyond_any_percent_gets_no_percent_hint() -> None:
    with pytest.raises(hf.InvalidModelError) as caught:
        _state(margin_call_ltv=7500)
    assert "must be a ratio at most 1 (got 7500)" in str(caught.value)
    assert "percent" not in str(caught.value)


def _gspc_scenario(
    provider: hf.SyntheticHistoricalProvider, entry_spot: float
) -> tuple[hf.BacktestScenario, list[hf.StrategyTemplate]]:
    templates = hf.seed_templates()[:1]
    state = hf.BacktestPortfolioState(
        underlying_units=100, entry_spot=entry_spot, loan_amount=60_000, margin_call_ltv=0.75
    )
    scenario = hf.make_scenario(
        templates, provider, symbol="^GSPC", start_date=date(2018, 1, 2),
        end_date=date(2018, 3, 1), portfolio=state,
    )  # fmt: skip
    return scenario, templates


def test_an_index_in_percent_without_its_scale_is_refused() -> None:
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.IndexVol("^VIX", scale=1.0)
    )
    scenario, templates = _gspc_scenario(provider, 2695.81)
    with pytest.raises(hf.InvalidScenarioError) as caught:
        hf.run_backtest(scenario, templates, provider)
    message = str(caught.value)
    assert "volatility 9.77 (977%) on 2018-01-02, the first day, from ^VIX close x 1" in message
    assert "needs IndexVol(..., scale=0.01)" in message


def test_an_entry_spot_away_from_the_first_close_is_refused() -> None:
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
    first_close = 2695.81  # ^GSPC on 2018-01-02
    scenario, templates = _gspc_scenario(provider, first_close * 1.02)
    with pytest.raises(hf.InvalidScenarioError) as caught:
        hf.run_backtest(scenario, templates, provider)
    assert "entry_spot 2749.73 is +2.0% away from the first ^GSPC close 2695.81" in str(
        caught.value
    )
    assert "set entry_spot=2695.81" in str(caught.value)
    near, _ = _gspc_scenario(provider, first_close * 1.009)
    assert hf.run_backtest(near, templates, provider).summary["complete"].to_list() == [True]


def test_the_command_line_prints_the_field_and_the_hint_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["events", "compare", "volmageddon-2018", "--margin-call-ltv", "75"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "margin_call_ltv = 75.0: Value error, margin_call_ltv must be a ratio at most 1" in err
    assert "looks like a percent" in err
