"""Ledger actuals: spend booked per line and period, summed to ``as_at``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.calendar import AsAt, fy_label, month_ends, period_of
from forecastlib.errors import DataValidationError, Problem
from forecastlib.lines import LINE_KEYS

__all__ = ["ledger_to_date"]


def ledger_to_date(actuals: pd.DataFrame, as_at: object, year: int) -> pd.Series:
    """Ledger actuals per line for the periods closed by ``as_at``.

    ``as_at`` must be the last day of a period when ledger actuals are used: the
    ledger is kept by month, so a mid-month ``as_at`` would mix a part-month forecast
    with a whole month's booked spend. Rows booked in a later period than ``as_at``
    are refused (naming each row), not dropped.

    Returns
    -------
    Series
        Indexed by ``(service, category)``, named ``actual_to_date``.
    """
    as_at_day = AsAt.of(as_at, year).day
    period = int(period_of(as_at_day))
    source = actuals.attrs.get("source", "actuals.csv")
    if as_at_day != month_ends(year)[period - 1]:
        raise DataValidationError(Problem(
            source, None, "period", str(as_at_day),
            f"an as_at on the last day of a period when ledger actuals are given "
            f"(period {period} of {fy_label(year)} ends {month_ends(year)[period - 1]})"))
    late = actuals["period"].to_numpy(dtype="int64") > period
    if late.any():
        rows = np.flatnonzero(late)
        raise DataValidationError([
            Problem(source, int(r) + 2, "period", str(actuals["period"].iloc[r]),
                    f"a period up to {period} (as_at {as_at_day} closes period {period})")
            for r in rows
        ])
    summed = actuals.groupby(LINE_KEYS, sort=True)["amount"].sum()
    return summed.rename("actual_to_date")
