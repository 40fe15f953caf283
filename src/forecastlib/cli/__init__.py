"""The ``forecastlib`` command line (see the data contract for its public shape).

::

    forecastlib demo [--format table|json|csv] [--simulations N] [--seed N]
    forecastlib forecast --placements FILE --budget FILE [--actuals FILE] --as-at DATE
                         [--simulations N] [--seed N] [--interval 0.8]
                         [--scenario FILE ...] [--no-new-starts] [--no-planned-ends]
                         [--format table|json|csv] [--output FILE]
    forecastlib activity --placements FILE --budget FILE --as-at DATE
                         [--format table|csv] [--output FILE]
    forecastlib backtest --placements FILE --budget FILE --as-at DATE [--years N]
                         [--simulations N] [--seed N] [--format table|json|csv]

Each command lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler``; a handler returns a
:class:`~forecastlib.cli.common.CommandOutput`. Exit status 0 on success and 2 on bad
input, with the problems on standard error and nothing written to ``--output``. Caveats
(``note: ...``) go to standard error so that standard output holds only the requested
format.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from forecastlib.cli import activity, backtest, forecast
from forecastlib.cli.common import UsageError, write
from forecastlib.errors import ConfigError, DataValidationError

__all__ = ["main"]

EXIT_BAD_INPUT = 2

_COMMANDS = (forecast, activity, backtest)


def _version() -> str:
    from forecastlib import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecastlib",
        description="Year-end outturn forecasts for local-authority demand-led budgets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        output = args.handler(args)
        write(output.content, getattr(args, "output", None))
    except (DataValidationError, ConfigError, UsageError) as error:
        print(f"forecastlib: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for note in output.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
