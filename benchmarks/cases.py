"""The benchmark cases B1-B5, B8 and B9: check each result once, then time it at a size that
matters.

Each case returns its table rows and the issue's target checks. Baselines run in the same
process and the same run: the scalar reference backtester (``benchmarks/reference.py``)
and the Black-Scholes roofline (``benchmarks/roofline.py``); peak memory comes from a
fresh subprocess per case (``benchmarks/memory.py``).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

import hedgeframe as hf
from benchmarks.crosscheck import (
    CrossCheckError,
    ReferenceRun,
    compare_frames,
    compare_with_reference,
    run_reference,
    trailing_realized_vol,
)
from benchmarks.importtime import FLOOR_STATEMENT, LAZY_PACKAGES, STATEMENT, time_imports
from benchmarks.ingest import run_ingest
from benchmarks.memory import MemoryReading, measure
from benchmarks.report import STATUS_NOT_AVAILABLE, CaseRow, TargetCheck
from benchmarks.roofline import RooflineInputs, roofline_inputs, time_roofline
from benchmarks.workloads import (
    CHAIN_END,
    CHAIN_START,
    DIVIDEND_YIELD,
    FLAT_SURFACE,
    RATE,
    RUN_MODES,
    SPREAD_PCT,
    SURFACE,
    SURFACE_SKEW,
    SYMBOL,
    VOL_WINDOW,
    BookSize,
    PreparedRun,
    SampleMarket,
    book_size,
    build_chain_store,
    median,
    prepare_events,
    prepare_snapshot,
    prepare_synthetic,
    snapshot_provider_class,
    spread_days,
    synthetic_provider,
    template_grid,
    timed,
    timed_each,
)
from hedgeframe.data import MarketDataStore
from hedgeframe.models import StrategyTemplate

__all__ = ["CASES", "CaseOutput", "Suite", "SuiteConfig"]

REFERENCE_REPEAT_MAX: Final = 3
"""The reference is timed at most this many times (its run-to-run noise is small)."""
STORE_DAYS: Final = 20
"""B5 reads this many symbol-days, spread over the chain, per repetition."""
BARS_READS_PER_REPEAT: Final = 5

# Targets of the issue (2-core machine).
B1_MAX_MS: Final = 100.0
B2_MIN_POSITION_DAYS_PER_S: Final = 5e6
B2_MAX_VS_ROOFLINE: Final = 4.0
B2_MIN_SPEEDUP_VS_REFERENCE: Final = 50.0
B2_MAX_PEAK_MIB: Final = 2048.0
B2_SURFACE_MIN_RATE_VS_FLAT: Final = 0.7
B3_MIN_POSITION_DAYS_PER_S: Final = 1e6
B3_CALIBRATION_MAX_S: Final = 10.0
CALIBRATION_EVERY: Final = 5
"""B3's calibration fits every 5th chain day: 250 days over the 5-year chain."""
CALIBRATION_TRUTH: Final = {
    "atm_ratio": 1.0,
    "skew": -3.0,
    "long_run_vol": 0.18,
    "mean_reversion": 1.5,
}
"""What ``write_synthetic_chain`` prices with: the fit must give it back to 1e-3."""
B5_MAX_SYMBOL_DAY_MS: Final = 20.0
B9_MAX_IMPORT_MS: Final = 400.0


@dataclass(frozen=True)
class SuiteConfig:
    """Sizes and knobs of one benchmark run."""

    years: int = 20
    b2_templates: int = 1_000
    b3_templates: int = 100
    reference_templates: int = 20
    seed: int = 0
    repeat: int = 5
    memory: bool = True
    chain_start: date = CHAIN_START
    chain_end: date = CHAIN_END
    chain_store: Path | None = None
    ingest_rows: int = 1_000_000
    import_runs: int = 15

    def as_json(self) -> dict[str, Any]:
        """The configuration with dates and paths as text."""
        return {
            k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Path) else v)
            for k, v in asdict(self).items()
        }


@dataclass
class CaseOutput:
    """What a case adds to the results."""

    rows: list[CaseRow] = field(default_factory=list)
    targets: list[TargetCheck] = field(default_factory=list)


