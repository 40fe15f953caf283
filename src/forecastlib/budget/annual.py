"""Annual budgets per line and the spend expected by a date.

A line's annual budget is the approved ``annual_budget`` when given, else
``budget_placements * budget_unit_cost * units_per_week * weeks_per_year``
(``budget_placements * budget_unit_cost`` for ``year`` units). When both are given
and disagree, the approved figure stands and the difference is kept in
``budget_difference`` (and reported), never hidden.

Expected spend to date follows a *profile*: flat by day by default (the budget
spread evenly over the days of the year), or a custom monthly profile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from forecastlib.calendar import AsAt, days_in_financial_year, fy_start, month_starts
from forecastlib.lines import LINE_KEYS

__all__ = ["SpendProfile", "annual_budgets", "expected_to_date"]

#: Differences between an approved budget and its formula below this (GBP) are rounding.
BUDGET_TOLERANCE = 0.5


def annual_budgets(budget: pd.DataFrame) -> pd.DataFrame:
    """The annual budget of each line, with the formula and any disagreement.

    Parameters
    ----------
    budget : DataFrame
        Validated ``budget.csv`` (see :func:`forecastlib.read_budget`).

    Returns
    -------
    DataFrame
        Indexed by ``(service, category)``: ``budget_placements``,
        ``budget_unit_cost``, ``unit``, ``units_per_week``, ``weeks_per_year``,
        ``formula_budget`` (NaN where placements or unit cost are missing),
        ``annual_budget`` and ``budget_difference`` (approved minus formula; 0 where
        they agree within 50p, NaN where there is nothing to compare).

    Examples
    --------
    >>> frame = pd.DataFrame({"service": ["LAC"], "category": ["IFA"],
    ...     "budget_placements": [10.0], "budget_unit_cost": [800.0], "unit": ["week"],
    ...     "units_per_week": [1.0], "weeks_per_year": [52.0], "annual_budget": [420_000.0]})
    >>> annual_budgets(frame)[["formula_budget", "annual_budget", "budget_difference"]]
                 formula_budget  annual_budget  budget_difference
    service category
    LAC     IFA        416000.0       420000.0             4000.0
    """
    frame = budget.set_index(LINE_KEYS)
    yearly = (frame["unit"] == "year").to_numpy()
    placements = frame["budget_placements"].to_numpy(dtype="float64")
    unit_cost = frame["budget_unit_cost"].to_numpy(dtype="float64")
    per_placement = np.where(
        yearly, unit_cost,
        unit_cost * frame["units_per_week"].to_numpy() * frame["weeks_per_year"].to_numpy(),
    )
    formula = placements * per_placement
    given = frame["annual_budget"].to_numpy(dtype="float64")
    difference = given - formula
    difference = np.where(np.abs(difference) < BUDGET_TOLERANCE, 0.0, difference)
    out = frame[["budget_placements", "budget_unit_cost", "unit", "units_per_week",
                 "weeks_per_year"]].copy()
    out["formula_budget"] = formula
    out["annual_budget"] = np.where(np.isnan(given), formula, given)
    out["budget_difference"] = difference
    return out


class SpendProfile(BaseModel):
    """How a budget is expected to be spent across the twelve periods.

    ``weights[p - 1]`` is the share of the year's budget expected in period ``p``; the
    weights are normalised to sum to one. Within a period spend is flat by day.
    :meth:`flat` (the default everywhere) spreads the budget evenly over the days.

    Examples
    --------
    >>> profile = SpendProfile(weights=[1] * 11 + [2])  # March carries year-end accruals
    >>> round(profile.share_to(np.datetime64("2018-02-28"), 2017), 4)
    0.8462
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    weights: tuple[float, ...] | None = Field(
        None, description="12 non-negative monthly weights (April first); None = flat by day"
    )

    @field_validator("weights")
    @classmethod
    def _twelve_non_negative(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return value
        if len(value) != 12:
            raise ValueError(f"12 monthly weights (April to March), got {len(value)}")
        if any(w < 0 or not np.isfinite(w) for w in value) or sum(value) <= 0:
            raise ValueError("weights must be finite, >= 0 and not all zero")
        return value

    @classmethod
    def flat(cls) -> SpendProfile:
        """Flat by day: the budget accrues evenly over every day of the year."""
        return cls()

    def share_to(self, as_at: np.datetime64, year: int) -> float:
        """Share of the year's budget expected by the end of ``as_at``."""
        first = np.datetime64(fy_start(year), "D")
        as_at = np.datetime64(as_at, "D")
        if as_at < first:
            return 0.0
        total_days = int(days_in_financial_year(year))
        elapsed = min(int((as_at - first).astype(int)) + 1, total_days)
        if self.weights is None:
            return elapsed / total_days
        bounds = month_starts(year)
        days = np.diff(bounds).astype("int64")
        weights = np.asarray(self.weights, dtype="float64") / sum(self.weights)
        end = np.datetime64(as_at + 1)
        covered = np.clip((np.minimum(end, bounds[1:]) - bounds[:-1]).astype("int64"), 0, days)
        return float(np.sum(weights * covered / days))


def expected_to_date(
    annual: pd.Series, as_at: object, year: int, profile: SpendProfile | None = None
) -> pd.Series:
    """Budget expected to be spent by ``as_at`` (the seeds' "Expected to end of Oct")."""
    share = (profile or SpendProfile.flat()).share_to(
        AsAt.of(as_at, year).day, year
    )
    return annual * share
