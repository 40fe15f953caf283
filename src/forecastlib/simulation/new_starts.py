"""New placements before year-end: count x price x length, truncated at year-end.

For one line and a block of simulations, the projected monthly start counts (from the
starts model) are expanded into individual new placements: each starts on a uniform day
of its month (days on or before ``as_at`` are dropped: those starts are in the record),
gets a price record drawn from the line's price model (trended to its start date) and a
length of stay drawn from the line's fitted distribution. Its cost this year is its net
daily cost times the days it runs before 31 March. Everything is flat arrays over all
new placements of the block, reduced per simulation with ``numpy.bincount``.

**Uncertainty beyond the process.** With parameter draws, a new placement in simulation
``s`` takes its stay from the stay draw ``s mod K`` and its price record from the
bootstrap pool ``s mod K'`` (a resample of the line's price pool); the yearly inflation
of simulation ``s`` is ``exp(log(1 + i) + sd * e_s) - 1`` (``e_s`` shared by every line,
re-trending each record from its start date); and a **common market shock**
``sqrt(v0 + v1 t) * z_s`` on the log price, ``z_s`` shared by every line, moves the price
of placements starting ``t`` years after ``as_at``. All per-element indexing: no loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual.rates import price_terms
from forecastlib.demand.stay_draws import StayDraws
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
    stay_draws : StayDraws, optional
        Parameter draws of the stay (simulation ``s`` uses draw ``s mod K``).
    bootstrap : ndarray of int, shape (K', len(pool)), optional
        Bootstrap resamples of the pool (row positions); simulation ``s`` draws from
        row ``s mod K'``.
    pool_years : ndarray, optional
        Years between each pool record's start and ``as_at`` (re-trended under a drawn
        inflation rate).
    inflation_sd : float
        Standard error of ``log(1 + inflation)``.
    shock_variance : tuple of float
        ``(v0, v1)``: variance of the common log price shock now and its growth a year.
    """

    month_first_days: np.ndarray
    month_last_days: np.ndarray
    month_ends: np.ndarray
    pool: pd.DataFrame
    inflation: float
    jitter: float
    distribution: stats.rv_continuous
    stay_draws: StayDraws | None = None
    bootstrap: np.ndarray | None = None
    pool_years: np.ndarray | None = None
    inflation_sd: float = 0.0
    shock_variance: tuple[float, float] = (0.0, 0.0)

    def simulate(self, counts: np.ndarray, rng: np.random.Generator,
                 totals_only: bool = False, market: np.ndarray | None = None,
                 parameters: bool = True, no_common: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Cost paths and year-end placements of new starts, for counts ``(sims, months)``.

        Returns ``paths`` (sims x remaining months, cumulative cost to each month-end;
        with ``totals_only`` just the year-end column) and ``running`` (new placements
        still in placement on the last day). ``market`` (shape ``(2, sims)``, standard
        normals shared by every line) draws each simulation's inflation and common
        shock; ``parameters=False`` holds every parameter at its estimate (no stay or
        pool draws, no market); ``no_common`` (shape ``(sims,)``), if given, receives
        the year-end cost without the common shock.
        """
        simulations = counts.shape[0]
        if no_common is not None:
            no_common[:] = 0.0
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
        if parameters and self.bootstrap is not None:
            pick = self.bootstrap[sim % len(self.bootstrap), pick]
        growth = np.log1p(self.inflation)
        log_factor = start * (growth / 365.25)
        shock = None
        if parameters and market is not None:
            drawn = market[0, sim] * self.inflation_sd
            log_factor = log_factor + drawn * (start / 365.25)
            if self.pool_years is not None:
                log_factor = log_factor + drawn * self.pool_years[pick]
            v0, v1 = self.shock_variance
            if v0 > 0 or v1 > 0:
                shock = np.sqrt(v0 + v1 * start / 365.25) * market[1, sim]
                log_factor = log_factor + shock
        factor = np.exp(log_factor)
        if self.jitter:
            factor = factor * np.exp(rng.normal(-self.jitter**2 / 2, self.jitter, start.size))
        daily = factor * (terms.cost_numerator[pick] / terms.cost_denominator[pick]
                          - terms.income_per_week[pick] / 7.0)
        uniform = rng.random(start.size)
        if parameters and self.stay_draws is not None:
            total_days = self.stay_draws.isf(uniform, sim % len(self.stay_draws))
        else:
            total_days = inverse_survival(self.distribution, uniform)
        stay = np.maximum(np.ceil(total_days), 1)
        last = start + stay - 1
        for index, month_end in enumerate(grid):
            days = np.clip(np.minimum(last, month_end) - start + 1, 0, None)
            paths[:, index] = np.bincount(sim, weights=daily * days, minlength=simulations)
        if no_common is not None:
            days = np.clip(np.minimum(last, horizon) - start + 1, 0, None)
            unshocked = daily if shock is None else daily * np.exp(-shock)
            no_common[:] = np.bincount(sim, weights=unshocked * days, minlength=simulations)
        running = np.bincount(sim, weights=last >= horizon, minlength=simulations)
        return paths, running.astype(np.int64)
