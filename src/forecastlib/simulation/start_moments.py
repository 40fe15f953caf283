"""New starts of a large line drawn from their exact conditional moments.

Given one simulation's drawn start counts ``n_m`` (per projected month ``m``) and its
parameters (stay draw ``k = s mod K``, bootstrap pool ``b = s mod K'``, inflation shift
``x_s``, common price shock ``z_s``), a line's new placements are independent and, within
a month, identically distributed: the simulation's new-start cost path is a **sum of
independent terms** (the actuaries' aggregate claims). Its mean vector and covariance
over the month-end path are therefore exact sums over the starts,

.. math:: \\mu_s = \\sum_m n_m\\, E[V \\mid m],\\qquad
          \\Sigma_s = \\sum_m n_m \\left(E[V V^T \\mid m] - E[V \\mid m] E[V \\mid m]^T\\right),

for one start's vector ``V`` = (its cost to each month-end, whether it is still placed on
the last day, and, with a common shock, its year-end cost without the shock). A start on
day ``d`` (uniform over its month's days after ``as_at``) with price ``P`` and stay
``L = max(ceil(T), 1)`` costs ``P min(L, e - d + 1)^+`` to month-end ``e``; ``P`` and
``L`` are independent given ``d``, so

- ``E[P | d] = c_1 g(d)`` and ``E[P^2 | d] = c_2 g(d)^2``, with ``c_p`` the mean of
  ``net^p exp(p x y)`` over the pool's records (``y`` a record's years before ``as_at``),
  ``g(d) = exp(slope_s d + sqrt(v0 + v1 d / 365.25) z_s)`` and the jitter's
  ``E[J^2] = exp(jitter^2)`` in ``c_2``;
- ``E[min(L, a)] = A_1(a) = sum_{j<=a} S(j - 1)`` and, for ``a <= b``,
  ``E[min(L, a) min(L, b)] = A_2(a) + a (A_1(b) - A_1(a))`` with
  ``A_2(a) = sum_{j<=a} (2j - 1) S(j - 1)``, ``S`` the draw's survival;
- still placed on the last day ``D``: ``P(T > D - d) = S(D - d)``, and then the start
  was paid every day from ``d``: ``E[min(L, e - d + 1) 1{placed}] = (e - d + 1)^+ S(D - d)``.

Each simulation's vector is then drawn as ``mu_s + U_s sqrt(Lambda_s) z`` with ``z``
standard normal and ``Sigma_s = U_s Lambda_s U_s^T`` (an eigendecomposition rather than
a Cholesky factor: the covariance is singular where a month-end comes before any start
and nearly so between the year-end cost and its unshocked twin); the count is rounded
and clipped to ``[0, starts]``. The mean and covariance given the simulation are those
of the per-start simulation exactly; only the shape beyond them (the skew of a sum of
many heavy-tailed prices, ``gamma_1 / sqrt(n)``) is the normal's. Used by
:class:`~forecastlib.simulation.new_starts.NewStarts` for lines whose new starts do not
move between lines and average at least ``moments_above`` a simulation
(:data:`~forecastlib.simulation.book_paths.MOMENTS_ABOVE`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from forecastlib.demand.record_codes import group_rows
from forecastlib.streams import stream

if TYPE_CHECKING:
    from forecastlib.simulation.new_starts import NewStarts

__all__ = ["start_moments", "simulate_by_moments"]



def _survival(starts: NewStarts, parameters: bool) -> np.ndarray:
    """``S(x)``, ``x = 0 .. D``, per stay draw (rows; one row for the fitted stay)."""
    draws = starts.stay_draws if parameters else None
    key = ("moments", draws is None)
    if key not in starts._thresholds:
        horizon = int(starts.month_ends[-1])
        left = np.arange(horizon + 1, dtype=float)
        alive = (np.asarray(starts.distribution.sf(left), dtype=float)[None, :]
                 if draws is None
                 else draws.sf(left[None, :], np.arange(len(draws))[:, None]))
        alive[:, 0] = 1.0  # L = max(ceil(T), 1): paid the first day whatever T
        starts._thresholds[key] = alive
    return starts._thresholds[key]


def _stay_tables(starts: NewStarts, alive: np.ndarray, draw: int, grid: np.ndarray,
                 parameters: bool) -> tuple[np.ndarray, ...]:
    """:func:`_draw_tables` of stay draw ``draw``, cached per line while the tables of
    every draw stay under 4M numbers."""
    key = ("moments tables", parameters, int(draw))
    cached = starts._thresholds.get(key)
    if cached is None:
        cached = _draw_tables(alive[draw], grid)
        if len(alive) * cached[1].size <= 1 << 22:
            starts._thresholds[key] = cached
    return cached


def _draw_tables(alive: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """For one stay draw's survival ``alive`` (``S(0 .. D)``) and month-ends ``grid``:
    per first day ``d`` (rows, 0 .. D + 1), ``E[min(L, e - d + 1)^+]`` (days x G), the
    cross moments ``E[min(L, a_e) min(L, a_f)]`` (days x G x G), ``P(placed on D)``
    (days) and ``(e - d + 1)^+ P(placed on D)`` (days x G)."""
    horizon = len(alive) - 1
    days = np.arange(horizon + 2)
    j = np.arange(1, horizon + 2)
    first = np.concatenate([[0.0], np.cumsum(alive)])  # A_1(a), a = 0 .. D + 1
    second = np.concatenate([[0.0], np.cumsum((2 * j - 1) * alive)])  # A_2(a)
    paid = np.clip(grid[None, :].astype(np.int64) - days[:, None] + 1, 0, horizon + 1)
    low = np.minimum(paid[:, :, None], paid[:, None, :])
    high = np.maximum(paid[:, :, None], paid[:, None, :])
    cross = second[low] + low * (first[high] - first[low])
    placed = np.ones(horizon + 2)
    placed[:horizon + 1] = alive[horizon - days[:horizon + 1]]
    return first[paid], cross, placed, paid * placed[:, None]


def _price_power(starts: NewStarts, power: int, rows: np.ndarray | None,
                 drawn: np.ndarray | None, simulations: int) -> np.ndarray:
    """``mean(net^p exp(p x y))`` over each simulation's pool (bootstrap ``rows``, or
    the pool), ``x`` the simulation's drawn inflation shift (``None``: no re-trend): a
    series in ``p x`` while ``|p x y| <= 0.5`` (12 terms: remainder below 1e-12),
    else summed over the records a few simulations at a time."""
    row = rows if rows is not None else np.zeros(simulations, dtype=np.int64)
    terms = _price_terms(starts, power, rows is not None)
    if drawn is None or starts.pool_years is None:
        return terms[row, 0]
    shift = power * drawn
    if np.abs(shift).max(initial=0) * np.abs(starts.pool_years).max(initial=0) <= 0.5:
        order = np.arange(terms.shape[1])
        return np.sum(terms[row] * shift[:, None] ** order[None, :], axis=1)
    return starts.summed_price_power(power, rows, drawn)


def _price_terms(starts: NewStarts, power: int, bootstrap: bool) -> np.ndarray:
    """``mean(net^p y^j) / j!``, ``j = 0 .. 11``, over each bootstrap resample (rows; one
    row, the pool, without), cached per line for ``p = 1, 2`` (``y = 0`` without
    re-trended records). Each resample's sum is its counts of the pool's records (a
    ``bincount``) times the records' table: memory in the pool, not resamples x pool."""
    key = ("price", bootstrap)
    if key not in starts._thresholds:
        net = starts._net
        years = starts.pool_years if starts.pool_years is not None else np.zeros(len(net))
        order = np.arange(12)
        factorial = np.cumprod(np.maximum(order, 1)).astype(float)
        raised = years[:, None] ** order[None, :] / factorial
        table = np.empty((len(net), 2 * len(order)))  # written in place: no temporaries
        np.multiply(net[:, None], raised, out=table[:, :len(order)])
        np.multiply((net**2)[:, None], raised, out=table[:, len(order):])
        del raised
        if not bootstrap:
            terms = table.mean(axis=0)[None]
        else:
            terms = np.stack([np.bincount(row, minlength=len(net)) @ table / len(row)
                              for row in starts.bootstrap])  # a loop over the resamples
        starts._thresholds[key] = terms.reshape(len(terms), 2, len(order))
    return starts._thresholds[key][:, power - 1]


