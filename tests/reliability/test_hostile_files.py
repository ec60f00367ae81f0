"""Corrupt, hostile and oversized input: a clear error that names the file or field, and
not one byte of the data folder changed.

Each case corrupts one stored file (or passes one hostile value), snapshots every file
under the data folder, runs every read and write that touches it, and compares the
snapshot. The repositories' own suites check the error text of a few corruptions; this
one runs the whole matrix (file x corruption x operation) through the public API.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError
from reliability_tally import Tally

import hedgeframe as hf
from hedgeframe.data import MarketDataStore
from hedgeframe.errors import CorruptFileError, InvalidMarketDataError
from hedgeframe.models import BacktestRun, EventPreset, ProviderSnapshot, RunStatus
from hedgeframe.providers import DailyOptionsSnapshotProvider, HistoricalMarketDataProvider
from hedgeframe.repositories import (
    EventPresetRepository,
    InvalidRunIdError,
    RunRepository,
    TemplateRepository,
)

HUGE = 10_000_000
"""Characters in a "huge" string (10 MB)."""


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (lock files aside: taking a lock is no change)."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def _preset(preset_id: str) -> EventPreset:
    return EventPreset(
        event_preset_id=preset_id,
        slug=f"ev-{preset_id}",
        symbol="HOS",
        window_start=date(2008, 9, 1),
        window_end=date(2008, 10, 31),
    )


def _run(run_id: str) -> BacktestRun:
    return BacktestRun(
        run_id=run_id, scenario_id="s", provider_snapshot=ProviderSnapshot(provider_id="x")
    )


def _populate(data: Path) -> None:
    templates = TemplateRepository(data)
    templates.save(hf.protective_put("hostile", template_id="t1"))
    templates.update("t1", description="second version")
    EventPresetRepository(data).save(_preset("e1"))
    runs = RunRepository(data)
    runs.create(_run("r1"))
    runs.transition("r1", RunStatus.RUNNING)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("hostile-base") / "data"
    _populate(data)
    return data


# -- corruptions of a repository file -------------------------------------------------------


def _document(raw: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(raw)
    return document


def _edit(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    def corrupt(raw: bytes) -> bytes:
        document = _document(raw)
        change(document)
        return json.dumps(document).encode()

    return corrupt


def _first_record(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    return _edit(lambda document: change(document["records"][0]))


def _set(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    return lambda mapping: mapping.__setitem__(key, value)


def _duplicate_record(document: dict[str, Any]) -> None:
    document["records"].append(document["records"][0])


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda raw: b"",
    "whitespace": lambda raw: b" \n\t\n",
    "truncated to 1 byte": lambda raw: raw[:1],
    "truncated at 10%": lambda raw: raw[: len(raw) // 10],
    "truncated at half": lambda raw: raw[: len(raw) // 2],
    "truncated by 2 bytes": lambda raw: raw[:-2],
    "garbage bytes": lambda raw: bytes(range(256)) * 4,
    "NUL bytes": lambda raw: b"\x00" * len(raw),
    "invalid UTF-8 in a string": lambda raw: raw.replace(b'"', b'"\xff\xfe', 1),
    "UTF-8 byte-order mark": lambda raw: b"\xef\xbb\xbf" + raw,
    "two documents": lambda raw: raw + raw,
    "top level null": lambda raw: b"null",
    "top level array": lambda raw: json.dumps(_document(raw)["records"]).encode(),
    "wrong format tag": _edit(_set("format", "hedgeframe.somebody_else")),
    "format_version 2": _edit(_set("format_version", 2)),
    "format_version as text": _edit(_set("format_version", "1")),
    "records missing": _edit(lambda d: d.pop("records")),
    "records an object": _edit(_set("records", {})),
    "extra top-level key": _edit(_set("x", 1)),
    "record is a string": _edit(_set("records", ["record"])),
    "unknown field in a record": _first_record(_set("surprise", True)),
    "wrong type in a record": _first_record(_set("created_at", [1, 2])),
    "id missing": _first_record(lambda r: r.pop(next(iter(r)))),  # the first field is the id
    "timestamp missing": _first_record(
        lambda r: r.pop("submitted_at" if "submitted_at" in r else "created_at")
    ),
    "required field missing": _first_record(lambda r: r.pop(list(r)[1])),
    "path-traversal slug": _first_record(_set("slug", "../../etc/passwd")),
    "huge string in a bounded field": _first_record(_set("slug", "a" * HUGE)),
    "huge integer": lambda raw: _first_record(_set("extra", "HUGE"))(raw).replace(
        b'"HUGE"', b"9" * 5000
    ),
    "NaN where a date belongs": _first_record(_set("created_at", float("nan"))),
    "deep nesting": lambda raw: b"[" * 100_000 + b"]" * 100_000,
    "duplicate record": _edit(_duplicate_record),
}

Operation = Callable[[Path], object]

TEMPLATE_OPERATIONS: dict[str, Operation] = {
    "list": lambda d: TemplateRepository(d).list(include_archived=True),
    "get": lambda d: TemplateRepository(d).get("t1"),
    "get_by_slug": lambda d: TemplateRepository(d).get_by_slug("hostile"),
    "versions": lambda d: TemplateRepository(d).versions("t1"),
    "save": lambda d: TemplateRepository(d).save(hf.protective_put("x", template_id="t9")),
    "update": lambda d: TemplateRepository(d).update("t1", description="third"),
    "archive": lambda d: TemplateRepository(d).archive("t1"),
}
PRESET_OPERATIONS: dict[str, Operation] = {
    "list": lambda d: EventPresetRepository(d).list(),
    "get": lambda d: EventPresetRepository(d).get("e1"),
    "get_by_slug": lambda d: EventPresetRepository(d).get_by_slug("ev-e1"),
    "save": lambda d: EventPresetRepository(d).save(_preset("e9")),
    "delete": lambda d: EventPresetRepository(d).delete("e1"),
}
RUN_OPERATIONS: dict[str, Operation] = {
    "list": lambda d: RunRepository(d).list(),
    "get": lambda d: RunRepository(d).get("r1"),
    "create over it": lambda d: RunRepository(d).create(_run("r1")),
    "transition": lambda d: RunRepository(d).transition("r1", RunStatus.COMPLETED),
    "service list_runs": lambda d: hf.BacktestService(d).list_runs(),
}
FILES: dict[str, tuple[str, dict[str, Operation]]] = {
    "templates": ("strategy_templates.json", TEMPLATE_OPERATIONS),
    "presets": ("event_presets.json", PRESET_OPERATIONS),
    "run": ("backtests/runs/r1.json", RUN_OPERATIONS),
}


@pytest.mark.parametrize("kind", list(FILES))
def test_a_corrupt_repository_file_is_refused_by_name_and_left_unchanged(
    tmp_path: Path, populated: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    relative, operations = FILES[kind]
    for name, corrupt in CORRUPTIONS.items():
        data = tmp_path / name.replace(" ", "-")
        shutil.copytree(populated, data)
        target = data / relative
        target.write_bytes(corrupt(target.read_bytes()))
        before = _snapshot(data)
        for operation_name, operation in operations.items():
            with pytest.raises(CorruptFileError) as refused:
                operation(data)
            where = f"{kind} file, {name}, {operation_name}"
            assert refused.value.path == target, where
            message = str(refused.value)
            assert message.startswith(f"{target}: "), where
            assert len(message) < 2_000, where  # a huge value is not pasted into the message
            tally.add("corrupt_file_operations_refused")
        assert _snapshot(data) == before, f"{kind} file, {name}: the data folder changed"
        tally.add("corrupt_file_cases")
        shutil.rmtree(data)


def test_a_directory_in_place_of_a_repository_file_is_an_error_naming_it(
    tmp_path: Path, populated: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    data = tmp_path / "data"
    shutil.copytree(populated, data)
    (data / "event_presets.json").unlink()
    (data / "event_presets.json").mkdir()
    before = _snapshot(data)
    for operation in PRESET_OPERATIONS.values():
        with pytest.raises(IsADirectoryError, match=r"event_presets\.json"):
            operation(data)
    assert _snapshot(data) == before
    tally.add("corrupt_file_cases")


# -- corrupt and hostile Parquet partitions --------------------------------------------------

SYMBOL = "HOS"
DAYS = [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 6), date(2020, 1, 7)]


def _good_bars() -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": [SYMBOL] * 4, "date": DAYS, "close": [100.0, 101.0, 102.0, 103.0]}
    )


def _good_quotes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": [SYMBOL] * 4,
            "as_of_date": [DAYS[0]] * 2 + [DAYS[1]] * 2,
            "option_type": ["put"] * 4,
            "expiry": [date(2020, 6, 19)] * 4,
            "strike": [95.0, 100.0] * 2,
            "bid": [1.0, 2.0, 1.1, 2.1],
            "ask": [1.5, 2.5, 1.6, 2.6],
        }
    )


@pytest.fixture(scope="module")
def store_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-store") / "store"
    store = MarketDataStore(root)
    store.write_underlying_bars(_good_bars())
    store.write_option_quotes(_good_quotes())
    return root


BARS_FILE = f"underlying/symbol={SYMBOL}/year=2020/part-0.parquet"
QUOTES_FILE = f"options/symbol={SYMBOL}/year=2020/month=01/part-0.parquet"


def _rewrite(change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], None]:
    """Rewrite a partition with plain Polars, as another tool would (no validation)."""

    def corrupt(path: Path) -> None:
        change(pl.read_parquet(path)).write_parquet(path)

    return corrupt


def _cell(column: str, value: object) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        dtype = frame.schema[column]
        cells = pl.when(pl.int_range(pl.len()) == 1).then(pl.lit(value, dtype))
        return frame.with_columns(cells.otherwise(pl.col(column)).alias(column))

    return change


def _raw(content: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def corrupt(path: Path) -> None:
        path.write_bytes(content(path.read_bytes()))

    return corrupt


PARTITION_CORRUPTIONS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "bars: garbage bytes": (BARS_FILE, _raw(lambda raw: b"not parquet at all" * 10)),
    "bars: empty file": (BARS_FILE, _raw(lambda raw: b"")),
    "bars: truncated": (BARS_FILE, _raw(lambda raw: raw[: len(raw) // 2])),
    "bars: footer cut": (BARS_FILE, _raw(lambda raw: raw[:-8])),
    "bars: missing column": (BARS_FILE, _rewrite(lambda f: f.drop("close"))),
    "bars: extra column": (BARS_FILE, _rewrite(lambda f: f.with_columns(extra=pl.lit(1)))),
    "bars: close as text": (
        BARS_FILE,
        _rewrite(lambda f: f.with_columns(pl.col("close").cast(pl.String))),
    ),
    "bars: NaN close": (BARS_FILE, _rewrite(_cell("close", float("nan")))),
    "bars: inf close": (BARS_FILE, _rewrite(_cell("close", float("inf")))),
    "bars: zero close": (BARS_FILE, _rewrite(_cell("close", 0.0))),
    "bars: negative close": (BARS_FILE, _rewrite(_cell("close", -101.0))),
    "bars: null close": (BARS_FILE, _rewrite(_cell("close", None))),
    "bars: negative volume": (BARS_FILE, _rewrite(_cell("volume", -1.0))),
    "bars: duplicate date": (BARS_FILE, _rewrite(lambda f: pl.concat([f, f.head(1)]))),
    "quotes: garbage bytes": (QUOTES_FILE, _raw(lambda raw: b"\x00" * 64)),
    "quotes: truncated": (QUOTES_FILE, _raw(lambda raw: raw[: len(raw) // 3])),
    "quotes: wrong schema": (QUOTES_FILE, _rewrite(lambda f: f.rename({"bid": "bid_price"}))),
    "quotes: bid above ask": (QUOTES_FILE, _rewrite(_cell("bid", 9.0))),
    "quotes: negative ask": (QUOTES_FILE, _rewrite(_cell("ask", -1.0))),
    "quotes: NaN mid": (QUOTES_FILE, _rewrite(_cell("mid", float("nan")))),
    "quotes: zero strike": (QUOTES_FILE, _rewrite(_cell("strike", 0.0))),
    "quotes: expiry before as_of_date": (QUOTES_FILE, _rewrite(_cell("expiry", date(2019, 1, 1)))),
    "quotes: unknown option_type": (QUOTES_FILE, _rewrite(_cell("option_type", "straddle"))),
    "quotes: delta above 1": (QUOTES_FILE, _rewrite(_cell("delta", 3.0))),
    "quotes: duplicate contract": (QUOTES_FILE, _rewrite(lambda f: pl.concat([f, f.head(1)]))),
}

READS_IGNORE = frozenset({"bars: extra column"})
"""An extra column is harmless to the store's readers (they select the schema's columns);
a write into that partition still refuses it rather than drop or keep it silently."""

SNAPSHOT_IGNORES = frozenset({"quotes: delta above 1"})
"""A snapshot backtest reads only the quote columns it prices with, and checks those; a bad
delta is not one of them (every read of the whole partition refuses it)."""

STORE_OPERATIONS: dict[str, Callable[[MarketDataStore], object]] = {
    "underlying_bars": lambda s: s.underlying_bars(SYMBOL),
    "underlying_bars in range": lambda s: s.underlying_bars(SYMBOL, DAYS[0], DAYS[-1]),
    "write bars": lambda s: s.write_underlying_bars(
        pl.DataFrame({"symbol": [SYMBOL], "date": [date(2020, 1, 8)], "close": [99.0]})
    ),
    "option_quotes": lambda s: s.option_quotes(SYMBOL, DAYS[0]),
    "option_quotes_between": lambda s: s.option_quotes_between(SYMBOL, DAYS[0], DAYS[-1]),
    "write quotes": lambda s: s.write_option_quotes(_good_quotes().with_columns(bid=0.5)),
    "synthetic backtest": lambda s: _backtest(
        s, hf.SyntheticHistoricalProvider(s, volatility=hf.ConstantVol(0.2))
    ),
    "snapshot backtest (quotes)": lambda s: _backtest(s, DailyOptionsSnapshotProvider(s)),
}


def _backtest(store: MarketDataStore, provider: HistoricalMarketDataProvider) -> object:
    templates = [hf.protective_put("pp", target_expiry_days=30)]
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol=SYMBOL,
        start_date=DAYS[0],
        end_date=DAYS[-1],
        portfolio=hf.BacktestPortfolioState(
            underlying_units=1.0, entry_spot=100.0, loan_amount=50.0, margin_call_ltv=0.8
        ),
    )
    return hf.run_backtest(scenario, templates, provider)


@pytest.mark.parametrize("name", list(PARTITION_CORRUPTIONS))
def test_a_corrupt_or_hostile_partition_is_refused_by_name_and_left_unchanged(
    tmp_path: Path, store_base: Path, name: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    relative, corrupt = PARTITION_CORRUPTIONS[name]
    root = tmp_path / "store"
    shutil.copytree(store_base, root)
    target = root / relative
    corrupt(target)
    store = MarketDataStore(root)
    before = _snapshot(root)
    touched = [
        op for op in STORE_OPERATIONS if op.startswith(("underlying", "write bars", "synth"))
    ]
    if relative == QUOTES_FILE:
        touched = [op for op in STORE_OPERATIONS if "quotes" in op]
        if name in SNAPSHOT_IGNORES:
            STORE_OPERATIONS["snapshot backtest (quotes)"](store)
            touched.remove("snapshot backtest (quotes)")
    if name in READS_IGNORE:
        for operation_name in touched:
            if not operation_name.startswith("write"):
                STORE_OPERATIONS[operation_name](store)  # reads select the schema's columns
        touched = [op for op in touched if op.startswith("write")]
    for operation_name in touched:
        with pytest.raises(CorruptFileError) as refused:
            STORE_OPERATIONS[operation_name](store)
        assert refused.value.path == target, f"{name}, {operation_name}"
        tally.add("corrupt_file_operations_refused")
    assert _snapshot(root) == before, f"{name}: the store changed"
    tally.add("corrupt_file_cases")


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"\x00garbage", "not a store journal"),
        (b'{"format": "hedgeframe.store_journal"}', "not a store journal"),
        (b'{"format": "other", "renames": []}', "format is 'other'"),
        (
            b'{"format": "hedgeframe.store_journal", "renames": '
            b'[["../../.part-0.parquet.x.tmp", "../../part-0.parquet"]]}',
            "the journal names",
        ),
        (
            b'{"format": "hedgeframe.store_journal", "renames": '
            b'[["underlying/.x.tmp", "strategy_templates.json"]]}',
            "the journal names",
        ),
        (
            b'{"format": "hedgeframe.store_journal", "renames": '
            b'[["/tmp/.part-0.parquet.x.tmp", "/tmp/part-0.parquet"]]}',
            "the journal names",
        ),
    ],
    ids=["garbage", "no renames", "wrong format", "path traversal", "not a partition", "absolute"],
)
def test_a_hostile_store_journal_is_refused_and_nothing_is_renamed(
    tmp_path: Path, store_base: Path, content: bytes, detail: str, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    root = tmp_path / "deep" / "store"
    shutil.copytree(store_base, root)
    journal = root / ".store.journal"
    journal.write_bytes(content)
    before = _snapshot(tmp_path)
    store = MarketDataStore(root)
    for operation in (
        lambda: store.underlying_bars(SYMBOL),
        lambda: store.write_underlying_bars(_good_bars()),
    ):
        with pytest.raises(CorruptFileError, match=detail) as refused:
            operation()
        assert refused.value.path == journal
    assert _snapshot(tmp_path) == before
    tally.add("corrupt_file_cases")


# -- hostile values: path traversal and huge strings ----------------------------------------

TRAVERSAL = ["../evil", "..", "../../etc/passwd", "a/b", "/abs", "a\\b", "a/../../b", "x\x00y"]


def test_path_traversal_in_slugs_ids_and_run_ids_is_refused_before_any_file_is_touched(
    tmp_path: Path, populated: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    data = tmp_path / "inner" / "data"
    shutil.copytree(populated, data)
    before = _snapshot(tmp_path)
    for bad in TRAVERSAL:
        with pytest.raises(ValidationError, match="slug"):
            hf.protective_put(bad)
        with pytest.raises(ValidationError, match="template_id"):
            hf.protective_put("ok", template_id=bad)
        with pytest.raises(ValidationError, match="slug"):
            EventPreset.model_validate({**_preset("p").model_dump(), "slug": bad})
        with pytest.raises(ValidationError, match="slug"):
            TemplateRepository(data).update("t1", slug=bad)
        runs = RunRepository(data)
        calls: list[Callable[[], object]] = [
            functools.partial(runs.create, _run(bad)),
            functools.partial(runs.get, bad),
            functools.partial(runs.transition, bad, RunStatus.COMPLETED),
            functools.partial(runs.path_of, bad),
        ]
        for call in calls:
            with pytest.raises(InvalidRunIdError, match="run_id"):
                call()
        tally.add("hostile_value_cases", 7)
    assert _snapshot(tmp_path) == before


def test_a_symbol_that_looks_like_a_path_stays_inside_the_store(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    root = tmp_path / "deep" / "store"
    store = MarketDataStore(root)
    for symbol in ["..", "../..", "../../escape", "/abs", "..\\x", "."]:
        store.write_underlying_bars(
            pl.DataFrame({"symbol": [symbol], "date": [date(2020, 1, 2)], "close": [1.0]})
        )
        assert store.underlying_bars(symbol)["close"].to_list() == [1.0]
        tally.add("hostile_value_cases")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["store"]
    escaped = [p for p in root.rglob("*.parquet") if not p.resolve().is_relative_to(root)]
    assert escaped == []


def test_huge_strings_are_refused_by_field_or_stored_intact(
    tmp_path: Path, populated: Path, request: pytest.FixtureRequest
) -> None:
    tally = Tally.of(request)
    data = tmp_path / "data"
    shutil.copytree(populated, data)
    huge = "x" * HUGE
    before = _snapshot(data)
    preset = _preset("p").model_dump()
    refusals: list[tuple[Callable[[], object], str]] = [
        (lambda: hf.protective_put(huge), "slug"),
        (lambda: hf.protective_put("ok", description=huge), "description"),
        (lambda: hf.protective_put("ok", display_name=huge), "display_name"),
        (lambda: hf.protective_put("ok", underlying_symbol=huge), "underlying_symbol"),
        (lambda: TemplateRepository(data).update("t1", description=huge), "description"),
        (lambda: EventPreset.model_validate({**preset, "symbol": huge}), "symbol"),
        (lambda: EventPreset.model_validate({**preset, "slug": huge}), "slug"),
    ]
    for call, field in refusals:
        with pytest.raises(ValidationError, match=field):
            call()
        tally.add("hostile_value_cases")
    store = MarketDataStore(tmp_path / "store")
    with pytest.raises(InvalidMarketDataError, match="symbol") as market_refused:
        store.write_underlying_bars(
            pl.DataFrame({"symbol": [huge], "date": [date(2020, 1, 2)], "close": [1.0]})
        )
    assert len(str(market_refused.value)) < 1_000
    assert market_refused.value.failures["reason"].to_list() == ["bad_value"]
    tally.add("hostile_value_cases")
    assert _snapshot(data) == before
    assert not (tmp_path / "store").exists()

    # Free text without a bound (a preset description, a run's error) is kept intact.
    presets = EventPresetRepository(data)
    presets.save(_preset("big").model_copy(update={"description": huge}))
    assert presets.get("big").description == huge
    runs = RunRepository(data)
    runs.transition("r1", RunStatus.FAILED, error=huge)
    assert runs.get("r1").error == huge
    tally.add("hostile_value_cases", 2)
