"""Fuzzing the stored models both ways: a valid record is kept exactly, a bad one is
refused with an error that names the bad field.

Records come from ``model_edits``: valid by construction with random valid edits, and
half of the time one targeted corruption, so every example reaches a check (the share
of each kind is in ``docs/testing.md``, from ``--hypothesis-show-statistics``). The
repositories turn a ``ValidationError`` on a stored record into a ``CorruptFileError``
naming the record, so the field named here is the field a user is told about.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from model_edits import CORPUSES, Edited, edited_records, refusal_names
from pydantic import ValidationError


@pytest.mark.parametrize("kind", sorted(CORPUSES))
@given(data=st.data())
def test_edited_records_are_kept_exactly_or_refused_naming_the_field(
    kind: str, data: st.DataObject
) -> None:
    corpus = CORPUSES[kind]
    edited = data.draw(edited_records(corpus), label="edited")
    event(edited.how)
    text = json.dumps(edited.record)
    if edited.corrupted is None:
        parsed = corpus.model.model_validate_json(text)
        assert json.loads(parsed.model_dump_json()) == edited.record
        assert corpus.model.model_validate_json(parsed.model_dump_json()) == parsed
        return
    with pytest.raises(ValidationError) as refused:
        corpus.model.model_validate_json(text)
    assert refusal_names(refused.value, edited.corrupted), (edited, refused.value.errors())


def _valid_template_text(indent: int | None, reverse_keys: bool) -> str:
    record = CORPUSES["template"].base
    if reverse_keys:
        record = dict(reversed(record.items()))
    return json.dumps(record, indent=indent)


@given(
    indent=st.none() | st.integers(0, 4),
    reverse_keys=st.booleans(),
    cut=st.none() | st.floats(0, 1, exclude_max=True),
)
@example(indent=None, reverse_keys=False, cut=0.0)
def test_template_json_text_loads_when_whole_and_is_refused_when_cut(
    indent: int | None, reverse_keys: bool, cut: float | None
) -> None:
    """Layout and key order do not matter; a file cut anywhere (a torn write) is refused."""
    model = CORPUSES["template"].model
    text = _valid_template_text(indent, reverse_keys)
    if cut is None:
        event("whole")
        loaded = model.model_validate_json(text)
        assert loaded.model_dump(mode="json") == CORPUSES["template"].base
        return
    event("cut")
    torn = text.rstrip()[: int(cut * len(text.rstrip()))]
    with pytest.raises(ValidationError) as refused:
        model.model_validate_json(torn)
    assert [detail["type"] for detail in refused.value.errors()] == ["json_invalid"]


def test_edited_records_hold_no_shared_mutable_values() -> None:
    """Two drawn records never share a list or dict (a test may edit one in place)."""
    corpus = CORPUSES["template"]
    seen: list[Edited] = []

    @given(edited=edited_records(corpus))
    def collect(edited: Edited) -> None:
        seen.append(edited)

    collect()
    containers = [id(value) for edited in seen for value in _containers(edited.record)]
    assert len(containers) == len(set(containers))


def _containers(node: object) -> list[object]:
    found: list[object] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_containers(value))
    elif isinstance(node, list):
        found.append(node)
        for value in node:
            found.extend(_containers(value))
    return found
