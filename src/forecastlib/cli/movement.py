"""``forecastlib movement``: the change in the forecast since last month, explained."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from forecastlib.cli.common import CommandOutput, add_forecast_options, parse_as_at
from forecastlib.cli.outputs import (
    add_pack_options,
    add_policy_options,
    policy_from_args,
    wants_workbook,
    write_plots,
)
from forecastlib.outturn.movement import movement
from forecastlib.records import read_actuals, read_budget, read_placements
from forecastlib.report.movement import format_movement, movement_to_csv, movement_to_json_dict

__all__ = ["register"]

EXAMPLES = """\
examples:
  forecastlib movement --placements oct.csv --previous-placements sep.csv \\
      --budget budget.csv --as-at 2017-10-31 --previous-as-at 2017-09-30
  forecastlib movement ... --actuals oct_ledger.csv --previous-actuals sep_ledger.csv
  forecastlib movement ... --format json --output movement.json
  forecastlib movement ... --output pack.xlsx --plots charts/

The change in each line's forecast mean splits exactly (to the penny) into new
placements, ended placements, price changes, moves between lines, ledger actuals and
model (everything else); both months are forecast on the same --seed.
"""


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``movement`` command."""
    parser = commands.add_parser("movement", help="the change since last month, explained",
                                 epilog=EXAMPLES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--placements", required=True, type=Path, metavar="NOW",
                        help="this month's placements")
    parser.add_argument("--previous-placements", required=True, type=Path, metavar="BEFORE",
                        help="last month's placements, as they stood then")
    parser.add_argument("--budget", required=True, type=Path, metavar="FILE")
    parser.add_argument("--as-at", required=True, dest="as_at", metavar="DATE")
    parser.add_argument("--previous-as-at", required=True, dest="previous_as_at",
                        metavar="DATE")
    parser.add_argument("--actuals", type=Path, metavar="FILE")
    parser.add_argument("--previous-actuals", type=Path, metavar="FILE")
    add_forecast_options(parser)
    parser.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write to FILE; a name ending .xlsx gets the Excel committee pack")
    add_pack_options(parser)
    add_policy_options(parser)
    parser.set_defaults(handler=run_movement)


def run_movement(args: argparse.Namespace) -> CommandOutput:
    as_at = parse_as_at(args.as_at)
    previous_as_at = parse_as_at(args.previous_as_at, "--previous-as-at")
    policy = policy_from_args(args)
    workbook = wants_workbook(args)
    placements = read_placements(args.placements)
    previous = read_placements(args.previous_placements)
    budget = read_budget(args.budget)
    actuals = read_actuals(args.actuals) if args.actuals is not None else None
    previous_actuals = (read_actuals(args.previous_actuals)
                        if args.previous_actuals is not None else None)
    moved = movement(previous, placements, budget, previous_as_at, as_at, actuals=actuals,
                     previous_actuals=previous_actuals, new_starts=not args.no_new_starts,
                     use_planned_ends=not args.no_planned_ends, interval=args.interval,
                     simulations=args.simulations, seed=args.seed, policy=policy)
    notes = [*moved.current.notes, *moved.notes]
    if args.plots is not None:
        from forecastlib.report.plots import cumulative_actuals

        history = cumulative_actuals(placements, as_at, actuals=actuals)
        notes += write_plots(args.plots, moved.current, history=history, moved=moved,
                             policy=policy)
    if workbook:
        from forecastlib.report.workbook import committee_pack

        return CommandOutput(committee_pack(moved.current, placements=placements,
                                            budget=budget, actuals=actuals, movement=moved,
                                            policy=policy), notes)
    if args.format == "json":
        return CommandOutput(json.dumps(movement_to_json_dict(moved), indent=2,
                                        ensure_ascii=False) + "\n", notes)
    if args.format == "csv":
        return CommandOutput(movement_to_csv(moved), notes)
    return CommandOutput(format_movement(moved) + "\n", notes)
