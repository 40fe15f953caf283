"""``forecastlib activity``: the key activity table."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecastlib.cli.common import CommandOutput, add_inputs, check_as_at, parse_as_at
from forecastlib.records import read_budget, read_placements
from forecastlib.report import format_key_activity, key_activity, neutralise_formulas

__all__ = ["register"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``activity`` command."""
    activity = commands.add_parser(
        "activity", help="key activity data per line",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  forecastlib activity --placements placements.csv --budget budget.csv "
               "--as-at 2017-10-31\n  forecastlib activity ... --format csv --output "
               "activity.csv\n\nBudgeted placements x weeks x unit cost against the snapshot, "
               "yearly average and\nactual unit cost, with the exact volume / price split.")
    add_inputs(activity, actuals=False)
    activity.add_argument("--format", choices=["table", "csv"], default="table")
    activity.add_argument("--output", type=Path, metavar="FILE")
    activity.set_defaults(handler=run_activity)


def run_activity(args: argparse.Namespace) -> CommandOutput:
    as_at = parse_as_at(args.as_at)
    placements = read_placements(args.placements)
    check_as_at(placements, as_at)
    table = key_activity(placements, read_budget(args.budget), as_at)
    if args.format == "csv":
        return CommandOutput(neutralise_formulas(table.reset_index()).to_csv(
            index=False, lineterminator="\n"), table.attrs.get("notes"))
    return CommandOutput(format_key_activity(table) + "\n", table.attrs.get("notes"))
