"""``hedgeframe run --report`` and ``hedgeframe runs show --report``: a stored run's report."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import hedgeframe as hf

CONSTANT_VOL = '{"kind": "synthetic", "volatility": 0.2}'

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def stored(tmp_path: Path, cli: Run) -> tuple[str, Path]:
    """A data folder with the seed templates, and a scenario file for them (Q4 2018)."""
    data = tmp_path / "data"
    assert cli("templates", "create", "--seed", "--data", str(data))[0] == 0
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
    scenario = hf.make_scenario(
        hf.seed_templates(),
        provider,
        symbol="^GSPC",
        start_date=date(2018, 9, 20),
        end_date=date(2018, 12, 24),
        portfolio=hf.BacktestPortfolioState(
            underlying_units=10, entry_spot=2930.75, loan_amount=17_500, margin_call_ltv=0.75
        ),
    )
    path = tmp_path / "scenario.json"
    path.write_text(scenario.model_dump_json())
    return str(data), path


def test_run_writes_its_report(tmp_path: Path, cli: Run, stored: tuple[str, Path]) -> None:
    data, scenario = stored
    report = tmp_path / "out" / "run.html"
    code, out, err = cli(
        "run", str(scenario), "--provider", CONSTANT_VOL, "--data", data, "--report", str(report)
    )
    assert code == 0, err
    run_id = out.split()[1]
    assert f"report: {report} (charts in {report.parent / 'charts'})" in out
    text = report.read_text(encoding="utf-8")
    assert f"<td>run id</td><td>{run_id}</td>" in text
    result = hf.BacktestService(data).load_result(run_id)
    ranked = result.comparison.get_column("template_slug").to_list()
    shown = [text.index(f'<td class="">{slug}</td>') for slug in ranked]
    assert shown == sorted(shown)  # the ranked comparison lists the templates in rank order
    assert sorted(p.name for p in (report.parent / "charts").iterdir()) == [
        "scenario-ltv.png",
        "scenario-value.png",
    ]


def test_runs_show_writes_the_report_and_keeps_json_on_stdout(
    tmp_path: Path, cli: Run, stored: tuple[str, Path]
) -> None:
    data, scenario = stored
    code, out, err = cli("run", str(scenario), "--provider", CONSTANT_VOL, "--data", data)
    assert code == 0, err
    run_id = out.split()[1]
    report = tmp_path / "show.html"
    code, out, err = cli("runs", "show", run_id, "--data", data, "--json", "--report", str(report))
    assert code == 0, err
    assert [row["rank"] for row in json.loads(out)] == [1, 2, 3, 4]
    assert f"report: {report}" in err
    assert run_id in report.read_text(encoding="utf-8")
    code, out, _ = cli("runs", "show", run_id, "--data", data, "--report", str(report))
    assert code == 0
    assert f"report: {report}" in out


def test_a_folder_as_report_refuses_before_running(
    tmp_path: Path, cli: Run, stored: tuple[str, Path]
) -> None:
    data, scenario = stored
    folder = tmp_path / "reports"
    folder.mkdir()
    code, out, err = cli(
        "run", str(scenario), "--provider", CONSTANT_VOL, "--data", data, "--report", str(folder)
    )
    assert code == 2
    assert f"error: report path '{folder}' is a folder; name the HTML file" in err
    assert out == ""
    assert hf.BacktestService(data).list_runs() == []
    assert list(folder.iterdir()) == []


def test_runs_show_of_an_unknown_run_writes_no_report(tmp_path: Path, cli: Run) -> None:
    report = tmp_path / "r.html"
    code, _, err = cli(
        "runs", "show", "no-such-run", "--data", str(tmp_path), "--report", str(report)
    )
    assert code == 2
    assert "no-such-run" in err
    assert not report.exists()
