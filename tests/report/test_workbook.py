"""The committee pack: every figure a number equal to the JSON's, to the penny."""

from __future__ import annotations

import io

import pytest
from builders import book, budget_book
from openpyxl import load_workbook

from forecastlib.outturn import RagPolicy, forecast_outturn
from forecastlib.outturn.movement import MOVEMENT_COMPONENTS, movement
from forecastlib.report import key_activity, result_to_json_dict
from forecastlib.report.movement import movement_to_json_dict
from forecastlib.report.workbook import committee_pack, neutralise_text

SUMMARY_FIGURES = {"Budget": ("budget",), "Actual to date": ("actual_to_date",),
                   "Forecast outturn (mean)": ("forecast", "mean"),
                   "Interval lower": ("forecast", "lower"),
                   "Interval upper": ("forecast", "upper"), "Variance": ("variance",),
                   "Probability of overspend": ("prob_overspend",),
                   "Placements at 31 March (mean)": ("year_end_count", "mean"),
                   "Placements lower": ("year_end_count", "lower"),
                   "Placements upper": ("year_end_count", "upper")}


def _rows(sheet, header_title: str = "Service") -> tuple[list[str], list[tuple]]:
    rows = list(sheet.iter_rows(values_only=True))
    start = next(k for k, row in enumerate(rows) if row[0] == header_title)
    return list(rows[start]), rows[start + 1:]


def _pick(payload: dict, path: tuple[str, ...]) -> float:
    for key in path:
        payload = payload[key]
    return payload


@pytest.fixture(scope="module")
def simulated(sample):
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=200, seed=11)
    content = committee_pack(result, placements=sample.placements, budget=sample.budget,
                     actuals=sample.actuals, charts=False)
    return result, load_workbook(io.BytesIO(content))


def test_every_line_of_the_summary_equals_the_json_to_the_penny(simulated):
    result, workbook = simulated
    payload = result_to_json_dict(result)
    header, rows = _rows(workbook["Summary"])
    column = {title: header.index(title) for title in SUMMARY_FIGURES}
    by_line = {(row[0], row[1]): row for row in rows}
    for line in payload["lines"]:
        row = by_line[(line["service"], line["category"] or "(lump line)")]
        for title, path in SUMMARY_FIGURES.items():
            value = row[column[title]]
            assert isinstance(value, (int, float)), (title, value)
            assert value == pytest.approx(_pick(line, path), abs=0.005), (line, title)
        assert row[header.index("RAG")] == line["rag"].upper()
    total = by_line[("Total", "All lines")]
    for title, path in SUMMARY_FIGURES.items():
        assert total[column[title]] == pytest.approx(_pick(payload["total"], path), abs=0.005)


def test_service_subtotals_add_up_and_have_their_own_rating(simulated):
    result, workbook = simulated
    header, rows = _rows(workbook["Summary"])
    budget, actual = header.index("Budget"), header.index("Actual to date")
    for service in sorted(set(result.lines.index.get_level_values("service"))):
        lines = [row for row in rows if row[0] == service and not str(row[1]).endswith("total")
                 and row[header.index("RAG")] != "N/A"]  # growth / savings lines stand apart
        subtotal = next(row for row in rows if row[1] == f"{service} total")
        assert subtotal[budget] == pytest.approx(sum(row[budget] for row in lines), abs=0.01)
        assert subtotal[actual] == pytest.approx(sum(row[actual] for row in lines), abs=0.01)
        expected = RagPolicy().assess(
            [subtotal[budget]], [subtotal[header.index("Forecast outturn (mean)")]])["rag"][0]
        assert subtotal[header.index("RAG")] == str(expected).upper()


def test_summary_is_formatted_for_a_committee(simulated):
    _, workbook = simulated
    sheet = workbook["Summary"]
    header, rows = _rows(sheet)
    start = next(k for k, row in enumerate(sheet.iter_rows(values_only=True), start=1)
                 if row[0] == "Service")
    assert sheet.freeze_panes == f"C{start + 1}"
    assert sheet.column_dimensions["B"].width >= 30
    rag = header.index("RAG") + 1
    fills = {"RED": "FFC7CE", "AMBER": "FFEB9C", "GREEN": "C6EFCE"}
    for number in range(start + 1, start + 1 + len(rows)):
        cell = sheet.cell(number, rag)
        if cell.value is None:  # the heading of the growth and savings block
            assert sheet.cell(number, 1).value.startswith("Growth and savings lines")
            continue
        if cell.value == "N/A":  # growth and savings lines are not RAG-rated
            assert cell.fill.fill_type is None
            continue
        assert cell.fill.fgColor.rgb.endswith(fills[cell.value])
    money = sheet.cell(start + 1, header.index("Budget") + 1)
    assert "£" in money.number_format


