"""The ``forecastlib`` command line (see the data contract for its public shape).

::

    forecastlib demo [--format table|json|csv] [--simulations N] [--seed N]
    forecastlib forecast --placements FILE --budget FILE [--actuals FILE] --as-at DATE
                         [--simulations N] [--seed N] [--interval 0.8]
                         [--scenario FILE ...] [--no-new-starts] [--no-planned-ends]
                         [--format table|json|csv] [--output FILE]
    forecastlib activity --placements FILE --budget FILE --as-at DATE
                         [--format table|csv] [--output FILE]

Exit status 0 on success and 2 on bad input, with the problems on standard error and
nothing written to ``--output``. Caveats (``note: ...``) go to standard error so that
standard output holds only the requested format.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.datasets import load_sample
from forecastlib.errors import ConfigError, DataValidationError
from forecastlib.outturn import OutturnResult, forecast_outturn
from forecastlib.records import read_actuals, read_budget, read_placements
from forecastlib.report import (
    format_key_activity,
    format_outturn,
    key_activity,
    result_to_csv,
    result_to_json_dict,
)
from forecastlib.scenarios import load_scenario, merge_scenarios

__all__ = ["main"]

EXIT_BAD_INPUT = 2


class _UsageError(Exception):
    """A command-line value that cannot be used (reported with exit status 2)."""


def _as_at(text: str) -> np.datetime64:
    text = text.strip()
    formats = {r"^\d{4}-\d{2}-\d{2}$": "%Y-%m-%d", r"^\d{1,2}/\d{1,2}/\d{4}$": "%d/%m/%Y"}
    for pattern, fmt in formats.items():
        if re.match(pattern, text):
            try:
                return np.datetime64(pd.to_datetime(text, format=fmt).date(), "D")
            except ValueError:
                break
    raise _UsageError(f"--as-at: value {text!r}: expected a date as YYYY-MM-DD or DD/MM/YYYY")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecastlib",
        description="Year-end outturn forecasts for local-authority demand-led budgets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="forecast the sample county shipped inside")
    demo.add_argument("--format", choices=["table", "json", "csv"], default="table")
    demo.add_argument("--simulations", type=int, default=10_000, metavar="N")
    demo.add_argument("--seed", type=int, default=0, metavar="N")

    forecast = commands.add_parser("forecast", help="forecast the outturn of your files")
    _inputs(forecast, actuals=True)
    forecast.add_argument("--simulations", type=int, default=10_000, metavar="N")
    forecast.add_argument("--seed", type=int, default=None, metavar="N")
    forecast.add_argument("--interval", type=float, default=0.8)
    forecast.add_argument("--scenario", action="append", default=[], metavar="FILE")
    forecast.add_argument("--no-new-starts", action="store_true",
                          help="leave out projected new placements")
    forecast.add_argument("--no-planned-ends", action="store_true",
                          help="ignore planned_end_date")
    forecast.add_argument("--format", choices=["table", "json", "csv"], default="table")
    forecast.add_argument("--output", type=Path, metavar="FILE")

    activity = commands.add_parser("activity", help="key activity data per line")
    _inputs(activity, actuals=False)
    activity.add_argument("--format", choices=["table", "csv"], default="table")
    activity.add_argument("--output", type=Path, metavar="FILE")
    return parser


def _inputs(parser: argparse.ArgumentParser, *, actuals: bool) -> None:
    parser.add_argument("--placements", required=True, type=Path, metavar="FILE")
    parser.add_argument("--budget", required=True, type=Path, metavar="FILE")
    if actuals:
        parser.add_argument("--actuals", type=Path, metavar="FILE")
    parser.add_argument("--as-at", required=True, dest="as_at", metavar="DATE")


def _version() -> str:
    from forecastlib import __version__

    return __version__


def _render(result: OutturnResult, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result_to_json_dict(result), indent=2) + "\n"
    if fmt == "csv":
        return result_to_csv(result)
    return format_outturn(result) + "\n"


def _write(text: str, output: Path | None) -> None:
    """Write to standard output, or atomically to ``output`` (whole file or nothing)."""
    if output is None:
        sys.stdout.write(text)
        return
    directory = output.resolve().parent
    if not directory.is_dir():
        raise _UsageError(f"--output: folder {str(directory)!r} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".forecastlib-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _forecast(args: argparse.Namespace) -> tuple[str, list[str]]:
    scenario = merge_scenarios([load_scenario(path) for path in args.scenario]) \
        if args.scenario else None
    as_at = _as_at(args.as_at)
    placements = read_placements(args.placements)
    budget = read_budget(args.budget)
    actuals = read_actuals(args.actuals) if args.actuals is not None else None
    result = forecast_outturn(
        placements, budget, as_at, actuals=actuals, new_starts=not args.no_new_starts,
        use_planned_ends=not args.no_planned_ends, interval=args.interval,
        simulations=args.simulations, seed=args.seed, scenario=scenario)
    return _render(result, args.format), result.notes


def _demo(args: argparse.Namespace) -> tuple[str, list[str]]:
    sample = load_sample()
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=args.simulations,
                              seed=args.seed)
    return _render(result, args.format), result.notes


def _activity(args: argparse.Namespace) -> tuple[str, list[str]]:
    as_at = _as_at(args.as_at)
    table = key_activity(read_placements(args.placements), read_budget(args.budget), as_at)
    if args.format == "csv":
        return table.reset_index().to_csv(index=False, lineterminator="\n"), []
    return format_key_activity(table) + "\n", []


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad input)."""
    args = _parser().parse_args(argv)
    handlers = {"demo": _demo, "forecast": _forecast, "activity": _activity}
    try:
        text, notes = handlers[args.command](args)
        _write(text, getattr(args, "output", None))
    except (DataValidationError, ConfigError, _UsageError) as error:
        print(f"forecastlib: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
