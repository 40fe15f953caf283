"""The committee pack's sheets beside the summary, and the row writer they share.

:class:`Sheet` writes a worksheet row by row with typed columns (money to the penny with
a £ format, counts, RAG fills) and neutralises text a spreadsheet would run as a formula;
the builders here add the **Key activity**, **Movement**, **Scenarios** and **Charts**
sheets of :func:`~forecastlib.report.workbook.committee_pack`, and :func:`chart_images`
draws the charts.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from forecastlib.calendar import fy_label
from forecastlib.outturn.movement import ARROWS, MOVEMENT_COMPONENTS, Movement
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult
from forecastlib.report.movement import COMPONENT_LABELS
from forecastlib.report.safe_cells import neutralise_text

__all__ = ["Sheet", "chart_images", "charts_sheet", "key_activity_sheet", "movement_sheet",
           "neutralise_text", "number", "scenarios_sheet"]

POUNDS = '"£"#,##0;-"£"#,##0'
PENCE = '"£"#,##0.00;-"£"#,##0.00'
PERCENT = '0.0%;-0.0%'
#: Not a number format: centre the (text) cell.
CENTRE = "centre"
PROBABILITY = "0%"
COUNT = "#,##0.0"
WHOLE = "#,##0"

RAG_FILLS = {"red": "FFC7CE", "amber": "FFEB9C", "green": "C6EFCE"}
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
BAND_FILL = PatternFill("solid", fgColor="D9E1F2")
SUBTOTAL_FILL = PatternFill("solid", fgColor="EDEDED")
FONT = "Calibri"
_HEADER_FONT = Font(name=FONT, bold=True, color="FFFFFF")
_BOLD = Font(name=FONT, bold=True)
_THIN = Side(style="thin", color="999999")


def number(value: object, decimals: int = 2) -> float | None:
    """A finite number rounded like the JSON (to the penny), or ``None`` (blank)."""
    if value is None:
        return None
    figure = float(value)
    if not math.isfinite(figure):
        return None
    rounded = round(figure, decimals)
    return 0.0 if rounded == 0 else rounded


class Sheet:
    """A worksheet written row by row with typed columns."""

    def __init__(self, book: Workbook, title: str, heading: list[str]) -> None:
        self.sheet: Worksheet = book.create_sheet(title)
        for line in heading:
            self.sheet.append([neutralise_text(line)])
        self.sheet.cell(1, 1).font = Font(name=FONT, bold=True, size=14)
        self.row = len(heading) + 1

    def band(self, bands: list[tuple[str, int]]) -> None:
        """A row of merged group titles (BUDGET | ACTUAL | VARIANCE) over the header."""
        column = 1
        for title, span in bands:
            cell = self.sheet.cell(self.row, column, neutralise_text(title) or None)
            cell.font, cell.fill = _BOLD, BAND_FILL
            cell.alignment = Alignment(horizontal="center")
            if span > 1:
                self.sheet.merge_cells(start_row=self.row, start_column=column,
                                       end_row=self.row, end_column=column + span - 1)
            column += span
        self.row += 1

    def header(self, columns: list[tuple[str, float]]) -> None:
        for column, (title, width) in enumerate(columns, start=1):
            cell = self.sheet.cell(self.row, column, neutralise_text(title))
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            self.sheet.column_dimensions[get_column_letter(column)].width = width
        self.sheet.row_dimensions[self.row].height = 62
        self.sheet.freeze_panes = self.sheet.cell(self.row + 1, 3)
        self.sheet.print_title_rows = f"{self.row}:{self.row}"
        self.row += 1

    def write(self, values: list[tuple[object, str | None]], *, bold: bool = False,
              fill: PatternFill | None = None, rag: str | None = None,
              rag_column: int | None = None) -> None:
        for column, (value, fmt) in enumerate(values, start=1):
            cell = self.sheet.cell(self.row, column, neutralise_text(value))
            if fmt == CENTRE:
                cell.alignment = Alignment(horizontal="center")
            elif fmt:
                cell.number_format = fmt
            if bold:
                cell.font = _BOLD
            if fill is not None:
                cell.fill = fill
            if bold:
                cell.border = Border(top=_THIN)
        if rag in RAG_FILLS and rag_column is not None:
            cell = self.sheet.cell(self.row, rag_column)
            cell.fill = PatternFill("solid", fgColor=RAG_FILLS[rag])
            cell.alignment = Alignment(horizontal="center")
        self.row += 1

    def landscape(self) -> None:
        setup = self.sheet.page_setup
        setup.orientation, setup.paperSize = "landscape", self.sheet.PAPERSIZE_A4
        self.sheet.sheet_properties.pageSetUpPr.fitToPage = True
        setup.fitToWidth, setup.fitToHeight = 1, 0



_ACTIVITY_BANDS = [("", 2), ("BUDGET", 4), ("ACTUAL (as at)", 4), ("VARIANCE", 5)]
_ACTIVITY_COLUMNS = [("Service", 20), ("Service type", 34),
                     ("No. of placements budgeted", 11), ("Annual budget", 14),
                     ("No. of weeks funded", 9), ("Average unit cost", 11),
                     ("Snapshot of no. of placements", 11), ("Yearly average", 10),
                     ("Forecast spend (commitment basis)", 14), ("Average unit cost", 11),
                     ("Yearly average vs budgeted placements", 12),
                     ("Net variance to budget", 13), ("Average unit cost diff +/-", 11),
                     ("Volume", 13), ("Price", 13)]


def _activity_values(service: str, label: str, row: pd.Series) -> list[tuple]:
    return [(service, None), (label, None),
            (number(row["budget_placements"], 4), COUNT),
            (number(row["annual_budget"]), POUNDS),
            (number(row["weeks_funded"], 2), WHOLE),
            (number(row["budget_unit_cost"]), PENCE),
            (number(row["snapshot"], 0), WHOLE), (number(row["yearly_average"], 4), "0.00"),
            (number(row["net_spend"]), POUNDS), (number(row["actual_unit_cost"]), PENCE),
            (number(row["placements_variance"], 4), "0.00;-0.00"),
            (number(row["spend_variance"]), POUNDS),
            (number(row["unit_cost_variance"]), PENCE),
            (number(row["volume_variance"]), POUNDS), (number(row["price_variance"]), POUNDS)]


def key_activity_sheet(book: Workbook, table: pd.DataFrame, moved: Movement | None) -> None:
    as_at, year = table.attrs.get("as_at"), table.attrs.get("year")
    heading = [f"Key activity data to {as_at} ({fy_label(year) if year else ''})",
               "Budgeted placements x weeks funded x average unit cost, against the snapshot "
               "of placements, the yearly average and the actual average unit cost. Spend is "
               "the full year on the commitment basis; Volume + Price = Net variance exactly.",
               "Unit costs are per the line's unit (week, hour or year)."
               + (" DoT: direction of travel against last month." if moved is not None else ""),
               ""]
    sheet = Sheet(book, "Key activity", heading)
    bands = list(_ACTIVITY_BANDS)
    columns = list(_ACTIVITY_COLUMNS)
    if moved is not None:
        bands.append(("DoT", 2))
        columns += [("Placements DoT", 12), ("Unit cost DoT", 11)]
    sheet.band(bands)
    sheet.header(columns)
    summed = ["budget_placements", "annual_budget", "snapshot", "yearly_average", "net_spend",
              "placements_variance", "spend_variance", "volume_variance", "price_variance"]

    def arrows(line: tuple[str, str]) -> list[tuple]:
        if moved is None:
            return []
        if line not in moved.lines.index:
            return [(None, None)] * 2
        row = moved.lines.loc[line]
        return [(ARROWS[str(row["dot_placements"])], CENTRE),
                (ARROWS[str(row["dot_unit_cost"])], CENTRE)]

    for service, block in table.groupby(level="service", sort=True):
        for line, row in block.iterrows():
            sheet.write(_activity_values(str(service), line[1] or "(lump line)", row)
                        + arrows(line))
        total = block[summed].sum(min_count=1)
        total = pd.concat([total, pd.Series({"weeks_funded": np.nan, "budget_unit_cost": np.nan,
                                             "actual_unit_cost": np.nan,
                                             "unit_cost_variance": np.nan})])
        sheet.write(_activity_values(str(service), "TOTAL", total), bold=True,
                    fill=SUBTOTAL_FILL)
    overall = table[summed].sum(min_count=1)
    overall = pd.concat([overall, pd.Series({"weeks_funded": np.nan, "budget_unit_cost": np.nan,
                                             "actual_unit_cost": np.nan,
                                             "unit_cost_variance": np.nan})])
    sheet.write(_activity_values("Total", "OVERALL TOTAL", overall), bold=True, fill=BAND_FILL)
    sheet.landscape()


def movement_sheet(book: Workbook, moved: Movement) -> None:
    heading = [f"Movement in the forecast: {moved.previous.as_at} to {moved.current.as_at}",
               "Change = the sum of the components, to the penny. New placements: spells "
               "started since last month; ended placements: ends earlier than last month "
               "assumed; price changes: the whole effect of new prices; model: everything "
               "else (re-fitted demand, new-start projections).", ""]
    sheet = Sheet(book, "Movement", heading)
    sheet.header([("Service", 22), ("Line", 34), ("Last month", 16), ("This month", 16),
                  ("Change", 15), *[(COMPONENT_LABELS[name], 15) for name in MOVEMENT_COMPONENTS],
                  ("Placements last month", 11), ("Placements now", 11),
                  ("Placements DoT", 12), ("Unit cost DoT", 11), ("Forecast DoT", 11)])

    def values(service: str, label: str, row: pd.Series) -> list[tuple]:
        cells = [(service, None), (label, None), (number(row["previous"]), PENCE),
                 (number(row["current"]), PENCE), (number(row["change"]), PENCE)]
        cells += [(number(row[name]), PENCE) for name in MOVEMENT_COMPONENTS]
        cells += [(number(row["placements_previous"], 0), WHOLE),
                  (number(row["placements_current"], 0), WHOLE)]
        cells += [(ARROWS.get(str(row.get(k, "")), None), CENTRE)
                  for k in ("dot_placements", "dot_unit_cost", "dot_forecast")]
        return cells

    money = ["previous", "current", "change", *MOVEMENT_COMPONENTS, "placements_previous",
             "placements_current"]
    for service, block in moved.lines.groupby(level="service", sort=True):
        for line, row in block.iterrows():
            sheet.write(values(str(service), line[1] or "(lump line)", row))
        total = block[money].sum()
        sheet.write(values(str(service), f"{service} total", total), bold=True,
                    fill=SUBTOTAL_FILL)
    sheet.write(values("Total", "All lines", moved.total), bold=True, fill=BAND_FILL)
    sheet.landscape()


def scenarios_sheet(book: Workbook, table: pd.DataFrame, interval: float) -> None:
    heading = ["Scenarios against the base forecast",
               f"Difference per line with its central {interval:.0%} interval, computed "
               "simulation by simulation (both runs share their random numbers).", ""]
    sheet = Sheet(book, "Scenarios", heading)
    sheet.header([("Scenario", 30), ("Service", 22), ("Line", 34), ("Base forecast", 14),
                  ("Scenario forecast", 14), ("Difference", 13), ("Difference lower", 13),
                  ("Difference upper", 13), ("Probability of an increase", 11)])
    for (name, service, category), row in table.iterrows():
        total = service == "Total"
        sheet.write([(str(name), None), (str(service), None),
                     ("All lines" if total else (category or "(lump line)"), None),
                     (number(row["base_mean"]), POUNDS),
                     (number(row["scenario_mean"]), POUNDS),
                     (number(row["delta_mean"]), POUNDS),
                     (number(row["delta_lower"]), POUNDS),
                     (number(row["delta_upper"]), POUNDS),
                     (number(row["prob_increase"], 6), PROBABILITY)],
                    bold=total, fill=BAND_FILL if total else None)
    sheet.landscape()


def charts_sheet(book: Workbook, images: list[tuple[str, bytes]]) -> None:
    from openpyxl.drawing.image import Image
    from openpyxl.worksheet.pagebreak import Break

    sheet = book.create_sheet("Charts")
    sheet.cell(1, 1, "Charts").font = Font(name=FONT, bold=True, size=14)
    row = 3
    for title, png in images:
        sheet.cell(row - 1, 1, neutralise_text(title)).font = _BOLD
        image = Image(io.BytesIO(png))
        sheet.add_image(image, f"A{row}")
        row += int(image.height / 20) + 3
        sheet.row_breaks.append(Break(id=row - 2))
    setup = sheet.page_setup
    setup.orientation, setup.paperSize = "landscape", sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    setup.fitToWidth, setup.fitToHeight = 1, 0


def chart_images(result: OutturnResult, *, history: pd.Series | None = None,
                 moved: Movement | None = None, tornado: pd.DataFrame | None = None,
                 policy: RagPolicy | None = None, dpi: int = 100
                 ) -> list[tuple[str, bytes]]:
    """The pack's charts as ``(title, PNG bytes)``; empty without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        return []
    from forecastlib.report import plots

    drawings = [("Cumulative spend: actual to date and the forecast to March",
                 lambda: plots.plot_fan_chart(result, history=history)),
                ("Forecast variance by service",
                 lambda: plots.plot_variance(result, policy=policy))]
    if moved is not None:
        drawings.append(("Movement since last month", lambda: plots.plot_waterfall(moved)))
    if tornado is not None:
        drawings.append(("Sensitivity", lambda: plots.plot_tornado(tornado)))
    images = []
    for title, draw in drawings:
        ax = draw()
        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format="png", dpi=dpi)
        plt.close(ax.figure)
        images.append((title, buffer.getvalue()))
    return images


