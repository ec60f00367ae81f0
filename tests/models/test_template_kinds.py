"""Template kinds and their invariants (SPEC 9.1): what each kind holds, refused with the rule.

Collars (long puts + short calls), put spreads (long puts + lower short puts), collar
spreads, the unhedged baseline; long weights sum to 1, each short leg covers a share of the
units in (0, 1], short calls cover at most the units (no naked calls), each short put sits
below long puts of the same tenor that cover it; strike rules ``fixed_strike``,
``delta_target`` (sign by option type) and ``zero_cost`` (short calls only, no value).
"""

from __future__ import annotations

from typing import Any

import pytest

import hedgeframe as hf
from hedgeframe.models import StrategyTemplate


def _leg(
    leg_id: str,
    side: str,
    option_type: str,
    value: float | None,
    *,
    weight: float = 1.0,
    rule: str = "spot_pct",
    tenor: int = 365,
    coverage: float = 1.0,
) -> dict[str, Any]:
    return {
        "leg_id": leg_id,
        "side": side,
        "option_type": option_type,
        "allocation_weight": weight,
        "strike_rule": {"rule_type": rule, "value": value},
        "target_expiry_days": tenor,
        "target_coverage_pct": coverage,
    }


def _template(kind: str, *legs: dict[str, Any]) -> StrategyTemplate:
    return StrategyTemplate.model_validate({"slug": "t", "template_kind": kind, "legs": list(legs)})


LONG_PUT = _leg("put-95", "long", "put", 0.95)
SHORT_CALL = _leg("call-110", "short", "call", 1.10)
SHORT_PUT = _leg("put-80", "short", "put", 0.80)


@pytest.mark.parametrize(
    ("kind", "legs"),
    [
        ("collar", [LONG_PUT, SHORT_CALL]),
        ("put_spread", [LONG_PUT, SHORT_PUT]),
        ("collar_spread", [LONG_PUT, SHORT_PUT, SHORT_CALL]),
        ("unhedged", []),
        (
            "collar",
            [
                _leg("put-100", "long", "put", 1.0, weight=0.5),
                _leg("put-90", "long", "put", 0.9, weight=0.5),
                _leg("call-a", "short", "call", 1.1, weight=0.6),
                _leg("call-b", "short", "call", 1.2, weight=0.4),
            ],
        ),
        (
            "put_spread",
            [
                _leg("p-d40", "long", "put", -0.40, rule="delta_target"),
                _leg("p-d15", "short", "put", -0.15, rule="delta_target"),
            ],
        ),
        (
            "collar",
            [LONG_PUT, _leg("call-zc", "short", "call", None, rule="zero_cost")],
        ),
        (
            "put_spread",
            [
                _leg("p-4000", "long", "put", 4000.0, rule="fixed_strike"),
                _leg("p-3500", "short", "put", 3500.0, rule="fixed_strike", weight=0.5),
            ],
        ),
    ],
)
def test_each_kind_takes_its_legs_and_round_trips(kind: str, legs: list[dict[str, Any]]) -> None:
    template = _template(kind, *legs)
    assert StrategyTemplate.model_validate_json(template.model_dump_json()) == template


