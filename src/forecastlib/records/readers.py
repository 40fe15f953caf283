"""Readers for the contract's input files: CSV or XLSX in, validated typed frames out.

Every reader accepts a path (``.csv``, ``.xlsx``) or a :class:`pandas.DataFrame`
(validated exactly as a file would be) and raises
:class:`~forecastlib.errors.DataValidationError` naming the file, row, column and value
of *every* problem. Nothing is coerced silently and no row is dropped.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.schema import ActualRecord, BudgetRecord, PlacementRecord
from forecastlib.records.validate import validate_table

__all__ = ["read_actuals", "read_budget", "read_placements", "read_table"]

Source = str | os.PathLike[str] | pd.DataFrame


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _frame_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a typed frame (from Python or Excel) into the text cells a CSV would hold."""
    columns = []
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if pd.api.types.is_datetime64_any_dtype(series):
            text = series.dt.strftime("%Y-%m-%d").fillna("")
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            text = series.astype("float64").map(repr).where(series.notna(), "")
            whole = series.notna() & (series.astype("float64") % 1 == 0)
            if pd.api.types.is_integer_dtype(series):
                text = text.where(~whole, series.astype("Int64").astype(str))
        else:
            text = series.map(_cell_text)
        columns.append(text.astype(str).rename(position))
    text_frame = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=frame.index)
    text_frame.columns = list(frame.columns)
    return text_frame


def read_table(source: Source, name: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a CSV, an XLSX (first sheet) or a DataFrame into text cells.

    Returns the raw frame and the name to use in messages (the file name).
    """
    if isinstance(source, pd.DataFrame):
        return _frame_as_text(source), name or "<DataFrame>"
    path = Path(source)
    label = name or path.name
    if not path.is_file():
        raise DataValidationError(Problem(label, None, None, str(path), "an existing file"))
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            raw = pd.read_excel(path, sheet_name=0, dtype=object, header=0)
            raw = _frame_as_text(raw)
        else:
            raw = pd.read_csv(path, dtype=object, keep_default_na=False, na_filter=False,
                              encoding="utf-8-sig", skipinitialspace=False)
    except UnicodeDecodeError as error:
        raise DataValidationError(Problem(label, None, None, None,
                                          f"UTF-8 text ({error.reason} at byte {error.start})")
                                  ) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(Problem(label, None, None, None,
                                          "a header row and data rows; the file is empty")
                                  ) from None
    except pd.errors.ParserError as error:
        raise DataValidationError(Problem(label, None, None, None,
                                          f"well-formed CSV ({error})")) from None
    except (ValueError, OSError) as error:  # openpyxl: not a zip / not a workbook
        raise DataValidationError(Problem(label, None, None, None,
                                          f"a readable .csv or .xlsx file ({error})")) from None
    return raw, label


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
