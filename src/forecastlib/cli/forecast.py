"""``forecastlib forecast`` and ``forecastlib demo``: the outturn forecast."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecastlib.cli.common import CommandOutput, add_inputs, parse_as_at, render
from forecastlib.datasets import load_sample
from forecastlib.outturn import backtest_outturn, forecast_outturn
from forecastlib.records import read_actuals, read_budget, read_placements
from forecastlib.scenarios import load_scenario, merge_scenarios

__all__ = ["register"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` and ``forecast`` commands."""
    demo = commands.add_parser("demo", help="forecast the sample county shipped inside")
    demo.add_argument("--format", choices=["table", "json", "csv"], default="table")
    demo.add_argument("--simulations", type=int, default=10_000, metavar="N")
    demo.add_argument("--seed", type=int, default=0, metavar="N")
    demo.set_defaults(handler=run_demo)

    forecast = commands.add_parser("forecast", help="forecast the outturn of your files")
    add_inputs(forecast, actuals=True)
    forecast.add_argument("--simulations", type=int, default=10_000, metavar="N")
    forecast.add_argument("--seed", type=int, default=None, metavar="N")
    forecast.add_argument("--interval", type=float, default=0.8)
    forecast.add_argument("--scenario", action="append", default=[], metavar="FILE")
    forecast.add_argument("--no-new-starts", action="store_true",
                          help="leave out projected new placements")
    forecast.add_argument("--no-planned-ends", action="store_true",
                          help="ignore planned_end_date")
    forecast.add_argument("--calibrate", action="store_true",
                          help="scale the intervals by the factor learnt from a backtest of "
                               "the last two years (see forecastlib backtest)")
    forecast.add_argument("--format", choices=["table", "json", "csv"], default="table")
    forecast.add_argument("--output", type=Path, metavar="FILE")
    forecast.set_defaults(handler=run_forecast)


def run_forecast(args: argparse.Namespace) -> CommandOutput:
    scenario = merge_scenarios([load_scenario(path) for path in args.scenario]) \
        if args.scenario else None
    as_at = parse_as_at(args.as_at)
    placements = read_placements(args.placements)
    budget = read_budget(args.budget)
    actuals = read_actuals(args.actuals) if args.actuals is not None else None
    result = forecast_outturn(
        placements, budget, as_at, actuals=actuals, new_starts=not args.no_new_starts,
        use_planned_ends=not args.no_planned_ends, interval=args.interval,
        simulations=args.simulations, seed=args.seed, scenario=scenario)
    if args.calibrate:
        result = backtest_outturn(placements, budget, as_at, interval=args.interval,
                                  seed=args.seed, new_starts=not args.no_new_starts
                                  ).calibrate(result)
    return CommandOutput(render(result, args.format), result.notes)


def run_demo(args: argparse.Namespace) -> CommandOutput:
    sample = load_sample()
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=args.simulations,
                              seed=args.seed)
    return CommandOutput(render(result, args.format), result.notes)
