"""Benchmark: a 1.1M-row record with two lumpy small lines, forecast at 1,000 simulations.

The record is the sample county's placements copied 40 times (each copy its own
clients and placement ids, so every line holds 40 times the sample's volume: an
authority of about 1.1 million placement episodes), plus two small lines of a very
ordinary shape that once asked numpy for 10.6 TiB (issue 10):

* a new code whose 35 placements all started in the last two months before ``as_at``;
* a need re-coded on one migration day: 30 placements all starting on one date.

The budget is the sample's with planned placements scaled by the same factor, plus a
line for each lumpy code. It prints the time to build, to fit the demand models and to
forecast, and the peak resident memory of the process (``resource.getrusage``). Target
(issue 10): within 4 GB at 1,000 simulations. Baselines, measured in the same run: the
fit on one copy of the sample scaled by the number of copies (what a fit linear in rows
would take), its projected starts times the copies, and a bare numpy kernel drawing one
float per open placement and simulation (the floor any simulation must pay).

Run: ``python benchmarks/bench_large_record.py [--copies 40] [--simulations 1000]
[--no-lumpy]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
from sample_copies import copy_sample

from forecastlib.datasets import load_sample
from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import DemandModels

NEW_CODE = ("LAC Placements", "Supported accommodation 16-17")
MIGRATED = ("Learning Disability", "Shared lives (migrated)")


def lumpy_lines(template: pd.DataFrame, as_at: pd.Timestamp) -> pd.DataFrame:
    """The two lumpy small lines (open weekly placements), in the template's columns."""
    rng = np.random.default_rng(10)
    recent = as_at - pd.to_timedelta(rng.integers(0, 61, 35), unit="D")
    migration_day = as_at - pd.Timedelta(days=95)
    frame = pd.DataFrame({
        "placement_id": [f"NEW{n:04d}" for n in range(35)] + [f"MIG{n:04d}" for n in range(30)],
        "client_id": [f"CNEW{n:04d}" for n in range(35)] + [f"CMIG{n:04d}" for n in range(30)],
        "service": [NEW_CODE[0]] * 35 + [MIGRATED[0]] * 30,
        "category": [NEW_CODE[1]] * 35 + [MIGRATED[1]] * 30,
        "start_date": list(recent) + [migration_day] * 30,
        "end_date": pd.NaT, "planned_end_date": pd.NaT,
        "unit_cost": [1850.0] * 35 + [640.0] * 30, "unit": "week", "units_per_week": 1.0,
        "weeks_per_year": 52.0, "funding": template["funding"].iloc[0], "income_per_week": 0.0,
    })
    for column in template.columns:
        frame[column] = frame[column].astype(template[column].dtype)
    return frame[template.columns]


def build(copies: int, lumpy: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, object]:
    placements, budget, actuals, as_at = copy_sample(copies)
    if lumpy:
        base = load_sample().placements
        extra = budget.iloc[[0, 0]].copy()
        extra["service"] = [NEW_CODE[0], MIGRATED[0]]
        extra["category"] = [NEW_CODE[1], MIGRATED[1]]
        extra["budget_placements"] = [35.0, 30.0]
        extra["budget_unit_cost"] = [1850.0, 640.0]
        extra["annual_budget"] = np.nan
        budget = pd.concat([budget, extra], ignore_index=True)
        placements = pd.concat([placements, lumpy_lines(base, pd.Timestamp(as_at))],
                               ignore_index=True)
    return placements, budget, actuals, as_at


def bare_kernel(placements: pd.DataFrame, as_at: object, simulations: int) -> tuple[float, int]:
    """Seconds for one uniform draw per open placement and simulation, in blocks of 100."""
    as_at = pd.Timestamp(as_at)
    ends = placements["end_date"]
    open_now = int(((placements["start_date"] <= as_at) & (ends.isna() | (ends > as_at))).sum())
    rng = np.random.default_rng(0)
    clock = time.perf_counter()
    for first in range(0, simulations, 100):
        rng.random((min(100, simulations - first), open_now), dtype=np.float32)
    return time.perf_counter() - clock, open_now


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--simulations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-lumpy", dest="lumpy", action="store_false")
    args = parser.parse_args()

    clock = time.perf_counter()
    placements, budget, actuals, as_at = build(args.copies, args.lumpy)
    built = time.perf_counter() - clock
    print(f"record: {len(placements):,} placements, {len(budget)} budget lines "
          f"(lumpy lines: {'yes' if args.lumpy else 'no'}); built in {built:.1f} s, "
          f"peak RSS {peak_rss_gb():.2f} GB (target: within 4 GB)", flush=True)

    sample = load_sample()
    clock = time.perf_counter()
    one_copy = DemandModels.fit(sample.placements, sample.as_at)
    linear = (time.perf_counter() - clock) * args.copies
    clock = time.perf_counter()
    models = DemandModels.fit(placements, as_at)
    fitted = time.perf_counter() - clock
    print(f"demand models fitted in {fitted:.1f} s (one copy x {args.copies}, linear in rows: "
          f"{linear:.1f} s; ratio {fitted / linear:.2f}), peak RSS {peak_rss_gb():.2f} GB",
          flush=True)
    expected = models.starts.expected(6).sum(axis=1) if models.starts is not None else None
    if expected is not None:
        baseline = one_copy.starts.expected(6).sum(axis=1) * args.copies
        shown = list(expected.sort_values(ascending=False).head(2).index)
        shown += [line for line in (NEW_CODE, MIGRATED) if line in expected.index]
        for line in shown:
            scaled = (f"one copy x {args.copies}: {baseline[line]:,.0f}"
                      if line in baseline.index else "not in one copy")
            print(f"  projected starts, next 6 months: {expected[line]:,.0f} ({scaled})  {line}")

    clock = time.perf_counter()
    result = forecast_outturn(placements, budget, as_at, actuals=actuals, models=models,
                              simulations=args.simulations, seed=args.seed)
    forecast = time.perf_counter() - clock
    kernel, open_now = bare_kernel(placements, as_at, args.simulations)
    print(f"forecast at {args.simulations:,} simulations in {forecast:.1f} s (bare numpy, one "
          f"draw per open placement x simulation, {open_now:,} x {args.simulations:,}: "
          f"{kernel:.2f} s; ratio {forecast / kernel:,.0f})")
    total = built + fitted + forecast
    print(f"total {total:.1f} s (bare kernel {kernel:.2f} s; ratio {total / kernel:,.0f}); "
          f"peak RSS {peak_rss_gb():.2f} GB (target: within 4 GB)")
    print(f"total outturn: mean GBP {float(result.total['mean']):,.0f}, "
          f"budget GBP {float(result.total['budget']):,.0f}")


if __name__ == "__main__":
    main()
