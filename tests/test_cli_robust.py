"""Awkward but realistic council files through the command line (issue 10).

Every valid file ends in a forecast (exit 0); every refusal is exit 2 with one clear
line naming what, nothing written and the input files untouched (same bytes, same
modification time); an unexpected error is exit 1 with one line naming the saved
report, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forecastlib.cli import main

HEADER = ("placement_id,client_id,service,category,start_date,end_date,planned_end_date,"
          "unit_cost,unit,units_per_week,weeks_per_year,income_per_week\n")
BUDGET = ("service,category,budget_placements,budget_unit_cost,unit,units_per_week,"
          "weeks_per_year,annual_budget\n"
          "LAC Placements,Residential homes,2,3500,week,1,52,\n"
          "In-house Fostering,Basic,2,180,week,1,56,\n"
          "Older People,Savings,,,,,,-5000\n")
ACTUALS = ("service,category,period,amount\n"
           "LAC Placements,Residential homes,1,30000\n"
           "LAC Placements,Residential homes,2,31000.5\n"
           "In-house Fostering,Basic,1,1500\n")
HISTORY = [
    "P1,C1,LAC Placements,Residential homes,2015-06-01,2016-02-10,,3300,week,1,52,0",
    "P2,C2,LAC Placements,Residential homes,2016-01-04,2016-09-30,,3400,week,1,52,0",
    "P3,C3,LAC Placements,Residential homes,2016-09-01,,,3500,week,1,52,0",
    "P4,C4,In-house Fostering,Basic,2016-03-01,2017-03-31,,180,week,1,56,0",
    "P5,C5,In-house Fostering,Basic,2016-12-01,,,182,week,1,56,0",
    "P6,C6,In-house Fostering,Basic,2017-02-01,2017-05-01,,182,week,1,56,0",
]
AS_AT = "2017-10-31"


def placements(*rows: str) -> str:
    return HEADER + "".join(row + "\n" for row in rows)


def days(first: str, last: str) -> int:
    import numpy as np

    return int((np.datetime64(last) - np.datetime64(first)).astype(int)) + 1


class Files:
    """A folder of input files whose bytes and times are checked after each run."""

    def __init__(self, folder: Path, placements_text: str, actuals: bool = False) -> None:
        self.folder = folder
        self.placements = folder / "placements.csv"
        self.budget = folder / "budget.csv"
        self.placements.write_text(placements_text)
        self.budget.write_text(BUDGET)
        self.inputs = [self.placements, self.budget]
        self.actuals = None
        if actuals:
            self.actuals = folder / "actuals.csv"
            self.actuals.write_text(ACTUALS)
            self.inputs.append(self.actuals)
        past = time.time() - 3600  # so that a rewrite, even of the same bytes, shows
        for path in self.inputs:
            os.utime(path, (past, past))
        self.snapshot = {path: (path.read_bytes(), path.stat().st_mtime_ns)
                         for path in self.inputs}

    def args(self, *extra: str, command: str = "forecast", as_at: str = AS_AT) -> list[str]:
        argv = [command, "--placements", str(self.placements), "--budget", str(self.budget),
                "--as-at", as_at]
        if self.actuals is not None and command == "forecast":
            argv += ["--actuals", str(self.actuals)]
        return argv + list(extra)

    def untouched(self) -> bool:
        return all((path.read_bytes(), path.stat().st_mtime_ns) == before
                   for path, before in self.snapshot.items())

    def strays(self) -> list[str]:
        return [p.name for p in self.folder.iterdir() if p.name.startswith(".forecastlib-")]


def run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def lines_of(out: str) -> dict[tuple[str, str], dict]:
    payload = json.loads(out)
    return {(line["service"], line["category"]): line for line in payload["lines"]}


def assert_refused(status: int, out: str, err: str, files: Files, *words: str,
                   output: Path | None = None) -> None:
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("forecastlib") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert files.untouched() and not files.strays()
    if output is not None:
        assert not output.exists() or output.is_dir() or output in files.inputs


# Valid files: a forecast, never a crash ------------------------------------------------


def test_header_only_placements_give_actuals_only_lines(tmp_path, capsys):
    files = Files(tmp_path, HEADER, actuals=True)
    status, out, err = run(capsys, files.args("--format", "json", "--simulations", "200"))
    assert status == 0 and "Traceback" not in err
    lines = lines_of(out)
    assert set(lines) == {("LAC Placements", "Residential homes"),
                          ("In-house Fostering", "Basic"), ("Older People", "Savings")}
    assert lines[("LAC Placements", "Residential homes")]["forecast"]["mean"] == 61000.5
    assert lines[("In-house Fostering", "Basic")]["forecast"]["upper"] == 1500.0
    assert lines[("Older People", "Savings")]["forecast"]["mean"] == 0.0
    assert "actuals to date only" in err and files.untouched()


def test_header_only_placements_without_actuals_forecast_zero(tmp_path, capsys):
    files = Files(tmp_path, HEADER)
    status, out, _ = run(capsys, files.args("--format", "csv", "--simulations", "100"))
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["service"] for row in rows][-1] == "Total" and len(rows) == 4
    assert all(float(row["mean"]) == 0.0 for row in rows)


def test_same_day_episodes_of_one_client_are_costed(tmp_path, capsys):
    # A price change keyed in as a second episode starting the same day.
    files = Files(tmp_path, placements(
        *HISTORY,
        "P7,C7,LAC Placements,Residential homes,2017-04-01,,,3500,week,1,52,0",
        "P8,C7,LAC Placements,Residential homes,2017-04-01,2017-06-30,,3600,week,1,52,0"))
    status, out, err = run(capsys, files.args("--format", "json", "--simulations", "300",
                                              "--seed", "3"))
    assert status == 0 and "Traceback" not in err
    line = lines_of(out)[("LAC Placements", "Residential homes")]
    low, high = line["forecast"]["lower"], line["forecast"]["upper"]
    assert 0 < low <= line["forecast"]["mean"] <= high


def test_line_with_only_future_starts_is_costed_from_their_start(tmp_path, capsys):
    start = "2017-12-01"
    files = Files(tmp_path, placements(
        *[row for row in HISTORY if "Fostering" not in row],
        f"P9,C9,In-house Fostering,Basic,{start},,2018-06-30,182,week,1,56,0"))
    status, out, err = run(capsys, files.args("--format", "json", "--no-new-starts"))
    assert status == 0 and "Traceback" not in err
    forecast = lines_of(out)[("In-house Fostering", "Basic")]["forecast"]
    # planned end after year-end: exact, from its start to 31 March
    assert forecast["mean"] == forecast["lower"] == round(182 * 56 / 364 * days(start,
                                                                            "2018-03-31"), 2)


def test_future_start_with_no_end_borrows_a_length_of_stay(tmp_path, capsys):
    start = "2017-12-01"
    files = Files(tmp_path, placements(
        *[row for row in HISTORY if "Fostering" not in row],
        f"P9,C9,In-house Fostering,Basic,{start},,,182,week,1,56,0"))
    status, out, _ = run(capsys, files.args("--format", "json", "--simulations", "300"))
    assert status == 0
    forecast = lines_of(out)[("In-house Fostering", "Basic")]["forecast"]
    assert 0 < forecast["mean"] <= round(182 * 56 / 364 * days(start, "2018-03-31"), 2)


def test_record_of_only_future_starts_is_refused_by_the_cli_and_committed_by_the_library(
        tmp_path, capsys):
    from forecastlib import forecast_outturn, read_budget, read_placements

    start = "2017-12-01"
    files = Files(tmp_path, placements(
        f"P1,C1,LAC Placements,Residential homes,{start},,,3500,week,1,52,0"))
    status, out, err = run(capsys, files.args("--format", "json", "--simulations", "100"))
    assert_refused(status, out, err, files, "before every placement", start)
    # The library forecasts it: with no length of stay to learn from anywhere, the open
    # placement is committed to year-end (the deterministic outturn's basis), and says so.
    result = forecast_outturn(read_placements(files.placements), read_budget(files.budget),
                              AS_AT, simulations=50, seed=1)
    row = result.lines.loc[("LAC Placements", "Residential homes")]
    assert row["mean"] == row["upper"] == pytest.approx(3500 / 7 * days(start, "2018-03-31"))
    assert any("taken to run to year-end" in note for note in result.notes)


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\",\"y\")", "-Other", "+1", "@SUM(A1)"])
def test_csv_text_cells_are_neutralised_and_numbers_kept(tmp_path, capsys, text):
    category = f'"{text}"' if '"' not in text else '"' + text.replace('"', '""') + '"'
    rows = [row.replace("In-house Fostering,Basic", f"In-house Fostering,{category}")
            for row in HISTORY]
    files = Files(tmp_path, placements(*rows))
    files.budget.write_text(BUDGET.replace("In-house Fostering,Basic", f"In-house Fostering,"
                                           f"{category}"))
    target = tmp_path / "out.csv"
    status, _, _ = run(capsys, files.args("--format", "csv", "--no-new-starts",
                                          "--output", str(target)))
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    categories = [row["category"] for row in rows]
    assert "'" + text in categories and text not in categories
    savings = next(row for row in rows if row["category"] == "Savings")
    assert float(savings["variance"]) == 5000.0 and not savings["variance"].startswith("'")
    assert any(row["variance"].startswith("-") for row in rows)  # numbers stay numbers
    status, out, _ = run(capsys, files.args("--format", "csv", command="activity"))
    assert status == 0 and f"'{text}"[:4] in out
    assert all(not cell.startswith(("=", "+", "@")) for row in csv.reader(io.StringIO(out))
               for cell in row)


def test_output_mode_follows_the_umask(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    target = tmp_path / "out.json"
    previous = os.umask(0o027)
    try:
        status, _, _ = run(capsys, files.args("--no-new-starts", "--format", "json",
                                              "--output", str(target)))
    finally:
        os.umask(previous)
    assert status == 0 and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert json.loads(target.read_text())["as_at"] == AS_AT and not files.strays()


def test_quiet_silences_notes(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    status, out, err = run(capsys, files.args("--simulations", "100"))
    assert status == 0 and "note:" in err
    status, quiet_out, quiet_err = run(capsys, files.args("--simulations", "100", "--quiet"))
    assert status == 0 and quiet_err == "" and quiet_out == out
    status, out, err = run(capsys, ["demo", "--simulations", "50", "--quiet", "--format", "json"])
    assert status == 0 and err == "" and json.loads(out)["simulations"] == 50


# Refusals: exit 2, one line, nothing written, inputs untouched --------------------------


@pytest.mark.parametrize(("extra", "as_at", "words"), [
    (["--seed", "-1"], AS_AT, ["--seed", "-1", "0 or more"]),
    (["--simulations", "0"], AS_AT, ["--simulations", "1 to 1,000,000"]),
    (["--simulations", "100000000000"], AS_AT, ["--simulations"]),
    (["--interval", "1.5"], AS_AT, ["--interval", "1.5"]),
    (["--interval", "0"], AS_AT, ["--interval"]),
    (["--interval", "nan"], AS_AT, ["--interval"]),
    (["--simulations", "many"], AS_AT, ["--simulations", "many"]),
    ([], "1990-03-31", ["--as-at", "1990-03-31", "before every placement", "2015-06-01"]),
    ([], "2030-10-31", ["--as-at", "2030-10-31", "more than a year after", "2017-05-01"]),
    ([], "31/02/2017", ["--as-at", "31/02/2017"]),
])
def test_unusable_options_are_refused(tmp_path, capsys, extra, as_at, words):
    files = Files(tmp_path, placements(*HISTORY), actuals=True)
    target = tmp_path / "out.json"
    status, out, err = run(capsys, files.args(*extra, "--output", str(target), as_at=as_at))
    assert_refused(status, out, err, files, *words, output=target)
    assert not target.exists()


def test_activity_refuses_an_as_at_outside_the_record(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    status, out, err = run(capsys, files.args(command="activity", as_at="1990-03-31"))
    assert_refused(status, out, err, files, "before every placement")


@pytest.mark.parametrize("which", ["placements", "budget", "actuals", "dot-spelling",
                                   "symlink", "hardlink"])
def test_output_naming_an_input_file_is_refused(tmp_path, capsys, which):
    files = Files(tmp_path, placements(*HISTORY), actuals=True)
    target = {"placements": files.placements, "budget": files.budget,
              "actuals": files.actuals,
              "dot-spelling": tmp_path / "." / ".." / tmp_path.name / "placements.csv"}.get(which)
    if which == "symlink":
        target = tmp_path / "link.csv"
        target.symlink_to(files.placements)
    if which == "hardlink":
        target = tmp_path / "hard.csv"
        os.link(files.placements, target)
    status, out, err = run(capsys, files.args("--format", "csv", "--output", str(target)))
    assert_refused(status, out, err, files, "--output", "input file")


def test_output_naming_a_scenario_file_is_refused(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("name: none\nchanges: []\n")
    before = scenario.read_bytes()
    status, out, err = run(capsys, files.args("--scenario", str(scenario), "--output",
                                              str(scenario)))
    assert_refused(status, out, err, files, "input file")
    assert scenario.read_bytes() == before


def test_output_naming_a_folder_is_refused(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    status, out, err = run(capsys, files.args("--output", str(tmp_path)))
    assert_refused(status, out, err, files, "--output", "is a folder")


def test_output_in_a_missing_folder_is_refused(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    status, out, err = run(capsys, files.args("--output", str(tmp_path / "no" / "out.csv")))
    assert_refused(status, out, err, files, "does not exist")


def test_output_in_a_read_only_place_is_refused(tmp_path, capsys):
    files = Files(tmp_path, placements(*HISTORY))
    if os.geteuid() == 0:  # root writes through permission bits: use a read-only filesystem
        target = Path("/sys/forecastlib-out.csv")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = locked / "out.csv"
    status, out, err = run(capsys, files.args("--no-new-starts", "--output", str(target)))
    assert_refused(status, out, err, files, "--output")
    assert not target.exists()


def test_sigterm_during_the_write_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    files = Files(tmp_path, placements(*HISTORY))
    target = tmp_path / "out.json"
    target.write_text("the previous forecast\n")

    def killed_while_replacing(source, destination):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this
        raise AssertionError("SIGTERM did not interrupt the write")

    monkeypatch.setattr("forecastlib.cli.common.os.replace", killed_while_replacing)
    status, out, err = run(capsys, files.args("--no-new-starts", "--format", "json",
                                              "--output", str(target)))
    assert status == 128 + signal.SIGTERM and "interrupted" in err and "Traceback" not in err
    assert target.read_text() == "the previous forecast\n"
    assert not files.strays() and files.untouched()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


# Unexpected errors: one line and a saved report ------------------------------------------


def test_an_unexpected_error_prints_one_line_and_saves_a_report(tmp_path, capsys, monkeypatch):
    files = Files(tmp_path, placements(*HISTORY))
    target = tmp_path / "out.csv"

    def broken(*args, **kwargs):
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("forecastlib.cli.forecast.outturn_from_inputs", broken)
    status, out, err = run(capsys, files.args("--output", str(target)))
    assert status == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "RuntimeError" in err and "forecast" in err
    report = Path(err.split("the full report is in ")[1].split(" (")[0])
    try:
        text = report.read_text()
        assert "Traceback" in text and "something nobody expected" in text
        assert str(files.placements) in text  # the command line, to reproduce it
    finally:
        report.unlink()
    assert not target.exists() and files.untouched() and not files.strays()


def test_console_script_never_shows_a_traceback(tmp_path):
    files = Files(tmp_path, placements(*HISTORY))
    code = ("import sys, forecastlib.cli.forecast as f\n"
            "def boom(*a, **k): raise MemoryError()\n"
            "f.outturn_from_inputs = boom\n"
            "from forecastlib.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", code, *files.args()], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "out of memory" in done.stderr
    Path(done.stderr.split("the full report is in ")[1].split(" (")[0]).unlink()


def test_console_script_refusal_is_one_line(tmp_path):
    files = Files(tmp_path, placements(*HISTORY))
    done = subprocess.run([sys.executable, "-m", "forecastlib.cli", *files.args(
        "--seed", "-1")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "forecastlib: error: --seed: value -1: expected a whole number 0 or more"]
