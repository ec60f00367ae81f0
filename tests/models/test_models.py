"""Slice 0 of the seed document: model invariants, with the messages users see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

import hedgeframe as hf
from hedgeframe.models import (
    BacktestPortfolioState,
    BacktestRun,
    BacktestScenario,
    EventPreset,
    PricingMode,
    ProviderRef,
    ProviderSnapshot,
    RollPolicy,
    RollPolicyType,
    StrategyTemplate,
    TemplateRef,
)


def _portfolio(**overrides: float) -> BacktestPortfolioState:
    fields: dict[str, float] = {
        "underlying_units": 100.0,
        "entry_spot": 5000.0,
        "loan_amount": 300_000.0,
        "margin_call_ltv": 0.65,
    }
    fields.update(overrides)
    return BacktestPortfolioState.model_validate(fields)


def _scenario(**overrides: object) -> BacktestScenario:
    fields: dict[str, object] = {
        "slug": "demo",
        "symbol": "^GSPC",
        "start_date": date(2008, 1, 2),
        "end_date": date(2008, 12, 31),
        "initial_portfolio": _portfolio(),
        "template_refs": [TemplateRef(template_id="t1", version=1)],
        "provider_ref": ProviderRef(
            provider_id="synthetic_v1", pricing_mode=PricingMode.SYNTHETIC_BS_MID
        ),
    }
    fields.update(overrides)
    return BacktestScenario.model_validate(fields)


def test_invalid_ladder_weights_rejected() -> None:
    with pytest.raises(ValidationError, match=r"must sum to 1\.0"):
        hf.put_ladder("bad-ladder", spot_pcts=[1.0, 0.95], weights=[0.5, 0.4])


def test_weights_within_tolerance_accepted() -> None:
    template = hf.put_ladder("thirds", spot_pcts=[1.0, 0.95, 0.9], weights=[1 / 3] * 3)
    assert len(template.legs) == 3


def test_legs_must_share_one_tenor() -> None:
    base = hf.put_ladder("ladder", spot_pcts=[1.0, 0.95], weights=[0.5, 0.5])
    data = base.model_dump()
    data["legs"][1]["target_expiry_days"] = 180
    with pytest.raises(ValidationError, match="share one target_expiry_days"):
        StrategyTemplate.model_validate(data)


def test_scenario_with_end_before_start_rejected() -> None:
    with pytest.raises(ValidationError, match="start_date 2009-01-01 is after end_date"):
        _scenario(start_date=date(2009, 1, 1), end_date=date(2008, 1, 1))


def test_scenario_needs_a_template_ref() -> None:
    with pytest.raises(ValidationError, match="template_refs"):
        _scenario(template_refs=[])


def test_template_ref_requires_explicit_version() -> None:
    with pytest.raises(ValidationError, match="version"):
        TemplateRef.model_validate({"template_id": "t1"})


def test_scenario_requires_explicit_provider() -> None:
    fields = _scenario().model_dump()
    del fields["provider_ref"]
    with pytest.raises(ValidationError, match="provider_ref"):
        BacktestScenario.model_validate(fields)


def test_loan_amount_cannot_exceed_initial_collateral() -> None:
    with pytest.raises(ValidationError, match="must be below the initial collateral value"):
        _portfolio(loan_amount=500_000.0)


def test_rolling_policy_requires_days_before_expiry() -> None:
    with pytest.raises(ValidationError, match="days_before_expiry must be an integer >= 1"):
        RollPolicy(policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY)
    with pytest.raises(ValidationError, match="days_before_expiry must be an integer >= 1"):
        RollPolicy(policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY, days_before_expiry=0)
    assert (
        RollPolicy(
            policy_type=RollPolicyType.ROLL_N_DAYS_BEFORE_EXPIRY, days_before_expiry=21
        ).days_before_expiry
        == 21
    )


@pytest.mark.parametrize("value", [0.0, -0.5, float("nan")])
def test_strike_rule_value_must_be_positive(value: float) -> None:
    with pytest.raises(ValidationError, match="value"):
        hf.protective_put("pp", spot_pct=value)


@pytest.mark.parametrize("coverage", [0.0, 1.01, -1.0])
def test_coverage_must_be_in_zero_one(coverage: float) -> None:
    with pytest.raises(ValidationError, match="target_coverage_pct"):
        hf.protective_put("pp", target_coverage_pct=coverage)


@pytest.mark.parametrize("slug", ["../evil", "a/b", "UPPER", "", "-lead", "a..b", "x" * 101])
def test_slug_must_be_a_safe_identifier(slug: str) -> None:
    with pytest.raises(ValidationError, match="slug"):
        hf.protective_put(slug)


def test_event_window_in_order() -> None:
    with pytest.raises(ValidationError, match="window_start"):
        EventPreset(
            slug="bad", symbol="^GSPC", window_start=date(2020, 3, 1), window_end=date(2020, 2, 1)
        )


def test_models_are_frozen() -> None:
    template = hf.protective_put("pp")
    with pytest.raises(ValidationError, match="frozen"):
        template.slug = "other"  # type: ignore[misc]


def test_unknown_fields_are_refused() -> None:
    data = hf.protective_put("pp").model_dump()
    data["strike"] = 100
    with pytest.raises(ValidationError, match="strike"):
        StrategyTemplate.model_validate(data)


def test_json_round_trip_is_exact() -> None:
    stamp = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
    run = BacktestRun(
        scenario_id="s1",
        provider_snapshot=ProviderSnapshot(
            provider_id="synthetic_v1", config={"volatility": {"kind": "constant", "value": 0.2}}
        ),
        submitted_at=stamp,
        scenario_snapshot=_scenario(),
        template_snapshots=hf.seed_templates(),
        warnings=["2008-10-10 protective-put-atm-12m v1: stale"],
    )
    for model in [*hf.seed_templates(), _scenario(), run]:
        assert type(model).model_validate_json(model.model_dump_json()) == model


def test_seed_templates_are_the_four_examples_with_stable_ids() -> None:
    first, second = hf.seed_templates(), hf.seed_templates()
    assert [t.slug for t in first] == [
        "protective-put-atm-12m",
        "protective-put-95pct-12m",
        "ladder-50-50-atm-95pct-12m",
        "ladder-33-33-33-atm-95pct-90pct-12m",
    ]
    assert first == second
    assert [[leg.strike_rule.value for leg in t.legs] for t in first] == [
        [1.0],
        [0.95],
        [1.0, 0.95],
        [1.0, 0.95, 0.9],
    ]
    assert all(t.target_expiry_days == 365 and t.version == 1 for t in first)
