"""The deterministic outturn: actuals to date plus the committed cost of the record.

For every line (the union of budget, placement and actuals lines, so nothing is
dropped)::

    forecast = actual_to_date + committed
    variance = forecast - budget            (positive = overspend)

``actual_to_date`` is the ledger's (``actuals.csv``) when given, else the accrued net
cost of the placements to ``as_at``; ``committed`` is the net cost of the record from
``as_at + 1`` to year-end on each episode's effective end. Every money figure is net
of income. No new starts are included: this is the commitment-basis forecast.

A **lump line** (``lump``) is a budget line with no budgeted activity (no
``budget_placements`` or ``budget_unit_cost``) and no placements in the record, or
with an empty category: a growth allocation or a savings target. Its forecast is its
actuals to date; it is not RAG-rated as placements (``rag`` is ``"n/a"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.accrual import line_activity
from forecastlib.budget import SpendProfile, annual_budgets, expected_to_date, ledger_to_date
from forecastlib.calendar import fy_label
from forecastlib.lines import union_lines
from forecastlib.outturn.rag import RagPolicy
from forecastlib.scenarios.transform import ForecastInputs

__all__ = ["OUTTURN_COLUMNS", "commitment_table", "deterministic_outturn", "outturn_total"]

#: Columns of an outturn table, in order.
OUTTURN_COLUMNS = [
    "budget",
    "expected_to_date",
    "actual_to_date",
    "committed",
    "forecast",
    "variance",
    "variance_pct",
    "rag",
    "commentary_needed",
]


def deterministic_outturn(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    as_at: object,
    *,
    actuals: pd.DataFrame | None = None,
    year: int | None = None,
    use_planned_ends: bool = True,
    policy: RagPolicy | None = None,
    profile: SpendProfile | None = None,
) -> pd.DataFrame:
    """Year-end outturn per line on the commitment basis.

    Parameters
    ----------
    placements, budget : DataFrame
        Validated inputs (:func:`forecastlib.read_placements`, ``read_budget``).
    as_at : date-like
        Last day of actuals.
    actuals : DataFrame, optional
        Validated ledger actuals; when given, actuals to date come from here.
    year : int, optional
        Financial year (default: the one holding ``as_at``).
    use_planned_ends : bool, default True
        End open episodes at their ``planned_end_date``.
    policy : RagPolicy, optional
        RAG and commentary thresholds (default :class:`RagPolicy()`).
    profile : SpendProfile, optional
        Budget profile for ``expected_to_date`` (default flat by day).

    Returns
    -------
    DataFrame
        Indexed by ``(service, category)`` with :data:`OUTTURN_COLUMNS`, then
        ``actual_source`` (``"ledger"`` or ``"accrued"``), ``open_without_end``,
        ``budget_difference`` and ``lump`` (a growth or savings line: RAG ``"n/a"``).
        ``attrs`` holds ``as_at``, ``year`` and ``notes`` (plain-English caveats for
        the reader).

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> table = deterministic_outturn(sample.placements, sample.budget, sample.as_at,
    ...                               actuals=sample.actuals)
    >>> table.loc[("LAC Placements", "Residential homes"), "rag"]
    'red'
    """
    inputs = ForecastInputs.prepare(placements, budget, as_at, actuals, year=year,
                                    use_planned_ends=use_planned_ends)
    return commitment_table(inputs, policy, profile)


def commitment_table(inputs: ForecastInputs, policy: RagPolicy | None = None,
                     profile: SpendProfile | None = None) -> pd.DataFrame:
    """:func:`deterministic_outturn` of inputs already normalised (nothing re-parsed;
    the record's accrual is reused when the inputs hold it)."""
    as_at, actuals = inputs.as_at, inputs.actuals
    year = as_at.year
    policy = policy or RagPolicy()
    activity = line_activity(inputs.placements, as_at, use_planned_ends=inputs.use_planned_ends,
                             accrued=inputs.accrued)
    budgets = annual_budgets(inputs.budget)
    ledger = ledger_to_date(actuals, as_at, year) if actuals is not None else None
    lines = union_lines(activity.index, budgets.index,
                        ledger.index if ledger is not None else pd.Index([]))

    out = pd.DataFrame(index=lines)
    out["budget"] = budgets["annual_budget"].reindex(lines).fillna(0.0)
    out["expected_to_date"] = expected_to_date(out["budget"], as_at, year, profile)
    accrued = activity["net_to_date"].reindex(lines).fillna(0.0)
    if ledger is not None:
        out["actual_to_date"] = ledger.reindex(lines).fillna(0.0)
    else:
        out["actual_to_date"] = accrued
    out["committed"] = activity["net_committed"].reindex(lines).fillna(0.0)
    out["forecast"] = out["actual_to_date"] + out["committed"]
    lump = lump_lines(lines, budgets, activity.index)
    for name, values in policy.assess(out["budget"], out["forecast"], lump=lump).items():
        out[name] = values
    out["actual_source"] = "ledger" if ledger is not None else "accrued"
    out["open_without_end"] = activity["open_without_end"].reindex(lines).fillna(0).astype(int)
    out["budget_difference"] = budgets["budget_difference"].reindex(lines)
    out["lump"] = lump
    out.attrs.update(as_at=as_at.day, year=year,
                     notes=list(inputs.notes) + _notes(out, activity, budgets, year))
    return out


def lump_lines(lines: pd.Index, budgets: pd.DataFrame, placed: pd.Index) -> np.ndarray:
    """Which ``lines`` are lump lines: an empty category, or a budget line with no
    budgeted activity and no placements in the record (``placed``).

    Examples
    --------
    >>> from forecastlib.budget import annual_budgets
    >>> budgets = annual_budgets(pd.DataFrame({"service": ["LAC"] * 3,
    ...     "category": ["IFA", "Growth", ""], "budget_placements": [10.0, None, None],
    ...     "budget_unit_cost": [800.0, None, None], "unit": ["week"] * 3,
    ...     "units_per_week": [1.0] * 3, "weeks_per_year": [52.0] * 3,
    ...     "annual_budget": [None, 500_000.0, -90_000.0]}))
    >>> lump_lines(budgets.index, budgets, pd.Index([])).tolist()
    [False, True, True]
    """
    activity = budgets[["budget_placements", "budget_unit_cost"]].notna().any(axis=1)
    budgeted_activity = activity.reindex(lines, fill_value=False).to_numpy(dtype=bool)
    empty = lines.get_level_values("category") == ""
    return empty | (lines.isin(budgets.index) & ~budgeted_activity & ~lines.isin(placed))


def _line_list(index: pd.Index, limit: int = 3) -> str:
    names = [f"{service} / {category or '(lump)'}" for service, category in index]
    shown = "; ".join(names[:limit])
    return shown + (f"; and {len(names) - limit} more" if len(names) > limit else "")


def _notes(out: pd.DataFrame, activity: pd.DataFrame, budgets: pd.DataFrame,
           year: int) -> list[str]:
    notes = []
    difference = budgets["budget_difference"]
    differs = difference.index[np.isfinite(difference) & (difference != 0)]
    if len(differs):
        notes.append(
            f"{len(differs)} budget lines have an approved annual_budget that differs from "
            f"placements x unit cost x weeks (for example net of income): the approved "
            f"figure is used; see budget_difference ({_line_list(differs)}).")
    no_budget = out.index.difference(budgets.index)
    if len(no_budget):
        notes.append(f"{len(no_budget)} lines have spend but no budget line: "
                     f"{_line_list(no_budget)}.")
    no_activity = budgets.index.difference(activity.index)
    if len(no_activity):
        notes.append(f"{len(no_activity)} lines have a budget but no placements in the record, "
                     f"so their forecast is actuals to date only: {_line_list(no_activity)}.")
    open_count = int(out["open_without_end"].sum())
    if open_count:
        notes.append(f"{open_count} open placements have no end date or usable planned end: "
                     f"they are committed to the end of {fy_label(year)}.")
    return notes


def outturn_total(table: pd.DataFrame, policy: RagPolicy | None = None) -> pd.Series:
    """The total row of an outturn table, with its own RAG and commentary flag."""
    policy = policy or RagPolicy()
    money = ["budget", "expected_to_date", "actual_to_date", "committed", "forecast",
             "variance"]
    figures: dict[str, object] = table[money].sum().to_dict()
    assessed = policy.assess([figures["budget"]], [figures["forecast"]])
    figures.update({name: values[0] for name, values in assessed.items()})
    figures["rag"], figures["commentary_needed"] = str(figures["rag"]), bool(
        figures["commentary_needed"])
    return pd.Series(figures, name=("Total", ""), dtype=object)