class Suite:
    """Shared, lazily built inputs of the cases: market, volatilities, chain store."""

    def __init__(self, config: SuiteConfig, scratch: Path, log: Callable[[str], None]) -> None:
        self.config = config
        self.scratch = scratch
        self.log = log
        self.market = SampleMarket.load()

    @functools.cached_property
    def sigma(self) -> dict[date, float]:
        """Each day's ``TrailingRealizedVol(21)``, computed independently of the engine."""
        return trailing_realized_vol(self.market.dates, self.market.closes, VOL_WINDOW)

    @functools.cached_property
    def roofline_inputs(self) -> RooflineInputs:
        """One chunk of mark inputs drawn from the sample's days with a volatility."""
        days = [d for d in self.market.dates if d in self.sigma]
        closes = dict(zip(self.market.dates, self.market.closes, strict=True))
        return roofline_inputs(
            np.array([closes[d] for d in days]),
            np.array([self.sigma[d] for d in days]),
            rate=RATE,
            dividend_yield=DIVIDEND_YIELD,
            seed=self.config.seed,
        )

    @functools.cached_property
    def chain_store(self) -> MarketDataStore:
        """The generated synthetic listed chain (reused when ``chain_store`` holds one)."""
        root = self.config.chain_store or self.scratch / "chain-store"
        self.log(f"synthetic chain store at {root} ...")
        start = time.perf_counter()
        store = build_chain_store(
            root, self.market.store, start=self.config.chain_start, end=self.config.chain_end
        )
        self.chain_seconds = time.perf_counter() - start
        return store

    @property
    def reference_repeat(self) -> int:
        return max(1, min(self.config.repeat, REFERENCE_REPEAT_MAX))

    def memory(self, spec: dict[str, Any]) -> MemoryReading | None:
        """Peak RSS of the case in a fresh process (None when ``--no-memory``)."""
        if not self.config.memory:
            return None
        self.log(f"  peak memory in a fresh process: {spec}")
        return measure(spec)

    def reference(self, prepared: PreparedRun, templates: list[StrategyTemplate]) -> ReferenceRun:
        """Run ``templates`` of a synthetic case through the scalar reference."""
        start, end = prepared.scenario.start_date, prepared.scenario.end_date
        return run_reference(
            self.market.bars(start, end),
            templates,
            portfolio=prepared.scenario.initial_portfolio,
            sigma=self.sigma,
            rate=RATE,
            dividend_yield=DIVIDEND_YIELD,
            spread_pct=SPREAD_PCT,
            sessions=self.market.sessions,
        )

    def timed_with_reference(
        self,
        runs: dict[str, Callable[[], object]],
        first: ReferenceRun,
        prepared: PreparedRun,
        templates: list[StrategyTemplate],
    ) -> tuple[dict[str, list[float]], list[float]]:
        """Time the engine's ``runs`` and the reference in the same rounds.

        Each of ``repeat`` rounds times every engine run once and, in the first rounds, the
        reference once (the checked run counts as its first time), so both sides of a
        ratio see the same spells of a shared machine rather than one each.
        """
        times: dict[str, list[float]] = {name: [] for name in runs}
        reference_times = [first.seconds]
        for _ in range(self.config.repeat):
            for name, run in runs.items():
                times[name] += timed(run, 1)
            if len(reference_times) < self.reference_repeat:
                reference_times.append(self.reference(prepared, templates).seconds)
        return times, reference_times


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _expect_clean(result: hf.BacktestRunResult, templates: int, context: str) -> None:
    """A synthetic case must run every template to completion without warnings."""
    if result.summary.height != templates:
        msg = f"{context}: {result.summary.height} summary rows for {templates} templates"
        raise CrossCheckError(msg)
    incomplete = result.summary.filter(pl.col("status") != "complete")
    if incomplete.height or result.warnings:
        msg = f"{context}: {incomplete.height} incomplete templates, warnings {result.warnings[:3]}"
        raise CrossCheckError(msg)


def _legs(templates: list[StrategyTemplate]) -> int:
    return sum(len(t.legs) for t in templates)


def _row(
    case: str,
    variant: str,
    description: str,
    *,
    templates: list[StrategyTemplate],
    prepared: PreparedRun,
    size: BookSize,
    times: list[float],
    memory: MemoryReading | None,
    roofline: list[float] | None = None,
    **extra: Any,
) -> CaseRow:
    row = CaseRow(
        case=case,
        variant=variant,
        description=description,
        templates=len(templates),
        legs=_legs(templates),
        sessions=int(prepared.days.size),
        positions=size.positions,
        position_days=size.position_days,
        marks=size.marks,
        repeat=len(times),
        time_min_s=min(times),
        time_median_s=median(times),
        roofline_s=min(roofline) if roofline else None,
        peak_rss_mb=memory.peak_rss_mb if memory else None,
        setup_rss_mb=memory.setup_rss_mb if memory else None,
        **extra,
    )
    row.fill_rates()
    return row


