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
of placements starting ``t`` years after ``as_at``. ``s`` is always the global simulation
number (a block's first simulation plus the position within it), so the draws do not
depend on how the placements are cut into blocks. All per-element indexing: no loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual.rates import PriceTerms, price_terms
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.open_book import inverse_survival
from forecastlib.streams import stream

__all__ = ["NewStarts"]

#: Most new placements drawn at once (bounds memory: about 100 bytes each, ~50 MB).
BLOCK_PLACEMENTS = 1 << 19


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
    move_rate: float = 0.0
    stay_draws: StayDraws | None = None
    bootstrap: np.ndarray | None = None
    pool_years: np.ndarray | None = None
    inflation_sd: float = 0.0
    shock_variance: tuple[float, float] = (0.0, 0.0)

    def block_size(self) -> int:
        """New placements drawn per block (fixed: the blocks depend only on the counts)."""
        return BLOCK_PLACEMENTS

    def simulate(self, counts: np.ndarray, seed: int | None, line: tuple[str, str],
                 totals_only: bool = False, movers: list | None = None,
                 market: np.ndarray | None = None, parameters: bool = True,
                 no_common: np.ndarray | None = None, block: int | None = None,
                 first: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Cost paths and year-end placements of new starts, for counts ``(sims, months)``.

        Returns ``paths`` (sims x remaining months, cumulative cost to each month-end;
        with ``totals_only`` just the year-end column) and ``running`` (new placements
        still in placement on the last day).

        The counts are those of one block of simulations (``block``, numbered from the
        global simulation ``first``, which picks the parameter draws ``s mod K``). Its
        new placements, taken simulation by simulation and month by month, are drawn in
        chunks of at most :data:`BLOCK_PLACEMENTS`: chunk ``k`` uses the stream
        ``(seed, line, "prices", k, block)``, so memory is flat in the counts.

        With a ``move_rate`` and a ``movers`` list, a new placement may move to another
        line first (an exponential wait, as for open placements): it stops costing here
        the day before, and its simulation (row of ``counts``), move day and spell age
        at ``as_at`` are appended to ``movers`` (chunk by chunk, in order).

        ``market`` (shape ``(2, sims)``, standard normals shared by every line) draws
        each simulation's inflation and common shock; ``parameters=False`` holds every
        parameter at its estimate (no stay or pool draws, no market); ``no_common``
        (shape ``(sims,)``), if given, receives the year-end cost without the common
        shock.
        """
        simulations, months = counts.shape
        if no_common is not None:
            no_common[:] = 0.0
        grid = self.month_ends[-1:] if totals_only else self.month_ends
        paths = np.zeros((simulations, len(grid)))
        running = np.zeros(simulations, dtype=np.int64)
        ends = np.cumsum(counts.ravel(), dtype=np.int64)  # last position + 1 of each cell
        total = int(ends[-1]) if ends.size else 0
        if total == 0 or len(self.pool) == 0:
            return paths, running
        size = self.block_size()
        for chunk in range(-(-total // size)):  # a loop over chunks of placements
            positions = np.arange(chunk * size, min((chunk + 1) * size, total), dtype=np.int64)
            cell = np.searchsorted(ends, positions, side="right")
            sim, month = np.divmod(cell, months)
            low = int(sim[0])
            moved: list | None = [] if movers is not None else None
            part, part_running, unshocked = self._block(
                sim - low, month, grid, stream(seed, line, "prices", chunk, block=block),
                moved, first_sim=first + low,
                market=market[:, low:] if parameters and market is not None else None,
                parameters=parameters)
            rows = slice(low, low + len(part))
            paths[rows] += part
            running[rows] += part_running
            if no_common is not None:
                no_common[rows] += unshocked
            if movers is not None:
                movers.extend({**record, "sim": record["sim"] + low} for record in moved)
        return paths, running

    def _block(self, sim: np.ndarray, month: np.ndarray, grid: np.ndarray,
               rng: np.random.Generator, movers: list | None = None, first_sim: int = 0,
               market: np.ndarray | None = None, parameters: bool = True
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Paths, year-end placements and year-end cost without the common shock of one
        chunk of new placements, for the simulations ``0 .. sim.max()`` it touches
        (``sim`` relative to its first, the global simulation ``first_sim``; ``market``
        columns from that first simulation on)."""
        simulations = int(sim[-1]) + 1
        paths = np.zeros((simulations, len(grid)))
        first, last_day = self.month_first_days[month], self.month_last_days[month]
        start = first + np.floor(rng.random(sim.size) * (last_day - first + 1))
        kept = start >= 1
        sim, start = sim[kept], start[kept]
        if start.size == 0:
            return paths, np.zeros(simulations, dtype=np.int64), np.zeros(simulations)
        overall = sim + first_sim  # the global simulation: it picks the draws
        terms = self._terms
        pick = rng.integers(0, len(self.pool), start.size)
        if parameters and self.bootstrap is not None:
            pick = self.bootstrap[overall % len(self.bootstrap), pick]
        log_factor = start * (np.log1p(self.inflation) / 365.25)
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
            total_days = self.stay_draws.isf(uniform, overall % len(self.stay_draws))
        else:
            total_days = inverse_survival(self.distribution, uniform)
        stay = np.maximum(np.ceil(total_days), 1)
        last = start + stay - 1
        if self.move_rate > 0 and movers is not None:  # a move may come first
            move_day = start - 1 + np.maximum(
                np.ceil(-np.log1p(-rng.random(start.size)) / self.move_rate), 1)
            moved = (move_day <= last) & (move_day <= float(self.month_ends[-1]))
            last = np.where(moved, move_day - 1, last)
            movers.append({"sim": sim[moved], "day": move_day[moved],
                           "age": 1.0 - start[moved]})
        for index, month_end in enumerate(grid):
            days = np.clip(np.minimum(last, month_end) - start + 1, 0, None)
            paths[:, index] = np.bincount(sim, weights=daily * days, minlength=simulations)
        horizon = float(self.month_ends[-1])
        days = np.clip(np.minimum(last, horizon) - start + 1, 0, None)
        unshocked = daily if shock is None else daily * np.exp(-shock)
        no_common = np.bincount(sim, weights=unshocked * days, minlength=simulations)
        running = np.bincount(sim, weights=last >= horizon, minlength=simulations)
        return paths, running.astype(np.int64), no_common

    @cached_property
    def _terms(self) -> PriceTerms:
        return price_terms(self.pool)

