"""Check: open books drawn from their path moments against the exact kernel, per line.

The sample county copied ``--copies`` times (:mod:`sample_copies`); each line's open book
(with its 40 stay parameter draws, as the forecast builds it) is simulated twice at
``--simulations``: exactly (a draw per placement and simulation) and from its exact
month-end path moments given the draw (:mod:`forecastlib.simulation.book_paths`). For
every line the moments take at ``--moments-above`` (expected ends a simulation), it
prints the differences in the year-end cost's mean, sd, p10 and p90 and in the year-end
count's mean and sd, each in Monte Carlo standard errors (batch means over 20 batches
of contiguous simulations, both runs' errors combined), the within-draw skewness of the
exact year-end cost (what the normal leaves out) and both runs' times.

Run: ``nice -n 10 python benchmarks/check_book_moments.py [--copies 18]
[--simulations 10000]`` (from the ``benchmarks`` folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from sample_copies import copy_sample
from scipy import stats

from forecastlib.accrual import accrue
from forecastlib.simulation import MOMENTS_ABOVE, DemandModels
from forecastlib.simulation.engine import open_books, remaining_grid, resolve_year

BATCHES = 20


def batch_errors(values: np.ndarray, statistic) -> tuple[float, float]:
    """The statistic over all values and its standard error from batch statistics."""
    batches = np.array([statistic(part) for part in np.array_split(values, BATCHES)])
    return float(statistic(values)), float(batches.std(ddof=1) / np.sqrt(BATCHES))


def in_errors(exact: np.ndarray, moments: np.ndarray, statistic) -> float:
    """(moments - exact) of a statistic, in the two runs' combined standard errors."""
    a, a_se = batch_errors(exact, statistic)
    b, b_se = batch_errors(moments, statistic)
    return (b - a) / max(np.hypot(a_se, b_se), 1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=18)
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--moments-above", type=float, default=MOMENTS_ABOVE)
    args = parser.parse_args()
    placements, _, _, as_at = copy_sample(args.copies)
    as_at_day, year = resolve_year(as_at, None)
    models = DemandModels.fit(placements, as_at_day)
    _, offsets = remaining_grid(as_at_day, year)
    accrued = accrue(placements, as_at_day, year=year)
    books = open_books(placements, accrued, as_at_day, offsets, models.stays, models.moves,
                       parameters=True, seed=args.seed, moments_above=args.moments_above)
    statistics = {"mean": np.mean, "sd": np.std,
                  "p10": lambda v: np.quantile(v, 0.1), "p90": lambda v: np.quantile(v, 0.9)}
    print(f"{args.copies} copies, {args.simulations:,} simulations, moments above "
          f"{args.moments_above:,.0f} ends a simulation; differences (moments - exact) in "
          "Monte Carlo standard errors")
    print(f"{'line':45s} {'open':>7s} {'ends':>6s} | cost: {'mean':>5s} {'sd':>5s} "
          f"{'p10':>5s} {'p90':>5s} | count: {'mean':>5s} {'sd':>5s} | skew | "
          f"exact s  moments s")
    worst = 0.0
    totals = [0.0, 0.0]
    rest = 0.0
    for line, book in books.items():
        if not book.by_moments:  # the lines left exact: their time, once
            clock = time.perf_counter()
            book.simulate_all(args.seed, line, args.simulations)
            rest += time.perf_counter() - clock
            continue
        exact_book = dataclasses.replace(book, moments_above=None)
        clock = time.perf_counter()
        exact_paths, exact_count = exact_book.simulate_all(args.seed, line, args.simulations)
        exact_time = time.perf_counter() - clock
        clock = time.perf_counter()
        paths, count = book.simulate_all(args.seed, line, args.simulations)
        moments_time = time.perf_counter() - clock
        totals[0] += exact_time
        totals[1] += moments_time
        cost = [in_errors(exact_paths[:, -1], paths[:, -1], f) for f in statistics.values()]
        counts = [in_errors(exact_count.astype(float), count.astype(float), f)
                  for f in (np.mean, np.std)]
        draws = np.arange(args.simulations) % len(book.draws)
        skew = np.mean([stats.skew(exact_paths[draws == k, -1])
                        for k in range(len(book.draws))])
        worst = max(worst, *map(abs, cost + counts))
        name = " / ".join(line)[:45]
        ends = float(np.sum(1 - book.beyond_year))
        print(f"{name:45s} {len(book.daily):7,d} {ends:6,.0f} | cost: "
              + " ".join(f"{value:5.1f}" for value in cost) + " | count: "
              + " ".join(f"{value:5.1f}" for value in counts)
              + f" | {skew:4.2f} | {exact_time:7.2f} {moments_time:9.2f}", flush=True)
    print(f"largest difference {worst:.1f} standard errors; exact {totals[0]:.1f} s, "
          f"moments {totals[1]:.1f} s (moments' time includes their one-off tables); the "
          f"{sum(not book.by_moments for book in books.values())} lines left exact "
          f"{rest:.1f} s")


if __name__ == "__main__":
    main()