def _not_available(case: str, variant: str, description: str, why: str) -> CaseRow:
    return CaseRow(
        case=case, variant=variant, description=description, status=STATUS_NOT_AVAILABLE, note=why
    )


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1e3


# ---------------------------------------------------------------------------------------
# B1: the four seed templates over 20 years
# ---------------------------------------------------------------------------------------


def b1_single(suite: Suite) -> CaseOutput:
    """The four seed templates, ^GSPC over ``years`` years, end to end (data read included)."""
    cfg = suite.config
    templates = hf.seed_templates()
    prepared = prepare_synthetic(suite.market, templates, cfg.years, "bench-b1")
    description = (
        f"4 seed templates, {SYMBOL} {prepared.scenario.start_date}..{prepared.scenario.end_date}"
        ", TrailingRealizedVol(21), hf.run_backtest end to end (store read included)"
    )
    suite.log("B1: check against the reference ...")
    result = prepared.run()
    _expect_clean(result, len(templates), "B1")
    reference = suite.reference(prepared, templates)
    compared = compare_with_reference(
        daily_path=result.daily_path,
        trades=result.trades,
        summary=result.summary,
        templates=templates,
        reference=reference,
        context="B1",
    )
    size = book_size(result.positions, prepared.days)
    del result
    suite.log("B1: timing (engine and reference in turn) ...")
    timings, reference_times = suite.timed_with_reference(
        {"engine": prepared.run}, reference, prepared, templates
    )
    times = timings["engine"]
    roofline = time_roofline(suite.roofline_inputs, size.marks, cfg.repeat)
    memory = suite.memory({"case": "B1", "years": cfg.years})
    row = _row(
        "B1",
        "daily-path",
        description,
        templates=templates,
        prepared=prepared,
        size=size,
        times=times,
        memory=memory,
        roofline=roofline,
        reference_s=min(reference_times),
        reference_basis=f"measured: the same {len(templates)} templates, one after the other",
        checked=f"{compared:,} numbers equal the reference to 1e-9 relative",
    )
    target = TargetCheck(
        "B1",
        "daily-path",
        "time < 100 ms",
        _ms(row.time_min_s),
        B1_MAX_MS,
        "ms",
        higher_is_better=False,
    )
    return CaseOutput([row], [target])


# ---------------------------------------------------------------------------------------
# B2: a 1,000-template sweep over 20 years
# ---------------------------------------------------------------------------------------


