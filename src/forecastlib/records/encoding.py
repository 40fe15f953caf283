"""Text encodings of the files people actually export.

Excel and other office tools save CSV (and people save scenario files) as UTF-8 with or
without a byte-order mark, as UTF-16 with a byte-order mark ("Unicode text"), or on
Windows as cp1252 ("ANSI", where ``£`` is the single byte ``0xA3``).
:func:`decode_text` reads all of them and says which it used when it was not UTF-8; it
never guesses between two readings that both make sense, and refuses bytes that are
none of these (naming the byte offset).

Examples
--------
>>> decode_text("£5".encode("utf-8"), "budget.csv")
('£5', [])
>>> text, notes = decode_text("£5".encode("cp1252"), "budget.csv")
>>> text, notes[0][:53]
('£5', "budget.csv: read as Windows-1252 (cp1252), the 'ANSI'")
"""

from __future__ import annotations

import codecs

from forecastlib.errors import DataValidationError, Problem

__all__ = ["decode_text"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with a byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)


def _refuse(label: str, expected: str) -> DataValidationError:
    return DataValidationError(Problem(label, None, None, None, expected))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, label: str) -> tuple[str, list[str]]:
    """Decode a file's bytes: UTF-8 (with or without BOM), UTF-16/32 (BOM), else cp1252.

    Parameters
    ----------
    data : bytes
        The whole file.
    label : str
        The file's name, for messages.

    Returns
    -------
    text : str
        The decoded text, byte-order mark removed.
    notes : list of str
        A note naming the encoding when it was not plain UTF-8 (UTF-16, cp1252).

    Raises
    ------
    DataValidationError
        Bytes that are not valid in the encoding their mark announces, bytes that are
        neither UTF-8 nor cp1252, or a NUL character (a binary file, or UTF-16 saved
        without its byte-order mark).
    """
    notes: list[str] = []
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as error:
                offset = error.start + len(bom)
                raise _refuse(label, f"{name} text as its byte-order mark says; byte "
                              f"{offset} (line {_line_of(data, offset)}) is not valid "
                              f"{name}") from None
            if codec != "utf-8":
                notes.append(f"{label}: read as {name} (it starts with a {name} "
                             f"byte-order mark)")
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            first_bad = error.start
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as cp_error:
                raise _refuse(label, f"UTF-8 or Windows-1252 (cp1252) text; byte "
                              f"{first_bad} (line {_line_of(data, first_bad)}) is not "
                              f"UTF-8 and byte {cp_error.start} (0x{data[cp_error.start]:02X}"
                              f") is not cp1252 either: save it as UTF-8 ('CSV UTF-8' in Excel)"
                              ) from None
            notes.append(f"{label}: read as Windows-1252 (cp1252), the 'ANSI' encoding "
                         f"Excel uses on Windows, because it is not valid UTF-8 (byte "
                         f"{first_bad}, line {_line_of(data, first_bad)}); check that "
                         f"'£' and accented names read correctly, or save it as UTF-8 ('CSV UTF-8' "
                         f"in Excel)")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise _refuse(label, f"a text file; line {line} holds a NUL character (a binary "
                      f"file, or UTF-16 saved without its byte-order mark): save it as "
                      f"'CSV UTF-8'")
    return text, notes
