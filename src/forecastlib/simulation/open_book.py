"""Open placements with no known end: their remaining cost this year, simulated.

An open placement of a line has lasted ``a`` days by ``as_at`` (``a <= 0`` for one
agreed to start later, ``s = max(-a, 0)`` days after ``as_at``). Its length of stay
``T`` follows the line's fitted distribution conditioned on ``T > max(a, 0)``; it runs
``E = ceil(T - a)`` days after ``as_at``, so its remaining cost this year is

.. math:: C = c \\,\\big(\\min(E, D) - s\\big)^+

with ``c`` its net daily cost and ``D`` the days from ``as_at`` to 31 March. The kernel
draws one uniform per placement and simulation; only the placements that end before
year-end (``u >= P(E > D)``) need the inverse survival function, so a book of long
stays costs little more than the uniform draws. Results are reduced per simulation
with ``numpy.bincount``; nothing loops over placements or simulations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["OpenBook"]

#: Largest placement x simulation block handled at once (bounds memory: ~64 MB).
CHUNK_ELEMENTS = 1 << 23


@dataclass(frozen=True)
class OpenBook:
    """The open placements of one line, prepared for simulation.

    Attributes
    ----------
    daily : ndarray
        Net daily cost of each placement.
    age : ndarray
        Days lasted by ``as_at`` (``<= 0`` for a future start).
    distribution : scipy frozen distribution
        The line's length of stay in days.
    month_ends : ndarray
        Days from ``as_at`` to the end of each remaining month; the last is ``D``.
    """

    daily: np.ndarray
    age: np.ndarray
    distribution: stats.rv_continuous
    month_ends: np.ndarray

    @property
    def start_offset(self) -> np.ndarray:
        return np.maximum(-self.age, 0).astype(float)

    @property
    def survived(self) -> np.ndarray:
        """``S(max(a, 0))``: the conditioning survival of each placement."""
        return np.maximum(self.distribution.sf(np.maximum(self.age, 0).astype(float)), 1e-300)

    @property
    def beyond_year(self) -> np.ndarray:
        """``P(E > D)``: probability each placement runs past year-end."""
        horizon = float(self.month_ends[-1])
        return self.distribution.sf(self.age + horizon) / self.survived

    def full_path(self) -> np.ndarray:
        """Cumulative cost to each month-end if no placement ended this year."""
        days = np.clip(self.month_ends[None, :] - self.start_offset[:, None], 0, None)
        return self.daily @ days

    def chunk_size(self, simulations: int) -> int:
        """Simulations per block (depends only on the book's size: reproducible)."""
        return int(max(1, min(simulations, CHUNK_ELEMENTS // max(len(self.daily), 1))))

    def simulate(self, rng: np.random.Generator, simulations: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One block of simulations.

        Returns
        -------
        paths : ndarray, shape (simulations, months)
            Cumulative cost from ``as_at + 1`` to each remaining month-end.
        running : ndarray, shape (simulations,)
            Placements still in placement on the last day of the year.
        """
        months = len(self.month_ends)
        full = self.full_path()
        count = len(self.daily)
        if count == 0:
            return np.zeros((simulations, months)), np.zeros(simulations, dtype=np.int64)
        uniform = rng.random((simulations, count), dtype=np.float32)
        ending = uniform >= self.beyond_year.astype(np.float32)[None, :]
        rows, cols = np.nonzero(ending)
        quantile = uniform[rows, cols].astype(float) * self.survived[cols]
        total_days = self.distribution.isf(quantile)
        last = np.ceil(total_days - self.age[cols])
        last = np.clip(last, self.start_offset[cols] + 1, self.month_ends[-1])
        bucket = np.searchsorted(self.month_ends, last, side="right")
        inside = bucket < months  # ended before the last month-end
        flat = rows[inside] * months + bucket[inside]
        daily = self.daily[cols[inside]]
        weight = np.bincount(flat, weights=daily, minlength=simulations * months)
        weighted_end = np.bincount(flat, weights=daily * last[inside],
                                   minlength=simulations * months)
        cumulative_weight = np.cumsum(weight.reshape(simulations, months), axis=1)
        cumulative_end = np.cumsum(weighted_end.reshape(simulations, months), axis=1)
        lost = self.month_ends[None, :] * cumulative_weight - cumulative_end
        # Running at year-end: still in placement on 31 March (ending that day counts).
        ended_early = last < self.month_ends[-1]
        running = count - np.bincount(rows[ended_early], minlength=simulations)
        return full[None, :] - lost, running

    def expected_cost(self) -> tuple[float, float]:
        """Exact mean and variance of the line's remaining cost this year.

        ``E[min(E, D)] = sum_{d=1}^{D} P(E >= d)`` and
        ``E[min(E, D)^2] = sum_{d=1}^{D} (2d - 1) P(E >= d)`` (placements independent),
        with ``P(E >= d) = S(a + d - 1) / S(max(a, 0))`` for days after the start.
        """
        horizon = int(self.month_ends[-1])
        if len(self.daily) == 0 or horizon <= 0:
            return 0.0, 0.0
        days = np.arange(1, horizon + 1, dtype=float)
        mean = np.zeros(len(self.daily))
        second = np.zeros(len(self.daily))
        block = max(1, (1 << 22) // horizon)
        for first in range(0, len(self.daily), block):  # bounded memory, not per placement
            part = slice(first, first + block)
            age = self.age[part].astype(float)[:, None]
            offset = self.start_offset[part][:, None]
            alive = self.distribution.sf(age + days[None, :] - 1) / self.survived[part][:, None]
            alive = np.where(days[None, :] <= offset, 0.0, np.minimum(alive, 1.0))
            mean[part] = alive.sum(axis=1)
            second[part] = ((2 * (days[None, :] - offset) - 1) * alive).sum(axis=1)
        variance = second - mean**2
        return float(self.daily @ mean), float((self.daily**2) @ variance)
