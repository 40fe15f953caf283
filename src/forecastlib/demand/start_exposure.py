"""Exposure of new starts: a population (or caseload) each line's start rate is per.

``StartsModel.fit(..., exposure=...)`` takes a table of exposure by line or by service
(rows) and month (columns, which may run beyond the data to give future exposure); the
count regressions then model starts per unit of exposure through a log offset.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["exposure_table", "log_offset"]


def exposure_table(exposure: pd.DataFrame | None, lines: pd.Index,
                   months: pd.PeriodIndex) -> pd.DataFrame | None:
    """``exposure`` checked and indexed by ``lines`` (a table by service is spread to its
    lines); every month of history must be present and every value positive."""
    if exposure is None:
        return None
    table = exposure.copy()
    table.columns = pd.PeriodIndex(table.columns, freq="M")
    if not isinstance(table.index, pd.MultiIndex):  # by service
        table = table.reindex([line[0] for line in lines])
        table.index = lines
    missing = months.difference(table.columns)
    if len(missing):
        raise ValueError(f"exposure is missing months {list(missing[:3])}...")
    if table.reindex(lines).loc[:, months].isna().any().any() or (table <= 0).any().any():
        raise ValueError("exposure must be positive for every line and month of history")
    return table


def log_offset(table: pd.DataFrame | None, line: tuple[str, str],
               months: pd.PeriodIndex) -> np.ndarray:
    """Log exposure of ``line`` in ``months`` (0 without exposure); months beyond the
    table carry its last value forward.

    Examples
    --------
    >>> months = pd.period_range("2024-01", periods=3, freq="M")
    >>> table = pd.DataFrame([[10.0, 20.0]], columns=months[:2],
    ...                      index=pd.MultiIndex.from_tuples([("S", "X")]))
    >>> np.exp(log_offset(table, ("S", "X"), months)).tolist()
    [10.0, 20.0, 20.0]
    """
    if table is None:
        return np.zeros(len(months))
    row = table.loc[line]
    values = row.reindex(months).ffill().fillna(row.dropna().iloc[-1])
    return np.log(values.to_numpy(dtype=float))
