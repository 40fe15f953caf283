"""Financial and academic calendars as plain vectorised helpers.

UK local authorities budget over financial years running 1 April to 31 March:
``FY2017`` is 2017-04-01 to 2018-03-31, period 1 is April and period 12 is March.
Schools run academic years from 1 September to 31 August. Every helper here takes
scalars or arrays (anything :func:`numpy.asarray` turns into ``datetime64``) and
returns numpy arrays or scalars, so whole placement books are handled without a loop.

Dates are ``numpy.datetime64[D]``; a *day number* is the integer count of days since
1970-01-01 (``date.astype("int64")``), which is what the accrual engine works in.

Examples
--------
>>> import numpy as np
>>> financial_year(np.array(["2017-03-31", "2017-04-01"], dtype="datetime64[D]"))
array([2016, 2017])
>>> int(period_of(np.datetime64("2017-10-31")))
7
>>> int(days_in_financial_year(2019))  # 1 Apr 2019 - 31 Mar 2020 holds 29 Feb 2020
366
>>> fy_label(2017)
'2017/18'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "AsAt",
    "academic_year",
    "academic_year_start",
    "days_in_financial_year",
    "financial_year",
    "fy_end",
    "fy_label",
    "fy_start",
    "is_leap_year",
    "month_ends",
    "month_starts",
    "overlap_days",
    "period_end",
    "period_of",
    "to_day",
]

DateLike = Any
"""Anything :func:`numpy.asarray` turns into ``datetime64[D]``: a string, date, array."""


def to_day(dates: DateLike) -> npt.NDArray[np.datetime64] | np.datetime64:
    """Convert dates to ``datetime64[D]`` (scalars stay scalars)."""
    out = np.asarray(dates, dtype="datetime64[D]")
    return out[()] if out.ndim == 0 else out


def _years_months(dates: DateLike) -> tuple[np.ndarray, np.ndarray]:
    months = np.asarray(dates, dtype="datetime64[D]").astype("datetime64[M]").astype("int64")
    return months // 12 + 1970, months % 12 + 1


def _scalar(result: np.ndarray) -> Any:
    return result[()] if result.ndim == 0 else result


def financial_year(dates: DateLike) -> Any:
    """The financial year (April-March) each date falls in, named by its starting year."""
    years, months = _years_months(dates)
    return _scalar(np.where(months >= 4, years, years - 1))


def period_of(dates: DateLike) -> Any:
    """The financial period (1 = April ... 12 = March) of each date."""
    _, months = _years_months(dates)
    return _scalar((months - 4) % 12 + 1)


def fy_start(year: Any) -> Any:
    """First day (1 April) of financial year ``year``."""
    years = np.asarray(year, dtype="int64")
    months = (years - 1970) * 12 + 3
    return _scalar(months.astype("datetime64[M]").astype("datetime64[D]"))


def fy_end(year: Any) -> Any:
    """Last day (31 March of the next calendar year) of financial year ``year``."""
    return _scalar(np.asarray(fy_start(np.asarray(year) + 1)) - np.timedelta64(1, "D"))


def days_in_financial_year(year: Any) -> Any:
    """Number of days in financial year ``year`` (366 when it holds a 29 February)."""
    days = (np.asarray(fy_end(year)) - np.asarray(fy_start(year))).astype("int64") + 1
    return _scalar(days)


def fy_label(year: int) -> str:
    """Label a financial year the way budget reports do: ``2017 -> '2017/18'``."""
    return f"{year}/{(year + 1) % 100:02d}"


def month_starts(year: int) -> npt.NDArray[np.datetime64]:
    """The 13 boundaries of financial year ``year``: 1 April ... 1 March, then next 1 April.

    ``month_starts(y)[p - 1]`` is the first day of period ``p``; element 12 is the first
    day of the next financial year, so ``np.diff`` gives the days in each period.
    """
    first = (int(year) - 1970) * 12 + 3
    return np.arange(first, first + 13).astype("datetime64[M]").astype("datetime64[D]")


def month_ends(year: int) -> npt.NDArray[np.datetime64]:
    """The last day of each of the 12 periods of financial year ``year``."""
    return month_starts(year)[1:] - np.timedelta64(1, "D")


def period_end(year: int, period: int) -> np.datetime64:
    """Last day of ``period`` (1-12) of financial year ``year``."""
    if not 1 <= int(period) <= 12:
        raise ValueError(f"period must be 1..12, got {period!r}")
    return month_ends(year)[int(period) - 1]


def is_leap_year(year: Any) -> Any:
    """Gregorian leap years."""
    years = np.asarray(year, dtype="int64")
    return _scalar((years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0)))


def academic_year(dates: DateLike) -> Any:
    """The academic year (September-August) of each date, named by its starting year."""
    years, months = _years_months(dates)
    return _scalar(np.where(months >= 9, years, years - 1))


def academic_year_start(year: Any) -> Any:
    """First day (1 September) of academic year ``year``."""
    months = (np.asarray(year, dtype="int64") - 1970) * 12 + 8
    return _scalar(months.astype("datetime64[M]").astype("datetime64[D]"))


def overlap_days(
    start: npt.ArrayLike,
    end: npt.ArrayLike,
    window_start: npt.ArrayLike,
    window_end: npt.ArrayLike,
) -> npt.NDArray[np.int64]:
    """Days that inclusive intervals ``[start, end]`` share with ``[window_start, window_end]``.

    All four arguments are day numbers (``int64``) or ``datetime64[D]`` and broadcast
    against each other, so one call counts every placement against every period.
    Never negative.

    Examples
    --------
    >>> int(overlap_days(np.datetime64("2017-03-30"), np.datetime64("2017-04-02"),
    ...                  np.datetime64("2017-04-01"), np.datetime64("2018-03-31")))
    2
    """
    as_int = [np.asarray(x).astype("datetime64[D]").astype("int64") for x in
              (start, end, window_start, window_end)]
    days = np.minimum(as_int[1], as_int[3]) - np.maximum(as_int[0], as_int[2]) + 1
    return np.maximum(days, 0)


def _parse_day(value: DateLike) -> np.datetime64:
    """The one place a date-like as-at becomes ``datetime64[D]`` (see :class:`AsAt`)."""
    return np.datetime64(pd.Timestamp(value).date(), "D")


@dataclass(frozen=True)
class AsAt:
    """The forecast date, normalised once: the last day of actuals and its year.

    Public functions take any date-like ``as_at`` and turn it into an ``AsAt`` at their
    top with :meth:`of`; internal steps take the ``AsAt`` and never parse a date again
    (:meth:`of` hands an ``AsAt`` back unchanged).

    Attributes
    ----------
    day : numpy.datetime64
        The last day of actuals, ``datetime64[D]``.
    year : int
        The financial year forecast (by default the one holding ``day``).

    Examples
    --------
    >>> as_at = AsAt.of("2017-10-31")
    >>> as_at.year, str(as_at.year_end), as_at.period
    (2017, '2018-03-31', 7)
    >>> [str(day) for day in as_at.month_ends[:2]], as_at.offsets[:2].tolist()
    (['2017-11-30', '2017-12-31'], [30.0, 61.0])
    >>> AsAt.of(as_at) is as_at
    True
    """

    day: np.datetime64
    year: int

    def __post_init__(self) -> None:
        if not isinstance(self.day, np.datetime64) or np.datetime_data(self.day.dtype)[0] != "D":
            raise TypeError(f"AsAt.day must be numpy.datetime64[D], got {self.day!r}")
        if np.isnat(self.day):
            raise ValueError("AsAt.day is not a date (NaT)")

    @classmethod
    def of(cls, value: DateLike | AsAt, year: int | None = None) -> AsAt:
        """``value`` as an ``AsAt`` (an ``AsAt`` is returned as it is, never re-parsed).

        ``year`` overrides the financial year (default: the one holding the day).
        """
        if isinstance(value, AsAt):
            return value if year is None or int(year) == value.year else cls(value.day,
                                                                               int(year))
        day = _parse_day(value)
        return cls(day, int(financial_year(day)) if year is None else int(year))

    @property
    def date(self) -> dt.date:
        """The day as a :class:`datetime.date`."""
        return self.day.astype(dt.date)

    @property
    def timestamp(self) -> pd.Timestamp:
        """The day as a :class:`pandas.Timestamp` (to compare with frame columns)."""
        return pd.Timestamp(self.day)

    @property
    def period(self) -> int:
        """The financial period (1 = April ... 12 = March) of the day."""
        return int(period_of(self.day))

    @property
    def year_start(self) -> np.datetime64:
        """1 April of the year."""
        return fy_start(self.year)

    @property
    def year_end(self) -> np.datetime64:
        """31 March ending the year."""
        return fy_end(self.year)

    @property
    def month_ends(self) -> npt.NDArray[np.datetime64]:
        """The year's month-ends after the day: the months left to forecast."""
        ends = month_ends(self.year)
        return ends[ends > self.day]

    @property
    def offsets(self) -> npt.NDArray[np.float64]:
        """Days from the day to each of :attr:`month_ends` (float, as spend paths use)."""
        return (self.month_ends - self.day).astype("int64").astype(float)

    @property
    def months(self) -> pd.PeriodIndex:
        """:attr:`month_ends` as monthly periods."""
        return pd.PeriodIndex(pd.to_datetime(self.month_ends), freq="M")

    def __str__(self) -> str:
        return str(self.day)
