"""Benchmark: the sample county's forecast at 10,000 simulations, run where?

The demand models are fitted once; the forecast (open books, new starts, moves, in
blocks of ``SIM_BLOCK`` simulations) is then timed with no executor (threads over this
machine's cores), on a ``ProcessPoolExecutor`` and, if ``distributed`` is installed,
on a local Dask cluster, each beside a check that the arrays are exactly those of the
local run. Wall time and this process's CPU time are printed (the pool's first run
includes starting its workers; the second is warm). Peak resident memory is printed
for 2,000 and 10,000 simulations run locally.

Run: ``python benchmarks/bench_executors.py [--simulations 10000] [--workers 2] [--dask]``.
"""

from __future__ import annotations

import argparse
import resource
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import forecastlib as fl
from forecastlib.simulation import DemandModels


def timed(label: str, run, reference=None):
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    same = "" if reference is None else (
        f"  same arrays: {np.array_equal(result.paths, reference.paths)}")
    print(f"{label:<34} wall {wall:6.2f} s  cpu here {cpu:6.2f} s{same}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", action="store_true")
    args = parser.parse_args()
    sample = fl.load_sample()
    start = time.perf_counter()
    models = DemandModels.fit(sample.placements, sample.as_at)
    print(f"fit the demand models             wall {time.perf_counter() - start:6.2f} s")

    def forecast(simulations=args.simulations, executor=None):
        return fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                                   actuals=sample.actuals, models=models, seed=1,
                                   simulations=simulations, executor=executor)

    timed("2,000 simulations, local", lambda: forecast(2000))
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    local = timed(f"{args.simulations:,} simulations, local", forecast)
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    with ProcessPoolExecutor(args.workers) as pool:
        timed(f"process pool ({args.workers}), first", lambda: forecast(executor=pool), local)
        timed(f"process pool ({args.workers}), warm", lambda: forecast(executor=pool), local)
    if args.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            executor = client.get_executor()
            timed(f"Dask ({args.workers} processes)", lambda: forecast(executor=executor),
                  local)


if __name__ == "__main__":
    main()
