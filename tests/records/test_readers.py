"""Readers: the contract's formats, defaults, and every malformed input refused."""

from __future__ import annotations

import pandas as pd
import pytest
from builders import placements_frame

from forecastlib.errors import DataValidationError
from forecastlib.records import read_actuals, read_budget, read_placements


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "placement_id,client_id,service,category,start_date,unit_cost"


def problems(callable_, *args):
    with pytest.raises(DataValidationError) as caught:
        callable_(*args)
    return caught.value.problems


def test_minimal_csv_with_iso_and_uk_dates_and_defaults(tmp_path):
    path = write(tmp_path, "placements.csv", f"{HEADER}\nP1,C1,LAC,IFA,2017-04-01,800\n"
                 "P2,C2,LAC,IFA,04/01/2017,800.50\n")
    frame = read_placements(path)
    assert frame["start_date"].tolist() == [pd.Timestamp("2017-04-01"),
                                            pd.Timestamp("2017-01-04")]  # UK: 4 January
    assert frame["unit"].tolist() == ["week", "week"]
    assert frame["weeks_per_year"].tolist() == [52.0, 52.0]
    assert frame["funding"].tolist() == ["GF", "GF"]
    assert frame["end_date"].isna().all()
    assert frame.attrs["source"] == "placements.csv"


def test_headers_are_case_insensitive_and_spaces_are_ignored(tmp_path):
    path = write(tmp_path, "p.csv", " Placement_ID ,CLIENT_ID,Service,Category,Start_Date,"
                 "Unit_Cost ,Unit\nP1,C1,LAC,IFA,2017-04-01, 800 ,Week\n")
    frame = read_placements(path)
    assert frame.loc[0, "unit_cost"] == 800.0 and frame.loc[0, "unit"] == "week"


def test_extra_columns_are_kept_unchanged(tmp_path):
    path = write(tmp_path, "p.csv", f"{HEADER},provider\nP1,C1,LAC,IFA,2017-04-01,800,Acme\n")
    assert read_placements(path)["provider"].tolist() == ["Acme"]


def test_every_problem_in_a_file_is_reported_at_once_with_row_column_and_value(tmp_path):
    text = (f"{HEADER},end_date,unit,weeks_per_year,units_per_week\n"
            "P1,C1,LAC,IFA,2017-04-01,800,2017-03-01,week,52,1\n"  # end before start
            "P1,C2,LAC,IFA,2017-04-01,800,,week,52,1\n"  # duplicate id
            "P3,C3,LAC,IFA,12/31/2017,800,,week,52,1\n"  # US order: month 31
            "P4,C4,LAC,IFA,2017-04-01,-5,,week,52,1\n"  # negative money
            "P5,C5,LAC,IFA,2017-04-01,800,,fortnight,52,1\n"  # unknown unit
            "P6,C6,LAC,IFA,2017-04-01,800,,week,61,1\n"  # weeks out of (0, 60]
            "P7,C7,LAC,IFA,2017-04-01,800,,week,52,3\n"  # units_per_week with a week unit
            "P8,,LAC,IFA,2017-04-01,abc,,week,52,1\n")  # empty client, unreadable number
    path = write(tmp_path, "placements.csv", text)
    found = problems(read_placements, path)
    cells = {(p.row, p.column, p.value) for p in found}
    assert (4, "start_date", "12/31/2017") in cells
    assert (5, "unit_cost", "-5") in cells
    assert (6, "unit", "fortnight") in cells
    assert (7, "weeks_per_year", "61") in cells
    assert (9, "client_id", None) in cells
    assert (9, "unit_cost", "abc") in cells
    assert all(p.file == "placements.csv" for p in found)
    message = str(DataValidationError(found))
    assert "one of 'week', 'day', 'hour', 'session', 'year'" in message
    assert "a number >= 0" in message


def test_cross_column_rules_and_duplicates_reported_after_cells_are_readable(tmp_path):
    text = (f"{HEADER},end_date,planned_end_date,unit,units_per_week\n"
            "P1,C1,LAC,IFA,2017-04-01,800,2017-03-01,,week,1\n"
            "P1,C2,LAC,IFA,2017-04-01,800,,2017-01-01,week,1\n"
            "P3,C3,LAC,IFA,2017-04-01,800,,,week,3\n")
    found = problems(read_placements, write(tmp_path, "placements.csv", text))
    cells = {(p.row, p.column) for p in found}
    assert cells == {(2, "end_date"), (3, "planned_end_date"), (3, "placement_id"),
                     (4, "units_per_week")}
    duplicate = next(p for p in found if p.column == "placement_id")
    assert "row 2 has the same" in duplicate.expected


def test_missing_required_columns_are_named(tmp_path):
    path = write(tmp_path, "placements.csv", "placement_id,service\nP1,LAC\n")
    found = problems(read_placements, path)
    assert {p.column for p in found} == {"client_id", "category", "start_date", "unit_cost"}
    assert all(p.row == 1 for p in found)


def test_duplicate_headers_are_refused(tmp_path):
    path = write(tmp_path, "p.csv", f"{HEADER},Unit_Cost\nP1,C1,LAC,IFA,2017-04-01,8,9\n")
    assert problems(read_placements, path)[0].column == "unit_cost"


@pytest.mark.parametrize("bad", ["2017-02-30", "31/02/2017", "2017/04/01", "1 April 2017",
                                 "20170401", "2017-04-01T00:00"])