def b2_sweep(suite: Suite) -> CaseOutput:
    """``b2_templates`` grid templates in one call, in each of the three ``RUN_MODES``."""
    cfg = suite.config
    n = cfg.b2_templates
    templates = template_grid(n, cfg.seed)
    prepared = prepare_synthetic(suite.market, templates, cfg.years, "bench-b2-sweep")
    window = f"{SYMBOL} {prepared.scenario.start_date}..{prepared.scenario.end_date}"
    k = min(cfg.reference_templates, n)
    sliced = templates[:k]

    suite.log(f"B2: {n} templates, check {k} of them against the reference ...")
    full = prepared.run(**RUN_MODES["daily-path"])
    _expect_clean(full, n, "B2")
    reference = suite.reference(prepared, sliced)
    compared = compare_with_reference(
        daily_path=full.daily_path,
        trades=full.trades,
        summary=full.summary,
        templates=sliced,
        reference=reference,
        context="B2",
    )
    no_daily = prepared.run(**RUN_MODES["no-daily-path"])
    for table in ("summary", "trades", "positions"):
        compare_frames(getattr(no_daily, table), getattr(full, table), table, "B2 no-daily-path")
    summary_only = prepared.run(**RUN_MODES["summary-only"])
    compare_frames(summary_only.summary, full.summary, "summary", "B2 summary-only")
    for mode, result, dropped in (
        ("no-daily-path", no_daily, ("daily_path",)),
        ("summary-only", summary_only, ("daily_path", "trades", "positions")),
    ):
        for table in dropped:
            if getattr(result, table).height:
                msg = f"B2 {mode}: the result still has a {table} table"
                raise CrossCheckError(msg)
    surface = dataclasses.replace(
        prepared, provider=synthetic_provider(suite.market.store, SURFACE)
    )
    surface_checked = _check_surface(suite, prepared, full, surface)
    size = book_size(full.positions, prepared.days)
    slice_ids = [t.template_id for t in sliced]
    slice_size = book_size(
        full.positions.filter(pl.col("template_id").is_in(slice_ids)), prepared.days
    )
    del full, no_daily, summary_only

    suite.log("B2: timing (the three modes, the slice and the reference in turn) ...")
    runs: dict[str, Callable[[], object]] = {
        mode: functools.partial(prepared.run, **flags) for mode, flags in RUN_MODES.items()
    }
    slice_run = prepared.subset(k)
    runs["slice"] = slice_run.run
    runs["surface"] = surface.run
    times, reference_times = suite.timed_with_reference(runs, reference, prepared, sliced)
    times_slice = times.pop("slice")
    times_surface = times.pop("surface")
    reference_per_position_day = min(reference_times) / max(slice_size.position_days, 1)
    extrapolated = reference_per_position_day * size.position_days
    roofline = time_roofline(suite.roofline_inputs, size.marks, cfg.repeat)
    slice_roofline = time_roofline(suite.roofline_inputs, slice_size.marks, cfg.repeat)
    base = {"case": "B2", "templates": n, "years": cfg.years, "seed": cfg.seed}
    memory = {mode: suite.memory({**base, "mode": mode}) for mode in RUN_MODES}

    basis = (
        f"extrapolated: {min(reference_times):.2f} s measured on the first {k} templates "
        f"({slice_size.position_days:,} position-days, "
        f"{reference_per_position_day * 1e6:.2f} us each) x {size.position_days:,} position-days"
    )
    checked = {
        "daily-path": (
            f"first {k} templates: {compared:,} numbers equal the reference to 1e-9 relative"
        ),
        "no-daily-path": "summary, trades and positions equal the daily-path run's",
        "summary-only": "summary equals the daily-path run's; no other table is kept",
    }
    kept = {
        "daily-path": "full daily path, trades, positions, summary",
        "no-daily-path": "keep_daily_path=False: trades, positions, summary",
        "summary-only": "keep_daily_path=False, keep_trades=False: the summary alone",
    }
    rows = [
        *(
            _row(
                "B2",
                mode,
                f"{n} grid templates in one call, {window}, {kept[mode]}",
                times=times[mode],
                memory=memory[mode],
                roofline=roofline,
                reference_s=extrapolated,
                reference_basis=basis if mode == "daily-path" else "extrapolated as daily-path",
                checked=checked[mode],
                templates=templates,
                prepared=prepared,
                size=size,
            )
            for mode in RUN_MODES
        ),
        _row(
            "B2",
            f"reference-slice ({k})",
            f"the first {k} B2 templates alone in one call (reference measured on them)",
            templates=sliced,
            prepared=slice_run,
            size=slice_size,
            times=times_slice,
            memory=None,
            roofline=slice_roofline,
            reference_s=min(reference_times),
            reference_basis=f"measured: the same {k} templates, one after the other",
            checked="these templates are the ones checked in the daily-path run",
        ),
        _row(
            "B2",
            "surface",
            f"{n} grid templates in one call, {window}, {kept['daily-path']}, priced with "
            f"{SURFACE}",
            templates=templates,
            prepared=surface,
            size=size,
            times=times_surface,
            memory=None,
            roofline=roofline,
            reference_basis="n/a: the reference prices with one volatility a day",
            checked=surface_checked,
        ),
    ]
    flat_rate, surface_rate = rows[0].position_days_per_s, rows[-1].position_days_per_s
    targets = [
        TargetCheck(
            "B2",
            "surface",
            ">= 70 % of the flat regime's position-days/s",
            surface_rate / flat_rate if surface_rate and flat_rate else None,
            B2_SURFACE_MIN_RATE_VS_FLAT,
            "x flat rate",
            higher_is_better=True,
        )
    ]
    for row in rows[: len(RUN_MODES)]:
        targets += [
            TargetCheck(
                "B2",
                row.variant,
                ">= 5M position-days/s",
                row.position_days_per_s,
                B2_MIN_POSITION_DAYS_PER_S,
                "position-days/s",
                higher_is_better=True,
            ),
            TargetCheck(
                "B2",
                row.variant,
                "<= 4x the roofline",
                row.vs_roofline,
                B2_MAX_VS_ROOFLINE,
                "x roofline",
                higher_is_better=False,
            ),
            TargetCheck(
                "B2",
                row.variant,
                ">= 50x faster than the reference",
                row.speedup_vs_reference,
                B2_MIN_SPEEDUP_VS_REFERENCE,
                "x reference",
                higher_is_better=True,
            ),
        ]
    targets.append(
        TargetCheck(
            "B2",
            "daily-path",
            "peak RSS < 2 GiB",
            rows[0].peak_rss_mb,
            B2_MAX_PEAK_MIB,
            "MiB",
            higher_is_better=False,
        )
    )
    return CaseOutput(rows, targets)


