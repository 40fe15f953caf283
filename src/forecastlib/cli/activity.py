"""``forecastlib activity``: the key activity table."""

from __future__ import annotations

import argparse
from pathlib import Path

from forecastlib.cli.common import CommandOutput, add_inputs, parse_as_at
from forecastlib.records import read_budget, read_placements
from forecastlib.report import format_key_activity, key_activity

__all__ = ["register"]


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``activity`` command."""
    activity = commands.add_parser("activity", help="key activity data per line")
    add_inputs(activity, actuals=False)
    activity.add_argument("--format", choices=["table", "csv"], default="table")
    activity.add_argument("--output", type=Path, metavar="FILE")
    activity.set_defaults(handler=run_activity)


def run_activity(args: argparse.Namespace) -> CommandOutput:
    as_at = parse_as_at(args.as_at)
    table = key_activity(read_placements(args.placements), read_budget(args.budget), as_at)
    if args.format == "csv":
        return CommandOutput(table.reset_index().to_csv(index=False, lineterminator="\n"),
                             table.attrs.get("notes"))
    return CommandOutput(format_key_activity(table) + "\n", table.attrs.get("notes"))
