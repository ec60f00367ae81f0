"""``python -m benchmarks --scaling``: how time and memory grow with templates and years.

Each point is the B2 sweep (``benchmarks.workloads``: grid templates, synthetic provider,
``^GSPC``) run in a fresh process (``benchmarks/memory.py``), so its peak RSS is its own:

- **templates** ``1 -> 10,000`` over ``--years`` years, summary-only at every size and with
  the full daily path up to ``--scaling-full-max`` templates (the daily path of 10,000
  templates x 20 years is 50 million rows);
- **years** ``1 -> 20`` at ``--b2-templates`` templates, both modes.

Small points are run once untimed, then up to three times (the minimum is reported);
points over 1,000 templates x 20 years run once. The roofline (``benchmarks/roofline.py``)
is timed in the parent over each point's marks. Results go to
``<out>/scaling/<timestamp>-<sha>.json|parquet``, a Markdown table to stdout (for
``benchmarks/README.md``) and a chart (matplotlib's Agg canvas) to ``benchmarks/scaling.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from benchmarks.crosscheck import trailing_realized_vol
from benchmarks.memory import measure
from benchmarks.report import machine_info, results_stem
from benchmarks.roofline import roofline_inputs, time_roofline
from benchmarks.workloads import DIVIDEND_YIELD, RATE, VOL_WINDOW, SampleMarket, median

__all__ = ["ScalingPoint", "markdown_table", "plot", "run_scaling"]

LARGE_POSITION_YEARS: Final = 1_000 * 20
"""Points above this many template-years run once, without a warm-up run."""
MAX_REPEAT: Final = 3
MODES: Final = ("summary-only", "daily-path")


@dataclass(frozen=True)
class ScalingPoint:
    """One size, one mode: time, throughput and peak memory in a fresh process."""

    dimension: str  # "templates" or "years"
    templates: int
    years: int
    mode: str
    sessions: int
    positions: int
    position_days: int
    marks: int
    repeat: int
    time_min_s: float
    time_median_s: float
    position_days_per_s: float
    roofline_s: float
    vs_roofline: float
    peak_rss_mb: float
    setup_rss_mb: float | None


def _spec(templates: int, years: int, mode: str, seed: int, repeat: int) -> dict[str, Any]:
    large = templates * years > LARGE_POSITION_YEARS
    return {
        "case": "B2",
        "templates": templates,
        "years": years,
        "seed": seed,
        "mode": mode,
        "warmup": not large,
        "repeat": 1 if large else min(repeat, MAX_REPEAT),
    }


def markdown_table(points: list[ScalingPoint]) -> str:
    """The points as a Markdown table (what benchmarks/README.md shows)."""
    header = (
        "| grows | templates | years | days | mode | position-days | time (min) | "
        "position-days/s | x roofline | peak RSS |\n"
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {p.dimension} | {p.templates:,} | {p.years} | {p.sessions:,} | {p.mode} | "
        f"{p.position_days:,} | {p.time_min_s:.3f} s | {p.position_days_per_s / 1e6:.2f}M | "
        f"{p.vs_roofline:.1f}x | {p.peak_rss_mb:,.0f} MiB |"
        for p in points
    ]
    return "\n".join([header, *lines])


def plot(points: list[ScalingPoint], path: Path, title: str) -> None:
    """Time and peak memory against templates and against years, one line per mode."""
    fig = Figure(figsize=(11, 8), layout="constrained")  # Agg canvas; no pyplot state
    axes = fig.subplots(2, 2)
    styles = {"summary-only": ("tab:blue", "o"), "daily-path": ("tab:orange", "s")}
    for column, dimension, xlabel, log_x in (
        (0, "templates", "templates (20 years)", True),
        (1, "years", "years (fixed template count)", False),
    ):
        chosen = [p for p in points if p.dimension == dimension]
        time_ax, memory_ax = axes[0][column], axes[1][column]
        for mode in MODES:
            series = sorted(
                (p for p in chosen if p.mode == mode),
                key=lambda p: p.templates if dimension == "templates" else p.years,
            )
            if not series:
                continue
            x = [p.templates if dimension == "templates" else p.years for p in series]
            color, marker = styles[mode]
            time_ax.plot(x, [p.time_min_s for p in series], marker=marker, color=color, label=mode)
            memory_ax.plot(
                x, [p.peak_rss_mb / 1024 for p in series], marker=marker, color=color, label=mode
            )
        roof = sorted(
            (p for p in chosen if p.mode == MODES[0]),
            key=lambda p: p.templates if dimension == "templates" else p.years,
        )
        if roof:
            time_ax.plot(
                [p.templates if dimension == "templates" else p.years for p in roof],
                [p.roofline_s for p in roof],
                linestyle="--",
                color="gray",
                label="Black-Scholes roofline",
            )
        time_ax.set_ylabel("seconds (minimum)")
        memory_ax.set_ylabel("peak RSS, GiB (fresh process)")
        memory_ax.axhline(2.0, color="red", linewidth=0.8, linestyle=":", label="2 GiB target")
        for ax in (time_ax, memory_ax):
            ax.set_xlabel(xlabel)
            ax.grid(visible=True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            if log_x:
                ax.set_xscale("log")
        if log_x:
            time_ax.set_yscale("log")
    axes[0][0].set_title("time vs templates")
    axes[0][1].set_title("time vs years")
    axes[1][0].set_title("peak memory vs templates")
    axes[1][1].set_title("peak memory vs years")
    fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def run_scaling(args: argparse.Namespace, log: Callable[[str], None]) -> int:
    """Measure every point, print the table, write JSON, Parquet and the chart."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    machine = machine_info()
    market = SampleMarket.load()
    sigma = trailing_realized_vol(market.dates, market.closes, VOL_WINDOW)
    days = [d for d in market.dates if d in sigma]
    closes = dict(zip(market.dates, market.closes, strict=True))
    inputs = roofline_inputs(
        np.array([closes[d] for d in days]),
        np.array([sigma[d] for d in days]),
        rate=RATE,
        dividend_yield=DIVIDEND_YIELD,
        seed=args.seed,
    )
    plan = [
        ("templates", n, args.years, mode)
        for n in args.scaling_templates
        for mode in MODES
        if mode == "summary-only" or n <= args.scaling_full_max
    ] + [("years", args.b2_templates, y, mode) for y in args.scaling_years for mode in MODES]
    points: list[ScalingPoint] = []
    for dimension, n, years, mode in plan:
        spec = _spec(n, years, mode, args.seed, args.repeat)
        log(f"scaling: {dimension}: {n} templates, {years} years, {mode} ...")
        reading = measure(spec)
        roof = min(time_roofline(inputs, reading.marks, min(args.repeat, MAX_REPEAT)))
        fastest = min(reading.times)
        start, end = market.window(years)
        points.append(
            ScalingPoint(
                dimension=dimension,
                templates=n,
                years=years,
                mode=mode,
                sessions=int(market.days(start, end).size),
                positions=reading.positions,
                position_days=reading.position_days,
                marks=reading.marks,
                repeat=len(reading.times),
                time_min_s=fastest,
                time_median_s=median(reading.times),
                position_days_per_s=reading.position_days / fastest,
                roofline_s=roof,
                vs_roofline=fastest / roof if roof > 0 else float("nan"),
                peak_rss_mb=reading.peak_rss_mb,
                setup_rss_mb=reading.setup_rss_mb,
            )
        )
    seconds = time.perf_counter() - clock
    stem = results_stem(machine, started)
    out = args.out / "scaling"  # apart from the case results: another table shape
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "format": "hedgeframe-benchmarks-scaling",
        "format_version": 1,
        "run": {"run_id": stem, "started_at": started.isoformat(), "seconds": seconds, **machine},
        "points": [asdict(p) for p in points],
    }
    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    frame = pl.DataFrame([asdict(p) for p in points]).with_columns(
        pl.lit(stem).alias("run_id"),
        pl.lit(machine["git_sha"], dtype=pl.String).alias("run_git_sha"),
        pl.lit(machine["cpu"]).alias("run_cpu"),
    )
    frame.write_parquet(out / f"{stem}.parquet")
    title = (
        f"hedgeframe {machine['engine_version']}: B2 grid templates, ^GSPC, synthetic provider; "
        f"{machine['cpu']}, {machine['usable_cores']} cores, {started:%Y-%m-%d}"
    )
    plot(points, args.chart, title)
    print(markdown_table(points))
    print(f"\n{len(points)} points in {seconds:.0f} s; {json_path}; chart {args.chart}")
    return 0