def _check_surface(
    suite: Suite, flat: PreparedRun, flat_result: hf.BacktestRunResult, surface: PreparedRun
) -> str:
    """Check the surface variant prices what it names before it is timed.

    A surface without skew or term structure on the same ATM input must give the flat
    run's tables (to 1e-12 relative); the skewed one must hold the same contracts (the
    strikes are ``spot_pct x S``, so only the prices differ), run every template to the
    end without a warning, and pay more for out-of-the-money puts.
    """
    suite.log("B2: check the surface variant ...")
    plain = dataclasses.replace(flat, provider=synthetic_provider(suite.market.store, FLAT_SURFACE))
    same = plain.run()
    for table in ("daily_path", "trades", "positions", "summary"):
        _compare_close(getattr(same, table), getattr(flat_result, table), table)
    result = surface.run()
    _expect_clean(result, len(surface.templates), "B2 surface")
    contract = ["template_id", "position_id", "strike", "expiry", "opened_at", "closed_at"]
    compare_frames(
        result.positions.select(contract),
        flat_result.positions.select(contract),
        "positions",
        "B2 surface",
    )
    cost = (result.summary["total_hedge_cost"] > flat_result.summary["total_hedge_cost"]).mean()
    return (
        "a surface without skew or term structure equals the flat run to 1e-12; with skew "
        f"{SURFACE_SKEW:g}: the same contracts, complete, no "
        f"warnings, hedge cost above the flat run's for {cost:.0%} of the templates"
    )


def _compare_close(got: pl.DataFrame, want: pl.DataFrame, table: str) -> None:
    """Equal tables but for float rounding (1e-12 relative)."""
    if got.columns != want.columns or got.height != want.height:
        msg = f"B2 surface: {table} has another shape than the flat run's"
        raise CrossCheckError(msg)
    for column in got.columns:
        left, right = got[column], want[column]
        if left.dtype.is_float():
            a, b = left.to_numpy(), right.to_numpy()
            close = np.isclose(a, b, rtol=1e-12, atol=1e-9) | (np.isnan(a) & np.isnan(b))
            if not close.all():
                msg = f"B2 surface: {table}.{column} differs from the flat run's"
                raise CrossCheckError(msg)
        elif not left.equals(right):
            msg = f"B2 surface: {table}.{column} differs from the flat run's"
            raise CrossCheckError(msg)


# ---------------------------------------------------------------------------------------
# B3: 100 templates over the listed chain with the snapshot provider
# ---------------------------------------------------------------------------------------


def _check_trade_prices(
    result: hf.BacktestRunResult, chain: pl.DataFrame, bars: pl.DataFrame, context: str
) -> int:
    """Fills at the stored mid (SPEC 6 default ``fill="mid"``); expiries at intrinsic value.

    Only templates without validation notes (no stale or missing quote) are checked.
    """
    noted = {key for key, notes in result.validation_notes.items() if notes}
    trades = result.trades.filter(
        ~pl.concat_str(
            "template_id", pl.lit("@v"), pl.col("template_version").cast(pl.String)
        ).is_in(list(noted))
        if noted
        else pl.lit(value=True)
    )
    quoted = trades.filter(pl.col("action") != "expire").join(
        chain.select(pl.col("as_of_date").alias("date"), "option_type", "expiry", "strike", "mid"),
        on=["date", "option_type", "expiry", "strike"],
        how="left",
    )
    expired = trades.filter(pl.col("action") == "expire").join(
        bars.select(pl.col("date").alias("expiry"), pl.col("close").alias("settle")),
        on="expiry",
        how="left",
    )
    want_expired = np.maximum(
        np.where(
            expired["option_type"].to_numpy() == "put",
            expired["strike"].to_numpy() - expired["settle"].to_numpy(),
            expired["settle"].to_numpy() - expired["strike"].to_numpy(),
        ),
        0.0,
    )
    for what, got, want in (
        ("fills vs the stored mid", quoted["price"].to_numpy(), quoted["mid"].to_numpy()),
        ("expiries vs intrinsic value", expired["price"].to_numpy(), want_expired),
    ):
        scale = np.maximum(np.maximum(np.abs(got), np.abs(want)), 1.0)
        bad = np.flatnonzero(~(np.abs(got - want) <= 1e-9 * scale))
        if bad.size:
            msg = f"{context}: {bad.size} trade prices differ ({what}); first at row {bad[0]}"
            raise CrossCheckError(msg)
    return int(quoted.height + expired.height)


