"""The HTML report and its charts (BT-003)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import hedgeframe as hf
from hedgeframe.events import EventComparison, builtin_event_presets, compare_events
from hedgeframe.models import ProviderSnapshot
from hedgeframe.providers import parse_provider_config
from hedgeframe.report import build_html, render_charts
from hedgeframe.report._describe import provider_notes
from hedgeframe.report._format import (
    fmt_int,
    fmt_ltv,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_text,
    fmt_utc,
)

EVENTS = ("china-deval-2015", "volmageddon-2018")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def comparison() -> EventComparison:
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(),
        volatility=hf.FirstAvailableVol([hf.IndexVol("^VIX"), hf.TrailingRealizedVol(21)]),
        spread_pct=0.01,
    )
    presets = [p for p in builtin_event_presets() if p.slug in EVENTS]
    return compare_events(presets, hf.seed_templates(), provider)


@pytest.fixture(scope="module")
def report(comparison: EventComparison, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return comparison.write_html(tmp_path_factory.mktemp("report") / "report.html")


def test_report_contains_every_event_and_template(
    comparison: EventComparison, report: Path
) -> None:
    text = report.read_text(encoding="utf-8")
    for preset in comparison.presets:
        assert preset.display_name in text
        assert f"id='event-{preset.slug}'" in text
    for template in hf.seed_templates():
        assert template.slug in text
    assert "Across events" in text
    assert "Rank in each event" in text


def test_report_is_self_contained(report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert "http://" not in text
    assert "https://" not in text
    assert "<script" not in text
    assert "<link" not in text
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 2 + 2 * len(EVENTS)


def test_report_states_assumptions_and_caveats(comparison: EventComparison, report: Path) -> None:
    text = report.read_text(encoding="utf-8")
    assert "Synthetic pricing" in text
    assert "not for trading" in text
    assert "arch-package:sp500.csv.gz" in text
    assert comparison.engine_version in text
    assert comparison.generated_at.strftime("%Y-%m-%d") in text
    assert "USD 1,000,000 of the underlying at each event&#x27;s first close" in text
    assert "^VIX close x 0.01 on the same day" in text
    assert "margin call at LTV 75%" in text


def test_charts_are_written_beside_the_report(report: Path) -> None:
    charts = sorted(p.name for p in (report.parent / "charts").iterdir())
    expected = {"ranks-heatmap.png", "margin-call-days.png"} | {
        f"{slug}-{kind}.png" for slug in EVENTS for kind in ("value", "ltv")
    }
    assert set(charts) == expected
    for name in charts:
        assert (report.parent / "charts" / name).read_bytes().startswith(PNG_MAGIC)


def test_charts_can_go_elsewhere(comparison: EventComparison, tmp_path: Path) -> None:
    comparison.write_html(tmp_path / "r.html", charts_dir=tmp_path / "png")
    assert (tmp_path / "png" / "ranks-heatmap.png").is_file()
    assert not (tmp_path / "charts").exists()


def test_render_and_build_are_usable_alone(comparison: EventComparison) -> None:
    charts = render_charts(comparison)
    assert [c.name for c in charts[:2]] == ["ranks-heatmap", "margin-call-days"]
    assert all(c.png.startswith(PNG_MAGIC) and c.alt for c in charts)
    assert build_html(comparison, charts).startswith("<!DOCTYPE html>")


def test_importing_the_reports_does_not_load_matplotlib() -> None:
    code = (
        "import sys, hedgeframe, hedgeframe.events, hedgeframe.report, hedgeframe.cli; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_formats() -> None:
    assert fmt_ltv(float("inf")) == "inf (hedged value <= 0)"
    assert fmt_ltv(0.7512) == "75.1%"
    assert fmt_money(1234567.8) == "1,234,568"
    assert fmt_money(-3760.77) == "-3,761"
    assert fmt_num(1409.339966) == "1,409.34"
    assert fmt_pct(0.05655) == "5.7%"
    assert fmt_int(1234) == "1,234"
    assert fmt_text(date(2008, 5, 1)) == "2008-05-01"
    assert fmt_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02 03:04:05 UTC"


@pytest.mark.parametrize("fmt", [fmt_ltv, fmt_money, fmt_num, fmt_pct, fmt_int, fmt_text])
def test_a_missing_value_is_an_empty_cell(fmt: Callable[[object], str]) -> None:
    """Null (SPEC 9.3), NaN and the -inf of a metric over no days never read as numbers."""
    assert fmt(None) == ""
    if fmt not in (fmt_int, fmt_text):
        assert fmt(float("nan")) == ""
        assert fmt(float("-inf")) == ""


def test_provider_notes_use_the_typed_configuration_s_words() -> None:
    stored = {
        "volatility": {"kind": "step", "steps": [["2008-09-15", 0.45]]},
        "rate": 0.01,
        "spread_pct": 0.0,
        "calendar": "XNYS",
    }
    notes = provider_notes(ProviderSnapshot(provider_id="synthetic_v1", config=stored))
    lines = parse_provider_config(stored).describe()
    assert notes.count("<li>") == len(lines)
    for line in lines:
        assert f"<li>{line}</li>" in notes
    assert "<li>volatility: step schedule (2008-09-15: 45.0%)</li>" in notes
    assert "<li>rate: 1.00% (continuously compounded)</li>" in notes


def test_an_unreadable_stored_configuration_is_listed_not_fatal() -> None:
    notes = provider_notes(ProviderSnapshot(provider_id="old_v0", config={"colour": 1}))
    assert "<li>provider old_v0</li><li>colour: 1</li>" in notes
    assert "not readable as a provider configuration by this version" in notes
    assert "colour" in notes.rsplit("<li>", 1)[1]  # the reason names the refused key
