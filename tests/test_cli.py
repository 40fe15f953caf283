"""The command line: contract JSON, exact arithmetic, bad input and output files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from forecastlib.cli import main
from forecastlib.outturn import forecast_outturn
from forecastlib.report import result_to_json_dict

PLACEMENTS_HEADER = ("placement_id,client_id,service,category,start_date,end_date,"
                     "planned_end_date,unit_cost,unit,units_per_week,weeks_per_year,"
                     "income_per_week\n")
PLACEMENTS = PLACEMENTS_HEADER + """\
P1,C1,LAC Placements,Residential homes,2017-04-01,,2018-01-31,3500,week,1,52,0
P2,C2,LAC Placements,Residential homes,01/06/2017,30/09/2017,,4200,week,1,52,0
P3,C3,In-house Fostering,Basic,2016-12-01,,2019-06-30,182,week,1,56,0
P4,C4,SEN Placements,ASD,2017-09-01,,2018-07-31,63000,year,1,52,0
P5,C5,Older People,Homecare,2017-05-01,2018-03-31,,16,hour,10,52,20
"""
BUDGET = ("service,category,budget_placements,budget_unit_cost,unit,units_per_week,"
          "weeks_per_year,annual_budget\n") + """LAC Placements,Residential homes,1,3500,week,1,52,
