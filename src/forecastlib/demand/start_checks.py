"""Checks of a line's start history before it is modelled: bulk loads and new lines.

A case-system migration or a re-coding of a need can put dozens of placements on one
date: a bulk load, not demand. A new category code has no starts before it was created:
the zeros before its first start are not history. Left in, either turns a count
regression's trend into an explosion (a line of 35 starts projected to start 5e8 a
month); these checks find them so the starts model can say what it did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.lines import LINE_KEYS

__all__ = ["bulk_loads", "history_begins"]

_COLUMNS = [*LINE_KEYS, "date", "month", "starts"]


def bulk_loads(spell_table: pd.DataFrame | None, months: pd.Index, bulk_min: float = 10,
               bulk_ratio: float = 4.0) -> pd.DataFrame:
    """Days whose spell starts look like a bulk load rather than demand.

    A day is a bulk load when it has at least ``bulk_min`` starts in a line and more
    than ``bulk_ratio`` times the line's mean monthly starts without that day (over the
    months from the line's first start to the last of ``months``, at least one a month).

    Returns
    -------
    DataFrame
        ``service``, ``category``, ``date``, ``month`` (period) and ``starts`` per day.

    Examples
    --------
    >>> days = pd.to_datetime(["2019-04-01"] * 30 + ["2019-06-03", "2019-09-12"])
    >>> table = pd.DataFrame({"service": "S", "category": "X", "start_date": days})
    >>> months = pd.period_range("2017-04", "2020-03", freq="M")
    >>> bulk_loads(table, months)[["date", "starts"]].to_dict("records")
    [{'date': Timestamp('2019-04-01 00:00:00'), 'starts': 30}]
    """
    if spell_table is None or spell_table.empty or len(months) == 0:
        return pd.DataFrame({column: [] for column in _COLUMNS})
    months = pd.PeriodIndex(months, freq="M")
    month = spell_table["start_date"].dt.to_period("M")
    inside = spell_table[(month >= months[0]) & (month <= months[-1])]
    daily = (inside.groupby([*LINE_KEYS, "start_date"], observed=True).size()
             .rename("starts").reset_index())
    if daily.empty:
        return pd.DataFrame({column: [] for column in _COLUMNS})
    by_line = daily.groupby(LINE_KEYS, observed=True)
    total = by_line["starts"].transform("sum").to_numpy(dtype=float)
    first = by_line["start_date"].transform("min").dt.to_period("M")
    own_months = (months[-1].ordinal - pd.PeriodIndex(first).asi8 + 1)
    starts = daily["starts"].to_numpy(dtype=float)
    usual = np.maximum((total - starts) / own_months, 1.0)
    flagged = (starts >= bulk_min) & (starts > bulk_ratio * usual)
    out = daily[flagged].rename(columns={"start_date": "date"})
    out.insert(3, "month", out["date"].dt.to_period("M"))
    return out[_COLUMNS].reset_index(drop=True)


def history_begins(counts: np.ndarray, improbable: float = 1e-3) -> tuple[int, bool]:
    """Where a line's own history begins: ``(index, trimmed)``.

    Leading zero months are dropped when, at the rate seen from the first start on, so
    long a run without a start would have had a chance below ``improbable``: the line is
    new, not quiet. A rare line keeps its zeros.

    Examples
    --------
    >>> history_begins(np.r_[np.zeros(77), 17, 18])
    (77, True)
    >>> history_begins(np.r_[np.zeros(30), np.ones(6), np.zeros(24)])
    (0, False)
    """
    counts = np.asarray(counts, dtype=float)
    started = np.flatnonzero(counts > 0)
    if len(started) == 0 or started[0] == 0:
        return 0, False
    first = int(started[0])
    rate = counts[first:].sum() / (len(counts) - first)
    if first * rate > -np.log(improbable):
        return first, True
    return 0, False
