"""The committee pack: an Excel workbook of the forecast (openpyxl).

Sheets, in order:

* **Summary**: every line by service, with service subtotals and the total: budget,
  actual to date, forecast mean and interval, variance, variance %, RAG (filled),
  probability of overspend, placements at year-end (mean and interval), whether the
  line needs commentary (the seeds' rule, from :class:`~forecastlib.RagPolicy`) and,
  with a movement, the direction of travel;
* **Key activity**: the seeds' section 2.5 table (budgeted placements x weeks x unit
  cost against snapshot, yearly average and actual unit cost, with the exact volume /
  price split), when the record and budget are given;
* **Movement**: last month's forecast, this month's, the change and its components;
* **Scenarios**: each scenario against the base with the interval of the difference;
* **Charts**: the fan chart, variance by service and the movement waterfall (PNG
  images from matplotlib, when it is installed);
* **Notes**: the forecast's caveats and the policy used.

Money is stored as numbers to the penny (the JSON's figures) and shown with a £ format;
headers are frozen, widths set. Text that a spreadsheet would read as a formula
(starting ``=``, ``+``, ``-``, ``@``) is neutralised.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

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
from forecastlib.report.export import year_end_counts
from forecastlib.report.movement import COMPONENT_LABELS

__all__ = ["chart_images", "committee_pack", "neutralise_text"]

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
_BAND_FILL = PatternFill("solid", fgColor="D9E1F2")
_SUBTOTAL_FILL = PatternFill("solid", fgColor="EDEDED")
_FONT = "Calibri"
_HEADER_FONT = Font(name=_FONT, bold=True, color="FFFFFF")
_BOLD = Font(name=_FONT, bold=True)
_THIN = Side(style="thin", color="999999")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe.

    Examples
    --------
    >>> neutralise_text("=HYPERLINK(1)"), neutralise_text("Homecare"), neutralise_text(3)
    ("'=HYPERLINK(1)", 'Homecare', 3)
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _number(value: object, decimals: int = 2) -> float | None:
    """A finite number rounded like the JSON (to the penny), or ``None`` (blank)."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    rounded = round(number, decimals)
    return 0.0 if rounded == 0 else rounded


class _Sheet:
    """A worksheet written row by row with typed columns."""

    def __init__(self, book: Workbook, title: str, heading: list[str]) -> None:
        self.sheet: Worksheet = book.create_sheet(title)
        for line in heading:
            self.sheet.append([neutralise_text(line)])
        self.sheet.cell(1, 1).font = Font(name=_FONT, bold=True, size=14)
        self.row = len(heading) + 1

    def band(self, bands: list[tuple[str, int]]) -> None:
        """A row of merged group titles (BUDGET | ACTUAL | VARIANCE) over the header."""
        column = 1
        for title, span in bands:
            cell = self.sheet.cell(self.row, column, neutralise_text(title) or None)
            cell.font, cell.fill = _BOLD, _BAND_FILL
            cell.alignment = Alignment(horizontal="center")
            if span > 1:
                self.sheet.merge_cells(start_row=self.row, start_column=column,
                                       end_row=self.row, end_column=column + span - 1)
            column += span
        self.row += 1

    def header(self, columns: list[tuple[str, float]]) -> None:
        for number, (title, width) in enumerate(columns, start=1):
            cell = self.sheet.cell(self.row, number, neutralise_text(title))
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            self.sheet.column_dimensions[get_column_letter(number)].width = width
        self.sheet.row_dimensions[self.row].height = 62
        self.sheet.freeze_panes = self.sheet.cell(self.row + 1, 3)
        self.sheet.print_title_rows = f"{self.row}:{self.row}"
        self.row += 1

    def write(self, values: list[tuple[object, str | None]], *, bold: bool = False,
              fill: PatternFill | None = None, rag: str | None = None,
              rag_column: int | None = None) -> None:
        for number, (value, fmt) in enumerate(values, start=1):
            cell = self.sheet.cell(self.row, number, neutralise_text(value))
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


def _group_draws(result: OutturnResult, rows: np.ndarray) -> np.ndarray | None:
    if result.outturns is None:
        return None
    return result.outturns[rows].sum(axis=0)


