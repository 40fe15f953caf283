"""Machine-readable outputs: the contract's JSON and a tidy CSV of an outturn result."""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd

from forecastlib.outturn.forecast import OutturnResult
from forecastlib.report.safe_cells import neutralise_formulas

__all__ = ["result_to_csv", "result_to_json_dict", "year_end_counts"]

_QUANTILES = ("mean", "p50", "lower", "upper")


def _money(value: float) -> float:
    """Round to the penny; ``-0.0`` becomes ``0.0``."""
    rounded = round(float(value), 2)
    return 0.0 if rounded == 0 else rounded


def year_end_counts(result: OutturnResult) -> pd.DataFrame:
    """Placements running on the last day of the year: ``mean``, ``p50``, ``lower`` and
    ``upper`` per line, and a ``("Total", "")`` row (the distribution of the sum over
    lines, simulation by simulation). All zero when the result holds no counts.

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> from forecastlib.outturn import forecast_outturn
    >>> sample = load_sample()
    >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
    ...                           new_starts=False)
    >>> counts = year_end_counts(result)
    >>> total = counts.loc[("Total", ""), "mean"]
    >>> bool(abs(total - counts["mean"].iloc[:-1].sum()) < 1e-9 * total)  # up to rounding
    True
    """
    if result.year_end_running is None:
        return pd.DataFrame(0.0, columns=list(_QUANTILES),
                            index=result.lines.index.append(
                                pd.MultiIndex.from_tuples([("Total", "")])))
    return result.year_end_placements(total=True)


def _count(value: float) -> float:
    return round(float(value), 4)


def _figures(row: pd.Series, counts: pd.Series) -> dict[str, Any]:
    if not all(math.isfinite(float(row[k])) for k in ("budget", "actual_to_date", *_QUANTILES)):
        raise ValueError("outturn figures must be finite")
    return {
        "budget": _money(row["budget"]),
        "actual_to_date": _money(row["actual_to_date"]),
        "forecast": {k: _money(row[k]) for k in _QUANTILES},
        "variance": _money(row["variance"]),
        "rag": str(row["rag"]),
        "prob_overspend": round(float(row["prob_overspend"]), 6),
        "year_end_count": {k: _count(counts[k]) for k in _QUANTILES},
    }


def result_to_json_dict(result: OutturnResult) -> dict[str, Any]:
    """The contract's JSON object for ``forecastlib forecast --format json``.

    Money is rounded to the penny; lines are sorted by service then category, and a
    lump line has the category ``""``.
    """
    counts = year_end_counts(result)
    lines = [
        {"service": str(service), "category": str(category),
         **_figures(row, counts.iloc[position])}
        for position, ((service, category), row) in enumerate(result.lines.iterrows())
    ]
    return {
        "as_at": str(result.as_at),
        "financial_year": int(result.year),
        "simulations": int(result.simulations),
        "interval": float(result.interval),
        "lines": lines,
        "total": _figures(result.total, counts.iloc[-1]),
    }


CSV_COLUMNS = ["service", "category", "budget", "expected_to_date", "actual_to_date",
               "committed", "mean", "p50", "lower", "upper", "variance", "variance_pct",
               "rag", "commentary_needed", "prob_overspend", "year_end_count_mean",
               "year_end_count_p50", "year_end_count_lower", "year_end_count_upper"]


def result_to_csv(result: OutturnResult) -> str:
    """One row per line, then a ``Total`` row; money rounded to the penny."""
    table = result.lines.reset_index()
    total = result.total.to_frame().T
    total.insert(0, "service", "Total")
    total.insert(1, "category", "")
    table = pd.concat([table, total], ignore_index=True)
    counts = year_end_counts(result).reset_index(drop=True)
    for name in _QUANTILES:
        table[f"year_end_count_{name}"] = counts[name].round(4).to_numpy()
    table["prob_overspend"] = table["prob_overspend"].astype("float64").round(6)
    table = table[CSV_COLUMNS]
    money = CSV_COLUMNS[2:11]
    table[money] = table[money].astype("float64").round(2)
    table["variance_pct"] = table["variance_pct"].astype("float64").round(6)
    buffer = io.StringIO()
    neutralise_formulas(table).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
