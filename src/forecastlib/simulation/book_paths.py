"""An open book's month-end path and year-end count drawn from their exact moments.

Given the simulation's stay parameter draw ``k`` (``s mod K``), a line's open placements
are independent, so its remaining-cost path over the month-ends is a **sum of many
independent terms** (the actuaries' aggregate claims). Placement ``i`` is paid on day
``d`` (``s_i < d <= h_i = min(D, cap_i)``) when it is still in placement that day, with
probability ``p_i(d) = S_k(a_i + d - 1) / S_k(c_i)`` (times ``exp(-lambda (d - s_i))`` of
no move; ``c_i`` its conditioning age). Its paid days to month-end ``m`` are
``N_i(m) = (min(L_i, m) - s_i)^+`` (``L_i`` its last day), with

.. math:: E[N(m)] = \\sum_{d \\le m} p(d),\\qquad
          E[N(m)^2] = \\sum_{d \\le m} (2 (d - s) - 1)\\, p(d),

and, for ``m_i <= m_j``, ``E[N(m_i) N(m_j)] = E[N(m_i)^2] + (m_i - s)^+ \\sum_{m_i < d
\\le m_j} p(d)`` (a placement paid after ``m_i`` was paid every day to it). The year-end
count is a sum of Bernoullis ``1{L >= D}`` (probability ``p(D)``; 1 for a placement not
started by then, as in the kernel), with ``E[1{L >= D} N(m)] = p(D) (m - s)^+``. All of
these are differences of tail sums of ``S_k`` on one grid of whole days, so a draw's
mean vector and covariance cost the grid plus the placements
(:func:`path_moments`), and the whole book ``K`` of them.

Each simulation's vector (path and count) is then ``mu_k + U_k sqrt(Lambda_k) z``, ``z``
standard normal (an eigendecomposition: the covariance is singular where a month-end
comes before any placement's first day), the path clipped to ``[0, full path]`` and made
non-decreasing, the count rounded and clipped to ``[0, placements]``. The mean and
covariance given the draw are the kernel's exactly; only the shape beyond them is the
normal's, whose skew (about ``1 / sqrt(events)``) is small for a line with at least
:data:`MOMENTS_ABOVE` ends a simulation (measured in ``docs/outturn.md``: -0.02 to -0.15
within a draw at 130 to 2,000 events).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from forecastlib.simulation.book_moments import weighted_tails

if TYPE_CHECKING:
    from forecastlib.simulation.open_book import OpenBook

__all__ = ["MOMENTS_ABOVE", "BookPaths", "path_moments"]

#: Expected events a simulation (open placements ending this year, new starts) from which
#: a line is drawn from its exact moments rather than placement by placement. In the
#: sample county two lines reach it (older people's homecare, about 510 ends and 540
#: starts a simulation, and respite, about 160 and 150); the other 33 are simulated
#: placement by placement.
MOMENTS_ABOVE = 100.0


@dataclass(frozen=True)
class BookPaths:
    """Per stay parameter draw (rows): the mean and a factor of the covariance of
    (cost to each month-end, year-end count).

    Attributes
    ----------
    mean : ndarray, shape (K, months + 1)
    covariance : ndarray, shape (K, months + 1, months + 1)
    full_path : ndarray, shape (months,)
        Cost to each month-end if nothing ended (the path's upper bound).
    placements : int
    """

    mean: np.ndarray
    covariance: np.ndarray
    full_path: np.ndarray
    placements: int

    def __post_init__(self) -> None:
        values, vectors = np.linalg.eigh(self.covariance)
        factor = vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]
        object.__setattr__(self, "_factor", factor)

    def draw(self, rng: np.random.Generator, draw: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Paths (simulations x months) and year-end counts of ``len(draw)``
        simulations, simulation ``i`` under parameter draw ``draw[i]`` (row 0 when the
        book holds one row).

        Examples
        --------
        >>> paths = BookPaths(np.array([[50.0, 100.0, 3.0]]), np.zeros((1, 3, 3)),
        ...                   np.array([60.0, 120.0]), 5)
        >>> cost, count = paths.draw(np.random.default_rng(0), np.zeros(2, dtype=int))
        >>> cost.tolist(), count.tolist()
        ([[50.0, 100.0], [50.0, 100.0]], [3, 3])
        """
        rows = draw % len(self.mean)
        normal = rng.standard_normal((len(draw), self.mean.shape[1]))
        values = self.mean[rows] + np.einsum("sij,sj->si", self._factor[rows], normal)
        paths = np.clip(values[:, :-1], 0.0, self.full_path[None, :])
        paths = np.maximum.accumulate(paths, axis=1)
        count = np.clip(np.rint(values[:, -1]), 0, self.placements).astype(np.int64)
        return paths, count


def path_moments(book: OpenBook, sf: Callable[[np.ndarray], np.ndarray]) -> BookPaths:
    """Exact mean and covariance of a book's month-end cost path and year-end count
    under each row of the survival function ``sf`` (``(K, n)`` values for ``n`` days),
    for whole-day ages, offsets and caps (see the module's formulas).

    Examples
    --------
    One placement of 10 a day, aged 100 days, exponential stay of mean 50 days,
    month-ends 30 and 61: paid days ``N(m) = min(E, m)``, ``P(E >= d) = q^(d-1)``.

    >>> from scipy import stats
    >>> from forecastlib.simulation.open_book import OpenBook
    >>> book = OpenBook(np.array([10.0]), np.array([100.0]), stats.expon(scale=50),
    ...                 np.array([30.0, 61.0]))
    >>> moments = path_moments(book, lambda days: book.distribution.sf(days)[None, :])
    >>> q = np.exp(-1 / 50)
    >>> bool(np.isclose(moments.mean[0, 0], 10 * (1 - q**30) / (1 - q)))
    True
    """
    horizon = int(book.month_ends[-1])
    ends = book.month_ends.astype(np.int64)
    months = len(ends)
    last = np.minimum(np.where(np.isfinite(book.last_day), book.last_day, horizon),
                      horizon).astype(np.int64)
    # placements of one (age, offset, last day) have the same days' law: the sums need
    # only each group's count, daily cost and squared daily cost
    groups, (age, offset, last) = _groups(book.age.astype(np.int64),
                                          book.start_offset.astype(np.int64), last)
    count = np.bincount(groups, minlength=len(age)).astype(float)
    daily = np.bincount(groups, weights=book.daily, minlength=len(age))
    money = np.bincount(groups, weights=np.asarray(book.daily, dtype=float) ** 2,
                        minlength=len(age))
    low, high = age + offset, age + np.maximum(last, offset)  # paid days j in [low, high)
    origin = int(min(low.min(), 0))
    grid = np.arange(origin, int(max(high.max(), (age + horizon).max())) + 2, dtype=float)
    rate = book.move_rate
    survival, weight, tail, tail_j = weighted_tails(sf, grid, origin, rate)
    draws = len(tail)
    mean = np.zeros((draws, months + 1))
    covariance = np.zeros((draws, months + 1, months + 1))
    upper = np.triu(np.ones((months, months), dtype=bool))
    block = max(1, (1 << 20) // (draws * months))
    for first in range(0, len(age), block):  # bounded memory, not per placement
        part = slice(first, first + block)
        lo = low[part] - origin
        # j < a + max(min(m, h), s): the paid days to each month-end (months x groups)
        hi = (age[part] + np.maximum(np.minimum(ends[:, None], last[part]), offset[part])
              - origin)
        conditioning = np.maximum(survival[:, np.maximum(low[part], 0) - origin], 1e-300)
        scale = (np.exp(rate * (lo - 1)) / conditioning)[:, None, :]  # (K, 1, n)
        plain = tail[:, lo][:, None, :] - tail[:, hi]  # (K, months, n)
        paid = plain * scale  # E[N(m)]
        square = (2 * (tail_j[:, lo][:, None, :] - tail_j[:, hi])
                  + (1 - 2 * low[part]) * plain) * scale
        full = np.clip(ends[:, None] - offset[part], 0, None).astype(float)  # (m - s)^+
        # still placed on day D: p(D) (0 capped before D; 1 not started by D, as the kernel)
        at_end = np.clip(age[part] + horizon - 1 - origin, 0, len(grid) - 1)
        placed = weight[:, at_end] * scale[:, 0, :]
        placed = np.where(last[part] < horizon, 0.0, placed)
        placed = np.where(offset[part] >= horizon, 1.0, np.minimum(placed, 1.0))
        mean[:, :months] += paid @ daily[part]
        mean[:, months] += placed @ count[part]
        # E[N_i N_j] - E[N_i] E[N_j] for i <= j: E[N_i^2] - (m_i - s) E[N_i]
        # + (m_i - s) E[N_j] - E[N_i] E[N_j]
        weighted = paid * money[part]
        diagonal = (square - full * paid) @ money[part]  # (K, months)
        cross = (full * money[part]) @ np.swapaxes(paid, 1, 2)  # (K, months, months)
        products = weighted @ np.swapaxes(paid, 1, 2)
        cost = diagonal[:, :, None] + cross - products
        covariance[:, :months, :months] += np.where(upper, cost, 0.0)
        covariance[:, months, months] += (placed * (1 - placed)) @ count[part]
        placed_cost = (placed * daily[part])[:, :, None]  # (K, n, 1)
        covariance[:, months, :months] += ((full - paid) @ placed_cost)[..., 0]
    cost = covariance[:, :months, :months]
    covariance[:, :months, :months] = np.where(upper, cost, np.swapaxes(cost, 1, 2))
    covariance[:, :months, months] = covariance[:, months, :months]
    return BookPaths(mean, covariance, np.asarray(book.full_path(), dtype=float),
                     len(book.daily))


def _groups(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each row's group of equal ``columns`` (whole numbers) and each group's values."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:  # mixed radix: a few columns of bounded whole numbers
        low = column.min()
        key = key * (int(column.max() - low) + 1) + (column - low)
    unique, first, groups = np.unique(key, return_index=True, return_inverse=True)
    return groups, [column[first] for column in columns]