def _subtotal(result: OutturnResult, rows: np.ndarray, policy: RagPolicy) -> dict[str, Any]:
    """A service's figures: sums, and the interval and probability of the summed draws."""
    lines = result.lines.iloc[rows]
    budget = float(lines["budget"].sum())
    draws = _group_draws(result, rows)
    tail = (1 - result.interval) / 2
    if draws is None:
        mean = float(lines["mean"].sum())
        lower, upper, probability = mean, mean, float(mean > budget)
    else:
        mean = float(draws.mean())
        lower, upper = (float(q) for q in np.quantile(draws, [tail, 1 - tail]))
        probability = float(np.mean(draws > budget))
    running = result.year_end_running
    counts = (np.zeros(1) if running is None
              else np.asarray(running, dtype="float64")[rows].sum(axis=0))
    assessed = policy.assess([budget], [mean])
    return {"budget": budget, "actual_to_date": float(lines["actual_to_date"].sum()),
            "mean": mean, "lower": lower, "upper": upper,
            "variance": float(assessed["variance"][0]),
            "variance_pct": float(assessed["variance_pct"][0]),
            "rag": str(assessed["rag"][0]), "prob_overspend": probability,
            "commentary_needed": bool(assessed["commentary_needed"][0]),
            "count_mean": float(counts.mean()),
            "count_lower": float(np.quantile(counts, tail)),
            "count_upper": float(np.quantile(counts, 1 - tail))}


_SUMMARY_COLUMNS = [("Service", 22), ("Line", 34), ("Budget", 14), ("Actual to date", 14),
                    ("Forecast outturn (mean)", 15), ("Interval lower", 14),
                    ("Interval upper", 14), ("Variance", 13), ("Variance %", 9),
                    ("RAG", 8), ("Probability of overspend", 11),
                    ("Placements at 31 March (mean)", 12), ("Placements lower", 12),
                    ("Placements upper", 12), ("Commentary needed", 12)]


def _summary_values(service: str, label: str, figures: dict[str, Any]) -> list[tuple]:
    return [(service, None), (label, None),
            (_number(figures["budget"]), POUNDS), (_number(figures["actual_to_date"]), POUNDS),
            (_number(figures["mean"]), POUNDS), (_number(figures["lower"]), POUNDS),
            (_number(figures["upper"]), POUNDS), (_number(figures["variance"]), POUNDS),
            (_number(figures["variance_pct"], 6), PERCENT), (figures["rag"].upper(), CENTRE),
            (_number(figures["prob_overspend"], 6), PROBABILITY),
            (_number(figures["count_mean"], 4), COUNT),
            (_number(figures["count_lower"], 4), COUNT),
            (_number(figures["count_upper"], 4), COUNT),
            ("Yes" if figures["commentary_needed"] else "No", CENTRE)]


def _summary(book: Workbook, result: OutturnResult, policy: RagPolicy,
             moved: Movement | None) -> None:
    heading = [f"Forecast outturn {fy_label(result.year)} as at {result.as_at}",
               f"Forecast: mean of {result.simulations:,} simulations; interval: the central "
               f"{result.interval:.0%}" if result.simulations else
               "Forecast: exact arithmetic (every placement has a known end, no new starts)",
               f"Commentary needed where |variance| > {policy.commentary_share:.0%} of budget "
               f"or £{policy.commentary_amount:,.0f}, whichever is greater. RAG: red above "
               f"{policy.red_share:.0%} and £{policy.red_amount:,.0f}, amber above "
               f"{policy.amber_share:.0%} and £{policy.amber_amount:,.0f}.", ""]
    sheet = _Sheet(book, "Summary", heading)
    columns = list(_SUMMARY_COLUMNS)
    if moved is not None:
        columns += [("Placements DoT", 12), ("Unit cost DoT", 11), ("Forecast DoT", 11),
                    ("Change since last month", 14)]
    sheet.header(columns)
    counts = year_end_counts(result)
    services = result.lines.index.get_level_values("service")

    def movement_cells(line: tuple[str, str] | None) -> list[tuple]:
        if moved is None:
            return []
        row = moved.total if line is None else moved.lines.loc[line]
        return [(ARROWS[str(row[k])], CENTRE) for k in
                ("dot_placements", "dot_unit_cost", "dot_forecast")] + [
            (_number(row["change"]), POUNDS)]

    lump = (result.lines["lump"].fillna(False).to_numpy(dtype=bool)
            if "lump" in result.lines else np.zeros(len(result.lines), dtype=bool))

    def line_row(position: int) -> None:
        line = result.lines.index[position]
        figures = result.lines.iloc[position].to_dict()
        count = counts.iloc[position]
        figures.update(count_mean=count["mean"], count_lower=count["lower"],
                       count_upper=count["upper"])
        label = line[1] or "(lump line)"
        sheet.write(_summary_values(line[0], label, figures)
                    + movement_cells(line if moved is not None
                                     and line in moved.lines.index else None),
                    rag=figures["rag"], rag_column=10)

    for service in sorted(set(services[~lump])):
        rows = np.flatnonzero((services == service) & ~lump)
        for position in rows:
            line_row(int(position))
        figures = _subtotal(result, rows, policy)
        changes = []
        if moved is not None:
            mine = moved.lines.index.get_level_values("service") == service
            changes = [(None, None)] * 3 + [(_number(moved.lines.loc[mine, "change"].sum()),
                                            POUNDS)]
        sheet.write(_summary_values(service, f"{service} total", figures) + changes,
                    bold=True, fill=_SUBTOTAL_FILL, rag=figures["rag"], rag_column=10)
    if lump.any():  # growth and savings targets: apart, and not RAG-rated as placements
        sheet.write([("Growth and savings lines (not RAG-rated)", None)], bold=True)
        for position in np.flatnonzero(lump):
            line_row(int(position))
    total = result.total.to_dict()
    count = counts.iloc[-1]
    total.update(count_mean=count["mean"], count_lower=count["lower"],
                 count_upper=count["upper"])
    sheet.write(_summary_values("Total", "All lines", total) + movement_cells(None),
                bold=True, fill=_BAND_FILL, rag=str(total["rag"]), rag_column=10)
    sheet.sheet.auto_filter.ref = None
    sheet.landscape()


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
            (_number(row["budget_placements"], 4), COUNT),
            (_number(row["annual_budget"]), POUNDS),
            (_number(row["weeks_funded"], 2), WHOLE),
            (_number(row["budget_unit_cost"]), PENCE),
            (_number(row["snapshot"], 0), WHOLE), (_number(row["yearly_average"], 4), "0.00"),
            (_number(row["net_spend"]), POUNDS), (_number(row["actual_unit_cost"]), PENCE),
            (_number(row["placements_variance"], 4), "0.00;-0.00"),
            (_number(row["spend_variance"]), POUNDS),
            (_number(row["unit_cost_variance"]), PENCE),
            (_number(row["volume_variance"]), POUNDS), (_number(row["price_variance"]), POUNDS)]


