"""Benchmark: read + validate and accrue a large placement book.

Generates N placements (default 1,000,000) with the sample's mix of units, writes
them to a CSV, then times, each as the best of ``--repeat`` runs:

* ``read_placements`` on the CSV (read + vectorised validation);
* ``accrue`` (per-placement cost to date, committed, year) and ``line_activity``
  (the same plus per-line aggregation);
* a baseline in the same run: a plain pandas row-wise ``apply`` of the same accrual
  on a slice of the book, scaled to N (a row-wise apply is linear in rows).

Targets (issue 2): read + validate 1M rows < 5 s; accrual of 1M placements < 0.3 s.
Run: ``python benchmarks/bench_io_accrual.py [--rows N] [--repeat K]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.accrual import accrue, line_activity
from forecastlib.records import read_placements

AS_AT = pd.Timestamp("2017-10-31")


def make_book(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2012-04-01") + rng.integers(0, 2200, rows).astype("timedelta64[D]")
    length = rng.lognormal(6, 1, rows).astype("int64") + 1
    end = start + length.astype("timedelta64[D]")
    is_open = end > np.datetime64("2017-10-31")
    units = rng.choice(["week", "hour", "year", "day"], rows, p=[0.7, 0.15, 0.1, 0.05])
    return pd.DataFrame({
        "placement_id": np.char.add("P", np.arange(rows).astype(str)),
        "client_id": np.char.add("C", rng.integers(0, rows // 2 + 1, rows).astype(str)),
        "service": rng.choice(["LAC Placements", "SEN Placements", "Older People"], rows),
        "category": rng.choice(["Residential", "Fostering", "Homecare", "ASD", "Nursing"], rows),
        "start_date": np.datetime_as_string(start),
        "end_date": np.where(is_open, "", np.datetime_as_string(end)),
        "planned_end_date": "",
        "unit_cost": rng.lognormal(6, 1, rows).round(2),
        "unit": units,
        "units_per_week": np.where(units == "hour", 10.0, 1.0),
        "weeks_per_year": rng.choice([52.0, 56.0, 39.0], rows),
        "funding": "GF",
        "income_per_week": np.where(rng.random(rows) < 0.2, 25.0, 0.0),
    })


def row_accrual(row: pd.Series) -> pd.Series:
    """The contract's accrual for one row, written the obvious way (the baseline)."""
    first, last = pd.Timestamp("2017-04-01"), pd.Timestamp("2018-03-31")
    end = row["end_date"] if pd.notna(row["end_date"]) else last
    if row["unit"] == "year":
        daily = row["unit_cost"] / 365
    else:
        daily = row["unit_cost"] * row["units_per_week"] * row["weeks_per_year"] / 52 / 7
    daily -= row["income_per_week"] / 7
    to_date = max(0, (min(end, AS_AT) - max(row["start_date"], first)).days + 1)
    committed = max(0, (min(end, last) - max(row["start_date"], AS_AT + pd.Timedelta(days=1)))
                    .days + 1)
    return pd.Series({"net_to_date": daily * to_date, "net_committed": daily * committed})


def best(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    args = parser.parse_args()

    raw = make_book(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "placements.csv"
        raw.to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        read_time, book = best(lambda: read_placements(path), args.repeat)
    accrue_time, accrued = best(lambda: accrue(book, AS_AT), args.repeat)
    lines_time, _ = best(lambda: line_activity(book, AS_AT), args.repeat)

    sample = book.iloc[: args.baseline_rows]
    started = time.perf_counter()
    baseline = sample.apply(row_accrual, axis=1)
    baseline_time = (time.perf_counter() - started) * args.rows / len(sample)
    ours = accrued.iloc[: args.baseline_rows]
    agree = np.allclose(baseline["net_to_date"], ours["net_to_date"], atol=1e-6) and np.allclose(
        baseline["net_committed"], ours["net_committed"], atol=1e-6)

    n = f"{args.rows:,}"
    print(f"placements: {n} rows, CSV {size_mb:.0f} MB, best of {args.repeat}")
    print(f"read + validate           {read_time:8.3f} s   target < 5 s      "
          f"{'PASS' if read_time < 5 else 'MISS'}")
    print(f"accrue (per placement)    {accrue_time:8.3f} s   target < 0.3 s    "
          f"{'PASS' if accrue_time < 0.3 else 'MISS'}")
    print(f"line_activity (+ lines)   {lines_time:8.3f} s   accrue alone {accrue_time:.3f} s; "
          f"speed-up over row-wise x{baseline_time / lines_time:,.0f}")
    print(f"baseline row-wise apply   {baseline_time:8.3f} s   (measured on "
          f"{len(sample):,} rows, scaled to {n}); speed-up x{baseline_time / accrue_time:,.0f}")
    print(f"baseline agrees with accrue on those rows: {agree}")


if __name__ == "__main__":
    main()
