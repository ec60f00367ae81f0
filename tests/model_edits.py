"""Model records for fuzzing: valid by construction, or with one targeted corruption.

A generator of random JSON rarely builds a valid template (about 4 % of the old fuzzers'
examples were accepted), so it mostly tests the refusal path. Here every example starts
from a valid record and takes a few *valid edits* (a field set to another allowed value),
then, half of the time, one *corruption* of a known field (a disallowed value, the
field removed, or an unknown field added). A test can then check both directions on
every example: a valid record is kept exactly (its JSON dump equals the input), a
corrupted one is refused with an error whose location is the corrupted field.

Valid edits are chosen so that any combination of them stays valid (fields with
cross-field rules, such as a window's start and end, are only corrupted, never edited).
Every value is built fresh by its strategy, so no example shares a mutable value.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import hedgeframe as hf
from hedgeframe.models import (
    BacktestRun,
    BacktestScenario,
    EventPreset,
    ProviderSnapshot,
    StrategyTemplate,
)
from hedgeframe.models._template import MAX_SPOT_PCT

__all__ = [
    "CORPUSES",
    "Corpus",
    "Edited",
    "edited_records",
    "refusal_names",
]

FieldPath = tuple[str | int, ...]

SLUGS = st.from_regex(r"[a-z0-9](?:[a-z0-9_-]{0,20}[a-z0-9])?", fullmatch=True)
BAD_SLUGS = st.sampled_from(["", "A", "a b", "../x", "-a", "a.", "x" * 101, "a/b"])
SAFE_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,30}", fullmatch=True)
TEXT = st.text(max_size=30)
SYMBOLS = st.text(min_size=1, max_size=50)
TAGS = st.lists(st.text(max_size=10), max_size=3)
NOT_A_NUMBER: st.SearchStrategy[Any] = st.sampled_from(["one", None, [], {}]).map(copy.deepcopy)
BAD_DATES = st.sampled_from(["2024-02-30", "2024-13-01", "yesterday", "", None])


def _utc_text(moment: datetime) -> str:
    """A UTC time as pydantic writes it, so a valid record round-trips character for character."""
    return moment.isoformat().replace("+00:00", "Z")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIMES = st.integers(0, 130 * 365 * 86_400 * 10**6).map(
    lambda microseconds: _utc_text(EPOCH + timedelta(microseconds=microseconds))
)


def floats_in(low: float, high: float, *, exclude_low: bool = False) -> st.SearchStrategy[float]:
    """Finite floats in ``[low, high]`` (or ``(low, high]``)."""
    return st.floats(low, high, exclude_min=exclude_low, allow_nan=False, allow_infinity=False)


def outside(*values: Any) -> st.SearchStrategy[Any]:
    """One of ``values`` (out-of-range numbers, NaN, infinities) or a value of the wrong type."""
    return st.sampled_from(values) | NOT_A_NUMBER


@dataclass(frozen=True)
class Corpus:
    """A valid record of a model, its valid edits and its corruptions, by field path."""

    model: type[BaseModel]
    base: dict[str, Any]
    valid: dict[FieldPath, st.SearchStrategy[Any]]
    invalid: dict[FieldPath, st.SearchStrategy[Any]]
    required: tuple[FieldPath, ...] = field(default=())
    """Fields whose removal is a corruption (refused as missing)."""
    free_form: tuple[FieldPath, ...] = field(default=())
    """Dicts that take any key (where an unknown field is no corruption)."""


@dataclass(frozen=True)
class Edited:
    """A generated record and the field it corrupts (``None``: the record is valid)."""

    record: dict[str, Any]
    corrupted: FieldPath | None
    how: str


_UNKNOWN_FIELD = "not_a_field"


def _parent(record: dict[str, Any], path: FieldPath) -> Any:
    node: Any = record
    for key in path[:-1]:
        node = node[key]
    return node


@st.composite
def edited_records(draw: st.DrawFn, corpus: Corpus) -> Edited:
    """A copy of ``corpus.base`` with valid edits and, half of the time, one corruption."""
    record = copy.deepcopy(corpus.base)
    for path in draw(st.lists(st.sampled_from(sorted(corpus.valid, key=str)), unique=True)):
        _parent(record, path)[path[-1]] = draw(corpus.valid[path])
    if not draw(st.booleans()):
        return Edited(record, None, "valid edits")
    kinds: list[str] = ["set", "set", "set", "unknown field"]
    if corpus.required:
        kinds.append("remove")
    kind = draw(st.sampled_from(kinds))
    if kind == "set":
        path = draw(st.sampled_from(sorted(corpus.invalid, key=str)))
        _parent(record, path)[path[-1]] = draw(corpus.invalid[path])
    elif kind == "remove":
        path = draw(st.sampled_from(corpus.required))
        del _parent(record, path)[path[-1]]
    else:
        models = [path for path in _nested(corpus.base) if path not in corpus.free_form]
        container: FieldPath = draw(st.sampled_from([(), *models]))
        path = (*container, _UNKNOWN_FIELD)
        _parent(record, path)[_UNKNOWN_FIELD] = draw(TEXT)
    return Edited(record, path, kind)


def _nested(record: dict[str, Any], prefix: FieldPath = ()) -> list[FieldPath]:
    """Paths of the non-empty dicts nested inside ``record``."""
    found: list[FieldPath] = []
    for key, value in record.items():
        if isinstance(value, dict) and value:
            found.append((*prefix, key))
            found.extend(_nested(value, (*prefix, key)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    found.append((*prefix, key, index))
                    found.extend(_nested(item, (*prefix, key, index)))
    return found


def refusal_names(error: ValidationError, path: FieldPath) -> bool:
    """Whether an error's location is ``path``, inside it, or the model holding it (a rule
    of a nested model, such as a strike rule that needs a value, is reported there)."""
    for detail in error.errors():
        loc = tuple(detail["loc"])
        if loc and (loc[: len(path)] == path or path[: len(loc)] == loc):
            return True
    return False


def _template_corpus() -> Corpus:
    ladder = hf.seed_templates()[3]
    legs = range(len(ladder.legs))
    return Corpus(
        StrategyTemplate,
        ladder.model_dump(mode="json"),
        valid={
            ("template_id",): SAFE_IDS,
            ("slug",): SLUGS,
            ("display_name",): TEXT,
            ("description",): st.text(max_size=300),
            ("status",): st.sampled_from(["active", "archived"]),
            ("version",): st.integers(1, 10**9),
            ("underlying_symbol",): SYMBOLS,
            ("contract_mode",): st.sampled_from(["continuous_units", "listed_contracts"]),
            ("tags",): TAGS,
            ("created_at",): TIMES,
            ("updated_at",): TIMES,
            **{
                ("legs", i, "strike_rule", "value"): floats_in(0, MAX_SPOT_PCT, exclude_low=True)
                for i in legs
            },
            **{("legs", i, "target_coverage_pct"): floats_in(0, 1, exclude_low=True) for i in legs},
        },
        invalid={
            ("template_id",): st.sampled_from(["", "a/b", "..", "a b", "x" * 101]),
            ("slug",): BAD_SLUGS,
            ("display_name",): st.just("d" * 201),
            ("version",): outside(0, -1, 1.5),
            ("template_kind",): st.sampled_from(["straddle", "", 3]),
            ("status",): st.sampled_from(["deleted", "ACTIVE"]),
            ("legs",): st.sampled_from(["put", 3]),
            ("legs", 0, "allocation_weight"): outside(0.0, -0.5, 1.5, math.nan, math.inf),
            ("legs", 0, "strike_rule", "value"): outside(0.0, -1.0, math.nan, -math.inf),
            ("legs", 1, "target_expiry_days"): outside(0, 3661, 2.5),
            ("legs", 2, "target_coverage_pct"): outside(0.0, 1.01, math.nan),
            ("legs", 1, "leg_id"): BAD_SLUGS,
            ("roll_policy", "policy_type"): st.just("weekly"),
            ("created_at",): BAD_DATES,
        },
        required=(("slug",), ("template_kind",), ("legs", 0, "strike_rule")),
    )


def _preset_corpus() -> Corpus:
    preset = EventPreset(
        slug="gfc",
        symbol="^GSPC",
        window_start=date(2007, 10, 9),
        window_end=date(2009, 3, 9),
        anchor_date=date(2008, 9, 15),
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return Corpus(
        EventPreset,
        preset.model_dump(mode="json"),
        valid={
            ("event_preset_id",): SAFE_IDS,
            ("slug",): SLUGS,
            ("display_name",): TEXT,
            ("symbol",): SYMBOLS,
            ("tags",): TAGS,
            ("description",): TEXT,
            ("created_at",): TIMES,
        },
        invalid={
            ("slug",): BAD_SLUGS,
            ("symbol",): st.sampled_from(["", "s" * 51]),
            ("window_start",): BAD_DATES,
            ("window_end",): BAD_DATES,
            ("anchor_date",): st.sampled_from(["2008-13-01", 5]),
            ("event_type",): st.just("rally"),
            ("tags",): st.sampled_from(["crash", [1]]).map(copy.deepcopy),
        },
        required=(("slug",), ("symbol",), ("window_start",), ("window_end",)),
    )


def _scenario_record() -> BacktestScenario:
    return BacktestScenario.model_validate(
        {
            "slug": "fuzz",
            "symbol": "FIX",
            "start_date": "2024-03-01",
            "end_date": "2024-04-15",
            "initial_portfolio": {
                "underlying_units": 100,
                "entry_spot": 100,
                "loan_amount": 6000,
                "margin_call_ltv": 0.7,
            },
            "template_refs": [{"template_id": "t", "version": 1}],
            "provider_ref": {"provider_id": "synthetic_v1", "pricing_mode": "synthetic_bs_mid"},
            "created_at": "2024-01-01T00:00:00Z",
        }
    )


def _scenario_corpus() -> Corpus:
    portfolio = ("initial_portfolio",)
    return Corpus(
        BacktestScenario,
        _scenario_record().model_dump(mode="json"),
        valid={
            ("scenario_id",): SAFE_IDS,
            ("slug",): SLUGS,
            ("display_name",): TEXT,
            ("symbol",): SYMBOLS,
            ("notes",): TAGS,
            # The loan must stay below units * entry spot (100 * 100): these combine safely.
            (*portfolio, "underlying_units"): floats_in(100, 1e9),
            (*portfolio, "loan_amount"): floats_in(0, 9_000),
            (*portfolio, "margin_call_ltv"): floats_in(0, 1, exclude_low=True),
            (*portfolio, "cash_balance"): floats_in(0, 1e9),
            (*portfolio, "financing_rate"): floats_in(-1, 1),
            ("template_refs", 0, "version"): st.integers(1, 10**6),
            ("execution_model", "contract_multiplier"): st.integers(1, 10**4),
            ("created_at",): TIMES,
        },
        invalid={
            ("slug",): BAD_SLUGS,
            ("symbol",): st.sampled_from(["", "s" * 51]),
            ("start_date",): BAD_DATES,
            (*portfolio, "underlying_units"): outside(0.0, -1.0, math.nan, math.inf),
            (*portfolio, "loan_amount"): outside(-0.01, math.inf),
            (*portfolio, "currency"): st.sampled_from(["US", "EURO"]),
            (*portfolio, "financing_rate"): outside(1.5, -2.0),
            ("template_refs",): st.just([]).map(copy.deepcopy),
            ("template_refs", 0, "version"): outside(0, -3),
            ("provider_ref", "pricing_mode"): st.just("magic"),
            ("execution_model", "contract_multiplier"): outside(0, 2.5),
        },
        required=(("slug",), ("initial_portfolio",), (*portfolio, "entry_spot"), ("provider_ref",)),
    )


def _run_corpus() -> Corpus:
    run = BacktestRun(
        run_id="r1",
        scenario_id="s",
        scenario_snapshot=_scenario_record(),
        template_snapshots=[hf.seed_templates()[0]],
        provider_snapshot=ProviderSnapshot(provider_id="synthetic_v1", config={"rate": 0.0}),
        submitted_at=datetime(2024, 1, 1, tzinfo=UTC),
        warnings=["w"],
    )
    return Corpus(
        BacktestRun,
        run.model_dump(mode="json"),
        valid={
            ("run_id",): SAFE_IDS,
            ("scenario_id",): TEXT,
            ("engine_version",): TEXT,
            ("rules_version",): TEXT,
            ("warnings",): TAGS,
            ("error",): st.none() | TEXT,
            ("submitted_at",): TIMES,
            ("completed_at",): st.none() | TIMES,
            ("validation_notes",): st.dictionaries(st.text(max_size=8), TAGS, max_size=2),
            ("provider_snapshot", "config", "rate"): floats_in(-1, 1),
            ("template_snapshots", 0, "slug"): SLUGS,
        },
        invalid={
            ("run_id",): st.just(""),
            ("status",): st.sampled_from(["done", "COMPLETED"]),
            ("submitted_at",): BAD_DATES,
            ("warnings",): st.sampled_from(["w", [1]]).map(copy.deepcopy),
            ("provider_snapshot", "provider_id"): st.sampled_from([None, 7]),
            ("template_snapshots", 0, "slug"): BAD_SLUGS,
            ("scenario_snapshot", "initial_portfolio", "entry_spot"): outside(0.0, math.nan),
        },
        required=(("scenario_id",), ("provider_snapshot",)),
        free_form=(("provider_snapshot", "config"),),
    )


CORPUSES: dict[str, Corpus] = {
    "template": _template_corpus(),
    "preset": _preset_corpus(),
    "scenario": _scenario_corpus(),
    "run": _run_corpus(),
}
"""One corpus per stored model kind."""
