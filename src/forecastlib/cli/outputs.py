"""Options shared by the forecasting commands: the RAG policy, the Excel pack and charts.

* ``--rag FILE`` (YAML or JSON, validated) and flags such as ``--red-share 5%`` or
  ``--commentary-amount 100000`` set the :class:`~forecastlib.RagPolicy` (flags win);
* ``--output NAME.xlsx`` writes the committee pack instead of text, whatever ``--format``;
* ``--plots DIR`` writes the charts as PNG files.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import pandas as pd

from forecastlib.cli.common import UsageError
from forecastlib.outturn import OutturnResult, RagPolicy

__all__ = ["add_pack_options", "add_policy_options", "policy_from_args", "wants_workbook",
           "write_plots"]

_SHARES = ("amber_share", "red_share", "commentary_share")
_AMOUNTS = ("amber_amount", "red_amount", "commentary_amount")


def _share(text: str) -> float:
    """``5%`` or ``0.05``."""
    try:
        return float(text[:-1]) / 100 if text.strip().endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a share such as 5% or 0.05, got {text!r}"
                                         ) from None


def add_policy_options(parser: argparse.ArgumentParser) -> None:
    """``--rag FILE`` and one flag per threshold of the RAG and commentary policy."""
    group = parser.add_argument_group(
        "RAG and commentary",
        "An overspend is red above both the red share of budget and the red amount,\n"
        "amber above both amber thresholds; commentary is needed where |variance|\n"
        "exceeds the commentary share of budget or the commentary amount, whichever\n"
        "is greater. Shares as 5% or 0.05.")
    group.add_argument("--rag", type=Path, metavar="FILE",
                       help="YAML or JSON file of policy keys (amber_share, amber_amount, "
                            "red_share, red_amount, commentary_share, commentary_amount, "
                            "rate_underspends); flags below override it")
    defaults = RagPolicy()
    for name in _SHARES:
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=_share,
                           metavar="SHARE",
                           help=f"default {getattr(defaults, name):.0%}".replace("%", "%%"))
    for name in _AMOUNTS:
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=float,
                           metavar="GBP", help=f"default {getattr(defaults, name):,.0f}")
    group.add_argument("--rate-underspends", action="store_const", const=True, default=None,
                       help="rate underspends by their size as well")


def policy_from_args(args: argparse.Namespace) -> RagPolicy:
    """The validated policy from ``--rag`` and the threshold flags."""
    overrides: dict[str, Any] = {name: getattr(args, name, None)
                                 for name in (*_SHARES, *_AMOUNTS, "rate_underspends")}
    source = args.rag if getattr(args, "rag", None) is not None else {}
    return RagPolicy.load(source, **overrides)


def add_pack_options(parser: argparse.ArgumentParser) -> None:
    """``--plots DIR``."""
    parser.add_argument("--plots", type=Path, metavar="DIR",
                        help="also write the charts as PNG files into DIR")


def wants_workbook(args: argparse.Namespace) -> bool:
    """An ``--output`` ending in ``.xlsx`` (or ``--format xlsx``) asks for the pack."""
    output = getattr(args, "output", None)
    if getattr(args, "format", None) == "xlsx":
        if output is None or output.suffix.lower() != ".xlsx":
            raise UsageError("--format xlsx: give --output NAME.xlsx (a workbook is not "
                             "written to standard output)")
        return True
    return output is not None and output.suffix.lower() == ".xlsx"


def write_plots(directory: Path, result: OutturnResult, *,
                history: pd.Series | None = None, moved: Any = None,
                policy: RagPolicy | None = None) -> list[str]:
    """Write the charts into ``directory`` (created if missing); returns notes."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
    except ImportError:
        raise UsageError("--plots needs matplotlib: pip install 'forecastlib[plot]'"
                         ) from None
    from forecastlib.report.workbook import chart_images

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--plots: cannot create folder {str(directory)!r} ({error})"
                         ) from None
    names = ["fan_chart.png", "variance_by_service.png", "movement_waterfall.png"]
    images = chart_images(result, history=history, moved=moved, policy=policy, dpi=120)
    written = []
    for name, (_, png) in zip(names, images, strict=False):
        (directory / name).write_bytes(io.BytesIO(png).getvalue())
        written.append(name)
    return [f"charts written to {directory}: {', '.join(written)}"]