def start_moments(starts: NewStarts, counts: np.ndarray, first: int = 0,
                  market: np.ndarray | None = None, parameters: bool = True
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Exact conditional mean and covariance of each simulation's new-start vector.

    ``counts`` (simulations x months) are a block's drawn start counts, its simulations
    numbered from ``first``; ``market`` and ``parameters`` as in
    :meth:`NewStarts.simulate`. The vector is the cost to each month-end of
    ``starts.month_ends``, the new placements still placed on the last day and, when
    the simulation draws a common price shock, the year-end cost without it.

    Returns ``mean`` (simulations x V) and ``cov`` (simulations x V x V).

    Examples
    --------
    One start a simulation, always on day 1 (a one-day month), GBP 100 a day, exponential
    stay of mean ``b`` days: the cost to day 10 is ``100 min(L, 10)``.

    >>> import pandas as pd
    >>> from scipy import stats
    >>> from forecastlib.simulation import NewStarts
    >>> pool = pd.DataFrame({"unit_cost": [700.0], "unit": "week", "units_per_week": 1.0,
    ...                      "weeks_per_year": 52.0, "income_per_week": 0.0})
    >>> starts = NewStarts(np.array([1.0]), np.array([1.0]), np.array([10.0]), pool, 0.0,
    ...                    0.0, stats.expon(scale=5.0))
    >>> mean, cov = start_moments(starts, np.array([[1]]), parameters=False)
    >>> q = np.exp(-1 / 5.0)  # P(L >= j + 1) = q^j
    >>> bool(np.isclose(mean[0, 0], 100 * (1 - q**10) / (1 - q)))
    True
    >>> bool(np.isclose(mean[0, 1], q**9))  # placed on day 10: T > 9
    True
    """
    simulations, months = counts.shape
    horizon = int(starts.month_ends[-1])
    width = horizon + 2
    grid = np.asarray(starts.month_ends, dtype=float)
    size = len(grid)
    days = np.arange(width, dtype=float)
    rows = np.arange(first, first + simulations)
    alive = _survival(starts, parameters)
    draw = rows % len(alive)
    resample = (rows % len(starts.bootstrap)
                if parameters and starts.bootstrap is not None else None)
    slope, drawn, shock = starts.market_terms(market, simulations, days, parameters)
    c1 = _price_power(starts, 1, resample, drawn, simulations)
    c2 = _price_power(starts, 2, resample, drawn, simulations) * np.exp(starts.jitter**2)
    log_g = slope[:, None] * days[None, :]
    if shock is not None:
        log_g = log_g + shock
    g = np.exp(log_g)
    month_first, span = starts._month_days  # a month's starts: uniform over its days
    inside = ((days[None, :] >= np.maximum(month_first, 1)[:, None])
              & (days[None, :] <= (month_first + span - 1)[:, None]))
    weights = inside / span[:, None]  # months x days (days <= as_at: in the record)
    total = counts.astype(float) @ weights  # starts' weight on each first day
    # a start's weight on each first day: E[P | d] (price), n E[P^2 | d] summed (square)
    price = c1[:, None] * g
    square = c2[:, None] * g**2 * total
    paying = price * total
    unshock = np.exp(-shock) if shock is not None else None
    dim = size + 1 + (shock is not None)
    second = np.zeros((simulations, dim, dim))
    each = np.zeros((simulations, months, dim))  # one start's mean vector, per month
    for k, mine in enumerate(group_rows(draw, len(alive))):  # a loop over the stay draws
        if not mine.size:
            continue
        paid, cross, placed, both = _stay_tables(starts, alive, k, grid, parameters)
        block = np.zeros((len(mine), dim, dim))
        block[:, :size, :size] = (square[mine] @ cross.reshape(width, -1)).reshape(
            -1, size, size)
        block[:, :size, size] = block[:, size, :size] = paying[mine] @ both
        block[:, size, size] = total[mine] @ placed
        weighted = (price[mine][:, None, :] * weights[None]).reshape(-1, width)
        each[mine, :, :size] = (weighted @ paid).reshape(-1, months, size)
        each[mine, :, size] = weights @ placed
        if unshock is not None:
            off = unshock[mine]
            block[:, :size, -1] = block[:, -1, :size] = (square[mine] * off) @ cross[:, :, -1]
            block[:, -1, -1] = (square[mine] * off**2) @ cross[:, -1, -1]
            block[:, size, -1] = block[:, -1, size] = (paying[mine] * off) @ both[:, -1]
            each[mine, :, -1] = ((weighted.reshape(-1, months, width) * off[:, None, :])
                                 @ paid[:, -1])
        second[mine] = block
    n = counts.astype(float)
    mean = (n[:, None, :] @ each)[:, 0]
    squares = (each * n[:, :, None]).transpose(0, 2, 1) @ each  # sum_m n_m mu_m mu_m^T
    return mean, second - squares


def _factor(cov: np.ndarray) -> np.ndarray:
    """``R`` with ``R R^T = cov`` per simulation: a Cholesky factor of ``cov`` plus
    ``1e-10`` of its largest variance on the diagonal (zero rows: month-ends before any
    start), else (numerically not positive definite) ``U sqrt(max(Lambda, 0))`` from
    its eigendecomposition."""
    scale = np.max(np.diagonal(cov, axis1=1, axis2=2), axis=1, initial=0.0)
    empty = scale <= 0  # no starts: no variance (factored as the identity, then zeroed)
    ridge = np.where(empty, 1.0, scale * 1e-10)[:, None, None] * np.eye(cov.shape[1])
    try:
        root = np.linalg.cholesky(cov + ridge)
        root[empty] = 0.0
        return root
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(cov)
        return vectors * np.sqrt(np.clip(values, 0.0, None))[:, None, :]


def simulate_by_moments(starts: NewStarts, counts: np.ndarray, seed: int | None,
                        line: tuple[str, str], totals_only: bool = False,
                        market: np.ndarray | None = None, parameters: bool = True,
                        no_common: np.ndarray | None = None, block: int | None = None,
                        first: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cost paths and year-end placements of new starts drawn from their conditional
    moments (:func:`start_moments`): the same arguments and results as
    :meth:`NewStarts.simulate` (no moves: lines whose starts move are simulated start by
    start). One stream ``(seed, line, "moments", 0, block)`` gives a normal vector a
    simulation."""
    size = len(starts.month_ends)
    mean, cov = start_moments(starts, counts, first=first, market=market,
                              parameters=parameters)
    keep = np.r_[size - 1:mean.shape[1]] if totals_only else np.arange(mean.shape[1])
    mean, cov = mean[:, keep], cov[:, keep[:, None], keep[None, :]]
    root = _factor(cov)
    normal = stream(seed, line, "moments", 0, block=block).standard_normal(mean.shape)
    drawn = mean + np.einsum("sij,sj->si", root, normal)
    columns = 1 if totals_only else size
    paths = drawn[:, :columns]
    starts_made = counts.sum(axis=1)
    running = np.clip(np.rint(drawn[:, columns]), 0, starts_made).astype(np.int64)
    if no_common is not None:
        no_common[:] = drawn[:, -1] if drawn.shape[1] > columns + 1 else paths[:, -1]
    return np.ascontiguousarray(paths), running