In-house Fostering,Basic,1,180,week,1,56,
SEN Placements,ASD,1,60000,year,1,52,
Older People,Homecare,,,,,,8000
Older People,Savings,,,,,,-5000
"""


def days(first: str, last: str) -> int:
    import numpy as np

    return int((np.datetime64(last) - np.datetime64(first)).astype(int)) + 1


# Hand-computed FY2017 accruals (exact fractions, rounded once).
EXPECTED = {
    ("LAC Placements", "Residential homes"):
        3500 * days("2017-04-01", "2018-01-31") / 7 + 4200 * days("2017-06-01", "2017-09-30") / 7,
    ("In-house Fostering", "Basic"): 182 * 56 * 365 / 364,
    ("SEN Placements", "ASD"): 63000 * days("2017-09-01", "2018-03-31") / 365,
    ("Older People", "Homecare"): (160 - 20) * days("2017-05-01", "2018-03-31") / 7,
    ("Older People", "Savings"): 0.0,
}


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "placements.csv").write_text(PLACEMENTS)
    (tmp_path / "budget.csv").write_text(BUDGET)
    return tmp_path


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def forecast_args(files, *extra):
    return ["forecast", "--placements", str(files / "placements.csv"), "--budget",
            str(files / "budget.csv"), "--as-at", "2017-10-31", *extra]


def test_no_new_starts_with_planned_ends_is_exact_arithmetic_to_the_penny(files, capsys):
    status, out, err = run(capsys, *forecast_args(files, "--no-new-starts", "--format", "json"))
    assert status == 0 and "not yet modelled" not in err
    payload = json.loads(out)
    lines = {(line["service"], line["category"]): line for line in payload["lines"]}
    assert set(lines) == set(EXPECTED)
    for key, amount in EXPECTED.items():
        forecast = lines[key]["forecast"]
        assert forecast["mean"] == forecast["p50"] == forecast["lower"] == forecast["upper"]
        assert forecast["mean"] == round(amount, 2), key
    assert payload["total"]["forecast"]["mean"] == round(sum(EXPECTED.values()), 2)
    assert lines[("Older People", "Savings")]["variance"] == 5000.0


def test_forecast_with_new_starts_simulates_and_is_reproducible(files, capsys):
    argv = forecast_args(files, "--simulations", "300", "--seed", "5", "--format", "json")
    status, out, _ = run(capsys, *argv)
    assert status == 0
    payload = json.loads(out)
    assert payload["simulations"] == 300
    for line in payload["lines"]:
        forecast = line["forecast"]
        assert forecast["lower"] <= forecast["p50"] <= forecast["upper"]
    assert run(capsys, *argv)[1] == out  # same seed, same numbers
    status, table, _ = run(capsys, *forecast_args(files, "--simulations", "200"))
    assert status == 0 and "Interval" in table


def test_uk_as_at_and_csv_output_file(files, capsys):
    target = files / "out.csv"
    status, out, _ = run(capsys, "forecast", "--placements", str(files / "placements.csv"),
                         "--budget", str(files / "budget.csv"), "--as-at", "31/10/2017",
                         "--no-new-starts", "--format", "csv", "--output", str(target))
    assert status == 0 and out == ""
    assert target.read_text().splitlines()[-1].startswith("Total,")


def test_bad_input_exits_2_names_file_row_column_and_writes_nothing(files, capsys):
    (files / "placements.csv").write_text(PLACEMENTS.replace("2017-09-01", "09/31/2017"))
    target = files / "out.json"
    status, out, err = run(capsys, *forecast_args(files, "--format", "json", "--output",
                                                  str(target)))
    assert status == 2 and out == "" and not target.exists()
    assert "placements.csv, row 5, column 'start_date': value '09/31/2017'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["--as-at", "2017-31-10"],
    ["--as-at", "10/31/2017"],
    ["--interval", "1.5"],
    ["--simulations", "0"],
    ["--scenario", "missing.yaml"],
])
def test_bad_options_exit_2(files, capsys, argv):
    base = forecast_args(files)
    base = base[:-2] + argv if argv[0] == "--as-at" else base + argv
    status, out, err = run(capsys, *base)
    assert status == 2 and out == "" and err.startswith("forecastlib: error:")


def test_missing_output_folder_is_refused(files, capsys):
    status, _, err = run(capsys, *forecast_args(files, "--output", str(files / "no" / "x.json")))
    assert status == 2 and "does not exist" in err


def test_demo_json_and_activity(capsys):
    status, out, _ = run(capsys, "demo", "--format", "json", "--simulations", "200")
    assert status == 0 and json.loads(out)["as_at"] == "2017-10-31"
    status, out, _ = run(capsys, "demo", "--simulations", "200")
    assert status == 0 and max(len(line) for line in out.splitlines()) <= 100


def test_demo_on_forked_workers_reports_the_library_forecast(capsys, sample):
    # the command line fits and simulates in forked processes (where the platform forks);
    # the report is the one a library call on threads gives (three blocks, the last partial)
    status, out, _ = run(capsys, "demo", "--format", "json", "--simulations", "2300",
                         "--seed", "4")
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=2300, seed=4)
    assert status == 0
    assert out == json.dumps(result_to_json_dict(result), indent=2) + "\n"


def test_activity_command(files, capsys):
    status, out, _ = run(capsys, "activity", "--placements", str(files / "placements.csv"),
                         "--budget", str(files / "budget.csv"), "--as-at", "2017-10-31")
    assert status == 0 and "Residential homes" in out


def test_console_script_has_exit_status_2_without_traceback(tmp_path):
    (tmp_path / "p.csv").write_text("placement_id\nP1\n")
    (tmp_path / "b.csv").write_text("service,annual_budget\nX,1\n")
    done = subprocess.run([sys.executable, "-m", "forecastlib", "forecast", "--placements",
                           str(tmp_path / "p.csv"), "--budget", str(tmp_path / "b.csv"),
                           "--as-at", "2017-10-31"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "column 'unit_cost'" in done.stderr


def test_python_dash_m_forecastlib_is_the_console_script(files, capsys):
    argv = ["activity", "--placements", str(files / "placements.csv"), "--budget",
            str(files / "budget.csv"), "--as-at", "2017-10-31", "--format", "csv"]
    done = subprocess.run([sys.executable, "-m", "forecastlib", *argv], capture_output=True,
                          text=True, timeout=120)
    status, out, err = run(capsys, *argv)
    assert done.returncode == status == 0 and done.stderr == err
    assert done.stdout == out and "Residential homes" in out


PROGRAM = """
import gc, os, sys
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.pop(name, None)
os.environ.update(dict(arg.split("=") for arg in sys.argv[1:]))
sys.argv = ["forecastlib", "--version"]
import forecastlib.__main__ as program
assert "numpy" not in sys.modules  # the program chooses BLAS threads before numpy loads
status = program.run()
print(status, os.environ.get("OPENBLAS_NUM_THREADS"), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize("environment, blas", [((), "1"), (("OMP_NUM_THREADS=3",), "None"),
                                               (("OPENBLAS_NUM_THREADS=2",), "2")])
def test_the_program_runs_one_blas_thread_unless_told_and_freezes_before_exit(environment,
                                                                              blas):
    done = subprocess.run([sys.executable, "-c", PROGRAM, *environment], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ["0", blas, "True"]
