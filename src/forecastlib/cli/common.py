"""What every command shares: dates from the command line, input options, rendering
and writing the output (atomically: the whole file or nothing)."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.outturn import OutturnResult
from forecastlib.report import format_outturn, result_to_csv, result_to_json_dict

__all__ = ["CommandOutput", "UsageError", "add_inputs", "parse_as_at", "render", "write"]


class UsageError(Exception):
    """A command-line value that cannot be used (reported with exit status 2)."""


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


def render(result: OutturnResult, fmt: str) -> str:
    """The result in the contract's ``json``, ``csv`` or the text ``table``."""
    if fmt == "json":
        return json.dumps(result_to_json_dict(result), indent=2) + "\n"
    if fmt == "csv":
        return result_to_csv(result)
    return format_outturn(result) + "\n"


def write(content: str | bytes, output: Path | None) -> None:
    """Write to standard output, or atomically to ``output`` (whole file or nothing)."""
    if output is None:
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return
    directory = output.resolve().parent
    if not directory.is_dir():
        raise UsageError(f"--output: folder {str(directory)!r} does not exist")
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".forecastlib-", suffix=".tmp")
    try:
        if isinstance(content, bytes):
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
        else:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(content)
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