def b3_snapshot(suite: Suite) -> CaseOutput:
    """``b3_templates`` grid templates over the synthetic listed chain, snapshot provider."""
    cfg = suite.config
    description = (
        f"{cfg.b3_templates} grid templates, synthetic listed ^GSPC chain "
        f"{cfg.chain_start}..{cfg.chain_end}, DailyOptionsSnapshotProvider"
    )
    target = ">= 1M position-days/s"
    if snapshot_provider_class() is None:
        why = "not available: hedgeframe.providers does not export DailyOptionsSnapshotProvider yet"
        suite.log(f"B3: {why}")
        return CaseOutput(
            [_not_available("B3", "snapshot", description, why)],
            [
                TargetCheck(
                    "B3",
                    "snapshot",
                    target,
                    None,
                    B3_MIN_POSITION_DAYS_PER_S,
                    "position-days/s",
                    higher_is_better=True,
                )
            ],
        )
    templates = template_grid(cfg.b3_templates, cfg.seed)
    store = suite.chain_store
    prepared = prepare_snapshot(store, templates, cfg.chain_start, cfg.chain_end)
    start, end = prepared.scenario.start_date, prepared.scenario.end_date
    description = (
        f"{cfg.b3_templates} grid templates, synthetic listed {SYMBOL} chain {start}..{end}, "
        "DailyOptionsSnapshotProvider (max_stale_days=5, fill at mid), end to end"
    )
    suite.log("B3: check fills against the stored chain ...")
    result = prepared.run()
    if result.summary.height != len(templates):
        msg = f"B3: {result.summary.height} summary rows for {len(templates)} templates"
        raise CrossCheckError(msg)
    incomplete = int((result.summary["status"] != "complete").sum())
    chain = store.option_quotes_between(SYMBOL, start, end)
    bars = store.underlying_bars(SYMBOL)
    checked = _check_trade_prices(result, chain, bars, "B3")
    del chain
    size = book_size(result.positions, prepared.days)
    warnings = len(result.warnings)
    del result
    suite.log("B3: timing ...")
    times = timed(prepared.run, cfg.repeat)
    roofline = time_roofline(suite.roofline_inputs, size.marks, cfg.repeat)
    memory = suite.memory(
        {
            "case": "B3",
            "templates": cfg.b3_templates,
            "seed": cfg.seed,
            "chain_store": str(store.root),
            "chain_start": cfg.chain_start.isoformat(),
            "chain_end": cfg.chain_end.isoformat(),
        }
    )
    row = _row(
        "B3",
        "snapshot",
        description,
        templates=templates,
        prepared=prepared,
        size=size,
        times=times,
        memory=memory,
        roofline=roofline,
        reference_basis="n/a: the reference covers synthetic Black-Scholes pricing only",
        checked=f"{checked:,} trade prices equal the stored mid / intrinsic value to 1e-9",
        note=(
            f"{incomplete} incomplete templates, {warnings} run warnings; the roofline is "
            "Black-Scholes over as many marks (the snapshot provider looks quotes up instead)"
        ),
    )
    calibration, calibration_target = _b3_calibration(suite, store, start, end)
    return CaseOutput(
        [row, calibration],
        [
            TargetCheck(
                "B3",
                "snapshot",
                target,
                row.position_days_per_s,
                B3_MIN_POSITION_DAYS_PER_S,
                "position-days/s",
                higher_is_better=True,
            ),
            calibration_target,
        ],
    )


def _b3_calibration(
    suite: Suite, store: MarketDataStore, start: date, end: date
) -> tuple[CaseRow, TargetCheck]:
    """``hf.calibrate_surface`` over every 5th day of the chain, checked, then timed."""
    chain_days = [d for d in store.option_quote_dates(SYMBOL) if start <= d <= end]
    days = chain_days[::CALIBRATION_EVERY]
    suite.log(f"B3: calibrate_surface over {len(days)} days, check the parameters ...")
    fitted = hf.calibrate_surface(store, SYMBOL, days)
    for name, truth in CALIBRATION_TRUTH.items():
        if abs(fitted.parameters[name] - truth) > 1e-3 * abs(truth):
            msg = f"B3 calibration: {name} fitted {fitted.parameters[name]!r}, chain has {truth!r}"
            raise CrossCheckError(msg)
    times = timed(functools.partial(hf.calibrate_surface, store, SYMBOL, days), suite.config.repeat)
    quotes = int(fitted.fit["quotes"].sum())
    row = CaseRow(
        case="B3",
        variant="calibration",
        description=(
            f"hf.calibrate_surface(store, {SYMBOL!r}, days): every {CALIBRATION_EVERY}th day of "
            f"the synthetic chain {days[0]}..{days[-1]} ({len(days)} days, {quotes:,} "
            "out-of-the-money quotes), store reads included"
        ),
        sessions=len(days),
        repeat=len(times),
        time_min_s=min(times),
        time_median_s=median(times),
        checked=(
            "the fit gives back the chain's atm_ratio 1, skew -3, long_run_vol 0.18 and "
            "mean_reversion 1.5 to 1e-3"
        ),
    )
    target = TargetCheck(
        "B3",
        "calibration",
        "250 days in < 10 s",
        row.time_min_s,
        B3_CALIBRATION_MAX_S,
        "s",
        higher_is_better=False,
    )
    return row, target


