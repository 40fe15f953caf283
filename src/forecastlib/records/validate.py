"""Vectorised validation of a raw table against a row model.

A raw table is a :class:`pandas.DataFrame` of *text* cells exactly as read from a
file. :func:`validate_table` turns it into a typed frame (dates as ``datetime64``,
numbers as ``float64``) or raises one :class:`~forecastlib.errors.DataValidationError`
listing every problem: missing columns, empty required cells, unreadable dates and
numbers, values out of bounds, unknown choices, cross-column rules and duplicate keys.
Every check is a whole-column operation; no Python loop runs over rows.

Row numbers follow the spreadsheet convention: the header is row 1, so the first data
row is row 2.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import BaseModel

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.schema import UNIQUE_KEYS, ColumnSpec, column_specs, rules_for

__all__ = ["normalise_headers", "validate_table"]

#: At most this many problems are recorded per column and check (the total is counted).
MAX_PROBLEMS_PER_CHECK = 200

_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_UK = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_THOUSANDS = re.compile(r"^-?£?\d{1,3}(,\d{3})+(\.\d+)?$")


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add_mask(
        self,
        mask: np.ndarray,
        column: str | None,
        values: pd.Series | None,
        expected: str,
        index: np.ndarray | None = None,
    ) -> None:
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        shown = positions[:MAX_PROBLEMS_PER_CHECK]
        rows = (index[shown] if index is not None else shown) + 2
        cells = values.to_numpy()[shown] if values is not None else [None] * len(shown)
        self.problems.extend(
            Problem(self.file, int(row), column, None if cell is None else str(cell), expected)
            for row, cell in zip(rows, cells)
        )
        if positions.size > shown.size:
            self.problems.append(
                Problem(
                    self.file,
                    None,
                    column,
                    None,
                    f"{positions.size - shown.size} more rows fail the same check ({expected})",
                )
            )

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def sorted(self) -> list[Problem]:
        """Problems in file order: by row, file-level summaries last (stable per row)."""
        return sorted(self.problems, key=lambda p: p.row if p.row is not None else 1 << 62)


def normalise_headers(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    """Lower-case and strip the column names, refusing blanks and duplicates."""
    names = [str(c).strip().lower() for c in raw.columns]
    seen: dict[str, int] = {}
    problems = []
    for position, name in enumerate(names):
        if name in seen:
            problems.append(
                Problem(file, 1, name, str(raw.columns[position]),
                        f"each column once (also column {seen[name] + 1})")
            )
        seen.setdefault(name, position)
    if problems:
        raise DataValidationError(problems)
    out = raw.copy()
    out.columns = names
    return out


def _parse_dates(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ISO first, then UK day-first; never a US month-first reading."""
    iso = text.str.match(_ISO)
    uk = ~iso & text.str.match(_UK)
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    if iso.any():
        parsed[iso] = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
    if uk.any():
        parsed[uk] = pd.to_datetime(text[uk], format="%d/%m/%Y", errors="coerce")
    return parsed, parsed.isna().to_numpy()


