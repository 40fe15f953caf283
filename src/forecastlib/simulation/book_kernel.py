"""The open-book kernel: one block of simulations of one line's open placements.

Every simulation row ``s`` of the block has its own stay parameter draw ``k_s`` (``s mod
K`` on the global simulation number, one row when the parameters are held): the
per-placement tables (``P(E > D)`` and the conditioning survival ``S(c)``, float32) have
one row per draw, and each cell compares its uniform with its simulation's row. So a
line's block is **one** call, however many draws (it used to be one call per draw:
about 1,400 small calls for the sample's 35 lines and 40 draws).

The cells with an event (an end this year or a move) come from
:func:`~forecastlib.simulation.cell_events.cell_events` (a uniform per cell) or
:func:`~forecastlib.simulation.cell_events.direct_events` (events drawn directly, when
rare); only they need the inverse survival. The cost they lose by each month-end ``m``,
``daily (m - l)^+`` for a last day ``l``, is ``m W_m - V_m`` with ``W_m`` and ``V_m`` the
sums of ``daily`` and ``daily l`` over the simulation's last days up to ``m`` (two
``numpy.bincount`` over simulation and month, then a cumulative sum).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from forecastlib.simulation.cell_events import cell_events, direct_events

__all__ = ["BookKernel", "month_sums", "no_movers"]


def no_movers() -> dict[str, np.ndarray]:
    """No spell moving out: empty ``sim``, ``placement`` and ``day``."""
    return {"sim": np.zeros(0, dtype=np.int64), "placement": np.zeros(0, dtype=np.int64),
            "day": np.zeros(0, dtype=np.int64)}


def month_sums(rows: np.ndarray, days: np.ndarray, weights: np.ndarray,
               month_of_day: np.ndarray, simulations: int, months: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per simulation (``rows``) and month-end, the sums of ``weights`` and of ``weights
    x days`` over the elements whose day (whole days, ``days``) falls in that month or an
    earlier one: ``W_m`` and ``V_m``, so that a daily cost from day ``d`` to month-end
    ``m`` sums to ``(m + 1) W_m - V_m`` and one lost after day ``l`` to ``m W_m - V_m``.

    ``month_of_day[d]`` is the position of the month-end day ``d`` falls in (``months``
    for a day after the last: left out). Two ``bincount`` over (simulation, month) and a
    cumulative sum, whatever the number of elements.

    Examples
    --------
    >>> paid, paid_days = month_sums(np.array([0, 0]), np.array([1, 3]), np.array([10.0, 5.0]),
    ...                              np.array([0, 0, 0, 1]), 1, 2)  # month-ends 2, 3
    >>> (np.array([3, 4]) * paid - paid_days).tolist()  # 10 x 2 days; 10 x 3 + 5 x 1
    [[20.0, 35.0]]
    """
    cells = rows * (months + 1) + month_of_day[days]
    paid, paid_days = (np.bincount(cells, weights=value, minlength=simulations * (months + 1))
                       .reshape(simulations, months + 1)[:, :months].cumsum(axis=1)
                       for value in (weights, weights * days))
    return paid, paid_days