# ---------------------------------------------------------------------------------------
# B4: the event comparison of `hedgeframe demo`
# ---------------------------------------------------------------------------------------


def b4_events(suite: Suite) -> CaseOutput:
    """``hf.compare_events`` with the demo's inputs, once it exists."""
    cfg = suite.config
    description = "hf.compare_events with the inputs of `hedgeframe demo`"
    try:
        workload = prepare_events()
    except LookupError as error:
        why = f"not available: {error}"
        suite.log(f"B4: {why}")
        return CaseOutput([_not_available("B4", "events", description, why)])
    description = (
        f"hf.compare_events: {len(workload.templates)} seed templates x "
        f"{len(workload.presets)} bundled-sample event presets, the demo's provider and "
        "portfolio (report writing not included)"
    )
    suite.log("B4: check the comparison ...")
    comparison = workload.run()
    if comparison.events.height != len(workload.presets):
        msg = f"B4: {comparison.events.height} events compared, {len(workload.presets)} given"
        raise CrossCheckError(msg)
    for run in comparison.runs:
        incomplete = run.summary.filter(pl.col("status") != "complete")
        if run.summary.height != len(run.template_snapshots) or incomplete.height:
            msg = (
                f"B4 {run.scenario_snapshot.slug}: {run.summary.height} summary rows for "
                f"{len(run.template_snapshots)} templates, {incomplete.height} incomplete"
            )
            raise CrossCheckError(msg)
    warnings = len(comparison.warnings)
    size = workload.size(comparison)
    sessions = workload.sessions(comparison)
    runs = len(comparison.runs)
    del comparison
    suite.log("B4: timing ...")
    times = timed(workload.run, cfg.repeat)
    roofline = time_roofline(suite.roofline_inputs, size.marks, cfg.repeat)
    memory = suite.memory({"case": "B4"})
    row = CaseRow(
        case="B4",
        variant="events",
        description=description,
        templates=len(workload.templates),
        legs=_legs(workload.templates),
        sessions=sessions,
        positions=size.positions,
        position_days=size.position_days,
        marks=size.marks,
        repeat=len(times),
        time_min_s=min(times),
        time_median_s=median(times),
        roofline_s=min(roofline),
        peak_rss_mb=memory.peak_rss_mb if memory else None,
        setup_rss_mb=memory.setup_rss_mb if memory else None,
        reference_basis="n/a: the demo's volatility (VIX, then realized) is not re-derived",
        checked=f"{runs} event runs, every template complete",
        note=f"days = trading days summed over the events; {warnings} comparison warnings",
    )
    row.fill_rates()
    return CaseOutput([row])


# ---------------------------------------------------------------------------------------
# B5: store reads
# ---------------------------------------------------------------------------------------


