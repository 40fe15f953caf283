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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from forecastlib.calendar import fy_label
from forecastlib.outturn.movement import ARROWS, Movement
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult
from forecastlib.report.export import year_end_counts
from forecastlib.report.workbook_sheets import (
    BAND_FILL,
    CENTRE,
    COUNT,
    FONT,
    PERCENT,
    POUNDS,
    PROBABILITY,
    SUBTOTAL_FILL,
    Sheet,
    chart_images,
    charts_sheet,
    key_activity_sheet,
    movement_sheet,
    neutralise_text,
    number,
    scenarios_sheet,
)

__all__ = ["chart_images", "committee_pack", "neutralise_text"]


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
            (number(figures["budget"]), POUNDS), (number(figures["actual_to_date"]), POUNDS),
            (number(figures["mean"]), POUNDS), (number(figures["lower"]), POUNDS),
            (number(figures["upper"]), POUNDS), (number(figures["variance"]), POUNDS),
            (number(figures["variance_pct"], 6), PERCENT), (figures["rag"].upper(), CENTRE),
            (number(figures["prob_overspend"], 6), PROBABILITY),
            (number(figures["count_mean"], 4), COUNT),
            (number(figures["count_lower"], 4), COUNT),
            (number(figures["count_upper"], 4), COUNT),
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
    sheet = Sheet(book, "Summary", heading)
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
            (number(row["change"]), POUNDS)]

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
            changes = [(None, None)] * 3 + [(number(moved.lines.loc[mine, "change"].sum()),
                                            POUNDS)]
        sheet.write(_summary_values(service, f"{service} total", figures) + changes,
                    bold=True, fill=SUBTOTAL_FILL, rag=figures["rag"], rag_column=10)
    if lump.any():  # growth and savings targets: apart, and not RAG-rated as placements
        sheet.write([("Growth and savings lines (not RAG-rated)", None)], bold=True)
        for position in np.flatnonzero(lump):
            line_row(int(position))
    total = result.total.to_dict()
    count = counts.iloc[-1]
    total.update(count_mean=count["mean"], count_lower=count["lower"],
                 count_upper=count["upper"])
    sheet.write(_summary_values("Total", "All lines", total) + movement_cells(None),
                bold=True, fill=BAND_FILL, rag=str(total["rag"]), rag_column=10)
    sheet.sheet.auto_filter.ref = None
    sheet.landscape()


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

        key_activity_sheet(book, key_activity(placements, budget, result.as_at, year=result.year,
                                         use_planned_ends=use_planned_ends), movement)
    if movement is not None:
        movement_sheet(book, movement)
    if scenarios is not None:
        scenarios_sheet(book, scenarios, result.interval)
    if charts:
        history = None
        if placements is not None:
            from forecastlib.report.plots import cumulative_actuals

            history = cumulative_actuals(placements, result.as_at, actuals=actuals,
                                         use_planned_ends=use_planned_ends)
        images = chart_images(result, history=history, moved=movement, tornado=tornado,
                              policy=policy)
        if images:
            charts_sheet(book, images)
    notes = book.create_sheet("Notes")
    notes.column_dimensions["A"].width = 120
    notes.append(["Notes"])
    notes.cell(1, 1).font = Font(name=FONT, bold=True, size=14)
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
