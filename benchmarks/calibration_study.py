"""Calibration study of the outturn engine on truth-known authorities.

Simulates authorities with known start rates (trend and seasonality), lengths of stay
and prices (``forecastlib.datasets.truth``), forecasts each at the end of September and
of December from what its record held then, and compares with the true outturn: the 80%
interval's coverage (target 72-88%) and the mean's error against an oracle that knows
the true parameters.

Run: ``python benchmarks/calibration_study.py [--authorities 40]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

from forecastlib.datasets.calibration import calibration_study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--authorities", type=int, default=40)
    parser.add_argument("--simulations", type=int, default=1000)
    args = parser.parse_args()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        study = calibration_study(args.authorities, simulations=args.simulations)
    table = study.groupby(["as_at", "line"]).agg(
        coverage=("covered", "mean"), oracle_coverage=("oracle_covered", "mean"),
        mae=("error", "mean"), oracle_mae=("oracle_error", "mean"))
    table["mae_vs_oracle"] = table["mae"] / table["oracle_mae"]
    pd.set_option("display.width", 120)
    print(table.round(3).to_string())
    print(f"\n{len(study)} line forecasts: 80% interval coverage {study['covered'].mean():.1%} "
          f"(oracle {study['oracle_covered'].mean():.1%}; target 72-88%); mean absolute "
          f"error {study['error'].mean():,.0f} vs oracle {study['oracle_error'].mean():,.0f} "
          f"(ratio {study['error'].mean() / study['oracle_error'].mean():.3f}); "
          f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
