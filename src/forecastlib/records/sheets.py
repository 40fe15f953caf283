"""Files to a grid of text cells, keeping each row's own number in the file.

A CSV is decoded (:func:`~forecastlib.records.encoding.decode_text`) and split into
records; an XLSX's first sheet is read cell by cell. Either way the result is a
:class:`Sheet`: the header's cells, the data rows as text, and each data row's number
as the file shows it (the CSV line, blank lines included; the sheet row in Excel).
Blank rows (every cell empty) are left out wherever they are. What cannot be read
faithfully is refused, never filled in: a row with fewer fields than the header, a
non-empty field beyond the header, an unnamed column holding data, a formula whose
result was never stored, merged cells.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.errors import DataValidationError, Problem
from forecastlib.records.csv_records import (
    WINDOW,
    Records,
    blank_records,
    coded_cells,
    scan_records,
)
from forecastlib.records.encoding import decode_text

__all__ = ["Sheet", "read_csv_sheet", "read_xlsx_sheet", "sheet_from_frame"]

_TEXT = np.dtypes.StringDType()
#: Problems of one kind listed before the rest are counted.
_SHOWN = 50
_EXCEL_HINT = "open and save it in Excel"


@dataclass
class Sheet:
    """A table as read: header cells, data cells as text, the file's row numbers."""

    header: list[str]
    cells: pd.DataFrame  # positional columns 0..n-1, text
    rows: np.ndarray  # the file's number of each data row
    header_row: int = 1
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """The cells under their header names, row numbers and notes in ``attrs``."""
        frame = self.cells.copy(deep=False)
        frame.columns = list(self.header)
        frame.attrs["rows"] = self.rows
        frame.attrs["notes"] = list(self.notes)
        frame.attrs["header_row"] = self.header_row
        frame.attrs["problems"] = list(self.problems)
        return frame


def _excerpt(cells: list[str] | np.ndarray, limit: int = 60) -> str:
    text = ",".join(str(c) for c in cells)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _capped(problems: list[Problem], label: str, what: str) -> list[Problem]:
    if len(problems) <= _SHOWN:
        return problems
    rest = len(problems) - _SHOWN
    return problems[:_SHOWN] + [Problem(label, None, None, None,
                                        f"{rest} more rows with the same problem ({what})")]


def _tidy(grid: pd.DataFrame, rows: np.ndarray, widths: np.ndarray | None,
          blank: np.ndarray, label: str, notes: list[str]) -> Sheet:
    """Header = first non-blank row; drop blank rows; note short and long rows.

    Row-shape problems are kept in :attr:`Sheet.problems` rather than raised, so that a
    title row above the header (which makes every row look too long) is reported as
    such first.
    """
    keep = np.flatnonzero(~blank)
    if keep.size == 0:
        raise DataValidationError(Problem(label, None, None, None,
                                          "a header row and data rows; the file is empty"))
    head = keep[0]
    header = [str(grid[c].iloc[head]) for c in grid.columns]  # column by column: no
    # common dtype of every column is worked out for one row
    data = keep[1:]
    problems: list[Problem] = []
    header_width = len(header)
    while header_width > 0 and header[header_width - 1].strip() == "":
        header_width -= 1  # Excel pads the header with empty names; so may the rows
    if widths is not None:
        width = header_width
        short = data[widths[data] < width]
        problems += _capped([Problem(label, int(rows[i]), None,
                                     _excerpt([grid[c].iloc[i] for c in grid.columns[: widths[i]]]),
                                     f"{width} fields as in the header; this row has "
                                     f"{int(widths[i])} (a short row is never filled with "
                                     f"defaults: a comma or a line break is missing or extra)")
                             for i in short], label, "short rows")
    body = grid.iloc[data]
    if body.shape[1] > header_width:
        extra = body.iloc[:, header_width:]
        filled = np.zeros(len(body), dtype=bool)
        for position in range(extra.shape[1]):
            filled |= extra.iloc[:, position].astype(str).str.strip().to_numpy() != ""
        problems += _capped([Problem(label, int(rows[data[i]]), None,
                                     _excerpt([c for k in extra.columns
                                               if (c := extra[k].iloc[i]) != ""]),
                                     f"no fields beyond the header's {header_width} columns "
                                     f"(a comma inside a number or name must be quoted)")
                             for i in np.flatnonzero(filled)], label, "fields beyond the header")
    cells = body.reset_index(drop=True)
    cells.columns = range(cells.shape[1])
    return Sheet(header + [""] * (cells.shape[1] - len(header)), cells,
                 rows[data].astype(np.int64), int(rows[head]), notes, problems)