def b5_store(suite: Suite) -> CaseOutput:
    """One symbol-day of the option chain, and one symbol's whole bar history."""
    cfg = suite.config
    store = suite.chain_store
    quote_days = store.option_quote_dates(SYMBOL)
    days = spread_days(quote_days, STORE_DAYS)
    rows_read = 0
    for day in days:
        chain = store.option_quotes(SYMBOL, day)
        if chain.height == 0 or (chain["as_of_date"] != day).any():
            msg = f"B5: option_quotes({SYMBOL!r}, {day}) returned {chain.height} rows of other days"
            raise CrossCheckError(msg)
        rows_read += chain.height
    suite.log("B5: timing ...")
    chain_times = timed_each(
        [functools.partial(store.option_quotes, SYMBOL, day) for day in days], cfg.repeat
    )
    sample = suite.market.store
    bars = sample.underlying_bars(SYMBOL)
    if bars.height != len(suite.market.dates):
        msg = f"B5: {bars.height} {SYMBOL} bars, expected {len(suite.market.dates)}"
        raise CrossCheckError(msg)
    bar_times = timed_each(
        [functools.partial(sample.underlying_bars, SYMBOL)], cfg.repeat * BARS_READS_PER_REPEAT
    )
    chain_row = CaseRow(
        case="B5",
        variant="symbol-day",
        description=(
            f"store.option_quotes({SYMBOL!r}, day): one day of the synthetic chain, "
            f"{len(days)} days spread over {quote_days[0]}..{quote_days[-1]}, warm page cache"
        ),
        repeat=len(chain_times),
        time_min_s=min(chain_times),
        time_median_s=median(chain_times),
        checked=f"{len(days)} days, {rows_read:,} quotes, all of the asked day",
        note=(
            f"{rows_read / len(days):,.0f} quotes per day; the chain store "
            f"({len(quote_days)} days) was generated in {suite.chain_seconds:.1f} s"
            if hasattr(suite, "chain_seconds")
            else f"{rows_read / len(days):,.0f} quotes per day"
        ),
    )
    bars_row = CaseRow(
        case="B5",
        variant="bars-20y",
        description=(
            f"sample_store().underlying_bars({SYMBOL!r}): {bars.height:,} bars "
            f"{bars['date'][0]}..{bars['date'][-1]}"
        ),
        sessions=bars.height,
        repeat=len(bar_times),
        time_min_s=min(bar_times),
        time_median_s=median(bar_times),
        checked=f"{bars.height:,} bars",
    )
    target = TargetCheck(
        "B5",
        "symbol-day",
        "median < 20 ms",
        _ms(chain_row.time_median_s),
        B5_MAX_SYMBOL_DAY_MS,
        "ms",
        higher_is_better=False,
    )
    return CaseOutput([chain_row, bars_row], [target])


# ---------------------------------------------------------------------------------------
# B8: chain CSV ingestion (benchmarks/ingest.py)
# ---------------------------------------------------------------------------------------


def b8_ingest(suite: Suite) -> CaseOutput:
    """``ingest_rows`` quotes read from CSV and validated, CBOE and generic layouts."""
    cfg = suite.config
    rows, targets = run_ingest(
        cfg.ingest_rows, seed=cfg.seed, repeat=cfg.repeat, scratch=suite.scratch, log=suite.log
    )
    return CaseOutput(rows, targets)


# ---------------------------------------------------------------------------------------
# B9: import time
# ---------------------------------------------------------------------------------------


def b9_import(suite: Suite) -> CaseOutput:
    """``import hedgeframe`` in fresh processes, beside the imports it cannot avoid."""
    runs = suite.config.import_runs
    suite.log(f"B9: {STATEMENT!r} and {FLOOR_STATEMENT!r} in {runs} fresh processes each ...")
    package, floor = time_imports(runs)
    if package.loaded:
        msg = f"B9: {STATEMENT!r} loaded {package.loaded}; they must load on first use"
        raise CrossCheckError(msg)
    rows = [
        CaseRow(
            case="B9",
            variant=variant,
            description=description,
            repeat=runs,
            time_min_s=min(timing.import_s),
            time_median_s=median(timing.import_s),
            checked=checked,
            note=(
                f"the whole process (interpreter start-up included): median "
                f"{median(timing.process_s) * 1e3:.0f} ms; bytecode cached"
            ),
        )
        for variant, description, timing, checked in (
            (
                "import",
                f"{STATEMENT!r} in a fresh process (the statement alone)",
                package,
                f"none of {', '.join(LAZY_PACKAGES)} imported",
            ),
            (
                "floor",
                f"{FLOOR_STATEMENT!r} in a fresh process: what {STATEMENT!r} cannot avoid",
                floor,
                "timed in the same rounds as the import",
            ),
        )
    ]
    target = TargetCheck(
        "B9",
        "import",
        "median < 400 ms",
        _ms(rows[0].time_median_s),
        B9_MAX_IMPORT_MS,
        "ms",
        higher_is_better=False,
    )
    return CaseOutput(rows, [target])


CASES: Final[dict[str, Callable[[Suite], CaseOutput]]] = {
    "B1": b1_single,
    "B2": b2_sweep,
    "B3": b3_snapshot,
    "B4": b4_events,
    "B5": b5_store,
    "B8": b8_ingest,
    "B9": b9_import,
}
"""The cases by id, in the order they run."""