def test_key_activity_sheet_matches_the_table(sample, simulated):
    _, workbook = simulated
    table = key_activity(sample.placements, sample.budget, sample.as_at)
    header, rows = _rows(workbook["Key activity"])
    assert header[2] == "No. of placements budgeted" and "Volume" in header
    by_line = {(row[0], row[1]): row for row in rows}
    spend, volume = header.index("Forecast spend (commitment basis)"), header.index("Volume")
    for (service, category), figures in table.iterrows():
        row = by_line[(service, category or "(lump line)")]
        assert row[spend] == pytest.approx(round(figures["net_spend"], 2), abs=0.005)
        assert row[volume] == pytest.approx(figures["volume_variance"], abs=0.005)
        assert row[header.index("Snapshot of no. of placements")] == figures["snapshot"]
    overall = by_line[("Total", "OVERALL TOTAL")]
    assert overall[spend] == pytest.approx(table["net_spend"].sum(), abs=0.01)


def test_movement_sheet_and_direction_of_travel_in_the_summary():
    line = ("LAC Placements", "Residential homes")
    before = book({"placement_id": "A", "start_date": "2017-04-01",
                   "planned_end_date": "2018-03-31", "unit_cost": 700})
    now = book({"placement_id": "A", "start_date": "2017-04-01",
                "planned_end_date": "2018-03-31", "unit_cost": 700},
               {"placement_id": "B", "client_id": "C2", "start_date": "2017-10-10",
                "planned_end_date": "2017-12-31", "unit_cost": 700})
    budget = budget_book({"service": line[0], "category": line[1], "annual_budget": "30000"})
    moved = movement(before, now, budget, "2017-09-30", "2017-10-31", new_starts=False)
    content = committee_pack(moved.current, movement=moved, charts=False)
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["Summary", "Movement", "Notes"]
    header, rows = _rows(workbook["Movement"])
    payload = movement_to_json_dict(moved)["lines"][0]
    row = next(r for r in rows if r[1] == line[1])
    assert row[header.index("Change")] == payload["change"] == 8300.0
    labels = ["New placements", "Ended placements", "Price changes", "Moves between lines",
              "Ledger actuals", "Model and projections"]
    for label, name in zip(labels, MOVEMENT_COMPONENTS, strict=True):
        assert row[header.index(label)] == payload["components"][name]
    summary_header, summary = _rows(workbook["Summary"])
    first = summary[0]
    assert first[summary_header.index("Placements DoT")] == "\u2191"
    assert first[summary_header.index("Change since last month")] == 8300.0


def test_text_that_looks_like_a_formula_is_neutralised():
    placements = book({"start_date": "2017-04-01", "unit_cost": 700, "category": "=1+1",
                       "service": "@SUM(A1)"})
    budget = budget_book({"service": "@SUM(A1)", "category": "=1+1", "annual_budget": "1"})
    result = forecast_outturn(placements, budget, "2017-10-31", new_starts=False,
                              use_planned_ends=True, simulations=50, seed=1)
    workbook = load_workbook(io.BytesIO(committee_pack(result, placements=placements, budget=budget,
                                               charts=False)))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    _, rows = _rows(workbook["Summary"])
    assert rows[0][:2] == ("'@SUM(A1)", "'=1+1")
    assert neutralise_text("-5") == "'-5" and neutralise_text(-5) == -5


def test_charts_sheet_holds_the_images_and_the_file_is_written(tmp_path, sample):
    pytest.importorskip("matplotlib")
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=100, seed=2)
    path = tmp_path / "pack.xlsx"
    content = committee_pack(result, path, placements=sample.placements, budget=sample.budget)
    assert path.read_bytes() == content
    workbook = load_workbook(path)
    assert len(workbook["Charts"]._images) == 2