@dataclass(frozen=True)
class BookKernel:
    """One line's open placements, as the kernel needs them.

    Attributes
    ----------
    daily : ndarray
        Net daily cost (float64: money).
    age, first_day : ndarray (float32)
        Spell age at ``as_at`` and first day of cost (``start_offset + 1``).
    start_offset : ndarray
        Days after ``as_at`` before the first day.
    last_day : ndarray or None
        Last day care may last (a cap), or ``None``.
    horizon : float
        ``D``, days from ``as_at`` to 31 March.
    threshold, survived : ndarray, shape (K, placements), float32
        ``P(E > D)`` and the conditioning survival under each draw (rows).
    move_rate : float
    move_within : ndarray or None
        ``P(move by D)`` per placement (float32).
    full_path : ndarray
        Cumulative cost to each month-end if nothing ended.
    month_ends : ndarray
        The month-ends ``m`` (days after ``as_at``; the last is ``D``).
    isf : callable
        ``isf(q, draw)``: inverse survival under each element's draw.
    """

    daily: np.ndarray
    age: np.ndarray
    first_day: np.ndarray
    start_offset: np.ndarray
    last_day: np.ndarray | None
    horizon: float
    threshold: np.ndarray
    survived: np.ndarray
    move_rate: float
    move_within: np.ndarray | None
    full_path: np.ndarray
    month_ends: np.ndarray
    isf: Callable[[np.ndarray, np.ndarray | None], np.ndarray]

    @cached_property
    def later_starts(self) -> bool:
        """Whether any placement's first day is after ``as_at + 1``."""
        return bool(np.any(self.first_day > 1))

    @cached_property
    def _month_of_day(self) -> np.ndarray:
        """The month (position in ``month_ends``) each day ``0 .. D`` falls in."""
        return np.searchsorted(self.month_ends, np.arange(int(self.horizon) + 1))

    @property
    def draws(self) -> int:
        """``K``, the rows of the tables."""
        return len(self.threshold)

    @property
    def lowest(self) -> np.ndarray:
        """The lowest ``P(E > D)`` over the draws, per placement (the most events)."""
        return self.threshold[0] if self.draws == 1 else self.threshold.min(axis=0)

    def run(self, rng: np.random.Generator, draw: np.ndarray, events: bool
            ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Paths (simulations x months), year-end placements and movers of
        ``len(draw)`` simulations, simulation ``i`` under draw ``draw[i]``; ``events``
        draws the events directly rather than a uniform per cell."""
        sampler = direct_events if events else cell_events
        rows, cols, drawn, chance = sampler(rng, len(draw), self.threshold,
                                            self.move_within, draw)
        return self.reduce(len(draw), rows, cols, drawn, chance, draw)

    def reduce(self, simulations: int, rows: np.ndarray, cols: np.ndarray,
               drawn: np.ndarray, chance: np.ndarray | None, draw: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """Paths, year-end counts and movers from the cells with an event: ``rows``
        (simulation), ``cols`` (placement), the end uniform ``drawn`` (an end this year
        where ``drawn >= P(E > D)``) and the move uniform ``chance`` (a move where
        ``chance < P(move by D)``)."""
        horizon = self.horizon
        count = len(self.daily)
        if self.draws == 1:
            at, k = cols, None
        else:
            k = draw[rows]
            at = k * count + cols
        # Single precision is ample for days (a stay of 30 years is ~1e4 days).
        if chance is None and drawn.min(initial=1) >= 0:  # uniform cells: every event ends
            quantile = drawn * self.survived.ravel()[at]
            last = np.ceil(self.isf(quantile, k) - self.age[cols]).astype(np.float32)
        else:
            ends = np.flatnonzero(drawn >= self.threshold.ravel()[at])
            last = np.full(rows.size, np.float32(horizon), dtype=np.float32)
            quantile = drawn[ends] * self.survived.ravel()[at[ends]]
            total_days = self.isf(quantile, None if k is None else k[ends])
            last[ends] = np.ceil(total_days - self.age[cols[ends]])
        first_day = self.first_day[cols] if self.later_starts else np.float32(1)
        np.clip(last, first_day, np.float32(horizon), out=last)
        if self.last_day is not None:
            offset = self.start_offset[cols].astype(np.float32)
            last = np.maximum(np.minimum(last, self.last_day[cols].astype(np.float32)), offset)
        movers = no_movers()
        if chance is not None:
            wait = np.maximum(np.ceil(-np.log1p(-chance.astype(float)) / self.move_rate), 1)
            day = self.start_offset[cols] + wait
            moved = (chance < self.move_within[cols]) & (day <= last)
            last = np.where(moved, day - 1, last).astype(np.float32)
            order = np.argsort(rows[moved], kind="stable")  # movers by simulation
            movers = {"sim": rows[moved][order], "placement": cols[moved][order],
                      "day": day[moved].astype(np.int64)[order]}
        # Per simulation and month: the daily cost of the placements whose last day
        # falls in it, and that times the last day; summed up to each month-end m, the
        # cost lost to m is m W_m - V_m.
        lost_weight, lost_days = month_sums(rows, last.astype(np.int64), self.daily[cols],
                                            self._month_of_day, simulations,
                                            len(self.month_ends))
        lost = self.month_ends[None, :] * lost_weight - lost_days
        # Running at year-end: still in placement on 31 March (ending that day counts).
        running = count - np.bincount(rows[last < np.float32(horizon)], minlength=simulations)
        return self.full_path[None, :] - lost, running, movers
