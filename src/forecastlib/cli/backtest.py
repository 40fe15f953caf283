"""``forecastlib backtest``: how good this authority's own past forecasts would have been.

The ``table`` format shows coverage and error per line (and in total) and accuracy by
months before the year end; ``csv`` holds one row per origin and line (error, interval,
hit); ``json`` holds all three.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from forecastlib.calendar import fy_label
from forecastlib.cli.common import CommandOutput, add_forecast_options, add_inputs, parse_as_at
from forecastlib.outturn import BacktestResult, backtest_outturn
from forecastlib.records import read_budget, read_placements

__all__ = ["register"]

_WIDTH = 100


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` command."""
    backtest = commands.add_parser(
        "backtest", help="re-forecast past month-ends and compare with the outturn")
    add_inputs(backtest, actuals=False)
    backtest.add_argument("--years", type=int, default=2, metavar="N",
                          help="completed financial years to go back (default 2)")
    backtest.add_argument("--months", type=int, nargs="+", default=None, metavar="M",
                          help="months before the year end to forecast from (default 11 to "
                               "1: every month-end from April to February)")
    add_forecast_options(backtest, simulations=1_000, seed=0, planned_ends=False)
    backtest.add_argument("--keep-planned-ends", action="store_true",
                          help="keep planned_end_date in past records (only when planned "
                               "ends were known from the start)")
    backtest.add_argument("--format", choices=["table", "json", "csv"], default="table")
    backtest.add_argument("--output", type=Path, metavar="FILE")
    backtest.set_defaults(handler=run_backtest)


def run_backtest(args: argparse.Namespace) -> CommandOutput:
    as_at = parse_as_at(args.as_at)
    result = backtest_outturn(
        read_placements(args.placements), read_budget(args.budget), as_at, years=args.years,
        simulations=args.simulations, interval=args.interval, seed=args.seed,
        months=args.months,
        new_starts=not args.no_new_starts,
        planned_ends="keep" if args.keep_planned_ends else "drop")
    if args.format == "csv":
        table = result.table.assign(as_at=result.table["as_at"].dt.strftime("%Y-%m-%d"))
        return CommandOutput(table.to_csv(index=False, lineterminator="\n"), result.notes)
    if args.format == "json":
        return CommandOutput(json.dumps(backtest_to_json_dict(result), indent=2) + "\n",
                             result.notes)
    return CommandOutput(format_backtest(result) + "\n", result.notes)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{key: _clean(value) for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


def backtest_to_json_dict(result: BacktestResult) -> dict[str, Any]:
    """The backtest as one JSON object: settings, factors, summaries and every forecast."""
    rows = result.table.assign(as_at=result.table["as_at"].dt.strftime("%Y-%m-%d"))
    return {
        "financial_years": result.years,
        "simulations": result.simulations,
        "interval": result.interval,
        "calibration_factor": {"lines": _clean(result.calibration_factor()),
                               "total": _clean(result.calibration_factor(total=True))},
        "coverage": _records(result.coverage().reset_index()),
        "by_months_before_year_end": _records(result.accuracy().reset_index()),
        "forecasts": _records(rows),
        "notes": result.notes,
    }


def _pct(value: float) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.1%}"


def format_backtest(result: BacktestResult) -> str:
    """Coverage per line and accuracy by months before the year end, as text tables."""
    years = ", ".join(fy_label(year) for year in result.years)
    title = (f"Backtest of {years}: forecasts from every month-end, {result.simulations:,} "
             f"simulations, {result.interval:.0%} intervals")
    header = (f"{'Line':<44}{'Forecasts':>10}{'Coverage':>10}{'Abs % err':>11}"
              f"{'Bias %':>9}{'Calibrated':>12}")
    out = [title, "=" * _WIDTH, header, "-" * _WIDTH]
    for (service, category), row in result.coverage().iterrows():
        label = f"{service} / {category}" if category else service
        label = label if len(label) <= 43 else label[:28] + "~" + label[-14:]
        if service == "All lines":
            out.append("-" * _WIDTH)
        out.append(f"{label:<44}{int(row['forecasts']):>10}{_pct(row['coverage']):>10}"
                   f"{_pct(row['mean_abs_pct_error']):>11}{_pct(row['mean_pct_error']):>9}"
                   f"{_pct(row['calibrated_coverage']):>12}")
    out += ["", f"{'Months before year end':<24}{'Lines: mean abs % err':>23}"
            f"{'weighted':>10}{'Total abs % err':>17}{'Cov. lines':>12}{'Cov. total':>12}",
            "-" * _WIDTH]
    for months, row in result.accuracy().iterrows():
        out.append(f"{months:<24}{_pct(row['mean_abs_pct_error_lines']):>23}"
                   f"{_pct(row['weighted_abs_pct_error_lines']):>10}"
                   f"{_pct(row['abs_pct_error_total']):>17}{_pct(row['coverage_lines']):>12}"
                   f"{_pct(row['coverage_total']):>12}")
    lines, total = result.calibration_factor(), result.calibration_factor(total=True)
    out += ["", f"Conformal factor (interval ends' distance from the mean x factor): lines "
            f"{lines:.2f}, total {total:.2f}.",
            "Calibrated: coverage of each year once scaled by the factor learnt from the "
            "other years."]
    return "\n".join(out)
