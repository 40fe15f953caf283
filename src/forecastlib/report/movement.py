"""The movement since last month as the contract's JSON, a CSV and a text table."""

from __future__ import annotations

import io
import math
from typing import Any

import pandas as pd

from forecastlib.calendar import fy_label
from forecastlib.outturn.movement import ARROWS, MOVEMENT_COMPONENTS, Movement
from forecastlib.report.tables import _name, gbp_thousands

__all__ = ["format_movement", "movement_to_csv", "movement_to_json_dict"]

#: Readable names of the components, for tables, the pack and charts.
COMPONENT_LABELS = {
    "new_placements": "New placements",
    "ended_placements": "Ended placements",
    "price_changes": "Price changes",
    "moves": "Moves between lines",
    "actuals": "Ledger actuals",
    "model": "Model and projections",
}


def _money(value: float) -> float:
    rounded = round(float(value), 2)
    return 0.0 if rounded == 0 else rounded


def _unit_cost(value: float) -> float | None:
    return None if value is None or math.isnan(float(value)) else round(float(value), 2)


def _figures(row: pd.Series) -> dict[str, Any]:
    return {
        "previous": _money(row["previous"]),
        "current": _money(row["current"]),
        "change": _money(row["change"]),
        "components": {name: _money(row[name]) for name in MOVEMENT_COMPONENTS},
        "placements": {"previous": int(row["placements_previous"]),
                       "current": int(row["placements_current"])},
        "unit_cost": {"previous": _unit_cost(row["unit_cost_previous"]),
                      "current": _unit_cost(row["unit_cost_current"])},
        "direction": {"placements": str(row["dot_placements"]),
                      "unit_cost": str(row["dot_unit_cost"]),
                      "forecast": str(row["dot_forecast"])},
    }


def movement_to_json_dict(moved: Movement) -> dict[str, Any]:
    """The contract's ``movement`` JSON: ``lines[]`` with ``service``, ``category``,
    ``previous``, ``current``, ``change`` and ``components`` (summing to ``change`` to
    the penny), plus placements, unit costs and the direction of travel, and a total.
    """
    lines = [{"service": str(service), "category": str(category), **_figures(row)}
             for (service, category), row in moved.lines.iterrows()]
    return {
        "as_at": str(moved.current.as_at),
        "previous_as_at": str(moved.previous.as_at),
        "financial_year": int(moved.current.year),
        "simulations": int(moved.current.simulations),
        "lines": lines,
        "total": _figures(moved.total),
    }


MOVEMENT_CSV_COLUMNS = ["service", "category", "previous", "current", "change",
                        *MOVEMENT_COMPONENTS, "placements_previous", "placements_current",
                        "unit_cost_previous", "unit_cost_current", "dot_placements",
                        "dot_unit_cost", "dot_forecast"]


def movement_to_csv(moved: Movement) -> str:
    """One row per line then a ``Total`` row; money to the penny."""
    table = moved.lines.reset_index()
    total = moved.total.to_frame().T
    total.insert(0, "service", "Total")
    total.insert(1, "category", "")
    table = pd.concat([table, total], ignore_index=True)[MOVEMENT_CSV_COLUMNS]
    money = ["previous", "current", "change", *MOVEMENT_COMPONENTS, "unit_cost_previous",
             "unit_cost_current"]
    table[money] = table[money].astype("float64").round(2)
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def format_movement(moved: Movement) -> str:
    """The movement table (GBP thousands): last month's and this month's forecast, the
    change and its components, and the direction of travel of placements (``No``),
    unit cost (``Cost``) and forecast (``Fcst``)."""
    width = 21
    short = {"new_placements": "New", "ended_placements": "Ended",
             "price_changes": "Price", "moves": "Moves", "actuals": "Ledger",
             "model": "Model"}
    head = (f"{'Line':<{width}} {'Prev':>7} {'Now':>7} {'Change':>6} "
            + " ".join(f"{short[name]:>6}" for name in MOVEMENT_COMPONENTS) + "  No Cost Fcst")
    rule = "-" * len(head)
    out = [f"Movement in the forecast {fy_label(moved.current.year)}: "
           f"{moved.previous.as_at} to {moved.current.as_at} (GBP thousands)",
           rule, head, rule]

    def row(label: str, figures: pd.Series) -> str:
        label = _name(label, width)
        arrows = "  ".join(ARROWS[str(figures[k])]
                           for k in ("dot_placements", "dot_unit_cost", "dot_forecast"))
        return (f"{label:<{width}} {gbp_thousands(figures['previous']):>7} "
                f"{gbp_thousands(figures['current']):>7} "
                f"{gbp_thousands(figures['change']):>6} "
                + " ".join(f"{gbp_thousands(figures[name]):>6}" for name in MOVEMENT_COMPONENTS)
                + f"   {arrows}")

    for service, block in moved.lines.groupby(level="service", sort=True):
        out.append(str(service)[:width])
        for (_, category), figures in block.iterrows():
            out.append(row("  " + (category or "(lump line)"), figures))
    out += [rule, row("Total", moved.total), rule,
            "Change = New + Ended + Price + Moves + Ledger + Model, to the penny.",
            f"Direction of travel against {moved.previous.as_at}: placements running (No), "
            "their average unit cost (Cost), forecast (Fcst)."]
    return "\n".join(line.rstrip() for line in out)
