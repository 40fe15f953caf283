"""Open placements with no known end: their remaining cost this year, simulated.

An open placement of a line has lasted ``a`` days by ``as_at`` (``a <= 0`` for one
agreed to start later, ``s = max(-a, 0)`` days after ``as_at``). Its length of stay
``T`` follows the line's fitted distribution conditioned on ``T > max(a, 0)``; it runs
``E = ceil(T - a)`` days after ``as_at``, so its remaining cost this year is

.. math:: C = c \\,\\big(\\min(E, D) - s\\big)^+

with ``c`` its net daily cost and ``D`` the days from ``as_at`` to 31 March. Only the
placement-simulations with an event this year (an end, ``u >= P(E > D)``, or a move)
need the inverse survival function; they are found with a uniform per cell or, when
events are rare, drawn directly (:mod:`~forecastlib.simulation.cell_events`). The cost
they lose is reduced per simulation and last day with ``numpy.bincount``; nothing loops
over placements or simulations.

Ages are counted on the **spell's** clock: ``a`` is the days the person's period of care
(not the current episode) has lasted, so a price uplift that reopened the episode does
not make the placement look new. An episode agreed to start later inside a running
spell (an uplift from next month) has ``start_offset`` days before its first day, and
is conditioned on the spell lasting until then.

A line whose spells may **move** to another line (a competing risk beside ending, see
:class:`~forecastlib.demand.moves.MoveModel`) draws, for each placement and simulation,
an exponential time to its next move as well; a move on day ``M`` (before the drawn end)
ends the placement's cost in this line on ``M - 1`` and hands the spell, still running,
to the receiving line (:func:`simulate_segments`). An optional ``cap`` is the last day
care may last (an 18th birthday): drawn ends past it stop there.

**Parameter uncertainty.** With ``draws`` (``K`` parameter sets of the line's stay,
:class:`~forecastlib.demand.StayDraws`), simulation ``s`` uses draw ``s mod K``: a block
of simulations is run as ``K`` strided sub-blocks, one per draw (a loop over draws, not
over simulations), each with the same vectorised kernel (spell clock, cap and moves
included). The analytic moments are then those of the mixture: the mean over draws,
and the variance within draws plus the variance of the draws' means.

**Large books by their moments.** A book expecting at least ``moments_above`` ends a
simulation (no moves, whole days) is not simulated placement by placement: given the
draw its month-end path and year-end count are sums of many independent terms, drawn
from their exact mean and covariance (:mod:`~forecastlib.simulation.book_paths`);
the per-draw tables of the kernel are then never built.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special, stats

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.book_kernel import BookKernel, no_movers
from forecastlib.simulation.book_moments import daily_moments, grid_moments
from forecastlib.simulation.book_paths import BookPaths, path_moments
from forecastlib.streams import stream

__all__ = ["OpenBook", "inverse_survival"]

#: Largest placement x simulation block handled at once (about 1 MB of uniforms: the block
#: stays in cache; measured ~2x faster per cell than the 8M-cell block it replaced).
CHUNK_ELEMENTS = 1 << 18


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
    offsets : ndarray, optional
        Days after ``as_at`` before each placement's first day (default ``max(-a, 0)``).
    cap : ndarray, optional
        The last day care may last, in days after ``as_at`` (``inf``: none).
    move_rate : float
        Hazard of a move to another line, per day.
    draws : StayDraws, optional
        Parameter draws of the line's stay (simulation ``s`` uses draw ``s mod K``);
        ``None`` holds the parameters at ``distribution``.
    moments_above : float, optional
        Expected ends a simulation from which the book's path and year-end count are
        drawn from their exact moments given the draw (:mod:`~forecastlib.simulation.
        book_paths`), when no placement may move and ages, offsets and caps are whole
        days; ``None`` (the default) simulates every placement.
    """

    daily: np.ndarray
    age: np.ndarray
    distribution: stats.rv_continuous
    month_ends: np.ndarray
    offsets: np.ndarray | None = None
    cap: np.ndarray | None = None
    move_rate: float = 0.0
    draws: StayDraws | None = None
    moments_above: float | None = None

    @cached_property
    def start_offset(self) -> np.ndarray:
        """Days after ``as_at`` before a future placement starts (0 if running)."""
        if self.offsets is not None:
            return np.maximum(np.asarray(self.offsets, dtype=float), 0.0)
        return np.maximum(-self.age, 0).astype(float)

    @cached_property
    def conditioning_age(self) -> np.ndarray:
        """Spell age the placement is known to have reached: through the day before
        its first day (0 for a spell not yet begun)."""
        return np.maximum(self.age + self.start_offset, 0).astype(float)

    @cached_property
    def survived(self) -> np.ndarray:
        """``S(c)``, ``c`` the conditioning age: the conditioning survival."""
        return np.maximum(self.distribution.sf(self.conditioning_age), 1e-300)

    @cached_property
    def last_day(self) -> np.ndarray:
        """The last day care may last, in days after ``as_at`` (``inf`` with no cap)."""
        if self.cap is None:
            return np.full(len(self.daily), np.inf)
        return np.asarray(self.cap, dtype=float)

    @cached_property
    def beyond_year(self) -> np.ndarray:
        """``P(E > D)``: probability each placement's spell runs past year-end (moves
        aside; 0 when capped before then)."""
        horizon = float(self.month_ends[-1])
        beyond = self.distribution.sf(self.age + horizon) / self.survived
        return np.where(self.last_day < horizon, 0.0, beyond)

    @cached_property
    def stays_in_line(self) -> np.ndarray:
        """``P(no move by D)`` for each placement."""
        horizon = float(self.month_ends[-1])
        return np.exp(-self.move_rate * np.maximum(horizon - self.start_offset, 0.0))

    @cached_property
    def _threshold(self) -> np.ndarray:
        return self.beyond_year.astype(np.float32)

    @cached_property
    def _move_within32(self) -> np.ndarray:
        return (1.0 - self.stays_in_line).astype(np.float32)

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
        """Per draw (rows): the conditioning survival ``S(c)`` and ``P(E > D)``
        (0 when capped before year-end), in float32."""
        draw = np.arange(len(self.draws))[:, None]
        horizon = float(self.month_ends[-1])
        survived = np.maximum(self.draws.sf(self.conditioning_age[None, :], draw), 1e-300)
        beyond = self.draws.sf(self.age[None, :] + horizon, draw) / survived
        beyond = np.where(self.last_day[None, :] < horizon, 0.0, beyond)
        return np.maximum(survived, 1e-35).astype(np.float32), beyond.astype(np.float32)

    def full_path(self) -> np.ndarray:
        """Cumulative cost to each month-end if no placement ended this year."""
        return self._full_path

    @cached_property
    def _full_path(self) -> np.ndarray:
        days = np.clip(self.month_ends[None, :] - self.start_offset[:, None], 0, None)
        return self.daily @ days

    @cached_property
    def by_moments(self) -> bool:
        """Whether the book is drawn from its path moments: ``moments_above`` is set,
        the placements expect at least that many ends a simulation (under the fitted
        stay), none may move, and ages, offsets and caps are whole days."""
        if (self.moments_above is None or self.move_rate > 0 or len(self.daily) == 0
                or len(self.month_ends) == 0):
            return False
        if float(np.sum(1.0 - self.beyond_year)) < self.moments_above:
            return False
        return self.whole_days and np.array_equal(self.month_ends, np.round(self.month_ends))

    @cached_property
    def whole_days(self) -> bool:
        """Whether ages, start offsets and caps are whole days (always, from a record):
        the sums over days can then be taken on one grid (:func:`grid_moments`,
        :func:`path_moments`)."""
        return all(np.array_equal(values, np.round(values)) for values in
                   (self.age, self.start_offset, self.last_day[np.isfinite(self.last_day)]))

    @cached_property
    def path_moments(self) -> BookPaths:
        """Mean and covariance of the month-end path and year-end count per draw."""
        if self.draws is None:
            return path_moments(self, lambda days: self.distribution.sf(days)[None, :])
        draw = np.arange(len(self.draws))[:, None]
        return path_moments(self, lambda days: self.draws.sf(days[None, :], draw))

    def chunk_size(self, simulations: int) -> int:
        """Simulations per block (depends only on the book: reproducible): about
        ``CHUNK_ELEMENTS`` cells, or, where the events are drawn directly at that many,
        about ``CHUNK_ELEMENTS / 4`` expected events; every simulation at once when
        drawn from the moments."""
        if self.by_moments:
            return max(1, simulations)
        cells = int(max(1, min(simulations, CHUNK_ELEMENTS // max(len(self.daily), 1))))
        threshold = self._kernel_tables.lowest
        per_simulation = 4 * self._expected_events(threshold)
        events = int(max(1, min(simulations, CHUNK_ELEMENTS // max(per_simulation, 1))))
        return events if events > cells and self._sample_events(events, threshold) else cells

    def simulate(self, rng: np.random.Generator, simulations: int, first: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One block of simulations, numbered from ``first`` (which picks the draws).

        Returns
        -------
        paths : ndarray, shape (simulations, months)
            Cumulative cost from ``as_at + 1`` to each remaining month-end.
        running : ndarray, shape (simulations,)
            Placements still in placement (in this line) on the last day of the year.
        """
        paths, running, _ = self.simulate_moves(rng, simulations, first)
        return paths, running

    def simulate_moves(self, rng: np.random.Generator, simulations: int, first: int = 0
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """One block of simulations, with the spells that move out of the line.

        Returns ``paths`` and ``running`` as :meth:`simulate`, and ``movers``: arrays
        ``sim`` (simulation within the block), ``placement`` (position in the book) and
        ``day`` (move day, days after ``as_at``) of every move before year-end, ordered
        by simulation. The block's simulations are numbered from ``first``: with
        ``draws``, simulation ``first + i`` uses draw ``(first + i) mod K``, all in one
        vectorised kernel (per-simulation rows of the draws' tables).
        """
        months = len(self.month_ends)
        if len(self.daily) == 0:
            return (np.zeros((simulations, months)), np.zeros(simulations, dtype=np.int64),
                    no_movers())
        if self.by_moments:
            paths, running = self.path_moments.draw(rng, first + np.arange(simulations))
            return paths, running, no_movers()
        kernel = self._kernel_tables
        draw = (first + np.arange(simulations)) % kernel.draws
        events = self._sample_events(simulations, kernel.lowest)
        # memory stays bounded whatever block the caller asks for: sub-blocks of about
        # CHUNK_ELEMENTS cells (uniform per cell) or CHUNK_ELEMENTS / 4 expected events
        per_simulation = (4 * self._expected_events(kernel.lowest) if events
                          else len(self.daily))
        size = int(max(1, CHUNK_ELEMENTS // max(per_simulation, 1)))
        parts = []
        for low in range(0, simulations, size):  # a loop over blocks of simulations
            count = min(size, simulations - low)
            paths, running, movers = kernel.run(rng, draw[low:low + count], events)
            parts.append((paths, running, {**movers, "sim": movers["sim"] + low}))
        if len(parts) == 1:
            return parts[0]
        return (np.concatenate([part[0] for part in parts]),
                np.concatenate([part[1] for part in parts]),
                {key: np.concatenate([part[2][key] for part in parts])
                 for key in ("sim", "placement", "day")})

    @cached_property
    def _kernel_tables(self) -> BookKernel:
        """The book's kernel: per-draw thresholds and conditioning survivals (one row
        without draws) and the per-placement arrays, in float32."""
        if self.draws is None:
            survived, threshold = self._survived32[None, :], self._threshold[None, :]
        else:
            survived, threshold = self._draw_arrays
        return BookKernel(
            daily=np.asarray(self.daily, dtype=float), age=self._age32,
            first_day=self._first_day32, start_offset=self.start_offset,
            last_day=None if self.cap is None else self.last_day,
            horizon=float(self.month_ends[-1]), threshold=threshold, survived=survived,
            move_rate=self.move_rate,
            move_within=self._move_within32 if self.move_rate > 0 else None,
            full_path=self.full_path(),
            month_ends=np.asarray(self.month_ends, dtype=float),
            isf=self._isf)

    def _isf(self, q: np.ndarray, draw: np.ndarray) -> np.ndarray:
        """Inverse survival of the line's stay, under draw ``draw`` of each element."""
        if self.draws is None:
            return inverse_survival(self.distribution, q)
        return self.draws.isf(q, draw)

    def _expected_events(self, threshold: np.ndarray) -> float:
        """Expected cells with an event (an end or a move this year) per simulation."""
        expected = float(np.sum(1.0 - threshold, dtype=float))
        if self.move_rate > 0:
            expected += float(np.sum(self._move_within32, dtype=float))
        return expected

    def _sample_events(self, simulations: int, threshold: np.ndarray) -> bool:
        """Whether to draw the events directly (:func:`direct_events`) rather than a uniform
        per cell: when the cells outnumber eight times the geometric gaps drawn, about
        ``S q + 4 sqrt(S q) + 2`` a placement (both exact; the choice depends only on
        the book and the count, so the numbers stay reproducible). ``threshold`` is the
        lowest ``P(E > D)`` over the draws (the candidates' rate).

        Measured (50,000 placements, 1,000 simulations): with 0.4% of cells ending this
        year the events cost 0.15 of the cells' time, 4.3% 0.65, 10.9% 1.2.
        """
        count = len(self.daily)
        events = self._expected_events(threshold)
        per_placement = simulations * events / max(count, 1)
        gaps = simulations * events + count * (4 * np.sqrt(per_placement) + 2)
        return simulations * count > 8 * gaps

    def simulate_all(self, seed: int | None, line: tuple[str, str], simulations: int,
                     workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every simulation, in memory-bounded blocks spread over the machine's cores.

        Block ``k`` always uses stream ``(seed, line, "ends", k)`` and block sizes depend
        only on the book, so the numbers do not depend on the number of workers.
        """
        paths, running, _ = self.simulate_all_moves(seed, line, simulations, workers)
        return paths, running

    def simulate_all_moves(self, seed: int | None, line: tuple[str, str], simulations: int,
                           workers: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """:meth:`simulate_all`, with the movers of every block (``sim`` is global)."""
        size = self.chunk_size(simulations)
        starts = list(range(0, simulations, size))
        paths = np.empty((simulations, len(self.month_ends)))
        running = np.empty(simulations, dtype=np.int64)
        movers: list[dict[str, np.ndarray]] = [{} for _ in starts]

        def run(block: int) -> None:
            first = starts[block]
            count = min(size, simulations - first)
            rng = stream(seed, line, "ends", block)
            paths[first:first + count], running[first:first + count], moved = \
                self.simulate_moves(rng, count, first)
            movers[block] = {**moved, "sim": moved["sim"] + first}

        workers = workers or min(len(starts), os.cpu_count() or 1)
        if workers <= 1 or len(starts) == 1:
            for block in range(len(starts)):
                run(block)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run, range(len(starts))))
        joined = {key: np.concatenate([part[key] for part in movers])
                  for key in ("sim", "placement", "day")}
        return paths, running, joined

    def expected_cost(self) -> tuple[float, float]:
        """Exact mean and variance of the line's remaining cost this year.

        ``E[min(E, D)] = sum_{d=1}^{D} P(E >= d)`` and
        ``E[min(E, D)^2] = sum_{d=1}^{D} (2d - 1) P(E >= d)`` (placements independent),
        with ``P(E >= d) = S(a + d - 1) / S(c)`` for days after the start (``c`` the
        conditioning age), times ``exp(-lambda (d - s))`` of no move by day ``d``, and 0
        after a cap. With ``draws``, the moments of the mixture over the draws: the mean
        of the draws' means, and the mean of their variances plus the variance of their
        means. A book drawn from its moments (:attr:`by_moments`) takes them from
        :attr:`path_moments` (the same sums).
        """
        horizon = int(self.month_ends[-1])
        if len(self.daily) == 0 or horizon <= 0:
            return 0.0, 0.0
        if self.by_moments:  # the same sums, already done for the path's moments
            last = len(self.month_ends) - 1
            mean = self.path_moments.mean[:, last]
            variance = self.path_moments.covariance[:, last, last]
            return float(mean.mean()), float(variance.mean() + mean.var())
        span = float(np.max(self.age + horizon) - np.min(self.age + self.start_offset))
        if self.whole_days and self.move_rate * span < 500:  # exp(-rate j) stays in range
            moments = grid_moments
        else:
            moments = daily_moments
        if self.draws is None:
            mean, variance = moments(self, lambda days: self.distribution.sf(days)[None, :])
            return float(mean[0]), float(variance[0])
        draw = np.arange(len(self.draws))[:, None]
        mean, variance = moments(self, lambda days: self.draws.sf(days[None, :], draw))
        return float(mean.mean()), float(variance.mean() + mean.var())