def _split_quoted(text: str, label: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """Records with quoted fields (commas or line breaks inside them), line by line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    starts: list[int] = []
    line = 1
    try:
        for record in reader:
            records.append(record)
            starts.append(line)
            line = reader.line_num + 1
    except csv.Error as error:
        raise DataValidationError(Problem(label, reader.line_num or 1, None, None,
                                          f"well-formed CSV ({error}); a field that starts "
                                          f"with a quote must end with one")) from None
    widths = np.array([len(r) for r in records], dtype=np.int64)
    blank = np.array([not any(c.strip() for c in r) for r in records], dtype=bool)
    width = int(widths.max()) if records else 0
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in records], dtype=object) \
        if records else pd.DataFrame()
    return grid, blank, widths, np.array(starts, dtype=np.int64)


def _plain_utf8(raw: bytes) -> bool:
    """UTF-8 without a byte-order mark or a NUL: parsed as it is, never decoded whole."""
    if raw.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            or b"\x00" in raw:
        return False
    if raw.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), WINDOW):
            decoder.decode(view[start:start + WINDOW])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _coded(source: Path | bytes, records: Records) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The records' cells (categoricals) and which records are blank; ``None`` if pandas
    split the text into other records than the scan did (never expected)."""
    width = int(records.widths.max()) if records.widths.size else 0
    if width == 0:
        return pd.DataFrame(), np.zeros(0, dtype=bool)
    try:
        grid = coded_cells(source, width)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(grid) != records.widths.size:
        return None
    return grid, blank_records(grid, records.quoted)


def read_csv_sheet(path: Path, label: str) -> Sheet:
    """Read a CSV file (any of the encodings of :func:`decode_text`) into a Sheet.

    Plain UTF-8 text with well-formed quotes (nearly every file) is scanned on its bytes
    and parsed from the file in chunks (:mod:`~forecastlib.records.csv_records`); the
    bytes are freed before the cells are parsed. Other text is decoded whole first, and
    text that the scan cannot vouch for is read record by record with :mod:`csv`.
    """
    raw = path.read_bytes()
    if _plain_utf8(raw):
        records = scan_records(raw)
        if records is not None:
            raw = b""  # the scan's arrays are all that is kept; pandas reads the file
            coded = _coded(path, records)
            if coded is not None:
                return _tidy(coded[0], records.lines, records.widths, coded[1], label, [])
            raw = path.read_bytes()
    text, notes = decode_text(raw, label)
    del raw
    payload = text.encode("utf-8")
    records = scan_records(payload)
    if records is None and '"' not in text:  # bare "\r" line breaks
        payload = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
        records = scan_records(payload)
    if records is not None:
        coded = _coded(payload, records)
        if coded is not None:
            return _tidy(coded[0], records.lines, records.widths, coded[1], label, notes)
    grid, blank, widths, rows = _split_quoted(text, label)
    return _tidy(grid, rows, widths, blank, label, notes)


def _cell_text(value: object) -> str:
    if value is None:
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


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_MERGED = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")


def _sheet_xml(path: Path, sheet: object) -> bytes:
    part = getattr(sheet, "_worksheet_path", None)
    if not part:
        return b""
    with zipfile.ZipFile(path) as archive:
        return archive.read(part.lstrip("/"))


def _structure_problems(xml: bytes, label: str, header: dict[str, str]) -> list[Problem]:
    """Merged cells and formulas without a stored result, named by their cells."""
    problems = []
    for ref in _MERGED.findall(xml):
        cells = ref.decode()
        first_row = int(re.sub(r"[A-Z]+", "", cells.split(":")[0]))
        problems.append(Problem(label, first_row, None, cells,
                                f"no merged cells: {cells} are merged, so only the first "
                                f"holds a value; unmerge them and fill every cell, then "
                                f"{_EXCEL_HINT}"))
    if _FORMULA.search(xml):
        for attributes, _, body in _CELL.findall(xml):
            if body and _FORMULA.search(body) and not _VALUE.search(body):
                ref = _REF.search(attributes)
                if ref is None:
                    continue
                column, row = ref.group(1).decode(), int(ref.group(2))
                problems.append(Problem(label, row, header.get(column), f"{column}{row}",
                                        f"a stored value: cell {column}{row} holds a formula "
                                        f"whose result was never saved (the program that "
                                        f"wrote the file does not calculate); {_EXCEL_HINT}"))
    return problems


def _column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def read_xlsx_sheet(path: Path, label: str) -> Sheet:
    """Read the first sheet of a workbook; sheet row numbers are kept."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            names = book.sheetnames
            values = [list(row) for row in sheet.iter_rows(min_row=1, values_only=True)]
            xml = _sheet_xml(path, sheet)
        finally:
            book.close()
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        raise DataValidationError(Problem(label, None, None, None,
                                          f"a readable .xlsx workbook ({type(error).__name__}:"
                                          f" {error})")) from None
    notes = []
    if len(names) > 1:
        notes.append(f"{label}: read the first sheet, {names[0]!r}; the workbook has "
                     f"{len(names)} sheets")
    cells = [[_cell_text(v) for v in row] for row in values]
    width = max((len(r) for r in cells), default=0)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in cells], dtype=object)
    blank = np.array([not any(c.strip() for c in r) for r in cells], dtype=bool)
    first = int(np.argmax(~blank)) if (~blank).any() else 0
    header = {_column_letter(p): c.strip() for p, c in enumerate(cells[first] if cells else [])}
    problems = _structure_problems(xml, label, header)
    if problems:
        raise DataValidationError(problems)
    rows = np.arange(1, len(cells) + 1, dtype=np.int64)
    return _tidy(grid, rows, None, blank, label, notes)


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
            text = series.map(lambda v: "" if v is pd.NaT or (isinstance(v, float) and v != v)
                              else _cell_text(v))
        columns.append(text.astype(str).rename(position))
    text_frame = pd.concat(columns, axis=1) if columns else pd.DataFrame(index=frame.index)
    text_frame.columns = range(frame.shape[1])
    return text_frame.reset_index(drop=True)


def sheet_from_frame(frame: pd.DataFrame) -> Sheet:
    """A DataFrame as a Sheet: its columns are the header, row ``i`` is row ``i + 2``."""
    cells = _frame_as_text(frame)
    return Sheet([str(c) for c in frame.columns], cells,
                 np.arange(2, len(cells) + 2, dtype=np.int64))
