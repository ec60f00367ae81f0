"""The shared JSON-collection mechanism: envelope, atomic writes, refusal of corrupt files."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from model_edits import CORPUSES
from pydantic import BaseModel, ConfigDict, Field

import hedgeframe as hf
from hedgeframe.errors import CorruptFileError
from hedgeframe.models import StrategyTemplate
from hedgeframe.repositories import JsonCollection
from hedgeframe.repositories._json_collection import first_duplicate

FORMAT = "hedgeframe.test_items"


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: str
    value: int = Field(ge=0)


def _unique_ids(records: list[Item]) -> str | None:
    repeated = first_duplicate(records, lambda item: item.item_id)
    return None if repeated is None else f"item_id {repeated[2]!r} repeats"


def _collection(path: Path) -> JsonCollection[Item]:
    return JsonCollection(path, Item, format_name=FORMAT, check=_unique_ids)


def _append(*items: Item) -> Callable[[list[Item]], tuple[list[Item], int]]:
    def change(records: list[Item]) -> tuple[list[Item], int]:
        return [*records, *items], len(records) + len(items)

    return change


def _envelope(records: object, **overrides: object) -> bytes:
    document: dict[str, object] = {"format": FORMAT, "format_version": 1, "records": records}
    document.update(overrides)
    return json.dumps(document).encode()


def test_missing_file_is_empty_and_reading_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "not-yet" / "items.json"
    assert _collection(path).load() == []
    assert not path.parent.exists()


def test_modify_writes_the_envelope_and_returns_the_callback_result(tmp_path: Path) -> None:
    path = tmp_path / "data" / "items.json"
    collection = _collection(path)

    def change(records: list[Item]) -> tuple[list[Item], str]:
        return [*records, Item(item_id="a", value=1)], "done"

    assert collection.modify(change) == "done"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document == {
        "format": FORMAT,
        "format_version": 1,
        "records": [{"item_id": "a", "value": 1}],
    }
    assert collection.load() == [Item(item_id="a", value=1)]


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    collection = _collection(tmp_path / "items.json")
    for i in range(5):
        collection.modify(_append(Item(item_id=str(i), value=i)))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["items.json", "items.json.lock"]


def test_a_refusing_callback_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    collection = _collection(path)
    collection.modify(lambda records: ([*records, Item(item_id="a", value=1)], None))
    before = path.read_bytes()

    def refuse(records: list[Item]) -> tuple[list[Item], None]:
        msg = "no"
        raise LookupError(msg)

    with pytest.raises(LookupError):
        collection.modify(refuse)
    assert path.read_bytes() == before


def test_returning_the_same_list_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    _collection(path).modify(lambda records: (records, None))
    assert not path.exists()


def test_an_invalid_result_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    collection = _collection(path)
    collection.modify(lambda records: ([Item(item_id="a", value=1)], None))
    before = path.read_bytes()
    duplicate = [Item(item_id="a", value=1), Item(item_id="a", value=2)]
    with pytest.raises(RuntimeError, match="item_id 'a' repeats; nothing was written"):
        collection.modify(lambda records: (duplicate, None))
    unvalidated = Item.model_construct(item_id="b", value=-1)
    with pytest.raises(RuntimeError, match=r"record 1 .* field 'value'"):
        collection.modify(lambda records: ([*records, unvalidated], None))
    assert path.read_bytes() == before


CORRUPT_FILES = [
    pytest.param(b"", "the file is empty", id="empty"),
    pytest.param(b"  \n", "the file is empty", id="blank"),
    pytest.param(_envelope([{"item_id": "a", "value": 1}])[:-9], "not valid JSON", id="truncated"),
    pytest.param(b"\x00\x9f garbage \xff", "not UTF-8 text", id="binary-garbage"),
    pytest.param(b"hello world", "not valid JSON", id="text-garbage"),
    pytest.param(b"[1, 2]", "top level is a JSON array", id="top-level-array"),
    pytest.param(b'{"records": []}', "missing ['format', 'format_version']", id="no-format"),
    pytest.param(_envelope([], extra=1), "unexpected ['extra']", id="extra-key"),
    pytest.param(
        _envelope([], format="hedgeframe.other"),
        "format is 'hedgeframe.other', expected 'hedgeframe.test_items'",
        id="wrong-format",
    ),
    pytest.param(_envelope([], format_version=2), "format_version 2", id="newer-version"),
    pytest.param(_envelope([], format_version=True), "format_version True", id="bool-version"),
    pytest.param(_envelope({"a": 1}), "'records' is a JSON object", id="records-object"),
    pytest.param(
        _envelope([{"item_id": "a", "value": 1}, {"item_id": "b", "value": -3}]),
        "record 1 is not a valid Item: field 'value': Input should be greater than or equal to 0",
        id="bad-record",
    ),
    pytest.param(
        _envelope([{"item_id": "a", "value": 1}, {"item_id": "b", "value": 2, "x": 0}]),
        "record 1 is not a valid Item: field 'x'",
        id="unknown-field",
    ),
    pytest.param(
        _envelope([{"item_id": "a", "value": 1}, {"item_id": "a", "value": 2}]),
        "item_id 'a' repeats",
        id="broken-invariant",
    ),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "not valid JSON", id="deep-nesting"),
]


@pytest.mark.parametrize(("content", "detail"), CORRUPT_FILES)
def test_a_corrupt_file_is_refused_by_name_and_never_overwritten(
    tmp_path: Path, content: bytes, detail: str
) -> None:
    path = tmp_path / "items.json"
    path.write_bytes(content)
    collection = _collection(path)

    with pytest.raises(CorruptFileError) as read_error:
        collection.load()
    assert read_error.value.path == path
    message = str(read_error.value)
    assert message.startswith(f"{path}: ")
    assert detail in message
    assert message.endswith("the file was left unchanged")

    with pytest.raises(CorruptFileError, match="left unchanged"):
        collection.modify(_append(Item(item_id="z", value=0)))
    assert path.read_bytes() == content


@given(content=st.binary(max_size=300))
@example(content=b'{"format": "hedgeframe.strategy_templates", "format_version": 1}')
@example(content=b"NaN")
def test_any_bytes_load_or_raise_corrupt_file_error(
    tmp_path_factory: pytest.TempPathFactory, content: bytes
) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz_bytes.json"
    path.write_bytes(content)
    collection = JsonCollection(path, StrategyTemplate, format_name="hedgeframe.strategy_templates")
    refused: CorruptFileError | None = None
    try:
        collection.load()
    except CorruptFileError as error:
        refused = error
    assert refused is None or refused.path == path


def _containers_of(children: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Lists and dicts of ``children`` (the recursive step of :data:`JSON_VALUES`)."""
    return st.lists(children, max_size=3) | st.dictionaries(
        st.text(max_size=10), children, max_size=3
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    _containers_of,
    max_leaves=10,
)


