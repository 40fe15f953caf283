"""Exact mean and variance of an open book's remaining cost, per parameter draw.

``E[C] = c sum_{d=s+1}^{D} P(E >= d)`` and ``E[C^2] = c^2 sum_d (2 (d - s) - 1) P(E >= d)``
(see :meth:`~forecastlib.simulation.OpenBook.expected_cost`): :func:`daily_moments` sums
day by day (any ages), :func:`grid_moments` by tail sums on one grid of whole days.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from forecastlib.simulation.open_book import OpenBook

__all__ = ["daily_moments", "grid_moments", "weighted_tails"]


def grid_moments(book: OpenBook, sf: Callable[[np.ndarray], np.ndarray]
             ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`daily_moments` for whole-day ages, offsets and caps: the sums over days are
    differences of tail sums of ``S`` (and of ``j S(j)``) on one grid of days, so
    the cost is the grid plus the placements, not their product.

    For ``d`` from ``s + 1`` to ``h = min(D, cap)``, ``j = a + d - 1`` runs from
    ``a + s`` to ``a + h - 1``; the move factor ``exp(-lambda (d - s))`` is
    ``exp(-lambda j)`` times ``exp(lambda (a + s - 1))``, with the grid's days taken
    relative to its first day so that nothing overflows (``OpenBook.expected_cost`` takes
    the day-by-day sums when ``lambda`` times the grid's span is large).
    """
    horizon = int(book.month_ends[-1])
    age = book.age.astype(np.int64)
    offset = book.start_offset.astype(np.int64)
    last = np.minimum(np.where(np.isfinite(book.last_day), book.last_day, horizon),
                      horizon).astype(np.int64)
    low, high = age + offset, age + np.maximum(last, offset)  # j in [low, high)
    origin = int(low.min())
    grid = np.arange(origin, int(high.max()) + 1, dtype=float)
    rate = book.move_rate
    _, _, tail, tail_j = weighted_tails(sf, grid, origin, rate)
    mean = np.zeros(len(tail))
    variance = np.zeros(len(tail))
    block = max(1, (1 << 22) // len(tail))
    for first in range(0, len(book.daily), block):  # bounded memory, not per placement
        part = slice(first, first + block)
        lo, hi = low[part] - origin, high[part] - origin
        plain = tail[:, lo] - tail[:, hi]
        moment = tail_j[:, lo] - tail_j[:, hi]
        conditioning = np.maximum(sf(book.conditioning_age[part]), 1e-300)
        scale = np.exp(rate * (lo - 1)) / conditioning
        part_mean = plain * scale
        # sum (2 (d - s) - 1) w with d - s = j - low + 1: 2 j - 2 low + 1
        second = (2 * moment + (1 - 2 * low[part]) * plain) * scale
        mean += part_mean @ book.daily[part]
        variance += (second - part_mean**2) @ book.daily[part] ** 2
    return mean, variance

def weighted_tails(sf: Callable[[np.ndarray], np.ndarray], grid: np.ndarray, origin: int,
                   rate: float) -> tuple[np.ndarray, ...]:
    """On a grid of whole days ``j``: the survival ``S(j)`` (``(K, J)``, 1 before the
    start), the weights ``w(j) = S(j) exp(-rate (j - origin))`` (no move by then), and the
    tail sums ``T(j) = sum_{i >= j} w(i)`` and ``sum_{i >= j} i w(i)``, each with a zero
    column appended (differences of tails keep small ranges exact)."""
    survival = sf(np.maximum(grid, 0.0))
    weight = survival * np.exp(-rate * (grid - origin))[None, :]
    tail = np.cumsum(weight[:, ::-1], axis=1)[:, ::-1]
    tail = np.concatenate([tail, np.zeros((len(tail), 1))], axis=1)
    tail_j = np.cumsum((weight * grid)[:, ::-1], axis=1)[:, ::-1]
    tail_j = np.concatenate([tail_j, np.zeros((len(tail_j), 1))], axis=1)
    return survival, weight, tail, tail_j


def daily_moments(book: OpenBook, sf: Callable[[np.ndarray], np.ndarray]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the remaining cost under the survival function ``sf``
    (``(K, n)`` values for ``n`` days; one row per parameter draw), day by day."""
    horizon = int(book.month_ends[-1])
    days = np.arange(1, horizon + 1, dtype=float)
    rows = len(sf(np.zeros(1)))
    mean = np.zeros((rows, len(book.daily)))
    second = np.zeros((rows, len(book.daily)))
    block = max(1, (1 << 22) // (horizon * rows))
    for first in range(0, len(book.daily), block):  # bounded memory, not per placement
        part = slice(first, first + block)
        age = book.age[part].astype(float)[:, None]
        offset = book.start_offset[part][:, None]
        survived = np.maximum(sf(book.conditioning_age[part]), 1e-300)[:, :, None]
        count = len(book.age[part])
        alive = sf((age + days[None, :] - 1).ravel()).reshape(rows, count, horizon)
        alive = alive / survived
        alive = np.where(days <= offset, 0.0, np.minimum(alive, 1.0))
        alive = np.where(days > book.last_day[part][:, None], 0.0, alive)
        if book.move_rate > 0:  # still in this line: no move by that day
            alive = alive * np.exp(-book.move_rate * np.clip(days - offset, 0, None))
        mean[:, part] = alive.sum(axis=2)
        second[:, part] = ((2 * (days - offset) - 1) * alive).sum(axis=2)
    variance = second - mean**2
    return book.daily @ mean.T, (book.daily**2) @ variance.T
