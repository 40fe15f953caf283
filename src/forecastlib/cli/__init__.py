"""The ``forecastlib`` command line (see the data contract for its public shape).

::

    forecastlib demo [--format table|json|csv] [--simulations N] [--seed N] [--quiet]
    forecastlib forecast --placements FILE --budget FILE [--actuals FILE] --as-at DATE
                         [--simulations N] [--seed N] [--interval 0.8]
                         [--scenario FILE ...] [--no-new-starts] [--no-planned-ends]
                         [--format table|json|csv] [--output FILE] [--quiet]
    forecastlib activity --placements FILE --budget FILE --as-at DATE
                         [--format table|csv] [--output FILE]
    forecastlib movement --placements NOW --previous-placements BEFORE --budget FILE
                         --as-at DATE --previous-as-at DATE [--actuals FILE]
                         [--previous-actuals FILE] [forecast options]
                         [--format table|json|csv|xlsx] [--output FILE]
    forecastlib compare  --placements FILE --budget FILE --as-at DATE --scenario FILE ...
                         [forecast options] [--format table|json|csv] [--output FILE]
    forecastlib backtest --placements FILE --budget FILE --as-at DATE [--years N]
                         [--simulations N] [--seed N] [--format table|json|csv]

``forecast``, ``demo``, ``movement`` and ``compare`` take ``--output NAME.xlsx`` (the
committee pack), the RAG policy flags (``--rag FILE``, ``--red-share`` ...) and, except
``compare``, ``--plots DIR``.

Each command lives in its own module with a ``register(subparsers)`` function that adds
its parser and sets ``handler``; a handler returns a
:class:`~forecastlib.cli.common.CommandOutput`. Exit status 0 on success; 2 on bad input
or options, with one line per problem on standard error and nothing written to
``--output``; 1 on an unexpected error, with one line on standard error naming the
file (in the system's temporary folder) that holds the full report; 128 + the signal on
Ctrl-C or ``SIGTERM``. Caveats (``note: ...``) and, for runs of more than a few seconds
on a terminal, a progress bar go to standard error, so that standard output holds only
the requested format; every command takes ``--quiet`` to silence both.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import signal
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime

from forecastlib.cli import activity, backtest, compare, forecast, movement
from forecastlib.cli.common import (
    UsageError,
    check_options,
    check_output,
    input_paths,
    terminate_as_interrupt,
    write,
)
from forecastlib.cli.progress import ProgressBar, progress_bar
from forecastlib.errors import ConfigError, DataValidationError
from forecastlib.simulation.engine import reporting_progress

__all__ = ["main", "run"]

EXIT_CRASH = 1
EXIT_BAD_INPUT = 2

_COMMANDS = (forecast, activity, movement, compare, backtest)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (it prints the usage first by default)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _version() -> str:
    from forecastlib import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="forecastlib",
        description="Year-end outturn forecasts for local-authority demand-led budgets.",
        epilog="examples:\n  forecastlib demo\n  forecastlib demo --output pack.xlsx\n"
               "  forecastlib forecast --placements placements.csv --budget budget.csv "
               "--as-at 2017-10-31\n  forecastlib COMMAND --help   (options and examples)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in _COMMANDS:
        module.register(commands)
    for command in commands.choices.values():
        if "--quiet" not in command._option_string_actions:
            command.add_argument("--quiet", "-q", action="store_true",
                                 help="no progress bar and no notes on standard error")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 success; 1 an unexpected error (one line on standard error naming where the full
    report was saved); 2 bad input or options (nothing written); 128 + the signal number
    when interrupted (nothing written).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # --help, --version, or an option argparse refused
        return done.code if isinstance(done.code, int) else EXIT_BAD_INPUT
    quiet = bool(getattr(args, "quiet", False))
    bar = progress_bar(quiet)
    try:
        with terminate_as_interrupt():
            check_options(args)
            output_path = getattr(args, "output", None)
            inputs = input_paths(args)
            check_output(output_path, inputs)  # refused before a long run, not after
            with reporting_progress(bar):
                output = args.handler(args)
            if bar is not None:
                bar.close()
            write(output.content, output_path, inputs)
    except (DataValidationError, ConfigError, UsageError) as error:
        _close(bar)
        print(f"forecastlib: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as interrupt:
        _close(bar)
        print("forecastlib: interrupted; nothing was written", file=sys.stderr)
        return 128 + int(getattr(interrupt, "signum", signal.SIGINT))
    except Exception as error:  # the one place a user must not see a traceback
        _close(bar)
        print(_crash_line(args, error, argv), file=sys.stderr)
        return EXIT_CRASH
    if not quiet:
        for note in output.notes:
            print(f"note: {note}", file=sys.stderr)
    return 0


def run() -> int:
    """The command line as a program (``forecastlib``, ``python -m forecastlib``: see
    :mod:`forecastlib.__main__`): :func:`main` on the process's arguments, then its
    objects frozen out of the garbage collector.

    Once the command is done (output written and closed, standard streams flushed) the
    process only has to exit, and the interpreter's last collections walk every object
    of every imported module: about 0.3 s of the demo's 5 on a two-core machine.
    ``gc.freeze()`` moves them to the permanent generation, which no collection visits;
    exit handlers and module teardown still run. Not in :func:`main`, which programs
    and tests call in a process that goes on.
    """
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()
    return status


def _close(bar: ProgressBar | None) -> None:
    if bar is not None:
        bar.close()


def _crash_line(args: argparse.Namespace, error: BaseException,
                argv: Sequence[str] | None) -> str:
    """Save the full report (traceback, versions, command) and say where, in one line."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if f"{os.sep}forecastlib{os.sep}" in frame.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    place = ""
    if where is not None:
        module = where.filename.split(f"{os.sep}forecastlib{os.sep}")[-1]
        place = f" in {where.name}() at forecastlib/{module}:{where.lineno}"
    doing = f"running `forecastlib {args.command}`"
    if isinstance(error, MemoryError):
        doing += " (out of memory: try fewer --simulations)"
    summary = f"{type(error).__name__}{place}"
    report = _save_report(args, error, argv)
    saved = (f"the full report is in {report}" if report
             else "no report could be saved")
    return (f"forecastlib: internal error while {doing}: {summary}; nothing was written; "
            f"{saved} (please send it with a bug report)")


def _save_report(args: argparse.Namespace, error: BaseException,
                 argv: Sequence[str] | None) -> str | None:
    from forecastlib import __version__

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "\n".join([
        f"forecastlib {__version__} crash report, {stamp}",
        f"command: forecastlib {' '.join(sys.argv[1:] if argv is None else argv)}",
        f"python {platform.python_version()} on {platform.platform()}",
        "",
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
    ])
    try:
        handle, path = tempfile.mkstemp(prefix=f"forecastlib-crash-{stamp}-", suffix=".txt")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError:
        return None
    return path