def _key_activity(book: Workbook, table: pd.DataFrame, moved: Movement | None) -> None:
    as_at, year = table.attrs.get("as_at"), table.attrs.get("year")
    heading = [f"Key activity data to {as_at} ({fy_label(year) if year else ''})",
               "Budgeted placements x weeks funded x average unit cost, against the snapshot "
               "of placements, the yearly average and the actual average unit cost. Spend is "
               "the full year on the commitment basis; Volume + Price = Net variance exactly.",
               "Unit costs are per the line's unit (week, hour or year)."
               + (" DoT: direction of travel against last month." if moved is not None else ""),
               ""]
    sheet = _Sheet(book, "Key activity", heading)
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
                    fill=_SUBTOTAL_FILL)
    overall = table[summed].sum(min_count=1)
    overall = pd.concat([overall, pd.Series({"weeks_funded": np.nan, "budget_unit_cost": np.nan,
                                             "actual_unit_cost": np.nan,
                                             "unit_cost_variance": np.nan})])
    sheet.write(_activity_values("Total", "OVERALL TOTAL", overall), bold=True, fill=_BAND_FILL)
    sheet.landscape()


def _movement(book: Workbook, moved: Movement) -> None:
    heading = [f"Movement in the forecast: {moved.previous.as_at} to {moved.current.as_at}",
               "Change = the sum of the components, to the penny. New placements: spells "
               "started since last month; ended placements: ends earlier than last month "
               "assumed; price changes: the whole effect of new prices; model: everything "
               "else (re-fitted demand, new-start projections).", ""]
    sheet = _Sheet(book, "Movement", heading)
    sheet.header([("Service", 22), ("Line", 34), ("Last month", 16), ("This month", 16),
                  ("Change", 15), *[(COMPONENT_LABELS[name], 15) for name in MOVEMENT_COMPONENTS],
                  ("Placements last month", 11), ("Placements now", 11),
                  ("Placements DoT", 12), ("Unit cost DoT", 11), ("Forecast DoT", 11)])

    def values(service: str, label: str, row: pd.Series) -> list[tuple]:
        cells = [(service, None), (label, None), (_number(row["previous"]), PENCE),
                 (_number(row["current"]), PENCE), (_number(row["change"]), PENCE)]
        cells += [(_number(row[name]), PENCE) for name in MOVEMENT_COMPONENTS]
        cells += [(_number(row["placements_previous"], 0), WHOLE),
                  (_number(row["placements_current"], 0), WHOLE)]
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
                    fill=_SUBTOTAL_FILL)
    sheet.write(values("Total", "All lines", moved.total), bold=True, fill=_BAND_FILL)
    sheet.landscape()


