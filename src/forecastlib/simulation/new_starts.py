"""New placements before year-end: count x price x length, truncated at year-end.

For one line and a block of simulations, the projected monthly start counts (from the
starts model) are expanded into individual new placements: each starts on a uniform day
of its month (days on or before ``as_at`` are dropped: those starts are in the record),
gets a price record drawn from the line's price model (trended to its start date) and a
length of stay drawn from the line's fitted distribution. Its cost this year is its net
daily cost times the days it runs before 31 March. Everything is flat arrays over all
new placements of the block, reduced per simulation with ``numpy.bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual.rates import price_terms
from forecastlib.simulation.open_book import inverse_survival

__all__ = ["NewStarts"]


@dataclass(frozen=True)
class NewStarts:
    """What a line's new starts look like, prepared for simulation.

    Attributes
    ----------
    month_first_days, month_last_days : ndarray
        For each projected month, its first and last day as days after ``as_at``
        (the first may be <= 0 for the month holding ``as_at``).
    month_ends : ndarray
        Days from ``as_at`` to each remaining month-end of the year (the path's grid).
    pool : DataFrame
        Price records (at the ``as_at`` price base) to resample.
    inflation : float
        Yearly price growth applied from ``as_at`` to each start day.
    jitter : float
        Log-normal smoothing of resampled prices.
    distribution : scipy frozen distribution
        Length of stay in days.
    move_rate : float
        Hazard of moving to another line, per day (0: new placements stay in the line).
    """

    month_first_days: np.ndarray
    month_last_days: np.ndarray
    month_ends: np.ndarray
    pool: pd.DataFrame
    inflation: float
    jitter: float
    distribution: stats.rv_continuous
    move_rate: float = 0.0

    def simulate(self, counts: np.ndarray, rng: np.random.Generator,
                 totals_only: bool = False, movers: list | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Cost paths and year-end placements of new starts, for counts ``(sims, months)``.

        Returns ``paths`` (sims x remaining months, cumulative cost to each month-end;
        with ``totals_only`` just the year-end column) and ``running`` (new placements
        still in placement on the last day). With a ``move_rate`` and a ``movers``
        list, a new placement may move to another line first (an exponential wait, as
        for open placements): it stops costing here the day before, and its simulation,
        move day and spell age at ``as_at`` are appended to ``movers``.
        """
        simulations = counts.shape[0]
        horizon = float(self.month_ends[-1])
        grid = self.month_ends[-1:] if totals_only else self.month_ends
        paths = np.zeros((simulations, len(grid)))
        running = np.zeros(simulations, dtype=np.int64)
        total = int(counts.sum())
        if total == 0 or len(self.pool) == 0:
            return paths, running
        flat_counts = counts.ravel()
        cell = np.repeat(np.arange(flat_counts.size), flat_counts)
        sim, month = np.divmod(cell, counts.shape[1])
        first, last_day = self.month_first_days[month], self.month_last_days[month]
        start = first + np.floor(rng.random(total) * (last_day - first + 1))
        kept = start >= 1
        sim, start = sim[kept], start[kept]
        if start.size == 0:
            return paths, running
        terms = price_terms(self.pool)
        pick = rng.integers(0, len(self.pool), start.size)
        factor = np.exp(start * (np.log1p(self.inflation) / 365.25))
        if self.jitter:
            factor = factor * np.exp(rng.normal(-self.jitter**2 / 2, self.jitter, start.size))
        daily = factor * (terms.cost_numerator[pick] / terms.cost_denominator[pick]
                          - terms.income_per_week[pick] / 7.0)
        stay = np.maximum(np.ceil(inverse_survival(self.distribution, rng.random(start.size))), 1)
        last = start + stay - 1
        if self.move_rate > 0 and movers is not None:  # a move may come first
            move_day = start - 1 + np.maximum(
                np.ceil(-np.log1p(-rng.random(start.size)) / self.move_rate), 1)
            moved = (move_day <= last) & (move_day <= horizon)
            last = np.where(moved, move_day - 1, last)
            movers.append({"sim": sim[moved], "day": move_day[moved],
                           "age": 1.0 - start[moved]})
        for index, month_end in enumerate(grid):
            days = np.clip(np.minimum(last, month_end) - start + 1, 0, None)
            paths[:, index] = np.bincount(sim, weights=daily * days, minlength=simulations)
        running = np.bincount(sim, weights=last >= horizon, minlength=simulations)
        return paths, running.astype(np.int64)
