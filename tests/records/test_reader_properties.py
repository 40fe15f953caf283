"""Property: any bytes either load or raise DataValidationError naming the file.

Never another exception (a traceback for the user), whatever a CSV or a workbook holds.
"""

from __future__ import annotations

import datetime as dt

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecastlib.errors import DataValidationError
from forecastlib.records import read_actuals, read_budget, read_placements

READERS = {"placements": read_placements, "budget": read_budget, "actuals": read_actuals}
NAMES = ["placement_id", "Client ID", "service", "CATEGORY", "start_date", "End Date",
         "unit_cost", "unit", "units_per_week", "weeks_per_year", "annual_budget", "period",
         "amount", "budget_placements", "enddate2", "provider", "", "unit_cost.1"]
CELLS = st.one_of(
    st.sampled_from(["", "P1", "LAC", "Total", "2017-04-01", "31/10/19", "30/02/2017", "800",
                     "£1,234.50", "(2,500.00)", "1e308", "inf", "2_343.37", "\u0661\u0662",
                     "week", "hour", "year", "3", "13", "-5", '"quoted, cell"', "a\nb", " ",
                     "\u00a0Res homes", "=A1+1"]),
    st.text(max_size=6),
)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def check(reader, path, name):
    try:
        frame = reader(path)
    except DataValidationError as error:
        assert error.problems and all(p.file == name for p in error.problems)
        assert all(p.row is None or p.row >= 1 for p in error.problems)
    else:
        assert frame.attrs["source"] == name


@SETTINGS
@given(data=st.binary(max_size=400), kind=st.sampled_from(sorted(READERS)))
def test_any_bytes_as_csv(tmp_path_factory, data, kind):
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_bytes(data)
    check(READERS[kind], path, "input.csv")


def _csv_field(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell


@SETTINGS
@given(header=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8),
       rows=st.lists(st.lists(CELLS, max_size=9), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
       newline=st.sampled_from(["\n", "\r\n"]), kind=st.sampled_from(sorted(READERS)))
def test_table_shaped_csv_files(tmp_path_factory, header, rows, encoding, newline, kind):
    text = newline.join(",".join(_csv_field(c) for c in row) for row in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path = tmp_path_factory.mktemp("csv") / "input.csv"
    path.write_bytes(data)
    check(READERS[kind], path, "input.csv")


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_as_xlsx(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("xlsx") / "input.xlsx"
    path.write_bytes(data)
    check(read_placements, path, "input.xlsx")


XLSX_CELLS = st.one_of(CELLS.filter(lambda c: not any(ord(ch) < 32 for ch in c)), st.none(),
                       st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6),
                       st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(NAMES), min_size=1, max_size=8),
       rows=st.lists(st.lists(XLSX_CELLS, max_size=8), max_size=5), merge=st.booleans(),
       kind=st.sampled_from(sorted(READERS)))
def test_table_shaped_workbooks(tmp_path_factory, header, rows, merge, kind):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append(row)
    if merge:
        sheet.merge_cells("A2:B2")
    path = tmp_path_factory.mktemp("xlsx") / "input.xlsx"
    book.save(path)
    check(READERS[kind], path, "input.xlsx")