@pytest.mark.parametrize(
    ("kind", "legs", "rule"),
    [
        (
            "collar",
            [LONG_PUT],
            "a collar template holds long puts and short calls: it has no short call",
        ),
        ("collar", [LONG_PUT, SHORT_CALL, SHORT_PUT], "leg 'put-80' is a short put; a collar"),
        ("put_spread", [LONG_PUT, SHORT_CALL], "leg 'call-110' is a short call; a put_spread"),
        ("protective_put", [LONG_PUT, SHORT_CALL], "leg 'call-110' is a short call"),
        ("unhedged", [LONG_PUT], "leg 'put-95' is a long put; a unhedged template holds no legs"),
        ("collar", [_leg("c", "long", "call", 1.0), SHORT_CALL], "leg 'c' is a long call"),
        (
            "collar",
            [
                LONG_PUT,
                _leg("call-a", "short", "call", 1.1, weight=0.7),
                _leg("call-b", "short", "call", 1.2, weight=0.7),
            ],
            "short calls cover 1.4 of the units",
        ),
        (
            "collar",
            [
                LONG_PUT,
                _leg("call", "short", "call", 1.1, weight=1.0, coverage=1.0),
                _leg("call-2", "short", "call", 1.2, weight=0.1),
            ],
            "naked",
        ),
        (
            "put_spread",
            [_leg("put-80", "long", "put", 0.80), _leg("put-95", "short", "put", 0.95)],
            "short put 'put-95' has no long put above it",
        ),
        (
            "put_spread",
            [LONG_PUT, _leg("put-95s", "short", "put", 0.95)],
            "short put 'put-95s' has no long put above it",
        ),
        (
            "put_spread",
            [
                _leg("put-100", "long", "put", 1.0, weight=0.3),
                _leg("put-90", "long", "put", 0.9, weight=0.7),
                _leg("put-95s", "short", "put", 0.95, weight=0.5),
            ],
            "short puts at or above 'put-95s' cover 0.5 of the units but the long puts above "
            "them only 0.3",
        ),
        (
            "put_spread",
            [
                _leg("p-d40", "long", "put", -0.40, rule="delta_target"),
                _leg("p-d60", "short", "put", -0.60, rule="delta_target"),
            ],
            "short put 'p-d60' has no long put above it",
        ),
        (
            "put_spread",
            [LONG_PUT, _leg("p-3500", "short", "put", 3500.0, rule="fixed_strike")],
            "uses a fixed_strike strike but long puts ['put-95'] do not",
        ),
        (
            "collar",
            [_leg("put-95", "long", "put", 0.95, weight=0.6), SHORT_CALL],
            "long legs' allocation_weight values must sum to 1.0",
        ),
        (
            "collar",
            [LONG_PUT, _leg("c", "short", "call", 1.1, tenor=30)],
            "all legs must share one target_expiry_days",
        ),
        (
            "collar",
            [
                LONG_PUT,
                _leg("a", "short", "call", None, rule="zero_cost", weight=0.5),
                _leg("b", "short", "call", None, rule="zero_cost", weight=0.5),
            ],
            "at most one zero_cost leg",
        ),
    ],
)
def test_a_template_that_breaks_a_rule_is_refused_naming_it(
    kind: str, legs: list[dict[str, Any]], rule: str
) -> None:
    with pytest.raises(hf.InvalidModelError) as caught:
        _template(kind, *legs)
    assert rule in str(caught.value)


@pytest.mark.parametrize(
    ("leg", "rule"),
    [
        (_leg("p", "long", "put", 0.3, rule="delta_target"), "a put's delta_target is in (-1, 0)"),
        (
            _leg("c", "short", "call", -0.3, rule="delta_target"),
            "a call's delta_target is in (0, 1)",
        ),
        (_leg("p", "long", "put", 1.0, rule="delta_target"), "a delta in (-1, 0) for puts"),
        (
            _leg("p", "long", "put", None, rule="zero_cost"),
            "only a short call can take a zero_cost",
        ),
        (
            _leg("c", "short", "call", 1.1, rule="zero_cost"),
            "a zero_cost strike rule takes no value",
        ),
        (_leg("p", "long", "put", None), "a spot_pct strike rule needs a value"),
        (
            _leg("p", "long", "put", -5.0, rule="fixed_strike"),
            "a fixed_strike strike value must be > 0",
        ),
    ],
)
def test_strike_rules_fit_their_legs(leg: dict[str, Any], rule: str) -> None:
    with pytest.raises(hf.InvalidModelError) as caught:
        _template("protective_put", leg)
    assert rule in str(caught.value)


def test_helpers_build_valid_templates_with_seed_style_slugs() -> None:
    assert hf.collar().slug == "collar-95pct-put-110pct-call-12m"
    assert hf.collar(put_pct=1.0, call_pct=1.05, target_expiry_days=182).slug == (
        "collar-atm-put-105pct-call-6m"
    )
    assert hf.zero_cost_collar().slug == "zero-cost-collar-95pct-put-12m"
    assert hf.put_spread().slug == "put-spread-95pct-80pct-12m"
    assert hf.put_spread(long_pct=1.0, short_pct=0.9, target_expiry_days=45).slug == (
        "put-spread-atm-90pct-45d"
    )
    assert hf.unhedged().legs == []
    assert hf.unhedged() == hf.unhedged()  # a stable id: reruns compare equal
    zero_cost = hf.zero_cost_collar()
    assert [leg.strike_rule.rule_type.value for leg in zero_cost.legs] == ["spot_pct", "zero_cost"]
    assert hf.collar("my-collar", underlying_symbol="SPY").slug == "my-collar"
