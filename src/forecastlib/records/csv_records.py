"""A large CSV read in bounded memory: records found on the bytes, cells parsed in chunks.

The careful reader (:mod:`forecastlib.records.sheets`) needs, for every record of a
CSV, the file line it starts on (blank lines and line breaks inside quotes counted), its
number of fields and whether it is blank. :func:`scan_records` finds them on the file's
bytes with numpy, a window of bytes at a time: a line break or a comma is inside quotes
when an odd number of quote characters comes before it. It only answers for text whose
quotes are the well-formed kind (a quoted field opens at the start of a field and closes
at its end, ``""`` inside standing for one quote) and whose line breaks are ``\\n`` or
``\\r\\n``; for anything else it returns ``None`` and the careful line-by-line reader
decides (and names the problem).

:func:`coded_cells` then parses the records with pandas' C parser a chunk of rows at a
time, and keeps each column as a :class:`pandas.Categorical` (row codes into its
distinct cells): the raw text of a chunk is freed as soon as it is coded, a repeated
cell (a line name, a date, a unit) is held once, and validation parses distinct cells
only.

Examples
--------
>>> records = scan_records(b'id,name\\nP1,"Smith, J"\\n\\nP2,"two\\nlines"\\n')
>>> records.lines.tolist(), records.widths.tolist(), records.quoted.tolist()
([1, 2, 3, 4], [2, 2, 1, 2], [False, True, False, True])
>>> scan_records(b'id,name\\nP1,Smith "J"\\n') is None  # a quote inside a field
True
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Records", "blank_records", "coded_cells", "scan_records"]
_TEXT = np.dtypes.StringDType()

#: Bytes of the file scanned at a time (bounds the scan's temporary arrays).
WINDOW = 1 << 25
#: Rows parsed at a time (bounds the raw text held at once).
CHUNK_ROWS = 1 << 18
#: A column is kept as read (an id column) when over half of the cells of a first chunk
#: of at least this many rows are distinct.
ID_MIN_ROWS = 1024

_NEWLINE, _QUOTE, _COMMA, _CR = 10, 34, 44, 13
#: Blank cells of a record without quotes: only spaces, tabs (and a "\\r" line break's).
_BLANK = " \t\r"


@dataclass
class Records:
    """Per record of a CSV: its first line in the file, its fields, whether it holds a
    quote character (then a cell may hold a comma or a line break)."""

    lines: np.ndarray
    widths: np.ndarray
    quoted: np.ndarray


def _positions(view: np.ndarray, byte: int) -> np.ndarray:
    """Positions of one byte value, found a window at a time."""
    found = [np.flatnonzero(view[start:start + WINDOW] == byte) + start
             for start in range(0, view.size, WINDOW)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _quotes_well_formed(view: np.ndarray, quotes: np.ndarray) -> bool:
    """Every quote opens a field, closes one, or is half of a ``""`` inside one."""
    if quotes.size % 2:
        return False
    size = view.size
    opening, closing = quotes[0::2], quotes[1::2]
    before = view[np.maximum(opening - 1, 0)]
    follows_closing = np.zeros(opening.size, dtype=bool)
    follows_closing[1:] = closing[:-1] == opening[1:] - 1
    opens = (opening == 0) | (before == _COMMA) | (before == _NEWLINE) | follows_closing
    after = view[np.minimum(closing + 1, size - 1)]
    precedes_opening = np.zeros(closing.size, dtype=bool)
    precedes_opening[:-1] = opening[1:] == closing[:-1] + 1
    closes = ((closing == size - 1) | (after == _COMMA) | (after == _NEWLINE)
              | (after == _CR) | precedes_opening)
    return bool(opens.all() and closes.all())


def _commas(view: np.ndarray, ends: np.ndarray, quotes: np.ndarray) -> np.ndarray:
    """Commas outside quotes before each record end, a window of bytes at a time."""
    below = np.zeros(ends.size, dtype=np.int64)
    carried = np.zeros(ends.size + 1, dtype=np.int64)
    for start in range(0, view.size, WINDOW):
        window = view[start:start + WINDOW]
        found = np.flatnonzero(window == _COMMA) + start
        if quotes.size:  # a comma between an opening quote and its closing one is text
            depth = (np.bincount(np.searchsorted(found, quotes[0::2]), minlength=found.size + 1)
                     - np.bincount(np.searchsorted(found, quotes[1::2]),
                                   minlength=found.size + 1))
            found = found[np.cumsum(depth)[:-1] == 0]
        first = np.searchsorted(ends, start)
        last = np.searchsorted(ends, start + window.size)
        below[first:last] += np.searchsorted(found, ends[first:last])
        carried[last] += found.size  # every record ending after this window holds them
    return below + np.cumsum(carried)[:-1]


def scan_records(data: bytes) -> Records | None:
    """Find the records of UTF-8 (or ASCII) CSV bytes; ``None`` if the careful reader
    must decide (a bare ``\\r`` line break, quotes not of the well-formed kind)."""
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    view = np.frombuffer(data, dtype=np.uint8)
    newlines = _positions(view, _NEWLINE)
    quotes = _positions(view, _QUOTE)
    if quotes.size and not _quotes_well_formed(view, quotes):
        return None
    if quotes.size:
        breaks = np.flatnonzero(np.searchsorted(quotes, newlines) % 2 == 0)
    else:
        breaks = np.arange(newlines.size)
    ends = newlines[breaks]
    if view.size and view[-1] != _NEWLINE:
        ends = np.append(ends, view.size)  # a last record without a line break
    lines = np.concatenate([[1], breaks[: ends.size - 1] + 2]).astype(np.int64)[: ends.size]
    widths = np.diff(np.concatenate([[0], _commas(view, ends, quotes)])) + 1
    quoted = np.diff(np.searchsorted(quotes, np.concatenate([[-1], ends]))) > 0
    return Records(lines, widths, quoted)


def _dtype(distinct: np.ndarray) -> pd.CategoricalDtype:
    """The categories of distinct cells (factorised, so not checked again if pandas
    offers a way)."""
    categories = pd.Index(np.asarray(distinct, dtype=object), dtype=object)
    fast = getattr(pd.CategoricalDtype, "_from_fastpath", None)
    return fast(categories, False) if fast is not None else pd.CategoricalDtype(categories)


def coded_cells(source: Path | bytes, width: int, encoding: str = "utf-8") -> pd.DataFrame:
    """Parse CSV records into columns ``0..width-1`` of categoricals, a chunk at a time.

    Short rows are filled with ``""`` (the caller reports them from the record widths);
    no cell is ever missing (``na_filter=False``), so no code is ``-1``. A column whose
    cells are mostly distinct in its first chunk (an id) keeps its cells as read and is
    coded once at the end (the same categorical), not chunk by chunk and again merged.
    """
    handle = io.BytesIO(source) if isinstance(source, bytes) else source
    parts: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {
        column: ([], []) for column in range(width)}
    kept: dict[int, list[np.ndarray]] = {}  # columns of (nearly) distinct cells: as read
    reader = pd.read_csv(handle, header=None, names=range(width), dtype=object,
                         na_filter=False, skip_blank_lines=False, engine="c",
                         encoding=encoding, quoting=csv.QUOTE_MINIMAL, chunksize=CHUNK_ROWS)
    with reader:
        for chunk in reader:
            for column in range(width):
                values = chunk[column].to_numpy(dtype=object)
                if column in kept:
                    kept[column].append(values)
                    continue
                codes, uniques = pd.factorize(values)
                if uniques.size > values.size // 2 and values.size >= ID_MIN_ROWS:
                    # an id column: coding it chunk by chunk would hash every cell twice
                    kept[column] = [*(u[c] for c, u in zip(*parts.pop(column), strict=True)),
                                    values]
                    continue
                parts[column][0].append(codes.astype(np.int32))
                parts[column][1].append(np.asarray(uniques, dtype=object))
            del chunk
    columns = {}
    for column in range(width):
        if column in kept:
            codes, distinct = pd.factorize(np.concatenate(kept.pop(column)))
            columns[column] = pd.Categorical.from_codes(codes.astype(np.int32),
                                                        dtype=_dtype(distinct), validate=False)
            continue
        codes, uniques = parts.pop(column)
        if not codes:
            columns[column] = pd.Categorical([])
            continue
        merged, distinct = pd.factorize(np.concatenate(uniques))
        offsets = np.cumsum([0] + [u.size for u in uniques])
        recoded = np.concatenate([merged[offsets[i]:offsets[i + 1]][c]
                                  for i, c in enumerate(codes)]).astype(np.int32)
        codes.clear()
        columns[column] = pd.Categorical.from_codes(recoded, dtype=_dtype(distinct),
                                                    validate=False)
    return pd.DataFrame(columns)


def blank_records(grid: pd.DataFrame, quoted: np.ndarray) -> np.ndarray:
    """Records whose every cell is empty: only spaces and tabs (any white space, as
    :meth:`str.strip` sees it, in a record with quotes, read with :mod:`csv` before).

    Columns with fewest distinct cells first; each later column looks only at the
    records still blank, and strips only the cells they use.
    """
    plain = np.flatnonzero(~quoted)
    some_quoted = np.flatnonzero(quoted)
    order = sorted(grid.columns, key=lambda c: len(grid[c].cat.categories))
    for rows, chars in ((plain, _BLANK), (some_quoted, None)):
        for column in order:
            if rows.size == 0:
                break
            codes = grid[column].cat.codes.to_numpy()[rows]
            categories = grid[column].cat.categories.to_numpy(dtype=object)
            if categories.size > rows.size:  # strip only the cells these rows use
                used, codes = np.unique(codes, return_inverse=True)
                categories = categories[used]
            empty = np.strings.strip(categories.astype(_TEXT), chars) == ""
            rows = rows[empty[codes]]
        if chars is None:
            some_quoted = rows
        else:
            plain = rows
    blank = np.zeros(len(grid), dtype=bool)
    blank[plain] = True
    blank[some_quoted] = True
    return blank