@given(field=st.sampled_from(sorted(StrategyTemplate.model_fields)), data=st.data())
def test_a_template_file_with_any_field_value_loads_or_raises_corrupt_file_error(
    tmp_path_factory: pytest.TempPathFactory, field: str, data: st.DataObject
) -> None:
    # Any JSON value, or (half of the time, where the field has them) an allowed one.
    allowed = CORPUSES["template"].valid.get((field,))
    use_allowed = allowed is not None and data.draw(st.booleans(), label="allowed")
    value = data.draw(
        allowed if allowed is not None and use_allowed else JSON_VALUES, label="value"
    )
    record = hf.protective_put("fuzz").model_dump(mode="json")
    record[field] = value
    path = tmp_path_factory.getbasetemp() / "fuzz_records.json"
    path.write_text(
        json.dumps(
            {"format": "hedgeframe.strategy_templates", "format_version": 1, "records": [record]}
        ),
        encoding="utf-8",
    )
    collection = JsonCollection(path, StrategyTemplate, format_name="hedgeframe.strategy_templates")
    try:
        loaded = collection.load()
    except CorruptFileError as error:
        event("refused")
        message = str(error)
    else:
        event("accepted")
        (template,) = loaded  # an odd but allowed value: every other field kept as written
        kept = template.model_dump(mode="json")
        assert {k: v for k, v in kept.items() if k != field} == {
            k: v for k, v in record.items() if k != field
        }
        return
    fields = (f"field '{field}", "field '(whole record)'")
    assert any(f"record 0 is not a valid StrategyTemplate: {f}" in message for f in fields)


def test_inf_and_nan_round_trip(tmp_path: Path) -> None:
    class Measure(BaseModel):
        model_config = ConfigDict(frozen=True, ser_json_inf_nan="constants")

        value: float

    collection = JsonCollection(tmp_path / "m.json", Measure, format_name="m")
    collection.modify(lambda records: ([Measure(value=float("inf"))], None))
    assert collection.load() == [Measure(value=float("inf"))]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664)])
def test_a_written_file_is_readable_as_the_users_umask_allows(
    tmp_path: Path, umask: int, mode: int
) -> None:
    # Stored data is shared with BI tools, often run as another user: the file gets the
    # mode any file the user writes gets (rw for all, less the umask), not mkstemp's 0o600.
    path = tmp_path / "records.json"
    previous = os.umask(umask)
    try:
        JsonCollection(path, StrategyTemplate, format_name="t").modify(lambda r: ([], None))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode
