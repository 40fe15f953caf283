"""Daily cost and income rates, and the end each episode is assumed to have.

The contract's convention: a placement's daily cost is
``unit_cost * units_per_week * (weeks_per_year / 52) / 7``, or ``unit_cost / 365``
for a ``year`` unit; income accrues at ``income_per_week / 7`` a day.

To keep money exact, a cost over ``d`` days is computed as one product divided once,
``numerator * d / denominator`` with ``numerator = unit_cost * units_per_week *
weeks_per_year`` and ``denominator = 52 * 7 = 364`` (``unit_cost`` and ``365`` for a
``year`` unit), so no rounded daily rate is ever multiplied up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["OPEN_END", "EndBasis", "PriceTerms", "effective_ends", "price_terms"]

#: Day number standing for "no end": far beyond any financial year.
OPEN_END = np.int64(np.iinfo(np.int32).max)


class EndBasis:
    """Codes for how an episode's end was decided (see :func:`effective_ends`)."""

    ENDED = 0  # end_date given
    PLANNED = 1  # planned_end_date used
    OPEN = 2  # no usable end: runs on (to year-end on the commitment basis)
    LABELS = np.array(["end_date", "planned_end_date", "open"])


@dataclass(frozen=True)
class PriceTerms:
    """Cost and income of each placement over ``d`` days, as exact fractions.

    ``cost(d) = cost_numerator * d / cost_denominator`` and
    ``income(d) = income_per_week * d / 7``.
    """

    cost_numerator: npt.NDArray[np.float64]
    cost_denominator: npt.NDArray[np.float64]
    income_per_week: npt.NDArray[np.float64]

    def cost(self, days: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Gross cost of each placement over ``days`` (broadcasts: ``(n,)`` or ``(n, k)``)."""
        days = np.asarray(days)
        numerator = self.cost_numerator.reshape((-1,) + (1,) * (days.ndim - 1))
        denominator = self.cost_denominator.reshape(numerator.shape)
        return numerator * days / denominator

    def income(self, days: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Income of each placement over ``days`` (same broadcasting as :meth:`cost`)."""
        days = np.asarray(days)
        weekly = self.income_per_week.reshape((-1,) + (1,) * (days.ndim - 1))
        return weekly * days / 7.0

    @property
    def daily_cost(self) -> npt.NDArray[np.float64]:
        """Gross cost a day (for display; money is computed with :meth:`cost`)."""
        return self.cost_numerator / self.cost_denominator

    @property
    def weekly_cost(self) -> npt.NDArray[np.float64]:
        """Gross cost a week at the contract's daily rate (``7 x`` daily)."""
        return self.daily_cost * 7.0


def price_terms(placements: pd.DataFrame) -> PriceTerms:
    """Exact price terms of each placement, from validated ``placements`` columns.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"unit_cost": [728.0, 52_000.0], "unit": ["week", "year"],
    ...                       "units_per_week": [1.0, 1.0], "weeks_per_year": [56.0, 52.0],
    ...                       "income_per_week": [0.0, 0.0]})
    >>> price_terms(frame).cost(365)  # 56-week allowance; annual price / 365 a day
    array([40880., 52000.])
    """
    unit_cost = placements["unit_cost"].to_numpy(dtype="float64")
    yearly = (placements["unit"] == "year").to_numpy()
    per_week_units = placements["units_per_week"].to_numpy(dtype="float64")
    weeks = placements["weeks_per_year"].to_numpy(dtype="float64")
    numerator = np.where(yearly, unit_cost, unit_cost * per_week_units * weeks)
    denominator = np.where(yearly, 365.0, 364.0)
    income = placements["income_per_week"].to_numpy(dtype="float64")
    return PriceTerms(numerator, denominator, income)


def _day_numbers(series: pd.Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    values = series.to_numpy(dtype="datetime64[D]")
    missing = np.isnat(values)
    return np.where(missing, 0, values.astype("int64")), missing


def effective_ends(
    placements: pd.DataFrame, as_at: np.datetime64, *, use_planned_ends: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """The last day each episode is assumed to run, as day numbers, and its basis.

    ``end_date`` when given; else ``planned_end_date`` when ``use_planned_ends`` and the
    planned end is on or after ``as_at`` (a planned end already passed while the episode
    is still open says nothing about when it will end); else open (:data:`OPEN_END`).

    Returns
    -------
    ends : ndarray of int64
        Day numbers (days since 1970-01-01).
    basis : ndarray of int8
        :class:`EndBasis` codes.
    """
    as_at_day = np.datetime64(as_at, "D").astype("int64")
    end, end_missing = _day_numbers(placements["end_date"])
    planned, planned_missing = _day_numbers(placements["planned_end_date"])
    use_planned = end_missing & ~planned_missing & (planned >= as_at_day) & use_planned_ends
    ends = np.where(~end_missing, end, np.where(use_planned, planned, OPEN_END))
    basis = np.where(~end_missing, EndBasis.ENDED,
                     np.where(use_planned, EndBasis.PLANNED, EndBasis.OPEN)).astype(np.int8)
    return ends.astype(np.int64), basis