def _scenarios(book: Workbook, table: pd.DataFrame, interval: float) -> None:
    heading = ["Scenarios against the base forecast",
               f"Difference per line with its central {interval:.0%} interval, computed "
               "simulation by simulation (both runs share their random numbers).", ""]
    sheet = _Sheet(book, "Scenarios", heading)
    sheet.header([("Scenario", 30), ("Service", 22), ("Line", 34), ("Base forecast", 14),
                  ("Scenario forecast", 14), ("Difference", 13), ("Difference lower", 13),
                  ("Difference upper", 13), ("Probability of an increase", 11)])
    for (name, service, category), row in table.iterrows():
        total = service == "Total"
        sheet.write([(str(name), None), (str(service), None),
                     ("All lines" if total else (category or "(lump line)"), None),
                     (_number(row["base_mean"]), POUNDS),
                     (_number(row["scenario_mean"]), POUNDS),
                     (_number(row["delta_mean"]), POUNDS),
                     (_number(row["delta_lower"]), POUNDS),
                     (_number(row["delta_upper"]), POUNDS),
                     (_number(row["prob_increase"], 6), PROBABILITY)],
                    bold=total, fill=_BAND_FILL if total else None)
    sheet.landscape()


def _charts(book: Workbook, images: list[tuple[str, bytes]]) -> None:
    from openpyxl.drawing.image import Image
    from openpyxl.worksheet.pagebreak import Break

    sheet = book.create_sheet("Charts")
    sheet.cell(1, 1, "Charts").font = Font(name=_FONT, bold=True, size=14)
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


def committee_pack(
    result: OutturnResult,
    path: str | Path | None = None,
    *,
    placements: pd.DataFrame | None = None,
    budget: pd.DataFrame | None = None,
    actuals: pd.DataFrame | None = None,
    movement: Movement | None = None,
    scenarios: pd.DataFrame | None = None,
    tornado: pd.DataFrame | None = None,
    policy: RagPolicy | None = None,
    charts: bool = True,
    use_planned_ends: bool = True,
) -> bytes:
    """Write the committee pack (see module notes) and return the workbook's bytes.

    Parameters
    ----------
    result : OutturnResult
        The forecast (:func:`~forecastlib.forecast_outturn`).
    path : str or Path, optional
        Where to write the ``.xlsx`` (also returned as bytes).
    placements, budget : DataFrame, optional
        The record and budget behind ``result``: with both, the key activity sheet and
        the actual monthly spend on the fan chart.
    actuals : DataFrame, optional
        Ledger actuals (the fan chart's actual spend by month).
    movement : Movement, optional
        From :func:`~forecastlib.movement`: the movement sheet, direction of travel and
        the waterfall.
    scenarios : DataFrame, optional
        From :func:`~forecastlib.compare`: the scenarios sheet.
    tornado : DataFrame, optional
        From :func:`~forecastlib.tornado`: its chart.
    policy : RagPolicy, optional
        The RAG and commentary policy the forecast used (for subtotals and notes).
    charts : bool, default True
        Add the charts sheet (needs matplotlib).

    Returns
    -------
    bytes
        The ``.xlsx`` file.

    Examples
    --------
    >>> import io
    >>> from openpyxl import load_workbook
    >>> from forecastlib.datasets import load_sample
    >>> from forecastlib.outturn import forecast_outturn
    >>> sample = load_sample()
    >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
    ...                           actuals=sample.actuals, simulations=200, seed=1)
    >>> pack = committee_pack(result, placements=sample.placements, budget=sample.budget,
    ...                       charts=False)
    >>> load_workbook(io.BytesIO(pack)).sheetnames
    ['Summary', 'Key activity', 'Notes']
    """
    policy = policy or RagPolicy()
    book = Workbook()
    book.remove(book.active)
    _summary(book, result, policy, movement)
    if placements is not None and budget is not None:
        from forecastlib.report.key_activity import key_activity

        _key_activity(book, key_activity(placements, budget, result.as_at, year=result.year,
                                         use_planned_ends=use_planned_ends), movement)
    if movement is not None:
        _movement(book, movement)
    if scenarios is not None:
        _scenarios(book, scenarios, result.interval)
    if charts:
        history = None
        if placements is not None:
            from forecastlib.report.plots import cumulative_actuals

            history = cumulative_actuals(placements, result.as_at, actuals=actuals,
                                         use_planned_ends=use_planned_ends)
        images = chart_images(result, history=history, moved=movement, tornado=tornado,
                              policy=policy)
        if images:
            _charts(book, images)
    notes = book.create_sheet("Notes")
    notes.column_dimensions["A"].width = 120
    notes.append(["Notes"])
    notes.cell(1, 1).font = Font(name=_FONT, bold=True, size=14)
    for note in [*result.notes, *(movement.notes if movement is not None else [])]:
        notes.append([neutralise_text(note)])
        notes.cell(notes.max_row, 1).alignment = Alignment(wrap_text=True)
    notes.append([f"RAG policy: {policy.model_dump()}"])
    buffer = io.BytesIO()
    book.save(buffer)
    content = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(content)
    return content
