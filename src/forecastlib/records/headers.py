"""Column headers: matched as people write them, refused when they could mislead.

A header names a known column when it is that column's name ignoring case, spaces
(non-breaking ones too) and underscores: ``End Date``, ``END_DATE`` and ``enddate`` are
all ``end_date``. Then:

* two headers naming one column (``Unit Cost`` and ``unit_cost``, or pandas' renamed
  repeat ``unit_cost.1``) are refused;
* a header that *looks like* a known column the file does not have (``End Date2``,
  ``unit costs``, ``Start Dte``) is refused: read as an extra column it would leave the
  known one empty, and every placement open or every price missing;
* any other header is an extra column, kept unchanged and named in a note;
* a file whose first row is a title and whose column names come lower down is refused
  with "the header must be the first row", naming what was found.

Examples
--------
>>> header_key(" End\\u00a0Date ")
'enddate'
>>> look_alike("enddate2", {"enddate": "end_date", "unitcost": "unit_cost"})
'end_date'
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pandas as pd

from forecastlib.errors import DataValidationError, Problem

__all__ = ["find_header_row", "header_key", "look_alike", "match_headers"]

_IGNORED = re.compile(r"[\s_]+")
#: Known names this long or longer are looked for inside other headers.
_CONTAINED_MIN = 6


def header_key(name: object) -> str:
    """A header as compared: lower case, without spaces or underscores."""
    return _IGNORED.sub("", str(name)).lower()


def look_alike(key: str, known: dict[str, str]) -> str | None:
    """The known column a header key resembles, if any (else ``None``).

    Resembles means: holds a known name of 6 or more letters (``enddate2``), is most of
    one (``plannedend``), or is one with a typo (``unitcots``).
    """
    if not key or key in known:
        return None
    containing = [k for k in known if len(k) >= _CONTAINED_MIN and k in key]
    if containing:
        return known[max(containing, key=len)]
    inside = [k for k in known if len(key) >= 4 and key in k and len(key) >= 0.6 * len(k)]
    if inside:
        return known[min(inside, key=len)]
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.8)
    return known[close[0]] if close else None


def find_header_row(table: pd.DataFrame, names: list[str], limit: int = 20) -> int | None:
    """Position of the first data row (of the first ``limit``) holding all ``names``."""
    wanted = {header_key(n) for n in names}
    for position in range(min(limit, len(table))):
        keys = {header_key(c) for c in table.iloc[position].tolist()}
        if wanted <= keys:
            return position
    return None


def match_headers(table: pd.DataFrame, columns: list[str], required: list[str], file: str,
                  rows: np.ndarray | None = None, header_row: int = 1,
                  shape_problems: list[Problem] | tuple[Problem, ...] = ()
                  ) -> tuple[pd.DataFrame, list[str]]:
    """Rename ``table``'s headers to the known ``columns`` they name.

    Parameters
    ----------
    table : DataFrame
        Text cells under the file's own headers.
    columns : list of str
        The known column names (the row model's fields).
    required : list of str
        Those that must be present.
    file : str
        The name used in messages.
    rows, header_row : optional
        The file's numbers of the data rows and of the header row.
    shape_problems : list of Problem
        Row-shape problems found while reading (short rows...), raised after the check
        for a title row above the header.

    Returns
    -------
    table : DataFrame
        Known columns under their contract names; extra columns under their header,
        stripped and lower-cased.
    notes : list of str
        One note naming the extra columns, if any.

    Raises
    ------
    DataValidationError
        Duplicate or look-alike headers, a title row above the header, missing required
        columns.
    """
    known = {header_key(c): c for c in columns}
    given = [str(c) for c in table.columns]
    keys = [header_key(c) for c in given]
    present = {known[k] for k in keys if k in known}
    missing = [c for c in required if c not in present]
    if missing:
        at = find_header_row(table, missing + sorted(present))
        if at is not None:
            row = int(rows[at]) if rows is not None else at + 2
            found = ", ".join(g for g in given if g.strip())[:80]
            raise DataValidationError(Problem(
                file, header_row, None, found,
                f"the header must be the first row: row {header_row} holds {found!r}, and "
                f"the column names are on row {row}; delete the rows above them"))
    if shape_problems:
        raise DataValidationError(list(shape_problems))
    unnamed = [p for p, k in enumerate(keys) if k == ""]
    problems: list[Problem] = []
    empty_unnamed = []
    for position in unnamed:
        column = table.iloc[:, position].astype(str).str.strip()
        filled = column.to_numpy() != ""
        if not filled.any():
            empty_unnamed.append(position)
            continue
        first = int(filled.argmax())
        row = int(rows[first]) if rows is not None else first + 2
        problems.append(Problem(file, header_row, f"(column {position + 1})", None,
                                f"a name for column {position + 1}: it holds data "
                                f"({column.iloc[first]!r} on row {row}) but has no header"))
    if empty_unnamed:
        table = table.drop(columns=table.columns[empty_unnamed])
        given = [g for p, g in enumerate(given) if p not in empty_unnamed]
        keys = [k for p, k in enumerate(keys) if p not in empty_unnamed]
    names = [known.get(k, " ".join(g.split()).lower()) for k, g in zip(keys, given)]
    first_of: dict[str, int] = {}
    for position, key in enumerate(keys):
        if key in first_of and key:
            other = first_of[key]
            problems.append(Problem(file, header_row, names[position], given[position],
                                    f"each column once: column {position + 1} "
                                    f"{given[position]!r} is column {other + 1} "
                                    f"{given[other]!r} again (case, spaces and underscores "
                                    f"are ignored)"))
        first_of.setdefault(key, position)
    extras = []
    for position, key in enumerate(keys):
        if key in known or not key:
            continue
        repeat = re.fullmatch(r"(.+)\.\d+", key)
        if repeat and repeat.group(1) in known:
            problems.append(Problem(file, header_row, known[repeat.group(1)], given[position],
                                    f"each column once: {given[position]!r} is a repeat of "
                                    f"{known[repeat.group(1)]!r} (pandas renames a repeated "
                                    f"header so)"))
            continue
        target = look_alike(key, known)
        if target is not None and target not in present:
            problems.append(Problem(file, header_row, target, given[position],
                                    f"the column {target!r}: {given[position]!r} looks like "
                                    f"it but is not named so; rename it {target!r} (or, if it "
                                    f"holds something else, give it a name unlike any column "
                                    f"forecastlib reads)"))
            continue
        extras.append(given[position])
    shown = ", ".join(repr(g) for g in given) or "none"
    for name in missing:
        if not any(p.column == name for p in problems):
            problems.append(Problem(file, header_row, name, None,
                                    f"a column named {name!r} (required; columns found: "
                                    f"{shown})"))
    if problems:
        raise DataValidationError(problems)
    out = table.copy(deep=False)
    out.columns = names
    notes = []
    if extras:
        notes.append(f"{file}: columns not used by forecastlib, kept unchanged: "
                     f"{', '.join(repr(e) for e in extras)}")
    return out, notes
