"""Shared builders for small, hand-checkable inputs."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from forecastlib.records import read_budget, read_placements

PLACEMENT_DEFAULTS = {
    "client_id": "C1",
    "service": "LAC Placements",
    "category": "Residential homes",
    "end_date": "",
    "planned_end_date": "",
    "unit": "week",
    "units_per_week": "1",
    "weeks_per_year": "52",
    "funding": "GF",
    "income_per_week": "0",
}


def placements_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Raw (text) placements with defaults filled in and ids P1, P2, ..."""
    records = []
    for number, row in enumerate(rows, start=1):
        record = {"placement_id": f"P{number}", **PLACEMENT_DEFAULTS}
        record.update({k: str(v) for k, v in row.items()})
        records.append(record)
    return pd.DataFrame(records)


def book(*rows: dict) -> pd.DataFrame:
    """Validated placements from a few rows (each needs start_date and unit_cost)."""
    return read_placements(placements_frame(rows), name="placements.csv")


def budget_book(*rows: dict) -> pd.DataFrame:
    """Validated budget rows."""
    return read_budget(pd.DataFrame([{k: str(v) for k, v in r.items()} for r in rows]),
                       name="budget.csv")
