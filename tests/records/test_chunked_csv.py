"""The bounded-memory CSV reader: records found on the bytes, cells parsed in chunks.

The fast path (:mod:`forecastlib.records.csv_records`) must give exactly what the careful
line-by-line reader (:mod:`csv`) gives, on every well-formed file, whatever the window of
bytes scanned and the chunk of rows parsed at a time; anything else goes to the careful
reader and its messages.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecastlib.errors import DataValidationError
from forecastlib.records import csv_records, read_placements
from forecastlib.records.csv_records import scan_records
from forecastlib.records.sheets import _split_quoted, _tidy, read_csv_sheet

HEADER = "placement_id,client_id,service,category,start_date,unit_cost"


def careful(path) -> tuple[pd.DataFrame, np.ndarray, list]:
    """What the careful reader (csv.reader, record by record) makes of a file."""
    text = path.read_bytes().decode("utf-8")
    grid, blank, widths, rows = _split_quoted(text, path.name)
    sheet = _tidy(grid, rows, widths, blank, path.name, [])
    return sheet.frame(), sheet.rows, sheet.problems


def fast(path) -> tuple[pd.DataFrame, np.ndarray, list]:
    sheet = read_csv_sheet(path, path.name)
    return sheet.frame(), sheet.rows, sheet.problems


def cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in frame[c].tolist()] for c in frame.columns]


def same_as_careful(path) -> None:
    try:
        expected, expected_rows, expected_problems = careful(path)
    except DataValidationError as error:  # an empty file: the same refusal
        with pytest.raises(DataValidationError) as caught:
            fast(path)
        assert caught.value.problems == error.problems
        return
    got, rows, problems = fast(path)
    assert got.columns.tolist() == expected.columns.tolist()
    assert cells(got) == cells(expected)
    np.testing.assert_array_equal(rows, expected_rows)
    assert problems == expected_problems


@pytest.fixture
def tiny_windows(monkeypatch):
    """Scan 7 bytes and parse 3 rows at a time: every boundary falls inside records."""
    monkeypatch.setattr(csv_records, "WINDOW", 7)
    monkeypatch.setattr(csv_records, "CHUNK_ROWS", 3)


def test_scan_counts_lines_fields_and_quotes_by_hand():
    data = b'a,b,c\r\n1,"x,\r\ny",3\r\n\r\n"",,\r\nlast,"q""q",z'
    records = scan_records(data)
    assert records.lines.tolist() == [1, 2, 4, 5, 6]  # the quoted line break is line 3
    assert records.widths.tolist() == [3, 3, 1, 3, 3]
    assert records.quoted.tolist() == [False, True, False, True, True]


@pytest.mark.parametrize("data", [
    b'a,b\n1,x"y\n',  # a quote inside an unquoted field
    b'a,b\n1,"x"y\n',  # text after a closing quote
    b'a,b\n1, "x"\n',  # a space before an opening quote
    b'a,b\n1,"x\n',  # a quote never closed
    b"a,b\r1,2\r",  # old Mac line breaks
])
def test_scan_leaves_what_it_cannot_vouch_for_to_the_careful_reader(data):
    assert scan_records(data) is None


def test_a_quote_never_closed_is_still_named_with_its_line(tmp_path):
    path = tmp_path / "placements.csv"
    path.write_text(f'{HEADER}\nP1,C1,LAC,"IFA,2017-04-01,800\nP2,C2,LAC,IFA,2017-04-01,9\n')
    with pytest.raises(DataValidationError) as caught:
        read_placements(path)
    assert "well-formed CSV" in caught.value.problems[0].expected


def test_quoted_commas_line_breaks_and_blank_rows_across_tiny_windows(tmp_path, tiny_windows):
    text = (f"{HEADER}\r\n"
            'P1,C1,"LAC, children","Residential, homes",2017-04-01,"1,250.00"\r\n'
            "\r\n"
            ' , ,\t,,,\r\n'
            '"","",,," ",\r\n'
            'P2,C2,LAC,"two\r\nlines",01/05/2017,800\r\n'
            "P3,C3,LAC,IFA,2017-06-01,900")  # no line break at the end
    path = tmp_path / "placements.csv"
    path.write_bytes(text.encode("utf-8"))
    same_as_careful(path)
    frame = read_placements(path)
    assert frame["category"].tolist() == ["Residential, homes", "two\r\nlines", "IFA"]
    assert frame["unit_cost"].tolist() == [1250.0, 800.0, 900.0]
    assert frame["start_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2017-04-01", "2017-05-01", "2017-06-01"]


def test_every_problem_at_once_with_the_files_rows_across_chunks(tmp_path, tiny_windows):
    lines = [HEADER] + [f"P{i},C{i},LAC,IFA,2017-04-{i % 28 + 1:02d},{i}" for i in range(40)]
    lines[5] = "P4,C4,LAC,IFA,31/02/2017,x"  # bad date and number (file line 6)
    lines.insert(20, "")  # a blank line moves every later row down one
    lines[30] = 'P28,C28,"LAC, children",IFA,2017-04-01,-5'  # file line 31: negative
    lines.append("P1,C99,LAC,IFA,2017-04-01,5")  # a repeated id on the last line (43)
    path = tmp_path / "placements.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as caught:
        read_placements(path)
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [(6, "start_date"), (6, "unit_cost"), (31, "unit_cost"),
                     (43, "placement_id")]


def test_short_and_long_rows_keep_their_line_numbers(tmp_path, tiny_windows):
    text = (f"{HEADER}\n"
            'P1,C1,LAC,"a\nb",2017-04-01\n'  # short: 5 fields (a line break inside)
            "P2,C2,LAC,IFA,2017-04-01,1,200\n")  # long: a comma in a number
    path = tmp_path / "placements.csv"
    path.write_text(text)
    same_as_careful(path)
    with pytest.raises(DataValidationError) as caught:
        read_placements(path)
    assert [p.row for p in caught.value.problems] == [2, 4]


_CELL = st.text(alphabet=st.sampled_from(list("ab ,\"\n\t1£-")), max_size=6)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=5), min_size=1, max_size=12),
       crlf=st.booleans(), final_break=st.booleans())
def test_fast_reader_is_the_careful_reader_on_well_formed_files(tmp_path_factory, rows, crlf,
                                                                  final_break):
    """Any cells written by csv.writer (quotes where needed), blank records included."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["h1", "h2", "h3", "h4", "h5"])
    writer.writerows(rows)
    text = buffer.getvalue()
    if not final_break:
        text = text[: -2 if crlf else -1]
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_bytes(text.encode("utf-8"))
    assert scan_records(text.encode("utf-8")) is not None
    for window, chunk in ((1 << 20, 1 << 18), (5, 2)):
        csv_records.WINDOW, csv_records.CHUNK_ROWS = window, chunk
        try:
            same_as_careful(path)
        finally:
            csv_records.WINDOW, csv_records.CHUNK_ROWS = 1 << 25, 1 << 18


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", " a", ""]),
                               st.sampled_from(["x", "y"])), min_size=1, max_size=30),
       chunk=st.integers(1, 7))
