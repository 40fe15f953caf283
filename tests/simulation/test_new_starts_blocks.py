"""New starts in fixed chunks of placements: flat memory, streams keyed by block."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecastlib.simulation import NewStarts
from forecastlib.simulation import new_starts as module

LINE = ("S", "X")


def line_starts(stay_days: float = 90.0) -> NewStarts:
    pool = pd.DataFrame({"unit_cost": [700.0, 1400.0], "unit": ["week", "week"],
                         "units_per_week": [1.0, 1.0], "weeks_per_year": [52.0, 52.0],
                         "income_per_week": [0.0, 0.0]})
    month_ends = np.array([30.0, 61.0, 91.0])
    first = np.array([1.0, 31.0, 62.0])
    return NewStarts(first, month_ends, month_ends, pool, 0.0, 0.0,
                     stats.expon(scale=stay_days))


def counts(simulations: int, per_month: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(per_month, (simulations, 3))


def test_draws_are_keyed_by_the_simulation_block_and_chunk(monkeypatch):
    monkeypatch.setattr(module, "BLOCK_PLACEMENTS", 1000)  # 24k placements: 24 chunks
    starts, drawn = line_starts(), counts(400, 20)
    one = starts.simulate(drawn, 5, LINE, block=3, first=3000)
    again = starts.simulate(drawn, 5, LINE, block=3, first=3000)
    other = starts.simulate(drawn, 5, LINE, block=4, first=3000)
    np.testing.assert_array_equal(one[0], again[0])
    np.testing.assert_array_equal(one[1], again[1])
    assert not np.array_equal(one[0], other[0])  # another block draws its own numbers
    year_end, _ = starts.simulate(drawn, 5, LINE, totals_only=True, block=3, first=3000)
    np.testing.assert_allclose(year_end[:, 0], one[0][:, -1])  # same streams, same draws


def test_blocks_bound_memory_whatever_the_counts(monkeypatch):
    monkeypatch.setattr(module, "BLOCK_PLACEMENTS", 1 << 12)
    starts = line_starts()
    drawn = np.full((200, 3), 4000)  # 2.4M new placements: ~240 MB if drawn at once
    tracemalloc.start()
    paths, running = starts.simulate(drawn, 1, LINE)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8e6
    assert paths.shape == (200, 3) and (running <= drawn.sum(axis=1)).all()


def test_simulated_cost_matches_its_expectation():
    # Starts uniform over a month, exponential stays, GBP 100 or 200 a day: the mean
    # cost to year-end of one start in month m is the mean daily cost times E[min(T, D - s)].
    starts, drawn = line_starts(stay_days=40.0), np.ones((20_000, 3), dtype=np.int64)
    paths, _ = starts.simulate(drawn, 2, LINE)
    daily, scale = 150.0, 40.0
    expected = 0.0
    for first, last in ((1, 30), (31, 61), (62, 91)):
        s = np.arange(first, last + 1)
        # days run = min(ceil(T), 91 - s + 1) with T exponential: sum of P(ceil(T) >= d)
        d = np.arange(1, 92)[None, :]
        alive = np.where(d <= 91 - s[:, None] + 1, np.exp(-(d - 1) / scale), 0.0)
        expected += daily * alive.sum(axis=1).mean()
    assert paths[:, -1].mean() == pytest.approx(expected, rel=0.02)


def test_no_counts_no_cost():
    paths, running = line_starts().simulate(np.zeros((5, 3), dtype=np.int64), 0, LINE)
    assert not paths.any() and not running.any()


def test_month_end_costs_summed_by_month_equal_the_day_by_day_sum():
    """``_paths`` (sums by month) against each start's cost to each month-end, start by
    start: ``daily ((m - d + 1)^+ - (m - l)^+)`` for the ends, ``daily (m - d + 1)^+``
    for the rest; starts after year-end (day ``D + 1``) cost nothing."""
    starts = line_starts()
    horizon = int(starts.month_ends[-1])
    rng = np.random.default_rng(3)
    for simulations, n in ((1, 0), (1, 1), (7, 40), (30, 2000)):
        sim = np.sort(rng.integers(0, simulations, n))
        day = rng.integers(1, horizon + 2, n)
        last = np.minimum(day + rng.integers(0, 120, n), horizon)
        ends = np.flatnonzero(last < horizon)
        daily = rng.lognormal(4.0, 1.0, n)
        for grid in (starts.month_ends, starts.month_ends[-1:]):
            expected = np.zeros((simulations, len(grid)))
            for index, month_end in enumerate(grid):  # by hand: every start, every month-end
                paid = np.clip(np.minimum(np.where(last < horizon, last, month_end),
                                          month_end) - day + 1, 0, None)
                np.add.at(expected[:, index], sim, daily * paid)
            got = starts._paths(sim, day, last, ends, daily, grid, simulations)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-9)
