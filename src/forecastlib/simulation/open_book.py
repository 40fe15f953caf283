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

**Parameter uncertainty.** With ``draws`` (``K`` parameter sets of the line's stay,
:class:`~forecastlib.demand.StayDraws`), simulation ``s`` uses draw ``s mod K``: a block
of simulations is run as ``K`` strided sub-blocks, one per draw (a loop over draws, not
over simulations), each with the same vectorised kernel. The analytic moments are then
those of the mixture: the mean over draws, and the variance within draws plus the
variance of the draws' means.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special, stats

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.streams import stream

__all__ = ["OpenBook", "inverse_survival"]

#: Largest placement x simulation block handled at once (bounds memory: ~64 MB).
CHUNK_ELEMENTS = 1 << 23


def inverse_survival(distribution: stats.rv_continuous, q: np.ndarray) -> np.ndarray:
    """``distribution.isf(q)``, in closed form for the length-of-stay families.

    The same values as scipy's ``isf`` (a test checks), without its per-call argument
    machinery, which dominates when it runs once per block of simulations.
    """
    name = getattr(getattr(distribution, "dist", None), "name", None)
    args, scale = distribution.args, distribution.kwds.get("scale", 1.0)
    if distribution.kwds.get("loc", 0.0) != 0.0 or len(args) > 1:
        return distribution.isf(q)
    if name == "lognorm" and args:
        return scale * np.exp(-args[0] * special.ndtri(q))
    if name == "expon" and not args:
        return -scale * np.log(q)
    if name == "weibull_min" and args:
        return scale * (-np.log(q)) ** (1.0 / args[0])
    if name == "fisk" and args:
        return scale * ((1.0 - q) / q) ** (1.0 / args[0])
    return distribution.isf(q)


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
    draws : StayDraws, optional
        Parameter draws of the line's stay (simulation ``s`` uses draw ``s mod K``);
        ``None`` holds the parameters at ``distribution``.
    """

    daily: np.ndarray
    age: np.ndarray
    distribution: stats.rv_continuous
    month_ends: np.ndarray
    draws: StayDraws | None = None

    @cached_property
    def start_offset(self) -> np.ndarray:
        """Days after ``as_at`` before a future placement starts (0 if running)."""
        return np.maximum(-self.age, 0).astype(float)

    @cached_property
    def survived(self) -> np.ndarray:
        """``S(max(a, 0))``: the conditioning survival of each placement."""
        return np.maximum(self.distribution.sf(np.maximum(self.age, 0).astype(float)), 1e-300)

    @cached_property
    def beyond_year(self) -> np.ndarray:
        """``P(E > D)``: probability each placement runs past year-end."""
        horizon = float(self.month_ends[-1])
        return self.distribution.sf(self.age + horizon) / self.survived

    @cached_property
    def _threshold(self) -> np.ndarray:
        return self.beyond_year.astype(np.float32)

    @cached_property
    def _survived32(self) -> np.ndarray:
        return np.maximum(self.survived, 1e-35).astype(np.float32)  # stays in float32 range

    @cached_property
    def _age32(self) -> np.ndarray:
        return self.age.astype(np.float32)

    @cached_property
    def _first_day32(self) -> np.ndarray:
        return (self.start_offset + 1).astype(np.float32)

    @cached_property
    def _draw_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Per draw (rows): ``S(max(a, 0))`` and ``P(E > D)`` in float32."""
        draw = np.arange(len(self.draws))[:, None]
        survived = np.maximum(self.draws.sf(np.maximum(self.age, 0)[None, :], draw), 1e-300)
        beyond = self.draws.sf(self.age[None, :] + float(self.month_ends[-1]), draw) / survived
        return np.maximum(survived, 1e-35).astype(np.float32), beyond.astype(np.float32)

    @cached_property
    def _month_of_day(self) -> np.ndarray:
        """Month bucket of each last day 0..D (first month-end strictly after it)."""
        days = np.arange(int(self.month_ends[-1]) + 1)
        return np.searchsorted(self.month_ends, days, side="right")

    def full_path(self) -> np.ndarray:
        """Cumulative cost to each month-end if no placement ended this year."""
        return self._full_path

    @cached_property
    def _full_path(self) -> np.ndarray:
        days = np.clip(self.month_ends[None, :] - self.start_offset[:, None], 0, None)
        return self.daily @ days

    def chunk_size(self, simulations: int) -> int:
        """Simulations per block (depends only on the book's size: reproducible)."""
        return int(max(1, min(simulations, CHUNK_ELEMENTS // max(len(self.daily), 1))))

    def simulate(self, rng: np.random.Generator, simulations: int, first: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One block of simulations, numbered from ``first`` (which picks the draws).

        Returns
        -------
        paths : ndarray, shape (simulations, months)
            Cumulative cost from ``as_at + 1`` to each remaining month-end.
        running : ndarray, shape (simulations,)
            Placements still in placement on the last day of the year.
        """
        months = len(self.month_ends)
        count = len(self.daily)
        if count == 0:
            return np.zeros((simulations, months)), np.zeros(simulations, dtype=np.int64)
        if self.draws is None:
            return self._kernel(rng, simulations, self._threshold, self._survived32,
                                lambda q: inverse_survival(self.distribution, q))
        paths = np.empty((simulations, months))
        running = np.empty(simulations, dtype=np.int64)
        survived, threshold = self._draw_arrays
        draws = len(self.draws)
        for k in range(min(draws, simulations)):  # a loop over draws, not simulations
            rows = slice((k - first) % draws, simulations, draws)
            size = len(range(simulations)[rows])
            if size:
                paths[rows], running[rows] = self._kernel(
                    rng, size, threshold[k], survived[k],
                    lambda q, k=k: self.draws.isf(q, k))
        return paths, running

    def _kernel(self, rng: np.random.Generator, simulations: int, threshold: np.ndarray,
                survived: np.ndarray, isf) -> tuple[np.ndarray, np.ndarray]:
        months = len(self.month_ends)
        full = self.full_path()
        count = len(self.daily)
        uniform = rng.random((simulations, count), dtype=np.float32)
        flat = np.flatnonzero(uniform >= threshold[None, :])
        rows, cols = np.divmod(flat, count)
        # Single precision is ample for days (a stay of 30 years is ~1e4 days).
        quantile = uniform.ravel()[flat] * survived[cols]
        total_days = isf(quantile)
        last = np.ceil(total_days - self._age32[cols])
        np.clip(last, self._first_day32[cols], np.float32(self.month_ends[-1]), out=last)
        last = last.astype(np.int64)
        bucket = self._month_of_day[last]
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

    def simulate_all(self, seed: int | None, line: tuple[str, str], simulations: int,
                     workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every simulation, in memory-bounded blocks spread over the machine's cores.

        Block ``k`` always uses stream ``(seed, line, "ends", k)`` and block sizes depend
        only on the book, so the numbers do not depend on the number of workers.
        """
        size = self.chunk_size(simulations)
        starts = list(range(0, simulations, size))
        paths = np.empty((simulations, len(self.month_ends)))
        running = np.empty(simulations, dtype=np.int64)

        def run(block: int) -> None:
            first = starts[block]
            count = min(size, simulations - first)
            rng = stream(seed, line, "ends", block)
            paths[first:first + count], running[first:first + count] = self.simulate(
                rng, count, first)

        workers = workers or min(len(starts), os.cpu_count() or 1)
        if workers <= 1 or len(starts) == 1:
            for block in range(len(starts)):
                run(block)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run, range(len(starts))))
        return paths, running

    def expected_cost(self) -> tuple[float, float]:
        """Exact mean and variance of the line's remaining cost this year.

        ``E[min(E, D)] = sum_{d=1}^{D} P(E >= d)`` and
        ``E[min(E, D)^2] = sum_{d=1}^{D} (2d - 1) P(E >= d)`` (placements independent),
        with ``P(E >= d) = S(a + d - 1) / S(max(a, 0))`` for days after the start.
        """
        horizon = int(self.month_ends[-1])
        if len(self.daily) == 0 or horizon <= 0:
            return 0.0, 0.0
        if self.draws is None:
            return self._moments(self.distribution.sf)
        moments = np.array([self._moments(lambda days, k=k: self.draws.sf(days, k))
                            for k in range(len(self.draws))])
        return float(moments[:, 0].mean()), float(moments[:, 1].mean() + moments[:, 0].var())

    def _moments(self, sf) -> tuple[float, float]:
        horizon = int(self.month_ends[-1])
        days = np.arange(1, horizon + 1, dtype=float)
        mean = np.zeros(len(self.daily))
        second = np.zeros(len(self.daily))
        block = max(1, (1 << 22) // horizon)
        for first in range(0, len(self.daily), block):  # bounded memory, not per placement
            part = slice(first, first + block)
            age = self.age[part].astype(float)[:, None]
            offset = self.start_offset[part][:, None]
            survived = np.maximum(sf(np.maximum(age, 0)), 1e-300)
            alive = sf(age + days[None, :] - 1) / survived
            alive = np.where(days[None, :] <= offset, 0.0, np.minimum(alive, 1.0))
            mean[part] = alive.sum(axis=1)
            second[part] = ((2 * (days[None, :] - offset) - 1) * alive).sum(axis=1)
        variance = second - mean**2
        return float(self.daily @ mean), float((self.daily**2) @ variance)
