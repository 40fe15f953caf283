"""Spells entering a line by a move (an open placement or a new start moving in),
simulated in the receiving line: :func:`simulate_segments`."""

from __future__ import annotations

import numpy as np
from scipy import stats

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.open_book import inverse_survival

__all__ = ["simulate_segments"]


def simulate_segments(
    distribution: stats.rv_continuous,
    sim: np.ndarray,
    daily: np.ndarray,
    age: np.ndarray,
    offset: np.ndarray,
    cap: np.ndarray,
    move_rate: float,
    month_ends: np.ndarray,
    rng: np.random.Generator,
    simulations: int,
    draws: StayDraws | None = None,
    first: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spells entering a line by a move, each in one simulation.

    Entry ``i`` belongs to simulation ``sim[i]``, costs ``daily[i]`` a day from day
    ``offset[i] + 1`` after ``as_at`` (its move day), in a spell that had lasted
    ``age[i]`` days by ``as_at``; its end is drawn from the line's length of stay
    conditioned on the spell lasting through the day before the move, stopped at
    ``cap[i]`` and at a further move (rate ``move_rate`` a day). With ``draws``, the
    line's stay parameter draws, entry ``i`` takes draw ``(first + sim[i]) mod K``
    (``first`` the global number of the block's first simulation).

    Returns
    -------
    paths : ndarray, shape (simulations, months)
        Cumulative cost to each month-end.
    running : ndarray, shape (simulations,)
        Entries still in this line on the last day of the year.
    moved : ndarray of int
        Positions of the entries that move on before year-end.
    move_day : ndarray
        Their move days (days after ``as_at``).

    Examples
    --------
    >>> paths, running, moved, day = simulate_segments(
    ...     stats.expon(scale=100), np.array([0, 0, 1]), np.array([10.0, 20.0, 30.0]),
    ...     np.array([50.0, 400.0, 5.0]), np.array([0.0, 10.0, 20.0]),
    ...     np.full(3, np.inf), 0.0, np.array([30.0, 61.0]), np.random.default_rng(0), 2)
    >>> paths.shape, bool((np.diff(paths, axis=1) >= 0).all()), moved.size
    ((2, 2), True, 0)
    """
    horizon = float(month_ends[-1])
    count = len(sim)
    paths = np.zeros((simulations, len(month_ends)))
    if count == 0:
        return paths, np.zeros(simulations, dtype=np.int64), np.zeros(0, dtype=np.int64), \
            np.zeros(0)
    condition = np.maximum(age + offset, 0.0)
    if draws is None:
        survived = np.maximum(distribution.sf(condition), 1e-300)
        total = inverse_survival(distribution, rng.random(count) * survived)
    else:  # per-entry parameters: draw s mod K of each entry's simulation
        draw = (np.asarray(sim) + first) % len(draws)
        survived = np.maximum(draws.sf(condition, draw), 1e-300)
        total = draws.isf(rng.random(count) * survived, draw)
    last = np.clip(np.ceil(total - age), offset + 1, horizon)
    last = np.maximum(np.minimum(last, cap), offset)
    moved = np.zeros(0, dtype=np.int64)
    move_day = np.zeros(0)
    if move_rate > 0:
        wait = np.maximum(np.ceil(-np.log1p(-rng.random(count)) / move_rate), 1)
        day = offset + wait
        moves = day <= last
        last = np.where(moves, day - 1, last)
        moved, move_day = np.flatnonzero(moves), day[moves]
    for index, month_end in enumerate(month_ends):
        days = np.clip(np.minimum(last, month_end) - offset, 0, None)
        paths[:, index] = np.bincount(sim, weights=daily * days, minlength=simulations)
    running = np.bincount(sim, weights=last >= horizon, minlength=simulations)
    return paths, running.astype(np.int64), moved, move_day
