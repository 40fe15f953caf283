"""Check: every line the moments take at a threshold, against the exact simulation.

The sample county copied ``--copies`` times (:mod:`sample_copies`, default 1, 2 and 4)
is simulated twice by :func:`~forecastlib.simulation.simulate_remaining` with the same
fitted models and seed: every placement and start drawn one by one
(``moments_above=None``), and with the lines expecting at least ``--moments-above``
events a simulation (open placements ending, new starts) drawn from their exact moments
given the simulation's parameters. Both runs draw the same start counts and parameters,
so a line's difference is the process noise's shape only. For every line that differs
it prints the differences in the year-end cost's mean, sd, p10 and p90 and in the
year-end count's mean and sd, each in Monte Carlo standard errors (batch means over 20
batches, both runs' errors combined, as :mod:`check_book_moments`), and both runs' times.
Lines the moments do not take are checked to be identical.

Because the two runs share each simulation's counts and parameters, the paired
differences ``d`` (moments minus exact, simulation by simulation) are the process noise
alone: their mean, in its own standard error, is the sharp test of the conditional means
(``paired``), and, the moment draws being normal, ``-k3(d) / (var(d) / 2)^1.5`` is the
exact simulation's skewness within a draw (``skew``: what the normal leaves out).

Run: ``nice -n 10 python benchmarks/check_moments_threshold.py [--copies 1 2 4]
[--simulations 10000] [--moments-above 100]`` (from the ``benchmarks`` folder).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from check_book_moments import in_errors
from sample_copies import copy_sample

from forecastlib.simulation import MOMENTS_ABOVE, DemandModels, simulate_remaining

STATISTICS = {"mean": np.mean, "sd": np.std,
              "p10": lambda v: np.quantile(v, 0.1), "p90": lambda v: np.quantile(v, 0.9)}


def check(copies: int, simulations: int, seed: int, threshold: float) -> float:
    """Print one size's table; return its largest difference in standard errors."""
    placements, _, _, as_at = copy_sample(copies)
    models = DemandModels.fit(placements, as_at)
    runs = {}
    for name, moments_above in (("exact", None), ("moments", threshold)):
        clock = time.perf_counter()
        simulated, _, _ = simulate_remaining(placements, as_at, models, simulations=simulations,
                                             seed=seed, moments_above=moments_above)
        runs[name] = (simulated, time.perf_counter() - clock)
    (exact, exact_time), (drawn, drawn_time) = runs["exact"], runs["moments"]
    print(f"\n{copies} copies, {simulations:,} simulations, moments above {threshold:,.0f} "
          f"events a simulation: exact {exact_time:.1f} s, with moments {drawn_time:.1f} s")
    print(f"{'line':45s} | cost: {'mean':>5s} {'sd':>5s} {'p10':>5s} {'p90':>5s} | "
          f"count: {'mean':>5s} {'sd':>5s} | paired  skew")
    worst, same = 0.0, 0
    for row, line in enumerate(exact.lines):
        a, b = exact.paths[row, :, -1], drawn.paths[row, :, -1]
        if np.array_equal(a, b) and np.array_equal(exact.running[row], drawn.running[row]):
            same += 1
            continue
        cost = [in_errors(a, b, f) for f in STATISTICS.values()]
        counts = [in_errors(exact.running[row].astype(float), drawn.running[row].astype(float), f)
                  for f in (np.mean, np.std)]
        paired = b - a
        spread = paired.std()
        mean_error = paired.mean() / max(spread / np.sqrt(len(paired)), 1e-12)
        skew = -np.mean((paired - paired.mean())**3) / max((spread**2 / 2)**1.5, 1e-12)
        worst = max(worst, *map(abs, cost + counts + [mean_error]))
        print(f"{' / '.join(line)[:45]:45s} | cost: " + " ".join(f"{v:5.1f}" for v in cost)
              + " | count: " + " ".join(f"{v:5.1f}" for v in counts)
              + f" | {mean_error:6.1f} {skew:5.2f}", flush=True)
    print(f"largest difference {worst:.1f} standard errors; {same} lines identical")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--moments-above", type=float, default=MOMENTS_ABOVE)
    args = parser.parse_args()
    worst = max(check(copies, args.simulations, args.seed, args.moments_above)
                for copies in args.copies)
    print(f"\nlargest difference over all sizes: {worst:.1f} standard errors")


if __name__ == "__main__":
    main()
