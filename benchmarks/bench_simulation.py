"""Benchmark: throughput of the per-placement outturn projection.

100,000 open placements (ages spread over three years, log-normal stays with a mean of
600 days, remaining year five months) are projected to year-end for N simulations
with ``OpenBook.simulate`` in its memory-bounded blocks, and the throughput in
placement-simulations per second is printed beside, measured in the same run:

* the bare numpy cost of one random draw per placement-simulation (``Generator.random``
  in float32, the same blocks), the floor any simulation must pay;
* a naive Python loop doing the same projection, on a small slice, for scale.

The same book with 40 parameter draws of its stay (simulation ``s`` under draw ``s mod
40``, one kernel call per block with a row of thresholds per draw) is timed beside it.
The simulated mean is printed beside the exact analytic mean (and how many standard
errors apart). Peak memory (``tracemalloc``, which sees numpy's allocations) is printed
for several N beside the bare draws' peak in the same run, to show it stays flat as N
grows. Targets (issue 4): at least half the bare numpy throughput; 100k placements x
10,000 simulations in under 10 s; memory flat in N.

Run: ``python benchmarks/bench_simulation.py [--placements 100000] [--simulations 10000]``.
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

import numpy as np
from scipy import stats

from forecastlib.simulation import OpenBook
from forecastlib.streams import stream

LINE = ("Benchmark", "Open placements")


def make_book(placements: int, mean_stay: float = 600.0) -> OpenBook:
    rng = np.random.default_rng(0)
    sigma = 0.9
    distribution = stats.lognorm(sigma, scale=np.exp(np.log(mean_stay) - sigma**2 / 2))
    return OpenBook(daily=rng.uniform(20, 600, placements),
                    age=rng.integers(1, 3 * 365, placements).astype(float),
                    distribution=distribution,
                    month_ends=np.array([30.0, 61, 92, 120, 151]))


def with_draws(book: OpenBook, draws: int = 40) -> OpenBook:
    """The book with ``draws`` parameter sets of its log-normal stay around the fit."""
    from forecastlib.demand import StayDraws

    rng = np.random.default_rng(1)
    sigma, scale = book.distribution.args[0], book.distribution.kwds["scale"]
    sets = StayDraws("lognormal", sigma * np.exp(rng.normal(0, 0.05, draws)),
                     scale * np.exp(rng.normal(0, 0.05, draws)))
    return OpenBook(book.daily, book.age, book.distribution, book.month_ends, draws=sets)


def peak_of(function, *args) -> float:
    """Peak traced memory (MiB) of one call."""
    tracemalloc.start()
    function(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def project(book: OpenBook, simulations: int, workers: int | None = None) -> np.ndarray:
    paths, _ = book.simulate_all(1, LINE, simulations, workers=workers)
    return paths[:, -1]


def bare_draws(book: OpenBook, simulations: int) -> float:
    size = book.chunk_size(simulations)
    checksum = 0.0
    for chunk, first in enumerate(range(0, simulations, size)):
        count = min(size, simulations - first)
        draws = stream(1, LINE, "ends", chunk).random((count, len(book.daily)),
                                                      dtype=np.float32)
        checksum += float(draws[0, 0])
    return checksum


def python_loop(book: OpenBook, simulations: int, placements: int) -> float:
    rng = np.random.default_rng(2)
    horizon = book.month_ends[-1]
    survived = book.survived
    total = 0.0
    for _ in range(simulations):
        for i in range(placements):
            stay = book.distribution.isf(rng.random() * survived[i])
            remaining = min(max(math.ceil(stay - book.age[i]), 1), horizon)
            total += book.daily[i] * remaining
    return total


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--placements", type=int, default=100_000)
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--mean-stay", type=float, default=600.0,
                        help="mean length of stay in days (longer: fewer ends this year)")
    args = parser.parse_args()
    book = make_book(args.placements, args.mean_stay)
    cells = args.placements * args.simulations

    engine_time, totals = timed(project, book, args.simulations)
    bare_time, _ = timed(bare_draws, book, args.simulations)
    drawn_book = with_draws(book)
    drawn_time, drawn_totals = timed(project, drawn_book, args.simulations)
    loop_placements, loop_simulations = 200, 5
    loop_time, _ = timed(python_loop, book, loop_simulations, loop_placements)
    loop_rate = loop_placements * loop_simulations / loop_time
    mean, variance = book.expected_cost()
    error = (totals.mean() - mean) / math.sqrt(variance / args.simulations)

    print(f"{args.placements:,} open placements x {args.simulations:,} simulations "
          f"({cells:,} placement-simulations), block of {book.chunk_size(args.simulations)}")
    events = 1 - book.beyond_year.mean()
    direct = book._sample_events(book.chunk_size(args.simulations), book._threshold)
    print(f"placements ending this year: {events:.1%} of cells; kernel: "
          f"{'events drawn directly' if direct else 'a uniform per cell'}")
    print(f"engine (OpenBook.simulate)     {engine_time:7.2f} s  {cells / engine_time:14,.0f} /s"
          f"   target < 10 s: {'PASS' if engine_time < 10 else 'MISS'}")
    print(f"bare numpy, one draw each      {bare_time:7.2f} s  {cells / bare_time:14,.0f} /s")
    ratio = bare_time / engine_time
    print(f"engine / bare numpy throughput {ratio:7.2f}      target >= 0.5: "
          f"{'PASS' if ratio >= 0.5 else 'MISS'}")
    speed_up = cells / engine_time / loop_rate
    print(f"naive Python loop              {'':7} {loop_rate:16,.0f} /s   (measured on "
          f"{loop_placements} x {loop_simulations}); engine is x{speed_up:,.0f}")
    print(f"engine, 40 stay draws          {drawn_time:7.2f} s  {cells / drawn_time:14,.0f} /s"
          f"   ({drawn_time / engine_time:.2f} x the engine without draws)")
    print(f"simulated mean {totals.mean():,.0f} beside the exact analytic mean {mean:,.0f}: "
          f"{error:+.2f} standard errors")
    drawn_mean, drawn_variance = drawn_book.expected_cost()
    drawn_error = (drawn_totals.mean() - drawn_mean) / math.sqrt(drawn_variance
                                                                 / args.simulations)
    print(f"with 40 draws: simulated {drawn_totals.mean():,.0f} beside exact {drawn_mean:,.0f}: "
          f"{drawn_error:+.2f} standard errors")

    print("\npeak memory (tracemalloc) as simulations grow, beside the bare draws' peak:")
    for simulations in (1_000, 5_000, args.simulations):
        engine_peak = peak_of(project, book, simulations)
        bare_peak = peak_of(bare_draws, book, simulations)
        print(f"  {simulations:>7,} simulations: engine {engine_peak:8.1f} MiB   "
              f"bare draws {bare_peak:8.1f} MiB   ratio {engine_peak / bare_peak:5.2f}")


if __name__ == "__main__":
    main()
