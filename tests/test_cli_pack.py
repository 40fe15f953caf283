"""The command line's pack, movement, compare, RAG policy, plots and help."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook
from test_cli import EXPECTED, PLACEMENTS, files, forecast_args, run  # noqa: F401

from forecastlib.cli import main

# This month's record: P6 is a new placement since 30 Sept (8 Oct .. 31 Dec at 700 a week,
# 85 days at 100 a day) and P2 had already ended, so it is unchanged.
NEW_PLACEMENT = "P6,C6,LAC Placements,Residential homes,2017-10-08,,2017-12-31,700,week,1,52,0\n"


@pytest.fixture()
def months(files):  # noqa: F811
    (files / "now.csv").write_text(PLACEMENTS + NEW_PLACEMENT)
    return files


def movement_args(files, *extra):  # noqa: F811
    return ["movement", "--placements", str(files / "now.csv"), "--previous-placements",
            str(files / "placements.csv"), "--budget", str(files / "budget.csv"),
            "--as-at", "2017-10-31", "--previous-as-at", "2017-09-30", *extra]


def test_xlsx_output_is_a_workbook_whose_figures_equal_the_json(files, capsys):  # noqa: F811
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts", "--format", "json"))
    payload = json.loads(out)
    target = files / "pack.xlsx"
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts", "--format", "csv",
                                                "--output", str(target)))
    assert status == 0 and out == ""
    workbook = load_workbook(target)
    assert workbook.sheetnames[:2] == ["Summary", "Key activity"]
    rows = list(workbook["Summary"].iter_rows(values_only=True))
    header = rows[next(k for k, row in enumerate(rows) if row[0] == "Service")]
    by_line = {(row[0], row[1]): row for row in rows}
    for line in payload["lines"]:
        row = by_line[(line["service"], line["category"])]
        assert row[header.index("Forecast outturn (mean)")] == line["forecast"]["mean"]
        assert row[header.index("Budget")] == line["budget"]
        assert row[header.index("Variance")] == line["variance"]
        assert row[header.index("Probability of overspend")] == line["prob_overspend"]
    key = ("LAC Placements", "Residential homes")
    assert by_line[key][header.index("Forecast outturn (mean)")] == round(EXPECTED[key], 2)


def test_json_and_csv_carry_probability_and_year_end_count(files, capsys):  # noqa: F811
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts", "--format", "json"))
    lines = {(line["service"], line["category"]): line for line in json.loads(out)["lines"]}
    # On 31 March: P1 ended in January, P3 runs to 2019, P4 to July 2018, P5 ends 31 March.
    assert lines[("LAC Placements", "Residential homes")]["year_end_count"]["mean"] == 0.0
    assert lines[("In-house Fostering", "Basic")]["year_end_count"]["upper"] == 1.0
    assert lines[("Older People", "Homecare")]["year_end_count"]["p50"] == 1.0
    assert lines[("In-house Fostering", "Basic")]["prob_overspend"] == 1.0
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts", "--format", "csv"))
    header = out.splitlines()[0].split(",")
    assert {"prob_overspend", "year_end_count_mean", "year_end_count_upper"} <= set(header)
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts"))
    assert "P(overspend)" in out and "Placements at 31 March" in out


def test_rag_flags_and_config_file(files, capsys):  # noqa: F811
    argv = forecast_args(files, "--no-new-starts", "--format", "json")
    key = ("LAC Placements", "Residential homes")  # 44,200 over a budget of 182,000

    def rating(*extra: str) -> str:
        status, out, _ = run(capsys, *argv, *extra)
        assert status == 0
        return next(x["rag"] for x in json.loads(out)["lines"]
                    if (x["service"], x["category"]) == key)

    assert rating() == "amber"  # 24% over but under the GBP 50k red amount
    assert rating("--red-amount", "40000") == "red"
    assert rating("--amber-share", "30%", "--red-share", "40%") == "green"
    (files / "rag.yaml").write_text("red_amount: 40000\n")
    assert rating("--rag", str(files / "rag.yaml")) == "red"
    assert rating("--rag", str(files / "rag.yaml"), "--red-amount", "60000") == "amber"
    (files / "bad.yaml").write_text("red_shares: 0.6\n")
    status, out, err = run(capsys, *argv, "--rag", str(files / "bad.yaml"))
    assert status == 2 and out == "" and "red_shares: unknown key" in err
    status, _, err = run(capsys, *argv, "--red-share", "0.001")
    assert status == 2 and "red thresholds must be at least the amber ones" in err
    status, out, _ = run(capsys, *forecast_args(files, "--no-new-starts",
                                                "--commentary-amount", "250000"))
    assert "max(2% of budget, GBP 250k)" in out


def test_movement_command_splits_the_change_exactly(months, capsys):
    status, out, _ = run(capsys, *movement_args(months, "--no-new-starts", "--format",
                                                "json"))
    assert status == 0
    payload = json.loads(out)
    assert payload["previous_as_at"] == "2017-09-30"
    line = next(x for x in payload["lines"] if x["category"] == "Residential homes")
    assert set(line) >= {"service", "category", "previous", "current", "change", "components"}
    assert line["components"]["new_placements"] == 8500.0
    assert line["change"] == 8500.0 and line["components"]["model"] == 0.0
    for entry in [*payload["lines"], payload["total"]]:
        assert round(sum(entry["components"].values()) * 100) == round(entry["change"] * 100)
    # Running on 30 Sept: P1 and P2 (its last day); on 31 Oct: P1 and P6.
    assert line["direction"] == {"placements": "level", "unit_cost": "down", "forecast": "up"}
    status, out, _ = run(capsys, *movement_args(months, "--no-new-starts"))
    assert status == 0 and "\u2191" in out and "New" in out
    status, out, _ = run(capsys, *movement_args(months, "--no-new-starts", "--format", "csv"))
    assert out.splitlines()[-1].startswith("Total,")


def test_movement_xlsx_and_plots(months, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target, charts = tmp_path / "movement.xlsx", tmp_path / "charts"
    status, out, err = run(capsys, *movement_args(months, "--no-new-starts", "--output",
                                                  str(target), "--plots", str(charts)))
    assert status == 0 and out == ""
    workbook = load_workbook(target)
    assert "Movement" in workbook.sheetnames and "Charts" in workbook.sheetnames
    written = sorted(p.name for p in charts.iterdir())
    assert written == ["fan_chart.png", "movement_waterfall.png", "variance_by_service.png"]
    assert all((charts / name).read_bytes()[:4] == b"\x89PNG" for name in written)
    status, _, err = run(capsys, *movement_args(months, "--format", "xlsx"))
    assert status == 2 and "--output NAME.xlsx" in err


def test_compare_prints_base_scenario_and_the_difference(files, capsys):  # noqa: F811
    (files / "extra.json").write_text(json.dumps({
        "name": "Two extra residential", "changes": [{
            "kind": "extra_placements", "service": "LAC Placements",
            "category": "Residential homes", "count": 2, "start": "2017-11-01",
            "unit_cost": 700, "duration_weeks": 10}]}))
    argv = ["compare", "--placements", str(files / "placements.csv"), "--budget",
            str(files / "budget.csv"), "--as-at", "2017-10-31", "--no-new-starts",
            "--scenario", str(files / "extra.json")]
    status, out, _ = run(capsys, *argv, "--format", "json")
    assert status == 0
    scenario = json.loads(out)["scenarios"][0]
    assert scenario["name"] == "Two extra residential"
    # Two placements of 70 days at 100 a day, all within the year: exact arithmetic.
    assert scenario["total"]["difference"] == {"mean": 14000.0, "lower": 14000.0,
                                               "upper": 14000.0}
    assert scenario["total"]["scenario"] - scenario["total"]["base"] == pytest.approx(14000)
    status, out, _ = run(capsys, *argv)
    assert status == 0 and "Two extra residential" in out and "14 to 14" in out
    target = files / "compare.xlsx"
    assert run(capsys, *argv, "--output", str(target))[0] == 0
    rows = list(load_workbook(target)["Scenarios"].iter_rows(values_only=True))
    assert any(row[0] == "Two extra residential" and row[5] == 14000.0 for row in rows)


@pytest.mark.parametrize("command", ["demo", "forecast", "activity", "movement", "compare"])
def test_every_command_has_help_with_examples(command, capsys):
    assert main([command, "--help"]) == 0
    assert "examples:" in capsys.readouterr().out


def test_demo_writes_the_pack(tmp_path, capsys):
    target = tmp_path / "demo.xlsx"
    status, out, _ = run(capsys, "demo", "--simulations", "100", "--output", str(target))
    assert status == 0 and out == ""
    workbook = load_workbook(io.BytesIO(target.read_bytes()))
    assert workbook.sheetnames[:2] == ["Summary", "Key activity"]
