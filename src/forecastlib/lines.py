"""Budget lines: the ``(service, category)`` pairs every table is keyed by.

A *line* is a service (the budget holder, e.g. ``LAC Placements``) and a category
(placement, need or package type); a lump line (growth, a savings target) has the
category ``""``. Tables from placements, budget and actuals are joined on the union of
their lines, so a line with a budget but no placements, or placements but no budget,
still appears.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["LINE_KEYS", "line_codes", "union_lines"]

#: The columns that name a budget line.
LINE_KEYS: list[str] = ["service", "category"]


def line_codes(frame: pd.DataFrame) -> tuple[npt.NDArray[np.intp], pd.MultiIndex]:
    """Integer line code per row and the (sorted) lines those codes index.

    Examples
    --------
    >>> frame = pd.DataFrame({"service": ["S", "S", "A"], "category": ["x", "y", "x"]})
    >>> codes, lines = line_codes(frame)
    >>> codes.tolist(), list(lines)
    ([1, 2, 0], [('A', 'x'), ('S', 'x'), ('S', 'y')])
    """
    if len(frame) == 0:
        return np.zeros(0, dtype=np.intp), _empty_lines()
    service_codes, services = pd.factorize(frame["service"], sort=True)
    category_codes, categories = pd.factorize(frame["category"], sort=True)
    combined = service_codes.astype(np.int64) * len(categories) + category_codes
    present, codes = np.unique(combined, return_inverse=True)
    lines = pd.MultiIndex.from_arrays(
        [np.asarray(services)[present // len(categories)],
         np.asarray(categories)[present % len(categories)]],
        names=LINE_KEYS,
    )
    return codes.astype(np.intp), lines


def _empty_lines() -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([[], []], names=LINE_KEYS)


def union_lines(*indexes: pd.Index) -> pd.MultiIndex:
    """The sorted union of several line indexes."""
    tuples = sorted({tuple(t) for index in indexes for t in index})
    if not tuples:
        return _empty_lines()
    return pd.MultiIndex.from_tuples(tuples, names=LINE_KEYS)
