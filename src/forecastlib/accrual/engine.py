"""The daily accrual engine: cost incurred, committed and by period, per placement.

Everything is whole-array numpy over placements; the only loop is over the twelve
periods of a year. Costs follow :mod:`forecastlib.accrual.rates`; days are counted
inclusively (a placement from 1 to 7 April is 7 days).

*Incurred to date* covers the days from 1 April to ``as_at``; *committed* the days
from ``as_at + 1`` to 31 March, to each episode's effective end (an open episode with
no usable end is committed to year-end: the commitment-record basis the seeds use).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecastlib.accrual.rates import OPEN_END, EndBasis, PriceTerms, effective_ends, price_terms
from forecastlib.calendar import AsAt, fy_end, fy_start, month_starts, overlap_days

__all__ = ["accrue", "accrue_by_period", "open_without_end", "period_days", "resolve_year"]


def resolve_year(as_at: object, year: int | None = None) -> tuple[np.datetime64, int]:
    """``as_at`` as ``datetime64[D]`` and the financial year (default: the one holding it).

    An :class:`~forecastlib.calendar.AsAt` is read, not parsed again.
    """
    resolved = AsAt.of(as_at, year)
    return resolved.day, resolved.year


def _day(date: np.datetime64) -> np.int64:
    return np.datetime64(date, "D").astype("int64")


def _starts(placements: pd.DataFrame) -> npt.NDArray[np.int64]:
    return placements["start_date"].to_numpy(dtype="datetime64[D]").astype("int64")


def accrue(
    placements: pd.DataFrame,
    as_at: object | AsAt,
    *,
    year: int | None = None,
    use_planned_ends: bool = True,
) -> pd.DataFrame:
    """Accrue every placement over one financial year, split at ``as_at``.

    Parameters
    ----------
    placements : DataFrame
        Validated placements (see :func:`forecastlib.read_placements`).
    as_at : date-like or AsAt
        Last day of actuals (an :class:`~forecastlib.calendar.AsAt` is used as it is).
    year : int, optional
        Financial year; defaults to the one containing ``as_at``.
    use_planned_ends : bool, default True
        Use ``planned_end_date`` as the end of open episodes.

    Returns
    -------
    DataFrame
        One row per placement, in input order: ``placement_id``, ``service``,
        ``category``, ``effective_end`` (``NaT`` if open), ``end_basis``,
        ``active_at_as_at``, ``days_in_year``, ``days_to_date``, ``days_committed``,
        ``gross_to_date``, ``income_to_date``, ``gross_committed``,
        ``income_committed``, ``net_to_date``, ``net_committed``, ``net_year``.

    Examples
    --------
    >>> import pandas as pd
    >>> from forecastlib.records import read_placements
    >>> book = read_placements(pd.DataFrame({"placement_id": ["P1"], "client_id": ["C1"],
    ...     "service": ["LAC"], "category": ["Residential"], "start_date": ["2017-04-01"],
    ...     "unit_cost": ["3640"]}))
    >>> row = accrue(book, "2017-10-31").iloc[0]
    >>> float(row.gross_to_date), float(row.gross_committed)  # 214 and 151 days at 520/day
    (111280.0, 78520.0)
    """
    as_at_day, year = resolve_year(as_at, year)
    terms = price_terms(placements)
    ends, basis = effective_ends(placements, as_at_day, use_planned_ends=use_planned_ends)
    starts = _starts(placements)
    first, last, cut = _day(fy_start(year)), _day(fy_end(year)), _day(as_at_day)

    days_year = overlap_days(starts, ends, first, last)
    days_to_date = overlap_days(starts, ends, first, min(cut, last))
    days_committed = overlap_days(starts, ends, max(cut + 1, first), last)
    active = (starts <= cut) & (ends >= cut)

    gross_to_date, gross_committed = terms.cost(days_to_date), terms.cost(days_committed)
    income_to_date, income_committed = terms.income(days_to_date), terms.income(days_committed)
    effective_end = ends.astype("datetime64[D]")
    effective_end[ends == OPEN_END] = np.datetime64("NaT")
    out = pd.DataFrame(
        {
            "placement_id": placements["placement_id"].to_numpy(),
            "service": placements["service"].to_numpy(),
            "category": placements["category"].to_numpy(),
            "effective_end": effective_end,
            "end_basis": pd.Categorical.from_codes(basis, EndBasis.LABELS),
            "active_at_as_at": active,
            "days_in_year": days_year,
            "days_to_date": days_to_date,
            "days_committed": days_committed,
            "gross_to_date": gross_to_date,
            "income_to_date": income_to_date,
            "gross_committed": gross_committed,
            "income_committed": income_committed,
        }
    )
    out["net_to_date"] = gross_to_date - income_to_date
    out["net_committed"] = gross_committed - income_committed
    out["net_year"] = out["net_to_date"] + out["net_committed"]
    out.attrs.update(as_at=as_at_day, year=year, use_planned_ends=use_planned_ends)
    return out


def open_without_end(accrued: pd.DataFrame) -> np.ndarray:
    """Placements of an :func:`accrue` table that run past ``as_at`` with no known end.

    These are the ones the commitment basis runs to year-end and the outturn simulation
    ends by their line's length of stay.
    """
    return ((accrued["end_basis"].cat.codes.to_numpy() == EndBasis.OPEN)
            & (accrued["days_committed"].to_numpy() > 0))


def period_days(
    starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64], year: int
) -> npt.NDArray[np.int64]:
    """Days each placement runs in each of the 12 periods, shape ``(n, 12)``."""
    bounds = month_starts(year).astype("int64")
    return overlap_days(starts[:, None], ends[:, None], bounds[None, :-1], bounds[None, 1:] - 1)


def accrue_by_period(
    placements: pd.DataFrame,
    as_at: object | AsAt,
    *,
    year: int | None = None,
    use_planned_ends: bool = True,
    measure: str = "net",
    terms: PriceTerms | None = None,
) -> pd.DataFrame:
    """Cost of each placement in each period (month) of the financial year.

    ``measure`` is ``"net"`` (cost less income), ``"gross"`` or ``"income"``. Periods
    before and after ``as_at`` are treated alike: the record's effective ends decide.
    Columns are periods 1..12; rows follow ``placements``.
    """
    as_at_day, year = resolve_year(as_at, year)
    terms = price_terms(placements) if terms is None else terms
    ends, _ = effective_ends(placements, as_at_day, use_planned_ends=use_planned_ends)
    days = period_days(_starts(placements), ends, year)
    if measure == "gross":
        values = terms.cost(days)
    elif measure == "income":
        values = terms.income(days)
    elif measure == "net":
        values = terms.cost(days) - terms.income(days)
    else:
        raise ValueError(f"measure must be 'net', 'gross' or 'income', got {measure!r}")
    return pd.DataFrame(values, index=placements.index, columns=pd.RangeIndex(1, 13, name="period"))
