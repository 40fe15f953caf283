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
from forecastlib.records.schema import ColumnSpec, column_specs, rules_for, unique_key

__all__ = ["normalise_headers", "validate_table"]

#: At most this many problems are recorded per column and check (the total is counted).
MAX_PROBLEMS_PER_CHECK = 200

_THOUSANDS = re.compile(r"^-?£?\d{1,3}(,\d{3})+(\.\d+)?$")
_TEXT = np.dtypes.StringDType()
_SLASH = np.array("/", dtype=_TEXT)


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

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
        shown = positions[:MAX_PROBLEMS_PER_CHECK]
        rows = shown + 2
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


def _cells(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Factorise a column: row codes and its distinct cells, surrounding spaces removed.

    Parsing works on the distinct cells and is mapped back through the codes, so a
    column of a million rows with a few thousand distinct dates parses a few thousand.
    """
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=False)
    distinct = np.asarray(uniques, dtype=object).astype(str).astype(_TEXT)
    return codes, np.strings.strip(distinct)


def _uk_dates_as_iso(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rewrite ``D/M/YYYY`` cells as ``YYYY-MM-DD``; the mask says which had that shape."""
    day, first, rest = np.strings.partition(cells, _SLASH)
    month, second, year = np.strings.partition(rest, _SLASH)
    length = np.strings.str_len
    shaped = ((first == "/") & (second == "/") & (length(year) == 4)
              & (length(day) >= 1) & (length(day) <= 2) & (length(month) >= 1)
              & (length(month) <= 2) & np.strings.isdigit(day) & np.strings.isdigit(month)
              & np.strings.isdigit(year))
    iso = year + "-" + np.strings.zfill(month, 2) + "-" + np.strings.zfill(day, 2)
    return shaped, iso


def _iso_dates(cells: np.ndarray) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(cells.astype(object)), format="%Y-%m-%d", errors="coerce")
    return parsed.to_numpy(dtype="datetime64[s]")


def _parse_dates(cells: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO ``YYYY-MM-DD`` first, then UK ``DD/MM/YYYY``; never a US month-first reading."""
    parsed = np.full(cells.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    parsed[present] = _iso_dates(cells[present])
    retry = present & np.isnat(parsed)
    if retry.any():
        shaped, iso = _uk_dates_as_iso(cells[retry])
        uk = np.full(shaped.shape, np.datetime64("NaT"), dtype="datetime64[s]")
        if shaped.any():
            uk[shaped] = _iso_dates(iso[shaped])
        parsed[retry] = uk
    return parsed, present & np.isnat(parsed)


def _parse_numbers(cells: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain numbers; ``£1,234.50`` and well-formed thousands groups are also read."""
    numbers = np.full(cells.shape, np.nan)
    given = cells[present]
    try:
        numbers[present] = given.astype(np.float64)
    except ValueError:
        read = pd.to_numeric(pd.Series(given.astype(object)), errors="coerce").to_numpy(
            dtype="float64", copy=True)
        failed = np.isnan(read)
        if failed.any():
            text = pd.Series(given[failed].astype(object))
            readable = text.str.match(_THOUSANDS) | text.str.match(r"^-?£\d+(\.\d+)?$")
            cleaned = text.str.replace("£", "", regex=False).str.replace(",", "", regex=False)
            retried = pd.to_numeric(cleaned.where(readable, ""), errors="coerce")
            read[failed] = retried.to_numpy(dtype="float64")
        numbers[present] = read
    return numbers, present & ~np.isfinite(numbers)


def _check_column(spec: ColumnSpec, column: pd.Series, out: _Collector) -> pd.Series:
    codes, cells = _cells(column)
    empty = cells == ""
    present = ~empty
    shown = cells.astype(object)

    def report(bad_cells: np.ndarray, expected: str, values: np.ndarray | None = shown) -> None:
        if bad_cells.any():
            rows = bad_cells[codes]
            out.add_mask(rows, spec.name, None if values is None else values[codes[rows]],
                         expected, values_aligned=True)

    if spec.required:
        report(empty, f"a value ({spec.expected()}); the cell is empty", values=None)
    if spec.kind in ("text", "choice"):
        if spec.kind == "choice":
            cells = np.strings.lower(cells)
            known = np.zeros(cells.shape, dtype=bool)
            for choice in spec.choices:
                known |= cells == choice
            report(present & ~known, spec.expected())
        default = spec.default if spec.default is not None else ""
        values = cells.astype(object)
        values[empty] = default
        return pd.Series(values[codes], index=column.index, dtype=str)
    if spec.kind == "date":
        dates, unreadable = _parse_dates(cells, present)
        report(unreadable, spec.expected())
        return pd.Series(dates[codes], index=column.index)
    array, unreadable = _parse_numbers(cells, present)
    report(unreadable, spec.expected())
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
            column = table[spec.name]
        else:
            column = pd.Series("", index=table.index, dtype=object)
        typed[spec.name] = _check_column(spec, column, out)
    frame = pd.DataFrame(typed, index=table.index)
    if out.problems:
        raise DataValidationError(out.sorted())

    for rule in rules_for(model):
        out.add_mask(rule.violated(frame), rule.column, table.get(rule.column), rule.expected)
    key = list(unique_key(model))
    if key and len(frame):
        _check_unique(frame, key, out)
    if out.problems:
        raise DataValidationError(out.sorted())

    extras = [c for c in table.columns if c not in typed]
    for column in extras:
        frame[column] = table[column].astype(str)
    return frame.reset_index(drop=True)
