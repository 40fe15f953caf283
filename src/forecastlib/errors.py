"""Every exception forecastlib raises on purpose, in one place.

Validation errors carry a list of :class:`Problem` records so a caller (or the
command line) can show *every* problem in a file at once, each naming the file,
the row, the column, the offending value and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "DataValidationError",
    "ForecastlibError",
    "Problem",
]

#: How many problems a :class:`DataValidationError` message lists before it summarises.
MAX_PROBLEMS_SHOWN = 50


class ForecastlibError(Exception):
    """Base class of forecastlib's own errors."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Parameters
    ----------
    file : str
        The file (or table name) the problem is in.
    row : int or None
        The 1-based data row, counting the header as row 1 (so the first data row is
        row 2, as a spreadsheet shows it). ``None`` for a file-level problem.
    column : str or None
        The column, as the contract names it. ``None`` for a row-level problem.
    value : str or None
        The offending value as it appeared in the file.
    expected : str
        What was expected instead.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{', '.join(where)}{value}: {self.expected}"


class DataValidationError(ForecastlibError, ValueError):
    """An input file (or frame) broke the data contract.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, in file order.
    """

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("<input>", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__(self._message())

    def _message(self) -> str:
        count = len(self.problems)
        files = sorted({p.file for p in self.problems})
        head = f"{count} problem{'s' if count != 1 else ''} in {', '.join(files)}:"
        lines = [f"  - {p}" for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        if count > MAX_PROBLEMS_SHOWN:
            lines.append(f"  ... and {count - MAX_PROBLEMS_SHOWN} more not shown")
        return "\n".join([head, *lines])


class ConfigError(ForecastlibError, ValueError):
    """A configuration, option or policy value is invalid (names the key and the value)."""
