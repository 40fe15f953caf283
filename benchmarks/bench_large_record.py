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
(issue 10): within 4 GB at 1,000 simulations.

Run: ``python benchmarks/bench_large_record.py [--copies 40] [--simulations 1000]
[--no-lumpy]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

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
    sample = load_sample()
    base = sample.placements
    parts = []
    for copy in range(copies):
        part = base.copy()
        part["placement_id"] = f"K{copy:02d}-" + part["placement_id"]
        part["client_id"] = f"K{copy:02d}-" + part["client_id"]
        parts.append(part)
    budget = sample.budget.copy()
    budget["budget_placements"] = budget["budget_placements"] * copies
    budget["annual_budget"] = budget["annual_budget"] * copies
    if lumpy:
        parts.append(lumpy_lines(base, pd.Timestamp(sample.as_at)))
        extra = budget.iloc[[0, 0]].copy()
        extra["service"] = [NEW_CODE[0], MIGRATED[0]]
        extra["category"] = [NEW_CODE[1], MIGRATED[1]]
        extra["budget_placements"] = [35.0, 30.0]
        extra["budget_unit_cost"] = [1850.0, 640.0]
        extra["annual_budget"] = np.nan
        budget = pd.concat([budget, extra], ignore_index=True)
    placements = pd.concat(parts, ignore_index=True)
    actuals = sample.actuals.copy()
    actuals["amount"] = actuals["amount"] * copies
    return placements, budget, actuals, sample.as_at


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
          f"peak RSS {peak_rss_gb():.2f} GB", flush=True)

    clock = time.perf_counter()
    models = DemandModels.fit(placements, as_at)
    fitted = time.perf_counter() - clock
    print(f"demand models fitted in {fitted:.1f} s, peak RSS {peak_rss_gb():.2f} GB",
          flush=True)
    expected = models.starts.expected(6).sum(axis=1) if models.starts is not None else None
    if expected is not None:
        shown = list(expected.sort_values(ascending=False).head(2).index)
        shown += [line for line in (NEW_CODE, MIGRATED) if line in expected.index]
        for line in shown:
            print(f"  projected starts, next 6 months: {expected[line]:,.0f}  {line}")

    clock = time.perf_counter()
    result = forecast_outturn(placements, budget, as_at, actuals=actuals, models=models,
                              simulations=args.simulations, seed=args.seed)
    forecast = time.perf_counter() - clock
    print(f"forecast at {args.simulations:,} simulations in {forecast:.1f} s "
          f"(total {built + fitted + forecast:.1f} s); peak RSS {peak_rss_gb():.2f} GB "
          "(target: within 4 GB)")
    print(f"total outturn: mean GBP {float(result.total['mean']):,.0f}, "
          f"budget GBP {float(result.total['budget']):,.0f}")


if __name__ == "__main__":
    main()
