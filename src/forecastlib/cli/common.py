"""What every command shares: dates from the command line, input options, rendering
and writing the output (atomically: the whole file or nothing)."""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.outturn import ForecastOptions, OutturnResult, RagPolicy
from forecastlib.outturn.forecast import fitted_inputs
from forecastlib.report import format_outturn, result_to_csv, result_to_json_dict
from forecastlib.scenarios import ForecastInputs
from forecastlib.simulation.forked import ForkedWorkers, can_fork

__all__ = [
    "add_forecast_options",
    "MAX_SIMULATIONS",
    "CommandOutput",
    "Terminated",
    "UsageError",
    "add_inputs",
    "check_as_at",
    "check_options",
    "check_output",
    "forecast_inputs",
    "forecast_options",
    "input_paths",
    "parse_as_at",
    "render",
    "terminate_as_interrupt",
    "write",
]


class UsageError(Exception):
    """A command-line value that cannot be used (reported with exit status 2)."""


class Terminated(KeyboardInterrupt):
    """``SIGTERM`` received: unwinds like Ctrl-C, so that temporary files are removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"signal {signum}")
        self.signum = signum


class CommandOutput:
    """What a command hands back: the text (or bytes) to write, and notes for stderr."""

    def __init__(self, content: str | bytes, notes: list[str] | None = None) -> None:
        self.content = content
        self.notes = list(notes or [])


def parse_as_at(text: str, option: str = "--as-at") -> np.datetime64:
    """A date given on the command line: ``YYYY-MM-DD`` or UK ``DD/MM/YYYY``."""
    text = text.strip()
    formats = {r"^\d{4}-\d{2}-\d{2}$": "%Y-%m-%d", r"^\d{1,2}/\d{1,2}/\d{4}$": "%d/%m/%Y"}
    for pattern, fmt in formats.items():
        if re.match(pattern, text):
            try:
                return np.datetime64(pd.to_datetime(text, format=fmt).date(), "D")
            except ValueError:
                break
    raise UsageError(f"{option}: value {text!r}: expected a date as YYYY-MM-DD or DD/MM/YYYY")


def add_inputs(parser: argparse.ArgumentParser, *, actuals: bool, ssda903: bool = False
               ) -> None:
    """The placements (or, with ``ssda903``, an SSDA903 folder instead), budget,
    (actuals) and as-at options."""
    if ssda903:
        record = parser.add_mutually_exclusive_group(required=True)
        record.add_argument("--placements", type=Path, metavar="FILE")
        record.add_argument("--ssda903", type=Path, metavar="FOLDER",
                            help="yearly SSDA903 returns (YYYY-episodes.csv, YYYY-header.csv)")
    else:
        parser.add_argument("--placements", required=True, type=Path, metavar="FILE")
    parser.add_argument("--budget", required=True, type=Path, metavar="FILE")
    if actuals:
        parser.add_argument("--actuals", type=Path, metavar="FILE")
    parser.add_argument("--as-at", required=True, dest="as_at", metavar="DATE")


def add_forecast_options(parser: argparse.ArgumentParser, *, simulations: int = 10_000,
                         seed: int | None = None, planned_ends: bool = True) -> None:
    """The simulation options every forecasting command shares: ``--simulations``,
    ``--seed``, ``--interval``, ``--no-new-starts`` and (unless ``planned_ends`` is
    False) ``--no-planned-ends``."""
    parser.add_argument("--simulations", type=int, default=simulations, metavar="N")
    parser.add_argument("--seed", type=int, default=seed, metavar="N")
    parser.add_argument("--interval", type=float, default=0.8)
    parser.add_argument("--no-new-starts", action="store_true",
                        help="leave out projected new placements")
    if planned_ends:
        parser.add_argument("--no-planned-ends", action="store_true",
                            help="ignore planned_end_date")


def forecast_inputs(args: argparse.Namespace, placements: pd.DataFrame, budget: pd.DataFrame,
                    as_at: np.datetime64, actuals: pd.DataFrame | None = None, *,
                    fit: bool = False) -> ForecastInputs:
    """The forecast's inputs under ``--no-new-starts`` / ``--no-planned-ends``, normalised
    once and accrued; with ``fit``, the demand models fitted once for every forecast
    made of them (a scenario's and the base, on the same models)."""
    inputs = ForecastInputs.prepare(
        placements, budget, as_at, actuals, new_starts=not args.no_new_starts,
        use_planned_ends=not getattr(args, "no_planned_ends", False)).accrue()
    return fitted_inputs(inputs, workers()) if fit else inputs


def workers() -> ForkedWorkers | None:
    """What runs the command's fits and simulations: processes forked from this one
    over the machine's cores where the platform forks (the same numbers as threads, in
    less time: see :mod:`forecastlib.simulation.forked`), else threads."""
    return ForkedWorkers() if can_fork() and (os.cpu_count() or 1) > 1 else None


def forecast_options(args: argparse.Namespace, policy: RagPolicy | None = None
                     ) -> ForecastOptions:
    """``--interval``, ``--simulations`` and ``--seed`` (and the RAG policy) as one object."""
    return ForecastOptions(interval=args.interval, simulations=args.simulations,
                           seed=args.seed, policy=policy or RagPolicy())


def render(result: OutturnResult, fmt: str, policy: RagPolicy | None = None) -> str:
    """The result in the contract's ``json``, ``csv`` or the text ``table``."""
    if fmt == "json":
        return json.dumps(result_to_json_dict(result), indent=2) + "\n"
    if fmt == "csv":
        return result_to_csv(result)
    return format_outturn(result, policy) + "\n"


#: Most simulations the command line runs (each line keeps one path per simulation).
MAX_SIMULATIONS = 1_000_000


def check_options(args: argparse.Namespace) -> None:
    """Refuse option values no run can use, before any file is read.

    Applies to whichever of ``--seed``, ``--simulations`` and ``--interval`` the command
    has.
    """
    seed = getattr(args, "seed", None)
    if seed is not None and seed < 0:
        raise UsageError(f"--seed: value {seed}: expected a whole number 0 or more")
    simulations = getattr(args, "simulations", None)
    if simulations is not None and not 1 <= simulations <= MAX_SIMULATIONS:
        raise UsageError(f"--simulations: value {simulations}: expected a whole number from "
                         f"1 to {MAX_SIMULATIONS:,}")
    interval = getattr(args, "interval", None)
    if interval is not None and not 0 < interval < 1:
        raise UsageError(f"--interval: value {interval}: expected a coverage between 0 and 1, "
                         "such as 0.8 for the central 80%")


def check_as_at(placements: pd.DataFrame, as_at: np.datetime64, option: str = "--as-at"
                ) -> None:
    """Refuse an as-at date outside the record: before every placement's start (nothing
    has happened yet) or more than a year after its latest start or end date (the
    record is out of date for that day)."""
    if placements.empty:
        return
    day = pd.Timestamp(as_at)
    first = placements["start_date"].min()
    if day < first:
        raise UsageError(f"{option}: {day.date()} is before every placement in the record "
                         f"(the first starts {first.date()}): there is nothing to forecast "
                         "from")
    latest = max(first, placements["start_date"].max(), placements["end_date"].max())
    if day > latest + pd.Timedelta(days=365):
        raise UsageError(f"{option}: {day.date()} is more than a year after the record's "
                         f"latest start or end date ({latest.date()}): is the file out of date?")


def input_paths(args: argparse.Namespace) -> list[Path]:
    """Every input file named on the command line (any path option but ``--output``)."""
    paths: list[Path] = []
    for name, value in vars(args).items():
        if name == "output" or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        paths += [Path(item) for item in values
                  if isinstance(item, Path) or (name == "scenario" and isinstance(item, str))]
    return paths


def check_output(output: Path | None, inputs: list[Path]) -> None:
    """Refuse an ``--output`` that is an input file, a folder, or not writable."""
    if output is None:
        return
    if output.is_dir():
        raise UsageError(f"--output: {str(output)!r} is a folder; give a file name")
    for path in inputs:
        if _same_file(output, path):
            raise UsageError(f"--output: {str(output)!r} is an input file ({str(path)!r}); "
                             "it would be overwritten: give another file name")
    folder = output.resolve().parent
    if not folder.is_dir():
        raise UsageError(f"--output: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (
            output.exists() and not os.access(output, os.W_OK)):
        raise UsageError(f"--output: {str(output)!r} is in a read-only place; "
                         "give a file in a folder you can write to")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def write(content: str | bytes, output: Path | None, inputs: list[Path] | None = None
          ) -> None:
    """Write to standard output, or atomically to ``output`` (whole file or nothing).

    The content goes to a temporary file beside ``output``, which replaces it in one
    step; the temporary file is removed on any error, Ctrl-C or ``SIGTERM``. The file
    gets the mode a new file would get under the user's umask (not ``mkstemp``'s 0600).
    """
    if output is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        sys.stdout.flush()
        return
    check_output(output, inputs or [])
    directory = output.resolve().parent
    with terminate_as_interrupt():
        try:
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".forecastlib-",
                                                 suffix=".tmp")
        except OSError as error:
            raise UsageError(f"--output: cannot write in {str(directory)!r}: "
                             f"{error.strerror}") from None
        try:
            os.fchmod(handle, 0o666 & ~_umask())
            with os.fdopen(handle, "wb") as stream:
                stream.write(content if isinstance(content, bytes)
                             else content.encode("utf-8"))
            os.replace(temporary, output)
        except OSError as error:
            raise UsageError(f"--output: cannot write {str(output)!r}: "
                             f"{error.strerror}") from None
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it
    os.umask(mask)
    return mask


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, ``SIGTERM`` raises :class:`KeyboardInterrupt` like Ctrl-C, so
    the ``finally`` clauses that remove temporary files run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