def test_unreadable_or_impossible_dates_are_refused(tmp_path, bad):
    path = write(tmp_path, "p.csv", f"{HEADER}\nP1,C1,LAC,IFA,{bad},800\n")
    found = problems(read_placements, path)
    assert [(p.row, p.column, p.value) for p in found] == [(2, "start_date", bad)]


@pytest.mark.parametrize("bad", ["nan", "inf", "1e400", "12,34", "£", "1.2.3", "--1"])
def test_unreadable_numbers_are_refused(tmp_path, bad):
    path = write(tmp_path, "p.csv", f'{HEADER}\nP1,C1,LAC,IFA,2017-04-01,"{bad}"\n')
    assert problems(read_placements, path)[0].value == bad


def test_pound_signs_and_thousands_separators_are_read(tmp_path):
    path = write(tmp_path, "p.csv", f'{HEADER}\nP1,C1,LAC,IFA,2017-04-01,"£1,234.50"\n')
    assert read_placements(path)["unit_cost"].tolist() == [1234.5]


def test_empty_and_non_utf8_and_missing_files(tmp_path):
    empty = write(tmp_path, "empty.csv", "")
    assert "empty" in problems(read_placements, empty)[0].expected
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\nP1,C1,LAC,Caf\xe9,2017-04-01,800\n".encode("latin-1"))
    frame = read_placements(latin)  # not UTF-8: read as cp1252, and said so
    assert frame["category"].tolist() == ["Caf\xe9"]
    assert "cp1252" in frame.attrs["notes"][0]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(HEADER.encode() + b"\n\x81\x8d,\x00\n")
    assert "UTF-8" in problems(read_placements, binary)[0].expected
    assert "existing file" in problems(read_placements, tmp_path / "nope.csv")[0].expected


def test_header_only_file_gives_an_empty_typed_frame(tmp_path):
    frame = read_placements(write(tmp_path, "p.csv", HEADER + "\n"))
    assert len(frame) == 0 and "start_date" in frame


def test_xlsx_first_sheet_with_excel_dates_and_numbers(tmp_path):
    frame = pd.DataFrame({"placement_id": ["P1", "P2"], "client_id": [101, 102],
                          "service": ["LAC", "LAC"], "category": ["IFA", "IFA"],
                          "start_date": pd.to_datetime(["2017-04-01", "2017-05-02"]),
                          "end_date": [pd.NaT, pd.Timestamp("2017-06-30")],
                          "unit_cost": [800.5, 900]})
    path = tmp_path / "placements.xlsx"
    frame.to_excel(path, index=False)
    read = read_placements(path)
    assert read["client_id"].tolist() == ["101", "102"]
    assert read["unit_cost"].tolist() == [800.5, 900.0]
    assert read["end_date"].iloc[1] == pd.Timestamp("2017-06-30")


def test_xlsx_problems_name_the_file_and_row(tmp_path):
    path = tmp_path / "placements.xlsx"
    pd.DataFrame({"placement_id": ["P1"], "client_id": ["C"], "service": ["S"],
                  "category": ["X"], "start_date": ["31/13/2017"],
                  "unit_cost": [1]}).to_excel(path, index=False)
    found = problems(read_placements, path)
    assert (found[0].file, found[0].row, found[0].column) == ("placements.xlsx", 2, "start_date")


def test_not_a_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip")
    assert "readable" in problems(read_placements, path)[0].expected


def test_typed_dataframe_input_is_validated_like_a_file():
    frame = placements_frame([{"start_date": "2017-04-01", "unit_cost": 800}])
    frame["unit_cost"] = [800.0]
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    assert read_placements(frame)["unit_cost"].tolist() == [800.0]
    frame["unit_cost"] = [-1.0]
    assert problems(read_placements, frame)[0].file == "<DataFrame>"


def test_budget_rows_need_an_amount_or_placements_and_unit_cost(tmp_path):
    path = write(tmp_path, "budget.csv", "service,category,budget_placements,budget_unit_cost,"
                 "annual_budget\nLAC,IFA,263,784.53,\nLAC,Growth,,,868000\nLAC,Res,22,,\n"
                 "LAC,IFA,1,1,\n")
    found = problems(read_budget, path)
    assert {(p.row, p.column) for p in found} == {(4, "annual_budget"),
                                                  (5, "service + category")}


def test_budget_allows_negative_lump_lines_and_empty_categories(tmp_path):
    path = write(tmp_path, "budget.csv", "Service,Category,Annual_Budget\nLD,,-1795000\n")
    frame = read_budget(path)
    assert frame.loc[0, "category"] == "" and frame.loc[0, "annual_budget"] == -1_795_000


def test_actuals_period_must_be_a_whole_number_from_1_to_12(tmp_path):
    path = write(tmp_path, "actuals.csv", "service,category,period,amount\nLAC,IFA,1,100\n"
                 "LAC,IFA,13,100\nLAC,IFA,2.5,100\nLAC,IFA,3,ten\nLAC,IFA,4,-50.25\n")
    found = problems(read_actuals, path)
    assert {(p.row, p.column, p.value) for p in found} == {
        (3, "period", "13"), (4, "period", "2.5"), (5, "amount", "ten")}


def test_problem_list_is_capped_but_counted(tmp_path):
    rows = "\n".join(f"P{i},C{i},LAC,IFA,bad,1" for i in range(1000))
    found = problems(read_placements, write(tmp_path, "p.csv", f"{HEADER}\n{rows}\n"))
    assert len(found) == 201
    assert "800 more rows" in found[-1].expected
    assert "... and 151 more not shown" in str(DataValidationError(found))

