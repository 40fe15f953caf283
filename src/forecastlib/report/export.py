"""Machine-readable outputs: the contract's JSON and a tidy CSV of an outturn result."""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd

from forecastlib.outturn.forecast import OutturnResult
from forecastlib.report.safe_cells import neutralise_formulas

__all__ = ["result_to_csv", "result_to_json_dict"]

_QUANTILES = ("mean", "p50", "lower", "upper")


def _money(value: float) -> float:
    """Round to the penny; ``-0.0`` becomes ``0.0``."""
    rounded = round(float(value), 2)
    return 0.0 if rounded == 0 else rounded


def _figures(row: pd.Series) -> dict[str, Any]:
    if not all(math.isfinite(float(row[k])) for k in ("budget", "actual_to_date", *_QUANTILES)):
        raise ValueError("outturn figures must be finite")
    return {
        "budget": _money(row["budget"]),
        "actual_to_date": _money(row["actual_to_date"]),
        "forecast": {k: _money(row[k]) for k in _QUANTILES},
        "variance": _money(row["variance"]),
        "rag": str(row["rag"]),
    }


def result_to_json_dict(result: OutturnResult) -> dict[str, Any]:
    """The contract's JSON object for ``forecastlib forecast --format json``.

    Money is rounded to the penny; lines are sorted by service then category, and a
    lump line has the category ``""``.
    """
    lines = [
        {"service": str(service), "category": str(category), **_figures(row)}
        for (service, category), row in result.lines.iterrows()
    ]
    return {
        "as_at": str(result.as_at),
        "financial_year": int(result.year),
        "simulations": int(result.simulations),
        "interval": float(result.interval),
        "lines": lines,
        "total": _figures(result.total),
    }


CSV_COLUMNS = ["service", "category", "budget", "expected_to_date", "actual_to_date",
               "committed", "mean", "p50", "lower", "upper", "variance", "variance_pct",
               "rag", "commentary_needed"]


def result_to_csv(result: OutturnResult) -> str:
    """One row per line, then a ``Total`` row; money rounded to the penny."""
    table = result.lines.reset_index()
    total = result.total.to_frame().T
    total.insert(0, "service", "Total")
    total.insert(1, "category", "")
    table = pd.concat([table, total], ignore_index=True)[CSV_COLUMNS]
    money = CSV_COLUMNS[2:11]
    table[money] = table[money].astype("float64").round(2)
    table["variance_pct"] = table["variance_pct"].astype("float64").round(6)
    buffer = io.StringIO()
    neutralise_formulas(table).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
