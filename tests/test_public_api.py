"""The public surface: SPEC section 2 names importable from the top level; docs examples run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys

import pytest

import hedgeframe as hf

SPEC_NAMES = {
    # models (SPEC section 2)
    "StrategyTemplate", "TemplateLeg", "StrikeRule", "RollPolicy", "EntryPolicy",
    "BacktestScenario", "BacktestPortfolioState", "TemplateRef", "ProviderRef",
    "ExecutionModel", "BacktestRun", "ProviderSnapshot", "BacktestRunResult",
    "TemplateBacktestResult", "BacktestSummaryMetrics", "BacktestDailyPoint",
    "BacktestTradeRecord", "HistoricalOptionPosition", "EventPreset", "EventScenarioOverrides",
    "UnderlyingBar", "OptionSnapshotQuery", "OptionSnapshot", "HistoricalOptionQuote",
    "HistoricalInstrumentKey", "HistoricalOptionMark",
    # functions and classes built so far
    "protective_put", "put_ladder", "seed_templates", "MarketDataStore", "ConstantVol",
    "StepVol", "IndexVol", "TrailingRealizedVol", "SyntheticHistoricalProvider",
    "run_backtest", "BacktestService", "builtin_event_presets", "materialize_event",
    "compare_events", "DailyOptionsSnapshotProvider",
    # resources: the engine's threads and memory (issue 15)
    "thread_count", "release_memory", "tune_malloc",
}  # fmt: skip


def test_spec_names_are_exported_and_importable() -> None:
    assert set(hf.__all__) >= SPEC_NAMES
    for name in hf.__all__:
        assert getattr(hf, name) is not None, name


def test_all_has_no_duplicates() -> None:
    assert len(hf.__all__) == len(set(hf.__all__))


LOADED_ON_FIRST_USE = (
    "scipy",  # pricing
    "matplotlib",  # reports
    "pyarrow",  # building result tables
    "filelock",  # writing stores and repositories
    "exchange_calendars",  # calendars
    "yfinance",  # downloads
    "typer",  # the command line
    "rich",
)


def test_import_leaves_heavy_packages_for_their_first_use() -> None:
    """``import hedgeframe`` stays fast (B6 in benchmarks/ times it): it loads none of
    these, and pydantic builds a model's validator on the model's first use."""
    code = (
        "import sys, hedgeframe as hf; "
        f"print([m for m in {LOADED_ON_FIRST_USE!r} if m in sys.modules]); "
        "print(hf.StrategyTemplate.__pydantic_complete__)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert ran.stdout.split("\n")[:2] == ["[]", "False"]


MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(hf.__path__, prefix="hedgeframe.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["hedgeframe", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert failures == 0, name
