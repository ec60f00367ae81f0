"""The command line, called through ``main(argv)`` as a script would (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

import hedgeframe as hf
from hedgeframe.cli import app
from hedgeframe.errors import DataFetchError

REPO = Path(__file__).resolve().parents[2]
RECORDED = REPO / "tests" / "data" / "recorded"
FIXTURES = REPO / "fixtures"
SAMPLE_EVENTS = (
    "dotcom-2000-2002",
    "gfc-2007-2009",
    "flash-crash-2010",
    "us-downgrade-2011",
    "china-deval-2015",
    "volmageddon-2018",
    "q4-2018",
)
CONSTANT_VOL = '{"kind": "synthetic", "volatility": 0.2}'

Run = Callable[..., tuple[int, str, str]]
"""The ``cli`` fixture (tests/conftest.py): exit code, stdout, stderr."""


# -- demo ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_end_to_end(tmp_path: Path, cli: Run) -> None:
    out = tmp_path / "demo"
    code, stdout, stderr = cli("demo", "--out", str(out))
    assert code == 0, stderr
    for template in hf.demo_templates():
        assert template.slug in stdout
    for slug in SAMPLE_EVENTS:
        assert slug in stdout
    assert "Across events (1 = best)" in stdout
    assert "warning: q4-2018: the ^GSPC data end 2018-12-31" in stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert all(slug in report for slug in SAMPLE_EVENTS)
    assert len(list((out / "charts").glob("*.png"))) == 2 + 2 * len(SAMPLE_EVENTS)
    glob = out / "across_events" / "*" / "*.parquet"
    ranks = _sql(
        f"SELECT rank, events FROM read_parquet('{glob}', hive_partitioning = true) "
        "ORDER BY comparison_id, rank"
    )
    # Two comparisons: the default portfolio, and the same with a lender (4 %, cure).
    each = [(rank, 7) for rank in range(1, len(hf.demo_templates()) + 1)]
    assert ranks == each + each
    assert "With a lender: loan at 4 % a year" in stdout
    assert (out / "report-lender.html").is_file()
    comparison = pl.read_parquet(out / "comparison" / "*" / "*.parquet", hive_partitioning=True)
    assert comparison["run_id"].n_unique() == 2 * len(SAMPLE_EVENTS)
    assert set(comparison["status"]) == {"complete"}


# -- usage and exit codes ----------------------------------------------------------------------


def _sql(query: str) -> list[tuple[Any, ...]]:
    relation = duckdb.sql(query)
    assert relation is not None
    return relation.fetchall()


def test_version(cli: Run) -> None:
    code, out, _ = cli("version")
    assert code == 0
    assert hf.__version__ in out


def test_unknown_command_is_one_line_and_exits_2(cli: Run) -> None:
    code, _, err = cli("bogus")
    assert code == 2
    assert "No such command" in err
    assert len(err.strip().splitlines()) == 1


def test_no_arguments_show_help_and_exit_2(cli: Run) -> None:
    code, out, err = cli()
    assert code == 2
    assert "demo" in out + err


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for command in app.registered_commands:
        assert command.callback is not None
        paths.append([command.name or command.callback.__name__.replace("_", "-")])
    for group in app.registered_groups:
        assert group.typer_instance is not None
        assert group.name is not None
        paths.append([group.name])
        paths.extend([group.name, str(c.name)] for c in group.typer_instance.registered_commands)
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "(top)")
def test_help_everywhere(path: list[str], cli: Run) -> None:
    code, out, _ = cli(*path, "--help")
    assert code == 0
    assert "Usage" in out


def test_missing_option_is_a_usage_error(cli: Run) -> None:
    code, _, err = cli("data", "fetch", "SPY")
    assert code == 2
    assert err.startswith("error:")


# -- templates ---------------------------------------------------------------------------------


def test_templates_lifecycle(tmp_path: Path, cli: Run) -> None:
    data = str(tmp_path / "data")
    code, out, _ = cli("templates", "list", "--data", data)
    assert (code, "no templates") == (0, out[:12])
    code, out, _ = cli("templates", "create", "--seed", "--data", data)
    assert code == 0
    assert [t["slug"] for t in json.loads(out)] == [t.slug for t in hf.seed_templates()]
    code, out, _ = cli("templates", "list", "--data", data)
    assert code == 0
    assert "protective-put-atm-12m" in out
    code, out, _ = cli("templates", "show", "protective-put-atm-12m", "--data", data)
    assert json.loads(out)["version"] == 1
    changes = tmp_path / "changes.json"
    changes.write_text('{"description": "ATM put, reviewed"}')
    code, out, _ = cli(
        "templates", "update", "protective-put-atm-12m", str(changes), "--data", data
    )
    assert code == 0
    assert (json.loads(out)["version"], json.loads(out)["description"]) == (2, "ATM put, reviewed")
    code, out, _ = cli(
        "templates", "show", "protective-put-atm-12m", "--version", "1", "--data", data
    )
    assert json.loads(out)["description"].startswith("Protective put ATM 12m")
    code, out, _ = cli("templates", "archive", "protective-put-atm-12m", "--data", data)
    assert json.loads(out)["status"] == "archived"
    code, out, _ = cli("templates", "list", "--json", "--data", data)
    assert "protective-put-atm-12m" not in {t["slug"] for t in json.loads(out)}
    code, out, _ = cli("templates", "list", "--all", "--json", "--data", data)
    assert "protective-put-atm-12m" in {t["slug"] for t in json.loads(out)}


def test_templates_create_from_json(tmp_path: Path, cli: Run) -> None:
    template = hf.protective_put("pp-90-6m", spot_pct=0.9, target_expiry_days=182)
    path = tmp_path / "template.json"
    path.write_text(template.model_dump_json())
    code, out, _ = cli("templates", "create", str(path), "--data", str(tmp_path))
    assert code == 0
    assert json.loads(out)["template_id"] == template.template_id
    inline = hf.protective_put("pp-80-6m", spot_pct=0.8).model_dump_json()
    assert cli("templates", "create", inline, "--data", str(tmp_path))[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["templates", "create", "{not json"], "is not valid JSON"),
        (["templates", "create", '{"slug": "x"}'], "template_kind: Field required"),
        (["templates", "create", "nope.json"], "does not exist"),
        (["templates", "create"], "give a template JSON or --seed"),
        (["templates", "show", "no-such-template"], "no template with slug 'no-such-template'"),
        (["templates", "update", "x", "[]"], "non-empty JSON object"),
    ],
)
def test_template_errors_are_one_line(
    argv: list[str], message: str, tmp_path: Path, cli: Run
) -> None:
    code, _, err = cli(*argv, "--data", str(tmp_path))
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_template_update_of_a_repository_field_is_bad_input(tmp_path: Path, cli: Run) -> None:
    cli("templates", "create", "--seed", "--data", str(tmp_path))
    code, _, err = cli(
        "templates", "update", "protective-put-atm-12m", '{"version": 9}', "--data", str(tmp_path)
    )
    assert code == 2
    assert "repository assigns them" in err


# -- run and runs ------------------------------------------------------------------------------


def _scenario_file(tmp_path: Path, templates: list[hf.StrategyTemplate]) -> Path:
    provider = hf.SyntheticHistoricalProvider(hf.sample_store(), volatility=hf.ConstantVol(0.2))
    scenario = hf.make_scenario(
        templates,
        provider,
        symbol="^GSPC",
        start_date=date(2018, 1, 26),
        end_date=date(2018, 4, 30),
        portfolio=hf.BacktestPortfolioState(
            underlying_units=100, entry_spot=2872.87, loan_amount=170_000, margin_call_ltv=0.75
        ),
    )
    path = tmp_path / "scenario.json"
    path.write_text(scenario.model_dump_json())
    return path


def test_run_and_runs(tmp_path: Path, cli: Run) -> None:
    data = str(tmp_path / "data")
    cli("templates", "create", "--seed", "--data", data)
    scenario = _scenario_file(tmp_path, hf.seed_templates())
    code, out, err = cli("run", str(scenario), "--provider", CONSTANT_VOL, "--data", data)
    assert code == 0, err
    run_id = out.split()[1]
    assert out.startswith(f"run {run_id} completed")
    assert "protective-put-atm-12m" in out
    code, out, _ = cli("runs", "list", "--data", data)
    assert run_id in out
    code, out, _ = cli("runs", "show", run_id, "--data", data)
    assert code == 0
    assert "ladder-50-50-atm-95pct-12m" in out
    code, out, _ = cli("runs", "show", run_id, "--json", "--data", data)
    assert [row["rank"] for row in json.loads(out)] == [1, 2, 3, 4]
    code, out, _ = cli("runs", "list", "--json", "--data", data)
    assert json.loads(out)[0]["status"] == "completed"
    stored = pl.read_parquet(
        Path(data) / "backtests" / "summary" / f"run_id={run_id}" / "*.parquet"
    )
    assert stored.height == 4


def test_a_failed_run_is_recorded_and_exits_2(tmp_path: Path, cli: Run) -> None:
    data = str(tmp_path / "data")
    scenario = _scenario_file(tmp_path, [hf.protective_put("not-stored")])
    code, out, err = cli("run", str(scenario), "--provider", CONSTANT_VOL, "--data", data)
    assert code == 2
    assert "failed" in out
    assert "TemplateNotFoundError" in err
    assert cli("runs", "list", "--data", data)[1].count("failed") == 1


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ('{"kind": "quantum"}', "Input tag 'quantum' found using 'kind' does not match"),
        ('{"kind": "synthetic", "colour": 1}', "colour = 1: Extra inputs are not permitted"),
        ('{"volatility": {"kind": "garch"}}', "volatility: Input tag 'garch' found using 'kind'"),
        ('{"volatility": -1}', "ConstantVol value must be a finite volatility > 0"),
        ("[1]", "must be a JSON object"),
    ],
)
def test_bad_provider_configs(provider: str, message: str, tmp_path: Path, cli: Run) -> None:
    scenario = _scenario_file(tmp_path, hf.seed_templates())
    code, _, err = cli("run", str(scenario), "--provider", provider, "--data", str(tmp_path))
    assert code == 2
    assert message in err


def test_provider_config_accepts_every_volatility_regime(tmp_path: Path, cli: Run) -> None:
    data = str(tmp_path / "data")
    cli("templates", "create", "--seed", "--data", data)
    scenario = _scenario_file(tmp_path, hf.seed_templates())
    config = {
        "kind": "synthetic",
        "store": str(hf.sample_store().root),
        "volatility": {
            "kind": "first_available",
            "regimes": [
                {"kind": "index", "symbol": "^VIX", "scale": 0.01},
                {"kind": "step", "steps": [["1990-01-02", 0.2]]},
                {"kind": "constant", "value": 0.3},
                {"kind": "trailing_realized", "window": 21},
            ],
        },
        "rate": 0.01,
        "spread_pct": 0.01,
    }
    path = tmp_path / "provider.json"
    path.write_text(json.dumps(config))
    assert cli("run", str(scenario), "--provider", str(path), "--data", data)[0] == 0


# -- events -------------------------------------------------------------------------------------


def test_events_list(tmp_path: Path, cli: Run) -> None:
    code, out, _ = cli("events", "list", "--data", str(tmp_path))
    assert code == 0
    for slug in (*SAMPLE_EVENTS, "covid-crash-2020", "gold-crash-2013"):
        assert slug in out
    code, out, _ = cli("events", "list", "--tag", "needs-fetch", "--json", "--data", str(tmp_path))
    listed = json.loads(out)
    assert {p["slug"] for p in listed} == {"covid-crash-2020", "rate-shock-2022", "gold-crash-2013"}
    assert {p["origin"] for p in listed} == {"builtin"}


def test_events_add_and_compare(tmp_path: Path, cli: Run) -> None:
    data = str(tmp_path / "data")
    preset = hf.EventPreset(
        slug="brexit-2016",
        display_name="Brexit vote 2016",
        symbol="^GSPC",
        window_start=date(2016, 6, 8),
        window_end=date(2016, 6, 27),
        tags=["custom"],
    )
    code, out, _ = cli("events", "add", preset.model_dump_json(), "--data", data)
    assert code == 0
    assert json.loads(out)["slug"] == "brexit-2016"
    assert "stored" in cli("events", "list", "--data", data)[1]
    out_dir = tmp_path / "out"
    code, out, err = cli(
        "events", "compare", "brexit-2016", "volmageddon-2018",
        "--template", "protective-put-atm-12m", "--template", "protective-put-95pct-12m",
        "--provider", CONSTANT_VOL, "--out", str(out_dir), "--data", data,
        "--units", "100", "--loan-to-value", "0.5",
    )  # fmt: skip
    assert code == 0, err
    assert "brexit-2016" in out
    assert "protective-put-95pct-12m" in out
    assert "100 units" in out
    assert (out_dir / "report.html").is_file()
    events = pl.read_parquet(out_dir / "events" / "*" / "*.parquet")
    assert events["underlying_units"].to_list() == [100.0, 100.0]


def test_events_compare_by_tag_skips_events_without_data(tmp_path: Path, cli: Run) -> None:
    code, _, err = cli(
        "events", "compare", "--tag", "needs-fetch", "--out", str(tmp_path), "--data", str(tmp_path)
    )
    assert code == 2
    assert "none of the events has data" in err


def test_events_compare_errors(tmp_path: Path, cli: Run) -> None:
    code, _, err = cli("events", "compare", "no-such-event", "--data", str(tmp_path))
    assert code == 2
    assert "unknown event slug(s) ['no-such-event']" in err
    code, _, err = cli(
        "events", "compare", "covid-crash-2020", "--data", str(tmp_path), "--out", str(tmp_path)
    )
    assert code == 2
    assert "hedgeframe data fetch ^GSPC" in err
    code, _, err = cli("events", "compare", "--tag", "nope", "--data", str(tmp_path))
    assert (code, "no event presets match") == (2, err[7:29])


# -- data ---------------------------------------------------------------------------------------


class RecordedDownloader:
    """Plays back a recorded yfinance CSV and remembers the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, date, date, bool]] = []

    def __call__(self, symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        self.calls.append((symbol, start, end, auto_adjust))
        name = "yfinance_spy_adjusted.csv" if auto_adjust else "yfinance_spy_raw.csv"
        return pl.read_csv(RECORDED / name, try_parse_dates=True)


def test_data_fetch_with_a_recorded_downloader(tmp_path: Path, cli: Run) -> None:
    store = tmp_path / "store"
    downloader = RecordedDownloader()
    code, out, err = cli(
        "data", "fetch", "SPY", "--start", "2020-01-02", "--end", "2020-01-08",
        "--store", str(store), "--raw", downloader=downloader,
    )  # fmt: skip
    assert code == 0, err
    assert downloader.calls == [("SPY", date(2020, 1, 2), date(2020, 1, 9), False)]
    assert "SPY: 5 bars 2020-01-02..2020-01-08 (yfinance:raw)" in out
    bars = hf.MarketDataStore(store).underlying_bars("SPY")
    assert bars["close"][0] == 324.87
    code, out, _ = cli("data", "list", "--store", str(store))
    assert code == 0
    assert "SPY" in out


def test_data_fetch_failure_is_one_line(tmp_path: Path, cli: Run) -> None:
    def offline(symbol: str, *, start: date, end: date, auto_adjust: bool) -> Any:
        msg = "no network"
        raise ConnectionError(msg)

    code, _, err = cli(
        "data", "fetch", "^GSPC", "--start", "2020-01-02", "--end", "2020-01-08",
        "--store", str(tmp_path), downloader=offline,
    )  # fmt: skip
    assert code == 2
    assert "could not download '^GSPC'" in err
    assert issubclass(DataFetchError, ConnectionError)


def test_data_import_bars_and_chains(tmp_path: Path, cli: Run) -> None:
    store = str(tmp_path / "store")
    code, out, err = cli(
        "data", "import-bars", str(RECORDED / "yfinance_spy_raw.csv"), "--symbol", "SPY",
        "--store", store,
    )  # fmt: skip
    assert code == 0, err
    assert "SPY: 5 bars" in out
    code, out, err = cli(
        "data", "import-chain", str(RECORDED / "cboe_eod_sample.csv"), "--format", "cboe",
        "--store", store,
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("^SPX: ")
    code, out, err = cli(
        "data", "import-chain", str(FIXTURES / "listed_chain.csv"), "--store", store
    )
    assert code == 0, err
    code, out, _ = cli("data", "list", "--store", store)
    assert "option quotes" in out
    assert "^SPX" in out
    assert "FIX" in out


def test_data_import_errors(tmp_path: Path, cli: Run) -> None:
    code, _, err = cli("data", "import-bars", str(tmp_path / "missing.csv"), "--symbol", "X")
    assert code == 2
    assert "does not exist" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Close\n2020-01-02,-1\n")
    code, _, err = cli("data", "import-bars", str(bad), "--symbol", "X", "--store", str(tmp_path))
    assert code == 2
    assert "nothing was written" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli(
        "data", "import-chain", str(bad), "--format", "csv", "--store", str(tmp_path)
    )
    assert code == 2
    assert "--format must be 'generic' or 'cboe'" in err


def test_data_sample_and_copy(tmp_path: Path, cli: Run) -> None:
    code, out, _ = cli("data", "sample", "--to", str(tmp_path / "copy"))
    assert code == 0
    assert "^GSPC" in out
    assert "not for trading" in out
    assert "copied 3 symbols" in out
    assert hf.MarketDataStore(tmp_path / "copy").symbols() == ["^GSPC", "^IXIC", "^VIX"]
    assert cli("data", "list", "--store", str(tmp_path / "empty"))[1].startswith("no underlying")


def test_snapshot_provider_config_builds_the_snapshot_provider(tmp_path: Path) -> None:
    provider = hf.provider_from_config(
        {"kind": "snapshot", "store": str(tmp_path), "fill": "bid_ask", "max_stale_days": 3}
    )
    assert isinstance(provider, hf.DailyOptionsSnapshotProvider)
    assert provider.snapshot().config["max_stale_days"] == 3
    with pytest.raises(hf.InvalidModelError, match=r"snapshot.fill = 'ask': Input should be"):
        hf.provider_from_config({"kind": "snapshot", "store": str(tmp_path), "fill": "ask"})
    sample = hf.provider_from_config({"kind": "snapshot"})  # no store: the bundled sample's
    with pytest.raises(hf.HedgeframeError, match="holds no option quotes for \\^GSPC"):
        sample.load_timeline("^GSPC", date(2018, 1, 2), date(2018, 2, 1))


def test_templates_create_takes_the_new_kinds_and_list_says_their_rule(
    tmp_path: Path, cli: Run
) -> None:
    data = str(tmp_path / "data")
    structures = [hf.zero_cost_collar(), hf.put_spread(), hf.collar(), hf.unhedged()]
    payload = json.dumps([t.model_dump(mode="json") for t in structures])
    code, out, err = cli("templates", "create", payload, "--data", data)
    assert code == 0, err
    assert [t["template_kind"] for t in json.loads(out)] == [
        "collar",
        "put_spread",
        "collar",
        "unhedged",
    ]
    code, out, _ = cli("templates", "list", "--data", data)
    assert code == 0
    assert "short call at 110 % of spot, 365 days, covers 100 % of the units" in out
    assert "no hedge: the collateral and the loan alone" in out
    naked = hf.collar().model_dump(mode="json")
    naked["legs"][1]["allocation_weight"] = 1.0
    naked["legs"][1]["target_coverage_pct"] = 1.0
    naked["legs"].append({**naked["legs"][1], "leg_id": "another-call"})
    code, _, err = cli("templates", "create", json.dumps(naked), "--data", data)
    assert code == 2
    assert "short calls cover 2 of the units" in err
