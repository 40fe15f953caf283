"""Text cells made safe for spreadsheets: no formula injection.

Excel (and LibreOffice, Google Sheets) treat a cell whose text starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can hide one.
A service or category name taken from a council file, such as ``=HYPERLINK(...)``,
would then run when a finance user opens the exported CSV or workbook. The OWASP
advice is followed: such a text cell is prefixed with a single quote, which the
spreadsheet shows as text. Numbers are left alone: ``-1250.5`` is a number, not a
formula, and its column stays numeric.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "neutralise_formulas", "neutralise_text"]

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run.

    Examples
    --------
    >>> neutralise_text("=1+1"), neutralise_text("Residential"), neutralise_text(-5.0)
    ("'=1+1", 'Residential', -5.0)
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Only text (``str``) cells, in text (object or string) columns and in the index,
    are changed; numeric columns are untouched.

    Examples
    --------
    >>> frame = pd.DataFrame({"category": ["=cmd|' /C calc'!A0", "Basic", "-Other"],
    ...                       "variance": [-1250.5, 3.0, 0.0]})
    >>> neutralise_formulas(frame)
                 category  variance
    0  '=cmd|' /C calc'!A0   -1250.5
    1               Basic       3.0
    2             '-Other       0.0
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if _is_text(values.dtype):
            out[column] = values.map(neutralise_text, na_action="ignore")
    if any(_is_text(level.dtype) for level in _levels(out.index)):
        names = out.index.names
        out.index = out.index.map(
            lambda key: tuple(map(neutralise_text, key)) if isinstance(key, tuple)
            else neutralise_text(key)).set_names(names)
    return out


def _is_text(dtype: object) -> bool:
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _levels(index: pd.Index) -> list[pd.Index]:
    return list(index.levels) if isinstance(index, pd.MultiIndex) else [index]
