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

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.book_kernel import month_sums
from forecastlib.simulation.open_book import inverse_survival
from forecastlib.simulation.start_moments import simulate_by_moments
from forecastlib.simulation.start_prices import StartPrices
from forecastlib.streams import stream

__all__ = ["NewStarts"]

#: Most new placements drawn at once (about 100 bytes each, ~6 MB: the arrays stay in cache).
BLOCK_PLACEMENTS = 1 << 16


@dataclass(frozen=True)
class NewStarts(StartPrices):
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
    by_moments : bool
        Draw each simulation's cost path and year-end count from their exact moments
        given its counts and parameters (:mod:`~forecastlib.simulation.start_moments`)
        instead of start by start; only for starts that do not move between lines (the
        engine sets it for lines with many starts).
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
    by_moments: bool = False

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

        With ``by_moments`` (and no moves), paths and counts are drawn instead from their
        exact moments given each simulation's counts and parameters
        (:func:`~forecastlib.simulation.start_moments.simulate_by_moments`).
        """
        if self.by_moments and self.move_rate <= 0 and len(self.pool) and counts.size:
            return simulate_by_moments(self, counts, seed, line, totals_only=totals_only,
                                       market=market, parameters=parameters,
                                       no_common=no_common, block=block, first=first)
        simulations, months = counts.shape
        if no_common is not None:
            no_common[:] = 0.0
        grid = self.month_ends[-1:] if totals_only else self.month_ends
        paths = np.zeros((simulations, len(grid)))
        running = np.zeros(simulations, dtype=np.int64)
        flat = counts.ravel().astype(np.int64)
        ends = np.cumsum(flat)  # last position + 1 of each cell
        total = int(ends[-1]) if ends.size else 0
        if total == 0 or len(self.pool) == 0:
            return paths, running
        size = self.block_size()
        for chunk in range(-(-total // size)):  # a loop over chunks of placements
            low_position, high_position = chunk * size, min((chunk + 1) * size, total)
            cells = np.arange(np.searchsorted(ends, low_position, side="right"),
                              np.searchsorted(ends, high_position - 1, side="right") + 1)
            # each cell's placements inside the chunk (whole cells but at the chunk's edges)
            repeats = (np.minimum(ends[cells], high_position)
                       - np.maximum(ends[cells] - flat[cells], low_position))
            low = int(cells[0] // months)
            sim = np.repeat(cells // months - low, repeats)
            moved: list | None = [] if movers is not None else None
            part, part_running, unshocked = self._block(
                sim, cells % months, repeats, grid,
                stream(seed, line, "prices", chunk, block=block),
                moved, first_sim=first + low,
                market=market[:, low:] if parameters and market is not None else None,
                parameters=parameters, want_unshocked=no_common is not None)
            rows = slice(low, low + len(part))
            paths[rows] += part
            running[rows] += part_running
            if no_common is not None:
                no_common[rows] += unshocked
            if movers is not None:
                movers.extend({**record, "sim": record["sim"] + low} for record in moved)
        return paths, running

    def _block(self, sim: np.ndarray, month: np.ndarray, repeats: np.ndarray,
               grid: np.ndarray, rng: np.random.Generator, movers: list | None = None,
               first_sim: int = 0, market: np.ndarray | None = None, parameters: bool = True,
               want_unshocked: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Paths, year-end placements and year-end cost without the common shock of one
        chunk of new placements, for the simulations ``0 .. sim.max()`` it touches
        (``sim`` relative to its first, the global simulation ``first_sim``; ``market``
        columns from that first simulation on). The chunk's placements are ``repeats``
        of each of its cells, whose months are ``month``.

        Only the placements whose stay ends before year-end need the inverse survival:
        a start on day ``d`` ends this year when its survival uniform ``u`` is at least
        ``S(D - d)`` (a table over draws and days). Costs are reduced per simulation and
        day with two ``bincount`` (daily cost by first day, and by last day for those
        ending), then to month-ends with the matrices ``(m - d + 1)^+`` and ``(m - d)^+``.
        """
        simulations = int(sim[-1]) + 1
        horizon = int(self.month_ends[-1])
        width = horizon + 2  # days 0 .. D + 1 (a start after D costs nothing)
        empty = np.zeros(simulations)
        first, span = self._month_days
        span = np.repeat(span[month], repeats)
        offset = (rng.random(sim.size) * span).astype(np.int64)
        np.minimum(offset, span - 1, out=offset)
        day = np.repeat(first[month], repeats)
        day += offset
        kept = day >= 1
        if not kept.all():
            sim, day = sim[kept], day[kept]
        if day.size == 0:
            return np.zeros((simulations, len(grid))), empty.astype(np.int64), empty
        np.minimum(day, horizon + 1, out=day)
        rows = np.arange(first_sim, first_sim + simulations)  # global simulations
        placed = np.diff(np.searchsorted(sim, np.arange(simulations + 1)))  # sim is sorted

        def each(per_simulation: np.ndarray) -> np.ndarray:
            """A per-simulation value for each start (``sim`` is sorted: a repeat)."""
            return np.repeat(per_simulation, placed)

        pick = rng.integers(0, len(self.pool), day.size)
        if parameters and self.bootstrap is not None:
            pick += each((rows % len(self.bootstrap)) * len(self.pool))
            pick = self.bootstrap.ravel()[pick]
        daily = self._net[pick]
        # log price factor: trend, drawn inflation, re-trended pool record, shock, jitter
        slope = np.log1p(self.inflation) / 365.25
        shock = None
        if parameters and market is not None:
            drawn = market[0, :simulations] * self.inflation_sd
            log_factor = day * each(slope + drawn / 365.25)
            if self.pool_years is not None:
                log_factor += each(drawn) * self.pool_years[pick]
            v0, v1 = self.shock_variance
            if v0 > 0 or v1 > 0:
                root = np.sqrt(v0 + v1 * np.arange(width) / 365.25)
                shock = root[day] * each(market[1, :simulations])
                log_factor += shock
        else:
            log_factor = day * slope
        if self.jitter:
            noise = rng.standard_normal(day.size, dtype=np.float32)
            noise *= self.jitter
            log_factor += noise
            log_factor -= self.jitter**2 / 2
        daily *= np.exp(log_factor)
        # the stay: only the starts ending before year-end need its inverse survival
        uniform = rng.random(day.size, dtype=np.float32)
        draws = self.stay_draws if parameters else None
        if draws is not None:
            draw = each(rows % len(draws))
            threshold = self._end_threshold(draws).ravel()[draw * width + day]
        else:
            threshold = self._end_threshold(None)[0, day]
        ends = np.flatnonzero(uniform >= threshold)
        last = np.full(day.size, horizon, dtype=np.int64)
        if ends.size:
            q = uniform[ends].astype(float)
            total_days = (draws.isf(q, draw[ends]) if draws is not None
                          else inverse_survival(self.distribution, q))
            stay = np.maximum(np.ceil(np.nan_to_num(total_days, nan=1.0, posinf=horizon)), 1)
            last[ends] = np.minimum(day[ends] + stay - 1, horizon)
        moving = self.move_rate > 0 and movers is not None
        if moving:  # a move may come first
            move_day = day - 1 + np.maximum(
                np.ceil(-np.log1p(-rng.random(day.size)) / self.move_rate), 1).astype(np.int64)
            moved = np.flatnonzero(move_day <= last)
            last[moved] = move_day[moved] - 1
            movers.append({"sim": sim[moved], "day": move_day[moved].astype(float),
                           "age": 1.0 - day[moved]})
            ends = np.flatnonzero(last < horizon)
        paths = self._paths(sim, day, last, ends, daily, grid, simulations)
        running = placed - np.bincount(sim[ends], minlength=simulations)
        if not want_unshocked:
            return paths, running, empty
        if shock is None:
            return paths, running, paths[:, -1].copy()
        # without the shock: each start's cost to year-end with its shock taken out
        days = np.minimum(last, horizon) - day + 1
        no_common = np.bincount(sim, weights=daily * np.exp(-shock) * np.maximum(days, 0),
                                minlength=simulations)
        return paths, running, no_common

    def _paths(self, sim: np.ndarray, day: np.ndarray, last: np.ndarray, ends: np.ndarray,
               daily: np.ndarray, grid: np.ndarray, simulations: int) -> np.ndarray:
        """Cost to each month-end ``m`` of ``grid``, per simulation: ``daily ((m - d + 1)^+
        - (m - l)^+)`` for a start on day ``d`` whose last day is ``l`` (only those in
        ``ends`` stop before year-end).

        Summed by month: with ``W_m`` and ``V_m`` the sums of ``daily`` and ``daily d``
        over a simulation's starts on days ``d <= m`` (a ``bincount`` over simulation and
        the month-end each day falls in, then a cumulative sum), the cost gained to ``m``
        is ``(m + 1) W_m - V_m``; the cost lost by those ending, ``m W'_m - V'_m`` over
        last days ``l <= m``. A few passes over the starts, whatever their number."""
        grid = np.asarray(grid, dtype=np.int64)
        # the month-end (position in grid) each day falls in; len(grid): after the last
        month_of_day = np.searchsorted(grid, np.arange(int(self.month_ends[-1]) + 2))
        paid, paid_days = month_sums(sim, day, daily, month_of_day, simulations, len(grid))
        paths = (grid + 1)[None, :] * paid - paid_days
        if ends.size:
            lost, lost_days = month_sums(sim[ends], last[ends], daily[ends], month_of_day,
                                         simulations, len(grid))
            paths -= grid[None, :] * lost - lost_days
        return paths

    def expected_totals(self, means: np.ndarray, first: int = 0,
                        market: np.ndarray | None = None, parameters: bool = True
                        ) -> np.ndarray:
        """Mean year-end cost of the new starts of each simulation given its parameters.

        ``means`` (simulations x months) are the start counts' means given each
        simulation's parameters (:meth:`~forecastlib.demand.StartsModel.simulate`'s
        ``means``); the block's simulations are numbered from ``first`` (which picks the
        stay draw and the bootstrap pool, ``s mod K``) and ``market`` holds their market
        normals, as in :meth:`simulate`. A start on day ``d`` costs on average its price
        (the pool's mean, trended to ``d``, re-trended and shocked as the simulation
        draws them; the jitter has mean 1) times ``E[min(L, D - d + 1)] = sum_{j=1}^{D-d+1}
        S(j - 1)`` days (``L = max(ceil(T), 1)``), averaged over the days of its month
        after ``as_at``. Moves are not taken out (the engine uses this only where the
        line's starts do not move).

        With ``parameters=False`` (the plug-in: fitted stay, the pool itself, no market)
        and the plug-in mean counts, it is the plug-in mean cost. The engine's
        process-only new starts are a simulation's cost less its mean here plus the
        plug-in mean (:mod:`~forecastlib.simulation.blocks`).

        Examples
        --------
        >>> pool = pd.DataFrame({"unit_cost": [700.0], "unit": "week", "units_per_week": 1.0,
        ...                      "weeks_per_year": 52.0, "income_per_week": 0.0})
        >>> starts = NewStarts(np.array([1.0]), np.array([1.0]), np.array([10.0]), pool, 0.0,
        ...                    0.0, stats.expon(scale=1e9))
        >>> starts.expected_totals(np.array([[2.0]]), parameters=False).round(6)  # 2 x 100 x 10
        array([2000.])
        """
        simulations = len(means)
        horizon = int(self.month_ends[-1])
        width = horizon + 2
        days = np.arange(width, dtype=float)
        rows = np.arange(first, first + simulations)
        slope, drawn, log_factor = self.market_terms(market, simulations, days, parameters,
                                                     dtype=np.float32)
        if parameters and self.bootstrap is not None:
            price = self._bootstrap_mean[rows % len(self.bootstrap)]
        else:
            price = np.full(simulations, self._pool_mean)
        if drawn is not None and self.pool_years is not None:  # E[price exp(x y)], x = drawn
            if np.abs(drawn).max(initial=0) * np.abs(self.pool_years).max() <= 0.05:
                moments = self._price_moments  # a series in x (remainder below 1e-10)
                power = np.vander(drawn, moments.shape[1], increasing=True)
                row = (rows % len(self.bootstrap) if self.bootstrap is not None
                       else np.zeros(simulations, dtype=np.int64))
                price = np.sum(moments[row] * power, axis=1)
            else:
                price = self.summed_price_power(
                    1, rows % len(self.bootstrap) if self.bootstrap is not None else None,
                    drawn)
        # simulations x days in float32 (a conditional mean, not money: 1e-7 relative)
        trend = np.multiply.outer(slope.astype(np.float32), days.astype(np.float32))
        if log_factor is not None:
            trend += log_factor
        factor = np.exp(trend, out=trend)
        draws = self.stay_draws if parameters else None
        paid, month = self._paid_days(draws)
        if draws is None:
            factor *= paid[0][None, :]
        elif simulations % len(draws) == 0 and first % len(draws) == 0:
            # the rows' draws cycle 0 .. K - 1: a broadcast, not a gather
            factor.reshape(-1, len(draws), width)[...] *= paid[None]
        else:
            factor *= paid[rows % len(draws)]
        per_start = (factor @ month).astype(float) * price[:, None]
        return np.sum(means * per_start, axis=1)

    def _paid_days(self, draws: StayDraws | None) -> tuple[np.ndarray, np.ndarray]:
        """``E[min(L, D - d + 1)]`` per draw (rows; one row for the fitted stay) and first
        day ``d`` (the sum of ``S(x)``, ``x = 0 .. D - d``; 0 after ``D``), and the matrix
        averaging days ``d >= 1`` over each projected month (days x months)."""
        key = ("paid", draws is None)
        if key not in self._thresholds:
            horizon = int(self.month_ends[-1])
            left = np.arange(horizon + 1, dtype=float)  # S(x), x = 0 .. D
            alive = (np.asarray(self.distribution.sf(left), dtype=float)[None, :]
                     if draws is None
                     else draws.sf(left[None, :], np.arange(len(draws))[:, None]))
            paid = np.zeros((len(alive), horizon + 2))
            paid[:, 1:horizon + 1] = np.cumsum(alive, axis=1)[:, ::-1][:, 1:]
            days = np.arange(horizon + 2)
            first_day, span = self._month_days
            inside = ((days[:, None] >= np.maximum(first_day, 1)[None, :])
                      & (days[:, None] <= (first_day + span - 1)[None, :]))
            self._thresholds[key] = (paid.astype(np.float32),
                                     (inside / span[None, :]).astype(np.float32))
        return self._thresholds[key]

    @cached_property
    def _month_days(self) -> tuple[np.ndarray, np.ndarray]:
        """First day and number of days of each projected month."""
        first = np.asarray(self.month_first_days).astype(np.int64)
        return first, np.asarray(self.month_last_days).astype(np.int64) - first + 1

    def _end_threshold(self, draws: StayDraws | None) -> np.ndarray:
        """``S(D - d)`` per draw (rows; one row for the fitted stay) and first day ``d``
        (columns, 0 .. D + 1): a start on day ``d`` ends before year-end when its survival
        uniform is at least this."""
        cached = self._thresholds.get(draws is None)
        if cached is None:
            horizon = int(self.month_ends[-1])
            left = np.maximum(horizon - np.arange(horizon + 2), 0).astype(float)
            if draws is None:
                table = np.asarray(self.distribution.sf(left), dtype=float)[None, :]
            else:
                table = draws.sf(left[None, :], np.arange(len(draws))[:, None])
            cached = self._thresholds[draws is None] = np.where(left > 0, table, 2.0)
        return cached

    @cached_property
    def _thresholds(self) -> dict:
        """Tables cached per stay (the draws, or the fitted stay)."""
        return {}
