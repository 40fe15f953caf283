"""Vectorised validation of a raw table against a row model.

A raw table is a :class:`pandas.DataFrame` of *text* cells exactly as read from a
file. :func:`validate_table` turns it into a typed frame (dates as ``datetime64``,
numbers as ``float64``) or raises one :class:`~forecastlib.errors.DataValidationError`
listing every problem: missing columns, empty required cells, unreadable dates and
numbers, values out of bounds, unknown choices, cross-column rules and duplicate keys.
Every check is a whole-column operation; no Python loop runs over rows.

Row numbers are the file's own: the line of a CSV (blank lines included) or the row of
a sheet, as the readers record them in ``raw.attrs["rows"]``; for a frame built in
Python, the header is row 1 and the first data row is row 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.cells import (
    parse_dates,
    parse_numbers,
    two_digit_years,
    unreadable_reasons,
)
from forecastlib.records.headers import match_headers
from forecastlib.records.line_names import line_key
from forecastlib.records.schema import ColumnSpec, column_specs, rules_for, unique_key

__all__ = ["validate_table"]

#: At most this many problems are recorded per column and check (the total is counted).
MAX_PROBLEMS_PER_CHECK = 200

_TEXT = np.dtypes.StringDType()
#: Key columns compared as line names (ignoring case and spaces) in the unique check.
_LINE_NAME_COLUMNS = ("service", "category")
_TWO_DIGIT = ("a date with a 4-digit year, as DD/MM/YYYY or YYYY-MM-DD (a 2-digit year "
              "is never guessed: format the column as dates with 4-digit years)")


class _Collector:
    def __init__(self, file: str, rows: np.ndarray):
        self.file = file
        self.rows = rows
        self.problems: list[Problem] = []
        self.bad: np.ndarray | None = None  # rows with a problem found so far

    def add_mask(
        self,
        mask: np.ndarray,
        column: str | None,
        values: pd.Series | np.ndarray | None,
        expected: str,
        values_aligned: bool = False,
    ) -> None:
        """Record a problem for each row in ``mask``.

        ``values`` holds every row's cell, or (``values_aligned``) only the masked rows'.
        """
        positions = np.flatnonzero(mask)
        if positions.size == 0:
            return
        if self.bad is not None:
            self.bad[positions] = True
        shown = positions[:MAX_PROBLEMS_PER_CHECK]
        rows = self.rows[shown]
        if values is None:
            cells = [None] * len(shown)
        elif values_aligned:
            cells = np.asarray(values)[: len(shown)]
        else:
            cells = np.asarray(values)[shown]
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


def _cells(column: pd.Series) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """Factorise a column: row codes, its distinct cells (when all are ``str``), those
    cells as text, and as text with surrounding spaces removed.

    Parsing works on the distinct cells and is mapped back through the codes, so a
    column of a million rows with a few thousand distinct dates parses a few thousand.
    A CSV's columns come already coded (categoricals) from the reader.
    """
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.hasnans:
        codes = column.cat.codes.to_numpy()
        uniques = column.cat.categories.to_numpy(dtype=object)
        distinct = uniques.astype(_TEXT)  # the reader's categories are str
    else:
        codes, given = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=False)
        distinct = np.asarray(given, dtype=object).astype(str).astype(_TEXT)
        uniques = None
    return codes, uniques, distinct, np.strings.strip(distinct)


def _as_given(uniques: np.ndarray | None, distinct: np.ndarray,
              stripped: np.ndarray) -> np.ndarray:
    """The stripped cells as Python strings, reusing the given ones left unchanged."""
    if uniques is None:
        return stripped.astype(object)
    values = uniques.copy()
    changed = np.flatnonzero(np.strings.str_len(stripped) != np.strings.str_len(distinct))
    values[changed] = stripped[changed].astype(object)
    return values


def _check_column(spec: ColumnSpec, column: pd.Series, out: _Collector,
                  coded: dict[str, np.ndarray] | None = None) -> pd.Series:
    """The typed column; for a text column whose distinct cells stay distinct once
    stripped, its row codes go into ``coded`` (equal codes, equal values)."""
    codes, uniques, distinct, cells = _cells(column)
    empty = cells == ""
    present = ~empty
    stripped = cells

    def report(bad_cells: np.ndarray, expected: str, show: bool = True) -> None:
        if bad_cells.any():
            rows = bad_cells[codes]
            first = np.flatnonzero(rows)[:MAX_PROBLEMS_PER_CHECK]
            shown = stripped[codes[first]].astype(object) if show else None
            out.add_mask(rows, spec.name, shown, expected, values_aligned=True)

    if spec.required:
        report(empty, f"a value ({spec.expected()}); the cell is empty", show=False)
    if spec.kind in ("text", "choice"):
        if spec.kind == "choice":
            cells = np.strings.lower(cells)
            known = np.zeros(cells.shape, dtype=bool)
            for choice in spec.choices:
                known |= cells == choice
            report(present & ~known, spec.expected())
        default = spec.default if spec.default is not None else ""
        values = (cells.astype(object) if spec.kind == "choice"
                  else _as_given(uniques, distinct, cells))
        if (coded is not None and spec.kind == "text" and uniques is not None  # str cells
                and empty.sum() <= 1
                and not (default and (cells == default).any())
                and (np.strings.str_len(cells) == np.strings.str_len(distinct)).all()):
            coded[spec.name] = codes
        values[empty] = default
        return pd.Series(values[codes], index=column.index, dtype=str)
    if spec.kind == "date":
        dates, unreadable = parse_dates(cells, present)
        if unreadable.any():
            short_year = unreadable & two_digit_years(cells)
            report(short_year, _TWO_DIGIT)
            report(unreadable & ~short_year, spec.expected())
        return pd.Series(dates[codes], index=column.index)
    array, unreadable = parse_numbers(cells, present, money=spec.money)
    if unreadable.any():
        reasons = unreadable_reasons(cells, unreadable)
        for reason in np.unique(reasons[unreadable]):
            detail = f" ({reason})" if reason else ""
            report(unreadable & (reasons == reason), spec.expected() + detail)
    ok = present & ~unreadable
    out_of_bounds = np.zeros(len(cells), dtype=bool)
    if spec.ge is not None:
        out_of_bounds |= ok & (array < spec.ge)
    if spec.gt is not None:
        out_of_bounds |= ok & (array <= spec.gt)
    if spec.le is not None:
        out_of_bounds |= ok & (array > spec.le)
    if spec.kind == "integer":
        out_of_bounds |= ok & (array != np.round(array))
    report(out_of_bounds, spec.expected())
    if spec.default is not None:
        array = np.where(present, array, float(spec.default))
    numbers = pd.Series(array[codes], index=column.index)
    if spec.kind == "integer":
        return numbers.where((ok & ~out_of_bounds)[codes]).astype("Int64")
    return numbers


def _check_unique(frame: pd.DataFrame, key: list[str], out: _Collector,
                  coded: dict[str, np.ndarray]) -> None:
    """Duplicate keys; a column's row codes stand for its values where ``coded`` has
    them (integers hash faster than strings)."""
    compared = pd.DataFrame({k: coded[k] if k in coded and k not in _LINE_NAME_COLUMNS
                             else line_key(frame[k]) if k in _LINE_NAME_COLUMNS else frame[k]
                             for k in key})
    duplicated = compared.duplicated(keep="first").to_numpy()
    if not duplicated.any():
        return
    group = compared.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
    first_position = pd.Series(np.arange(len(frame))).groupby(group).transform("min").to_numpy()
    label = " + ".join(key)
    for position in np.flatnonzero(duplicated)[:MAX_PROBLEMS_PER_CHECK]:
        value = " / ".join(str(frame[k].iloc[position]) for k in key)
        same = " once case and spaces are ignored" if set(key) & set(_LINE_NAME_COLUMNS) else ""
        out.add(Problem(out.file, int(out.rows[position]), label, value,
                        f"a unique {label} (row {out.rows[first_position[position]]} has the "
                        f"same{same})"))


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
    meta = raw.attrs
    raw = raw.copy(deep=False)
    raw.attrs = {}  # pandas deep-copies attrs on every operation: keep them out of the way
    rows = meta.get("rows")
    rows = np.arange(2, len(raw) + 2) if rows is None else np.asarray(rows, dtype=np.int64)
    specs = column_specs(model)
    table, header_notes = match_headers(raw, [s.name for s in specs],
                                        [s.name for s in specs if s.required], file,
                                        rows=rows, header_row=int(meta.get("header_row", 1)),
                                        shape_problems=meta.get("problems", ()))
    out = _Collector(file, rows)
    typed: dict[str, pd.Series] = {}
    coded: dict[str, np.ndarray] = {}
    out.bad = np.zeros(len(table), dtype=bool)
    key = list(unique_key(model))
    for spec in specs:
        if spec.name in table.columns:
            column = table[spec.name]
        else:
            column = pd.Series("", index=table.index, dtype=object)
        typed[spec.name] = _check_column(spec, column, out,
                                         coded if spec.name in key else None)
    frame = pd.DataFrame(typed, index=table.index)
    readable = ~out.bad  # cross-column rules judge only rows whose cells could be read
    for rule in rules_for(model):
        with np.errstate(invalid="ignore", over="ignore"):
            violated = rule.violated(frame)
        out.add_mask(violated & readable, rule.column, table.get(rule.column), rule.expected)
    if key and len(frame):
        _check_unique(frame, key, out, coded)
    if out.problems:
        raise DataValidationError(out.sorted())

    extras = [c for c in table.columns if c not in typed]
    for column in extras:
        frame[column] = table[column].astype(str)
    frame = frame.reset_index(drop=True)
    frame.attrs["notes"] = [*meta.get("notes", []), *header_notes]
    return frame
