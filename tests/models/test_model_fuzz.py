"""Arbitrary JSON never crashes a model with anything but ``pydantic.ValidationError``.

The repositories turn a ``ValidationError`` on a stored record into a ``CorruptFileError``
naming the record; any other exception would escape as a crash instead.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import hedgeframe as hf
from hedgeframe.models import (
    BacktestRun,
    EventPreset,
    ProviderSnapshot,
    StrategyTemplate,
    TemplateLeg,
)

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "*", "..", "a/b", "2008-09-15", "2008-09-15T00:00:00Z", "1e309"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _valid_dumps() -> dict[type[BaseModel], dict[str, Any]]:
    run = BacktestRun(
        scenario_id="s",
        provider_snapshot=ProviderSnapshot(provider_id="synthetic_v1"),
        template_snapshots=hf.seed_templates()[2:3],
    )
    preset = EventPreset(
        slug="gfc",
        symbol="^GSPC",
        window_start=date(2007, 10, 9),
        window_end=date(2009, 3, 9),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    ladder = hf.seed_templates()[3]
    return {
        StrategyTemplate: ladder.model_dump(mode="json"),
        TemplateLeg: ladder.legs[0].model_dump(mode="json"),
        EventPreset: preset.model_dump(mode="json"),
        BacktestRun: run.model_dump(mode="json"),
    }


VALID = _valid_dumps()
MODELS = sorted(VALID, key=lambda model: model.__name__)


def _validate_or_refuse(model: type[BaseModel], data: object) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate(data)


@given(data=st.dictionaries(st.sampled_from(sorted(StrategyTemplate.model_fields)), JSON_VALUES))
@example(data={})
@example(data={"slug": "x", "template_kind": "laddered_put", "legs": []})
def test_random_template_dicts_raise_only_validation_errors(data: dict[str, Any]) -> None:
    _validate_or_refuse(StrategyTemplate, data)


@given(data=JSON_VALUES)
def test_random_json_values_raise_only_validation_errors(data: object) -> None:
    _validate_or_refuse(StrategyTemplate, data)


@given(
    model=st.sampled_from(MODELS),
    replacements=st.lists(st.tuples(st.integers(min_value=0), JSON_VALUES), max_size=3),
)
def test_valid_records_with_fields_replaced_raise_only_validation_errors(
    model: type[BaseModel], replacements: list[tuple[int, object]]
) -> None:
    record = dict(VALID[model])
    fields = sorted(record)
    for position, value in replacements:
        record[fields[position % len(fields)]] = value
    _validate_or_refuse(model, record)


@given(
    leg_fields=st.dictionaries(st.sampled_from(sorted(TemplateLeg.model_fields)), JSON_VALUES),
    legs=st.integers(min_value=1, max_value=3),
)
def test_templates_with_fuzzed_legs_raise_only_validation_errors(
    leg_fields: dict[str, Any], legs: int
) -> None:
    record = dict(VALID[StrategyTemplate])
    record["legs"] = [{**VALID[TemplateLeg], **leg_fields} for _ in range(legs)]
    _validate_or_refuse(StrategyTemplate, record)


@given(text=st.text(max_size=200))
@example(text='{"slug": "x", "legs": [{"allocation_weight": NaN}]}')
def test_random_json_text_raises_only_validation_errors(text: str) -> None:
    with contextlib.suppress(ValidationError):
        StrategyTemplate.model_validate_json(text)