def _parse_numbers(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    cleaned = text
    fancy = text.str.contains("£", regex=False) | text.str.contains(",", regex=False)
    if fancy.any():
        # Accept "£1,234.50" and well-formed thousands groups; anything else stays bad.
        readable = fancy & (text.str.match(_THOUSANDS) | text.str.match(r"^-?£\d+(\.\d+)?$"))
        cleaned = text.where(~readable, text.str.replace("£", "", regex=False)
                             .str.replace(",", "", regex=False))
    numbers = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    bad = ~np.isfinite(numbers.to_numpy())
    return numbers, bad


def _check_column(spec: ColumnSpec, text: pd.Series, out: _Collector) -> pd.Series:
    empty = (text == "").to_numpy()
    present = ~empty
    if spec.required:
        out.add_mask(empty, spec.name, None, f"a value ({spec.expected()}); the cell is empty")
    if spec.kind == "text":
        values = text.astype("object")
        values[empty] = spec.default if spec.default is not None else ""
        return values.astype(str)
    if spec.kind == "choice":
        lowered = text.str.lower()
        bad = present & ~lowered.isin(spec.choices).to_numpy()
        out.add_mask(bad, spec.name, text, spec.expected())
        values = lowered.astype("object")
        values[empty] = spec.default
        return values.astype(str)
    if spec.kind == "date":
        values, unreadable = _parse_dates(text)
        out.add_mask(present & unreadable, spec.name, text, spec.expected())
        return values
    numbers, unreadable = _parse_numbers(text)
    out.add_mask(present & unreadable, spec.name, text, spec.expected())
    ok = present & ~unreadable
    array = numbers.to_numpy()
    out_of_bounds = np.zeros(len(text), dtype=bool)
    if spec.ge is not None:
        out_of_bounds |= ok & (array < spec.ge)
    if spec.gt is not None:
        out_of_bounds |= ok & (array <= spec.gt)
    if spec.le is not None:
        out_of_bounds |= ok & (array > spec.le)
    if spec.kind == "integer":
        out_of_bounds |= ok & (array != np.round(array))
    out.add_mask(out_of_bounds, spec.name, text, spec.expected())
    if spec.default is not None:
        numbers = numbers.where(present, float(spec.default))
    if spec.kind == "integer":
        return numbers.where(~(present & unreadable | out_of_bounds)).astype("Int64")
    return numbers


def _check_unique(frame: pd.DataFrame, key: list[str], out: _Collector) -> None:
    duplicated = frame.duplicated(subset=key, keep="first").to_numpy()
    if not duplicated.any():
        return
    group = frame.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    first_position = pd.Series(np.arange(len(frame))).groupby(group).transform("min").to_numpy()
    label = " + ".join(key)
    for position in np.flatnonzero(duplicated)[:MAX_PROBLEMS_PER_CHECK]:
        value = " / ".join(str(frame[k].iloc[position]) for k in key)
        out.add(Problem(out.file, int(position) + 2, label, value,
                        f"a unique {label} (row {first_position[position] + 2} has the same)"))


def validate_table(raw: pd.DataFrame, model: type[BaseModel], file: str) -> pd.DataFrame:
    """Validate a raw text table against ``model`` and return the typed frame.

    Parameters
    ----------
    raw : DataFrame
        Cells as text (``str``); empty cells as ``""``. Headers in any case.
    model : pydantic model class
        :class:`~forecastlib.records.schema.PlacementRecord`, ``BudgetRecord`` or
        ``ActualRecord``.
    file : str
        The name used in error messages.

    Returns
    -------
    DataFrame
        One typed column per model field, in field order, then any extra columns of the
        file unchanged (as text). Row order and count are those of the file.

    Raises
    ------
    DataValidationError
        Listing every problem found.
    """
    table = normalise_headers(raw, file)
    specs = column_specs(model)
    out = _Collector(file)
    missing = [s.name for s in specs if s.required and s.name not in table.columns]
    for name in missing:
        out.add(Problem(file, 1, name, None,
                        f"a column named '{name}' (required; columns found: "
                        f"{', '.join(table.columns) or 'none'})"))
    if missing:
        raise DataValidationError(out.problems)

    typed: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name in table.columns:
            text = table[spec.name].astype(str).str.strip()
        else:
            text = pd.Series("", index=table.index, dtype=str)
        typed[spec.name] = _check_column(spec, text, out)
    frame = pd.DataFrame(typed, index=table.index)
    if out.problems:
        raise DataValidationError(out.sorted())

    for rule in rules_for(model):
        out.add_mask(rule.violated(frame), rule.column, table.get(rule.column), rule.expected)
    key = list(UNIQUE_KEYS[model])
    if key and len(frame):
        _check_unique(frame, key, out)
    if out.problems:
        raise DataValidationError(out.sorted())

    extras = [c for c in table.columns if c not in typed]
    for column in extras:
        frame[column] = table[column].astype(str)
    return frame.reset_index(drop=True)
