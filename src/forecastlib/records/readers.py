"""Readers for the contract's input files: CSV or XLSX in, validated typed frames out.

Every reader accepts a path (``.csv``, ``.xlsx``) or a :class:`pandas.DataFrame`
(validated exactly as a file would be) and raises
:class:`~forecastlib.errors.DataValidationError` naming the file, row, column and value
of *every* problem. Nothing is coerced silently and no row is dropped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.schema import ActualRecord, BudgetRecord, PlacementRecord
from forecastlib.records.sheets import read_csv_sheet, read_xlsx_sheet, sheet_from_frame
from forecastlib.records.validate import validate_table

__all__ = ["read_actuals", "read_budget", "read_placements", "read_table"]

Source = str | os.PathLike[str] | pd.DataFrame


def read_table(source: Source, name: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV, an XLSX (first sheet) or a DataFrame into text cells.

    Returns the raw frame (the file's headers, every cell as text, blank rows left out;
    a CSV's columns as categoricals of their text, codes into each column's distinct
    cells) and the name to use in messages (the file name). ``attrs`` of the frame hold the
    file's number of each row (``rows``), the header's (``header_row``), notes (the
    encoding used, a workbook's other sheets) and row-shape problems found on the way,
    which :func:`~forecastlib.records.validate_table` reports.

    Raises
    ------
    DataValidationError
        A file that is missing, empty, not text in a known encoding, not well-formed
        CSV, not a readable workbook, or a workbook with merged cells or formulas
        without stored values.
    """
    if isinstance(source, pd.DataFrame):
        return sheet_from_frame(source).frame(), name or "<DataFrame>"
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise DataValidationError(Problem(label, None, None, str(path), "an existing file"))
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            sheet = read_xlsx_sheet(path, label)
        else:
            sheet = read_csv_sheet(path, label)
    except OSError as error:
        raise DataValidationError(Problem(label, None, None, None,
                                          f"a readable file ({error.strerror or error})")
                                  ) from None
    return sheet.frame(), label


def _read(source: Source, model: type[BaseModel], name: str | None) -> pd.DataFrame:
    raw, label = read_table(source, name)
    frame = validate_table(raw, model, label)
    frame.attrs["source"] = label
    return frame


def read_placements(source: Source, name: str | None = None) -> pd.DataFrame:
    """Read and validate ``placements.csv`` (the commitment record and its history).

    Parameters
    ----------
    source : path or DataFrame
        A ``.csv`` or ``.xlsx`` file, or a frame with the same columns.
    name : str, optional
        Name to use in error messages (defaults to the file name).

    Returns
    -------
    DataFrame
        Columns of :class:`~forecastlib.records.schema.PlacementRecord`: dates as
        ``datetime64`` (``NaT`` when empty), money and rates as ``float64``, ``unit`` in
        lower case, defaults filled in.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"Placement_ID": ["P1"], "client_id": ["C1"],
    ...     "service": ["LAC Placements"], "category": ["Residential homes"],
    ...     "start_date": ["01/04/2017"], "unit_cost": ["3500"]})
    >>> read_placements(rows)[["start_date", "unit", "weeks_per_year"]]
      start_date  unit  weeks_per_year
    0 2017-04-01  week            52.0
    """
    return _read(source, PlacementRecord, name)


def read_budget(source: Source, name: str | None = None) -> pd.DataFrame:
    """Read and validate ``budget.csv`` (one row per budget line).

    ``category`` is ``""`` for a lump line. ``annual_budget`` stays ``NaN`` where the
    file leaves it to be computed; see :func:`forecastlib.budget.annual_budgets`.
    """
    return _read(source, BudgetRecord, name)


def read_actuals(source: Source, name: str | None = None) -> pd.DataFrame:
    """Read and validate ``actuals.csv`` (ledger spend by line and period)."""
    return _read(source, ActualRecord, name)
