"""Key activity data: the placements-by-price table committees read.

Modelled on the seeds' section 2.5 tables: for each line, the budget (placements,
annual budget, weeks funded, unit cost), the actual position (snapshot at ``as_at``,
yearly average, full-year spend on the commitment basis, average unit cost) and the
variances, with the pound variance split exactly into **volume** and **price**.

Volume / price convention
-------------------------
Let ``Q_b`` be the budgeted placements, ``B`` the annual budget, ``Q_a`` the yearly
average placements and ``A`` the forecast net spend. The budgeted cost of one
full-time placement-year is ``P_b = B / Q_b``. Then::

    volume = (Q_a - Q_b) * P_b          # more or fewer placements, at budgeted cost
    price  = (A - B) - volume = Q_a * (A / Q_a - P_b)   # cost per placement, at actual volume

so ``volume + price = A - B`` exactly (volume is rounded to the penny and price is
the rest of the rounded total). Price therefore holds everything that is not
placement numbers: unit prices, the mix within the line, income, and the calendar
(a 52-week price accrues over 365/7 weeks). Where the budget has no placements but a
unit cost, ``P_b`` is the formula cost of one placement; where it has neither (a lump
line such as growth or a savings target) the whole variance is volume.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.accrual import line_activity
from forecastlib.accrual.engine import resolve_year
from forecastlib.budget import annual_budgets
from forecastlib.lines import union_lines
from forecastlib.records.line_names import reconcile_line_names

__all__ = ["KEY_ACTIVITY_COLUMNS", "key_activity", "volume_price_split"]

#: Columns of the key activity table, in order.
KEY_ACTIVITY_COLUMNS = [
    "budget_placements",
    "annual_budget",
    "weeks_funded",
    "budget_unit_cost",
    "snapshot",
    "yearly_average",
    "gross_spend",
    "income",
    "net_spend",
    "actual_unit_cost",
    "placements_variance",
    "spend_variance",
    "unit_cost_variance",
    "volume_variance",
    "price_variance",
]


def volume_price_split(
    budget_placements: np.ndarray,
    annual_budget: np.ndarray,
    yearly_average: np.ndarray,
    net_spend: np.ndarray,
    formula_cost_per_placement: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split ``net_spend - annual_budget`` into volume and price (see module notes).

    Returns ``(total, volume, price)`` in pounds, each rounded to the penny, with
    ``volume + price == total`` to the penny.

    Examples
    --------
    >>> total, volume, price = volume_price_split(np.array([10.0]), np.array([520_000.0]),
    ...     np.array([12.0]), np.array([660_000.0]))
    >>> float(total[0]), float(volume[0]), float(price[0])
    (140000.0, 104000.0, 36000.0)
    """
    budget_placements = np.asarray(budget_placements, dtype="float64")
    annual_budget = np.asarray(annual_budget, dtype="float64")
    yearly_average = np.asarray(yearly_average, dtype="float64")
    formula = (np.full_like(annual_budget, np.nan) if formula_cost_per_placement is None
               else np.asarray(formula_cost_per_placement, dtype="float64"))
    with np.errstate(divide="ignore", invalid="ignore"):
        per_placement = np.where(budget_placements > 0, annual_budget / budget_placements,
                                 formula)
    quantity = np.nan_to_num(budget_placements)
    total_pence = np.round((np.asarray(net_spend, dtype="float64") - annual_budget) * 100)
    volume_raw = (yearly_average - quantity) * per_placement
    volume_pence = np.where(np.isfinite(volume_raw), np.round(volume_raw * 100), total_pence)
    return total_pence / 100, volume_pence / 100, (total_pence - volume_pence) / 100


def key_activity(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    as_at: object,
    *,
    year: int | None = None,
    use_planned_ends: bool = True,
) -> pd.DataFrame:
    """The key activity table per line (see module notes for definitions).

    Spend is the full-year forecast on the commitment basis (actual days to ``as_at``
    plus committed days after it), as in the seeds' tables. ``actual_unit_cost`` is
    the unit price weighted by placement-days in the year; ``weeks_funded`` is the
    budget's ``weeks_per_year``. Lines from either input appear.

    Returns
    -------
    DataFrame
        Indexed by ``(service, category)`` with :data:`KEY_ACTIVITY_COLUMNS` and
        ``unit``.

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> table = key_activity(sample.placements, sample.budget, sample.as_at)
    >>> row = table.loc[("LAC Placements", "Residential homes")]
    >>> bool(round(row.volume_variance + row.price_variance, 2) == row.spend_variance)
    True
    """
    placements, budget, _, input_notes = reconcile_line_names(placements, budget)
    as_at_day, year = resolve_year(as_at, year)
    activity = line_activity(placements, as_at_day, year=year, use_planned_ends=use_planned_ends)
    budgets = annual_budgets(budget)
    lines = union_lines(activity.index, budgets.index)
    act = activity.reindex(lines)
    bud = budgets.reindex(lines)

    out = pd.DataFrame(index=lines)
    out["budget_placements"] = bud["budget_placements"]
    out["annual_budget"] = bud["annual_budget"].fillna(0.0)
    out["weeks_funded"] = bud["weeks_per_year"].where(
        (bud["unit"] != "year") & bud["budget_unit_cost"].notna())
    out["budget_unit_cost"] = bud["budget_unit_cost"]
    out["snapshot"] = act["snapshot"].fillna(0).astype(int)
    out["yearly_average"] = act["yearly_average"].fillna(0.0)
    out["gross_spend"] = act["gross_year"].fillna(0.0)
    out["income"] = act["income_year"].fillna(0.0)
    out["net_spend"] = out["gross_spend"] - out["income"]
    out["actual_unit_cost"] = act["average_unit_cost"]
    out["placements_variance"] = out["yearly_average"] - out["budget_placements"]
    formula_per_placement = bud["formula_budget"] / bud["budget_placements"]
    formula_per_placement = formula_per_placement.where(
        bud["budget_placements"] > 0,
        np.where(bud["unit"] == "year", bud["budget_unit_cost"],
                 bud["budget_unit_cost"] * bud["units_per_week"] * bud["weeks_per_year"]))
    total, volume, price = volume_price_split(
        out["budget_placements"].to_numpy(), out["annual_budget"].to_numpy(),
        out["yearly_average"].to_numpy(), out["net_spend"].to_numpy(),
        formula_per_placement.to_numpy(dtype="float64"))
    out["spend_variance"] = total
    out["unit_cost_variance"] = out["actual_unit_cost"] - out["budget_unit_cost"]
    out["volume_variance"] = volume
    out["price_variance"] = price
    out["unit"] = act["unit"].fillna(bud["unit"])
    out.attrs.update(as_at=as_at_day, year=year, notes=input_notes)
    return out
