"""``forecastlib forecast`` and ``forecastlib demo``: the outturn forecast."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecastlib.cli.common import (
    CommandOutput,
    UsageError,
    add_forecast_options,
    add_inputs,
    check_as_at,
    forecast_inputs,
    forecast_options,
    parse_as_at,
    render,
    workers,
)
from forecastlib.cli.outputs import (
    add_pack_options,
    add_policy_options,
    policy_from_args,
    wants_workbook,
    write_plots,
)
from forecastlib.datasets import load_sample
from forecastlib.outturn import backtest_outturn, forecast_outturn, outturn_from_inputs
from forecastlib.records import (
    read_actuals,
    read_budget,
    read_placements,
    read_ssda903_folder,
    read_table,
)
from forecastlib.scenarios import load_scenario, merge_scenarios

__all__ = ["register"]

FORECAST_EXAMPLES = """\
examples:
  forecastlib forecast --placements placements.csv --budget budget.csv \\
      --actuals actuals.csv --as-at 2017-10-31
  forecastlib forecast ... --format json --output forecast.json
  forecastlib forecast ... --output pack.xlsx --plots charts/   (the committee pack)
  forecastlib forecast ... --scenario extra_residential.yaml --seed 1
  forecastlib forecast ... --no-new-starts --red-share 10% --commentary-amount 250000
"""

DEMO_EXAMPLES = """\
examples:
  forecastlib demo
  forecastlib demo --format json --simulations 2000 --seed 1
  forecastlib demo --output pack.xlsx --plots charts/
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``demo`` and ``forecast`` commands."""
    demo = commands.add_parser("demo", help="forecast the sample county shipped inside",
                               epilog=DEMO_EXAMPLES,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--format", choices=["table", "json", "csv"], default="table")
    demo.add_argument("--simulations", type=int, default=10_000, metavar="N")
    demo.add_argument("--seed", type=int, default=0, metavar="N")
    demo.add_argument("--output", type=Path, metavar="FILE",
                      help="write to FILE; a name ending .xlsx gets the Excel committee pack")
    add_pack_options(demo)
    add_policy_options(demo)
    demo.set_defaults(handler=run_demo)

    forecast = commands.add_parser("forecast", help="forecast the outturn of your files",
                                   epilog=FORECAST_EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inputs(forecast, actuals=True, ssda903=True)
    forecast.add_argument("--ssda903-mapping", type=Path, metavar="FILE",
                          help="CSV of code (PLACE or PLACE/PLACE_PROVIDER), category")
    forecast.add_argument("--ssda903-prices", type=Path, metavar="FILE",
                          help="CSV of category, weekly_price")
    add_forecast_options(forecast)
    forecast.add_argument("--scenario", action="append", default=[], metavar="FILE")
    forecast.add_argument("--calibrate", action="store_true",
                          help="scale the intervals by the factor learnt from a backtest of "
                               "the last two years (see forecastlib backtest)")
    forecast.add_argument("--format", choices=["table", "json", "csv"], default="table")
    forecast.add_argument("--output", type=Path, metavar="FILE",
                          help="write to FILE; a name ending .xlsx gets the Excel committee "
                               "pack")
    add_pack_options(forecast)
    add_policy_options(forecast)
    forecast.set_defaults(handler=run_forecast)


def run_forecast(args: argparse.Namespace) -> CommandOutput:
    scenario = merge_scenarios([load_scenario(path) for path in args.scenario]) \
        if args.scenario else None
    as_at = parse_as_at(args.as_at)
    policy = policy_from_args(args)
    placements = (read_placements(args.placements) if args.ssda903 is None else
                  read_ssda903_folder(args.ssda903, **ssda903_options(args)))
    check_as_at(placements, as_at)
    budget = read_budget(args.budget)
    actuals = read_actuals(args.actuals) if args.actuals is not None else None
    inputs = forecast_inputs(args, placements, budget, as_at, actuals,
                             fit=scenario is not None)
    options = forecast_options(args, policy)
    result = outturn_from_inputs(inputs, options, scenario, executor=workers())
    if args.calibrate:
        result = backtest_outturn(placements, budget, as_at, interval=args.interval,
                                  seed=args.seed, new_starts=not args.no_new_starts
                                  ).calibrate(result)
    base = None
    if scenario is not None:
        def base() -> tuple[str, object]:
            return scenario.name, outturn_from_inputs(inputs, options, executor=workers())
    return _finish(args, result, placements, budget, actuals, policy, base=base)


def ssda903_options(args: argparse.Namespace) -> dict:
    """The ``mapping`` and ``prices`` overrides of ``--ssda903-mapping``/``--ssda903-prices``
    (two-column CSV files with a header row)."""
    options = {}
    for option, key, value in ((args.ssda903_mapping, "mapping", str),
                               (args.ssda903_prices, "prices", float)):
        if option is None:
            continue
        table, label = read_table(option)
        if table.shape[1] != 2:
            raise UsageError(f"{label}: expected two columns, found {table.shape[1]}")
        try:
            options[key] = {str(k).strip(): value(str(v).strip())
                            for k, v in table.itertuples(index=False)}
        except ValueError as error:
            raise UsageError(f"{label}: {error}") from None
    return options


def run_demo(args: argparse.Namespace) -> CommandOutput:
    sample = load_sample()
    policy = policy_from_args(args)
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=args.simulations,
                              seed=args.seed, policy=policy, executor=workers())
    return _finish(args, result, sample.placements, sample.budget, sample.actuals, policy)


def _finish(args, result, placements, budget, actuals, policy, base=None) -> CommandOutput:
    """The requested text or workbook, and the charts."""
    notes = list(result.notes)
    if args.plots is not None:
        from forecastlib.report.plots import cumulative_actuals

        history = cumulative_actuals(placements, result.as_at, actuals=actuals)
        notes += write_plots(args.plots, result, history=history, policy=policy)
    if not wants_workbook(args):
        return CommandOutput(render(result, args.format, policy), notes)
    from forecastlib.report.workbook import committee_pack

    scenarios = None
    if base is not None:
        from forecastlib.whatif import compare

        name, base_result = base()
        scenarios = compare(base_result, result, names=[name])
    return CommandOutput(committee_pack(result, placements=placements, budget=budget,
                                        actuals=actuals, scenarios=scenarios, policy=policy),
                         notes)
