"""CPU and wall time of the simulate step alone on the sample copied ``--copies`` times.

``bench_national.py``'s wall times swing with the machine's load; the process's CPU time
of ``forecast_outturn`` (models fitted beforehand, not timed) is steadier. Compare two
trees by running this script with ``PYTHONPATH`` set to each in turn, interleaved.

Run: ``nice -n 10 python benchmarks/bench_simulate_cpu.py [--copies 18]
[--simulations 10000] [--moments-above 1000 | --exact]`` (from the ``benchmarks``
folder; ``--moments-above`` / ``--exact`` need a tree with the option).
"""

from __future__ import annotations

import argparse
import time

from sample_copies import copy_sample

import forecastlib
from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import DemandModels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=18)
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--moments-above", type=float, default=None)
    parser.add_argument("--exact", action="store_true")
    args = parser.parse_args()
    placements, budget, actuals, as_at = copy_sample(args.copies)
    models = DemandModels.fit(placements, as_at)
    options = {}
    if args.exact:
        options["moments_above"] = None
    elif args.moments_above is not None:
        options["moments_above"] = args.moments_above
    wall, cpu = time.perf_counter(), time.process_time()
    result = forecast_outturn(placements, budget, as_at, actuals=actuals, models=models,
                              simulations=args.simulations, seed=args.seed, **options)
    print(f"{forecastlib.__file__.split('/src/')[0]}: simulate wall "
          f"{time.perf_counter() - wall:.1f} s, CPU {time.process_time() - cpu:.1f} s; "
          f"total mean {result.total['mean']:,.0f}", flush=True)


if __name__ == "__main__":
    main()