def test_id_columns_kept_as_read_give_the_same_categoricals(rows, chunk):
    """A column coded once at the end (an id column) is the categorical that coding it
    chunk by chunk and merging gives: the same categories, in the same order."""
    data = "".join(f"{a},{b}\n" for a, b in rows).encode()
    results = []
    for threshold in (1, 1 << 30):
        csv_records.CHUNK_ROWS, csv_records.ID_MIN_ROWS = chunk, threshold
        try:
            results.append(csv_records.coded_cells(data, 2))
        finally:
            csv_records.CHUNK_ROWS, csv_records.ID_MIN_ROWS = 1 << 18, 1024
    for column in (0, 1):
        kept, merged = results[0][column], results[1][column]
        assert kept.cat.categories.tolist() == merged.cat.categories.tolist()
        np.testing.assert_array_equal(kept.cat.codes, merged.cat.codes)
        assert kept.tolist() == [r[column] for r in rows]


def test_duplicate_ids_in_a_large_file_are_named_with_their_rows(tmp_path):
    """Over a chunk of ids (coded once, compared by code): exact repeats and repeats
    once spaces are stripped are both found, each naming the first row."""
    lines = [HEADER] + [f"P{i},C{i},LAC,IFA,2017-04-01,{i}" for i in range(3000)]
    lines.append("P17,C1,LAC,IFA,2017-04-01,5")  # file line 3002: P17 is on line 19
    lines.append(" P18 ,C1,LAC,IFA,2017-04-01,5")  # line 3003: P18 (line 20) once stripped
    path = tmp_path / "placements.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as caught:
        read_placements(path)
    found = [(p.row, p.column, p.value, p.expected) for p in caught.value.problems]
    assert found == [
        (3002, "placement_id", "P17", "a unique placement_id (row 19 has the same)"),
        (3003, "placement_id", "P18", "a unique placement_id (row 20 has the same)")]
    path.write_text("\n".join(lines[:-1]) + "\n")  # no cell with spaces: ids compared by code
    with pytest.raises(DataValidationError) as caught:
        read_placements(path)
    assert [(p.row, p.value, p.expected) for p in caught.value.problems] == [
        (3002, "P17", "a unique placement_id (row 19 has the same)")]
    path.write_text("\n".join(lines[:-2]) + "\n")
    assert read_placements(path)["placement_id"].is_unique
