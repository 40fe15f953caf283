"""Reading dates and numbers from text cells, whole arrays at a time.

Only forms a finance user writes, and only in plain ASCII digits, are read; anything
else is reported, never guessed:

* dates: ISO ``YYYY-MM-DD`` or UK ``DD/MM/YYYY`` (``D/M/YYYY`` too). A two-digit year
  (``31/10/19``) is refused with its own message: the century is never guessed, and a
  US month-first date is never read (there is no month 31).
* numbers: ``1234.5``, ``-12``, ``1e3``, and thousands groups ``1,234.50``.
  In money columns also ``£1,234.50``, ``-£5``, ``£-5`` and the accounting negative
  ``(2,500.00)`` (which bounds such as ``>= 0`` then refuse where money may not be
  negative). Underscores (``2_343.37``), non-ASCII digits (Arabic-Indic, full-width),
  ``nan``, ``inf`` and numbers too large for a float (``1e400``) are refused.

Examples
--------
>>> import numpy as np
>>> cells = np.array(["1,234.50", "(2,500.00)", "£7", "2_343.37"], dtype=object)
>>> numbers, bad = parse_numbers(cells, np.ones(4, dtype=bool), money=True)
>>> numbers[:3].tolist(), bad.tolist()
([1234.5, -2500.0, 7.0], [False, False, False, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TWO_DIGIT_YEAR", "parse_dates", "parse_numbers", "two_digit_years",
           "unreadable_reasons"]

_TEXT = np.dtypes.StringDType()
_SLASH = np.array("/", dtype=_TEXT)

_GROUPED = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_MONEY = (rf"(?P<sign>-)?\s*£?\s*(?P<sign2>-)?\s*(?P<digits>{_GROUPED})"
          rf"|\(\s*£?\s*(?P<paren>{_GROUPED})\s*\)")
#: What a two-digit-year UK date looks like (refused with its own message).
TWO_DIGIT_YEAR = r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{2}"


def _as_text(cells: np.ndarray) -> np.ndarray:
    if cells.dtype == _TEXT:
        return cells
    return np.asarray(cells, dtype=object).astype(str).astype(_TEXT)


def _plain_characters(cells: np.ndarray, refused: str = "", longest: int = 64) -> np.ndarray:
    """Mask of cells written in ASCII only, without any of ``refused`` (case-insensitive).

    Works on the code points as a 2-D integer array (fast for a million cells); cells
    longer than ``longest`` are reported as not plain.
    """
    lengths = np.strings.str_len(cells)
    short = lengths <= longest
    width = int(lengths[short].max()) if short.any() else 0
    plain = np.zeros(cells.shape, dtype=bool)
    if width == 0:
        plain[short] = True
        return plain
    points = cells[short].astype(f"U{width}").view(np.uint32).reshape(-1, width)
    good = points < 128
    for character in set(refused.lower() + refused.upper()):
        good &= points != ord(character)
    plain[short] = good.all(axis=1)
    return plain


def _ascii(cells: np.ndarray) -> np.ndarray:
    return _plain_characters(cells)


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


def parse_dates(cells: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO ``YYYY-MM-DD`` first, then UK ``DD/MM/YYYY``; never a US month-first reading.

    Returns the dates (``NaT`` where empty or unreadable) and the mask of present cells
    that could not be read.
    """
    cells = _as_text(cells)
    given = present
    present = present & _ascii(cells)  # non-ASCII digits are never read as a date
    parsed = np.full(cells.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    parsed[present] = _iso_dates(cells[present])
    retry = present & np.isnat(parsed)
    if retry.any():
        shaped, iso = _uk_dates_as_iso(cells[retry])
        uk = np.full(shaped.shape, np.datetime64("NaT"), dtype="datetime64[s]")
        if shaped.any():
            uk[shaped] = _iso_dates(iso[shaped])
        parsed[retry] = uk
    return parsed, given & np.isnat(parsed)


def two_digit_years(cells: np.ndarray) -> np.ndarray:
    """Mask of cells written ``DD/MM/YY``."""
    return pd.Series(np.asarray(cells, dtype=object)).astype(str).str.fullmatch(
        TWO_DIGIT_YEAR).to_numpy(dtype=bool)


def _formatted(text: pd.Series, money: bool) -> np.ndarray:
    """Numbers written with thousands groups, ``£`` or brackets; NaN where unreadable."""
    if not money:
        plain = text.where(text.str.fullmatch(f"-?{_GROUPED}"), "")
        return pd.to_numeric(plain.str.replace(",", "", regex=False),
                             errors="coerce").to_numpy(dtype="float64")
    parts = text.str.extract(f"^(?:{_MONEY})$")
    negative = (parts["sign"].notna() ^ parts["sign2"].notna()) | parts["paren"].notna()
    both_signs = parts["sign"].notna() & parts["sign2"].notna()
    digits = parts["digits"].fillna(parts["paren"]).str.replace(",", "", regex=False)
    numbers = pd.to_numeric(digits, errors="coerce").to_numpy(dtype="float64")
    numbers = np.where(negative.to_numpy(dtype=bool), -numbers, numbers)
    return np.where(both_signs.to_numpy(dtype=bool), np.nan, numbers)


def parse_numbers(cells: np.ndarray, present: np.ndarray,
                  money: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Read numbers (see the module notes); returns the values and the unreadable mask.

    A cell is unreadable when it is present and not a finite number in one of the
    accepted forms. ``money`` also accepts ``£`` and accounting brackets.
    """
    cells = _as_text(cells)
    numbers = np.full(cells.shape, np.nan)
    given = cells[present]
    try:
        read = given.astype(np.float64)
    except ValueError:
        read = pd.to_numeric(pd.Series(given.astype(object)), errors="coerce").to_numpy(
            dtype="float64", copy=True)
    # float() also reads "1_000", Arabic-Indic and full-width digits, "nan" and "inf":
    # only plain ASCII digits, a sign, a point and an exponent are numbers here.
    read[~_plain_characters(given, refused="_n")] = np.nan
    failed = np.isnan(read)  # the forms below are matched in ASCII digits only
    if failed.any():
        text = pd.Series(given[failed].astype(object))
        read[failed] = _formatted(text, money)
    numbers[present] = read
    return numbers, present & ~np.isfinite(numbers)


def unreadable_reasons(cells: np.ndarray, unreadable: np.ndarray) -> np.ndarray:
    """Why each unreadable number cell was refused, in words (``""`` if no hint)."""
    reasons = np.full(cells.shape, "", dtype=object)
    positions = np.flatnonzero(unreadable)
    if positions.size == 0:
        return reasons
    text = pd.Series(np.asarray(cells, dtype=object)[positions]).astype(str)
    lowered = text.str.lower()
    checks = [
        (text.str.contains(r"[^\x00-\x7f£]", regex=True) & text.str.contains(r"\d"),
         "write digits as 0-9; this cell has other digits or characters"),
        (text.str.contains("_", regex=False), "no '_' inside a number"),
        (lowered.str.fullmatch(r"[+-]?(nan|inf|infinity)"), "a finite number"),
        (text.str.fullmatch(r"[+-]?[0-9.]+e[+-]?[0-9]+", case=False),
         "a finite number; this one is too large"),
        (text.str.contains(r"[0-9],[0-9]", regex=True),
         "thousands groups of 3 digits, as 1,234.50"),
    ]
    chosen = np.full(positions.size, "", dtype=object)
    for mask, reason in reversed(checks):
        chosen = np.where(mask.to_numpy(dtype=bool), reason, chosen)
    reasons[positions] = chosen
    return reasons
