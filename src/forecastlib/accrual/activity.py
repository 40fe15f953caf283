"""Activity and cost per budget line: the figures the key activity tables are built from.

*Snapshot* is the number of episodes running on ``as_at``; the *yearly average* is the
placement-days falling in the financial year divided by the days in the year (the
seeds' "Yearly Average", a full-time-equivalent count), counting actual days to
``as_at`` and committed days after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.accrual.engine import (
    accrue,
    accrue_by_period,
    open_without_end,
)
from forecastlib.calendar import AsAt, days_in_financial_year
from forecastlib.lines import line_codes

__all__ = ["line_activity", "line_costs_by_period"]

_SUMMED = [
    "days_in_year",
    "gross_to_date",
    "income_to_date",
    "gross_committed",
    "income_committed",
]


def line_activity(
    placements: pd.DataFrame,
    as_at: object | AsAt,
    *,
    year: int | None = None,
    use_planned_ends: bool = True,
    accrued: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Activity and accrued cost per line for one financial year.

    ``accrued``, when the caller already has :func:`~forecastlib.accrual.accrue` of the
    same placements, as-at and options, is used rather than accrued again.

    Returns
    -------
    DataFrame
        Indexed by ``(service, category)``, with columns ``snapshot``,
        ``placement_days``, ``yearly_average``, ``gross_to_date``, ``income_to_date``,
        ``net_to_date``, ``gross_committed``, ``income_committed``, ``net_committed``,
        ``gross_year``, ``income_year``, ``net_year``, ``average_unit_cost`` (unit cost
        weighted by placement-days in the year), ``average_weekly_cost`` (gross cost
        per placement-week), ``unit`` (``"mixed"`` when a line holds several) and
        ``open_without_end`` (episodes running past ``as_at`` with no end date or
        usable planned end: committed to year-end).

    Examples
    --------
    >>> import pandas as pd
    >>> from forecastlib.records import read_placements
    >>> book = read_placements(pd.DataFrame({"placement_id": ["P1", "P2"],
    ...     "client_id": ["C1", "C2"], "service": ["LAC", "LAC"],
    ...     "category": ["IFA", "IFA"], "start_date": ["2017-04-01", "2017-10-01"],
    ...     "end_date": ["", "2017-10-31"], "unit_cost": ["700", "840"]}))
    >>> line_activity(book, "2017-10-31")[["snapshot", "yearly_average",
    ...                                     "average_unit_cost"]].round(4)
                      snapshot  yearly_average  average_unit_cost
    service category
    LAC     IFA              2          1.0849           710.9596
    """
    as_at = AsAt.of(as_at, year)
    as_at_day, year = as_at.day, as_at.year
    if accrued is None:
        accrued = accrue(placements, as_at, use_planned_ends=use_planned_ends)
    codes, lines = line_codes(placements)
    count = len(lines)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values, minlength=count)

    out = pd.DataFrame(index=lines)
    out["snapshot"] = np.bincount(codes, weights=accrued["active_at_as_at"].to_numpy(),
                                  minlength=count).astype(np.int64)
    for column in _SUMMED:
        out[column] = total(accrued[column].to_numpy(dtype="float64"))
    out = out.rename(columns={"days_in_year": "placement_days"})
    out["yearly_average"] = out["placement_days"] / float(days_in_financial_year(year))
    out["net_to_date"] = out["gross_to_date"] - out["income_to_date"]
    out["net_committed"] = out["gross_committed"] - out["income_committed"]
    out["gross_year"] = out["gross_to_date"] + out["gross_committed"]
    out["income_year"] = out["income_to_date"] + out["income_committed"]
    out["net_year"] = out["net_to_date"] + out["net_committed"]

    days = accrued["days_in_year"].to_numpy(dtype="float64")
    weighted_cost = total(placements["unit_cost"].to_numpy(dtype="float64") * days)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["average_unit_cost"] = weighted_cost / out["placement_days"].to_numpy()
        out["average_weekly_cost"] = out["gross_year"] / (out["placement_days"] / 7.0)
    out["unit"] = _line_units(placements["unit"], codes, count)
    running_on = open_without_end(accrued)
    out["open_without_end"] = np.bincount(codes, weights=running_on,
                                          minlength=count).astype(np.int64)
    out.attrs.update(as_at=as_at_day, year=year)
    return out


def _line_units(units: pd.Series, codes: np.ndarray, count: int) -> np.ndarray:
    unit_codes, unit_names = pd.factorize(units)
    if len(unit_names) == 0:
        return np.full(count, "mixed", dtype=object)
    seen = np.zeros((count, len(unit_names)), dtype=bool)
    seen[codes, unit_codes] = True
    result = np.full(count, "mixed", dtype=object)
    single = seen.sum(axis=1) == 1
    result[single] = np.asarray(unit_names, dtype=object)[seen[single].argmax(axis=1)]
    return result


def line_costs_by_period(
    placements: pd.DataFrame,
    as_at: object,
    *,
    year: int | None = None,
    use_planned_ends: bool = True,
    measure: str = "net",
) -> pd.DataFrame:
    """Accrued cost per line and period (columns 1..12), on the record's effective ends."""
    per_placement = accrue_by_period(placements, as_at, year=year,
                                     use_planned_ends=use_planned_ends, measure=measure)
    codes, lines = line_codes(placements)
    values = per_placement.to_numpy()
    sums = np.column_stack(
        [np.bincount(codes, weights=values[:, p], minlength=len(lines)) for p in range(12)]
    )
    return pd.DataFrame(sums, index=lines, columns=per_placement.columns)
