"""The sample county copied ``n`` times over: the record the scale benchmarks read.

Each copy's placement and client ids get a ``Knnn-`` prefix, so copies are distinct
clients; budgets (placements and money) and actuals are scaled by the number of copies.
Imported by ``bench_national.py`` and ``bench_large_record.py`` (run from this folder).
"""

from __future__ import annotations

import pandas as pd

from forecastlib.datasets import load_sample


def copy_sample(copies: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, object]:
    """The sample county ``copies`` times over (placements, budget, actuals, as_at)."""
    sample = load_sample()
    parts = []
    for copy in range(copies):
        part = sample.placements.copy()
        part["placement_id"] = f"K{copy:03d}-" + part["placement_id"]
        part["client_id"] = f"K{copy:03d}-" + part["client_id"]
        parts.append(part)
    budget = sample.budget.copy()
    for column in ("budget_placements", "annual_budget"):
        budget[column] = budget[column] * copies
    actuals = sample.actuals.copy()
    actuals["amount"] = actuals["amount"] * copies
    return pd.concat(parts, ignore_index=True), budget, actuals, sample.as_at
