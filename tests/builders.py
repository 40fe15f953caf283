"""Shared builders for small, hand-checkable inputs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
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


def moving_record() -> pd.DataFrame:
    """Sixty spells, two in three moving between residential and fostering (IFA) on the
    day after their first placement ends; the second placement open or ended later."""
    rows = []
    rng = np.random.default_rng(5)
    for client in range(60):
        start = pd.Timestamp("2014-04-01") + pd.Timedelta(days=int(rng.integers(0, 1100)))
        end = start + pd.Timedelta(days=int(rng.integers(30, 500)) - 1)
        category, other = (("Residential homes", "IFA") if client % 2
                           else ("IFA", "Residential homes"))
        rows.append({"client_id": f"c{client}", "category": category,
                     "start_date": start.date(), "end_date": end.date(),
                     "unit_cost": 3000 if category != "IFA" else 900})
        if client % 3:
            later = end + pd.Timedelta(days=int(rng.integers(30, 600)))
            rows.append({"client_id": f"c{client}", "category": other,
                         "start_date": (end + pd.Timedelta(days=1)).date(),
                         "end_date": later.date() if later < pd.Timestamp("2017-06-30")
                         else "", "unit_cost": 3000 if other != "IFA" else 900})
    return book(*rows)
