"""What a service's summed starts tell its lines: a seasonal shape and a pace.

Sparse lines cannot learn their own month-of-year pattern or how fast their demand moves,
so they borrow both from their service's summed monthly starts: the seasonal factors of a
Poisson regression with harmonics, and the discount of the Poisson-gamma local level
(:func:`~forecastlib.demand.level.fit_local_level`) fitted to the total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.demand.level import fit_local_level
from forecastlib.demand.start_candidates import (
    design_matrix,
    fit_glm,
    month_index,
    season_factors,
)

__all__ = ["service_discounts", "service_seasons"]


def service_seasons(counts: pd.DataFrame, months: pd.PeriodIndex, origin: pd.Period,
                    harmonics: int, min_starts: int) -> dict[str, np.ndarray]:
    """Multiplicative month-of-year factors per service, from its pooled counts.

    Factors are indexed by calendar month (0 is January). A service with under
    ``min_starts`` starts or under 24 months keeps flat factors.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> months = pd.period_range("2021-04", periods=36, freq="M")
    >>> shape = 10 * (1 + 0.3 * np.cos(2 * np.pi * np.arange(36) / 12))  # April peak
    >>> counts = pd.DataFrame([shape.round()], columns=months,
    ...     index=pd.MultiIndex.from_tuples([("LAC", "Fostering")]))
    >>> factors = service_seasons(counts, months, months[-1], 1, 24)["LAC"]
    >>> bool(factors[3] > 1.2 > 0.8 > factors[9])
    True
    """
    factors = {}
    for service, block in counts.groupby(level=0):
        total = block.sum().to_numpy(dtype=float)
        factors[service] = np.ones(12)
        if total.sum() < min_starts or len(months) < 24:
            continue
        design = design_matrix(months, origin, True, harmonics)
        try:
            params, _ = fit_glm(total, design, np.zeros(len(total)), negbin=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        factors[service] = season_factors(params, True, harmonics)
    return factors


def service_discounts(counts: pd.DataFrame, months: pd.PeriodIndex,
                      seasons: dict[str, np.ndarray], min_starts: int) -> dict[str, float]:
    """Per service, the local level's discount on its lines' summed counts: how fast the
    service's demand moves, which its sparse lines borrow (services with under
    ``min_starts`` starts or a year of months are left out)."""
    discounts = {}
    for service, block in counts.groupby(level=0):
        total = block.sum().to_numpy(dtype=float)
        if total.sum() >= min_starts and len(total) >= 12:
            scale = seasons.get(service, np.ones(12))[month_index(months.asi8)]
            discounts[service] = fit_local_level(total, scale)[0].discount
    return discounts
