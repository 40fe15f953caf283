"""The outturn forecast: the one entry point from validated inputs to a result.

:func:`forecast_outturn` assembles, per line, actuals to date (ledger, else accrued),
the exact committed cost of placements with a known end, the simulated remaining cost
of open placements with no known end (ended by their conditional length of stay), and
projected new starts (count x price x length, truncated at year-end), all net of
income, into an :class:`~forecastlib.outturn.result.OutturnResult`: mean, median,
central interval, probability of overspend, year-end placements and monthly spend
paths per line and in total.

With no new starts and every open placement given an end, nothing is random: the
forecast is exact arithmetic (``mean == p50 == lower == upper``, ``simulations == 0``).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import replace

import numpy as np
import pandas as pd

from forecastlib.accrual import accrue
from forecastlib.accrual.engine import open_without_end, resolve_year
from forecastlib.budget import SpendProfile
from forecastlib.calendar import fy_end
from forecastlib.errors import ConfigError
from forecastlib.outturn.deterministic import deterministic_outturn, outturn_total
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult
from forecastlib.records.line_names import reconcile_line_names
from forecastlib.scenarios.apply import (
    SpendContext,
    adjust_spend,
    apply_to_record,
    start_changes,
)
from forecastlib.scenarios.schema import Scenario
from forecastlib.simulation import DemandModels, simulate_remaining
from forecastlib.simulation.engine import projected_start_months, remaining_grid

__all__ = ["OutturnResult", "forecast_outturn"]

_QUANTILES = ("mean", "p50", "lower", "upper")


def _exact(table: pd.DataFrame, policy: RagPolicy, interval: float,
           accrued: pd.DataFrame) -> OutturnResult:
    lines = table.copy()
    for column in _QUANTILES:
        lines[column] = table["forecast"]
    lines["sd"] = 0.0
    lines["prob_overspend"] = (table["forecast"] > table["budget"]).astype(float)
    lines = lines.drop(columns=["forecast"])
    total = outturn_total(table, policy)
    total = pd.concat([total.drop("forecast"),
                       pd.Series({q: total["forecast"] for q in _QUANTILES}, dtype=object),
                       pd.Series({"sd": 0.0, "prob_overspend": float(
                           total["forecast"] > total["budget"])}, dtype=object)])
    total.name = ("Total", "")
    year_end = np.datetime64(fy_end(table.attrs["year"]), "D")
    ends = accrued["effective_end"].to_numpy(dtype="datetime64[D]")
    running = (np.isnat(ends) | (ends >= year_end)) & (accrued["days_in_year"].to_numpy() > 0)
    counts = (pd.Series(running, index=pd.MultiIndex.from_frame(accrued[["service", "category"]]))
              .groupby(level=[0, 1]).sum().reindex(table.index).fillna(0))
    return OutturnResult(lines=lines, total=total, as_at=table.attrs["as_at"],
                         year=table.attrs["year"], interval=float(interval), simulations=0,
                         notes=list(table.attrs["notes"]),
                         year_end_running=counts.to_numpy(dtype=np.int64)[:, None])


def _summary(draws: np.ndarray, budget: np.ndarray, interval: float) -> dict[str, np.ndarray]:
    tail = (1 - interval) / 2
    return {
        "mean": draws.mean(axis=-1),
        "p50": np.quantile(draws, 0.5, axis=-1),
        "lower": np.quantile(draws, tail, axis=-1),
        "upper": np.quantile(draws, 1 - tail, axis=-1),
        "sd": draws.std(axis=-1),
        "prob_overspend": (draws > budget[..., None]).mean(axis=-1),
    }


def forecast_outturn(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    as_at: object,
    *,
    actuals: pd.DataFrame | None = None,
    new_starts: bool = True,
    use_planned_ends: bool = True,
    interval: float = 0.8,
    simulations: int = 10_000,
    seed: int | None = None,
    policy: RagPolicy | None = None,
    profile: SpendProfile | None = None,
    models: DemandModels | None = None,
    scenario: Scenario | None = None,
    executor: Executor | None = None,
) -> OutturnResult:
    """Forecast the year-end outturn of every budget line, as a distribution.

    Parameters
    ----------
    placements, budget : DataFrame
        Validated inputs.
    as_at : date-like
        Last day of actuals.
    actuals : DataFrame, optional
        Ledger actuals; when given, actuals to date come from here.
    new_starts : bool, default True
        Include projected new placements.
    use_planned_ends : bool, default True
        End open episodes at their ``planned_end_date``; otherwise their end is drawn
        from the line's length of stay.
    interval : float, default 0.8
        Coverage of the central interval, in (0, 1).
    simulations : int, default 10000
    seed : int, optional
        Seed of every random stream (``None`` is seed 0): the same seed gives the same
        numbers on any machine.
    policy : RagPolicy, optional
    profile : SpendProfile, optional
    models : DemandModels, optional
        Fitted demand models (default: fitted to ``placements`` as at ``as_at``).
    scenario : Scenario, optional
        Changes applied on top (see :mod:`forecastlib.scenarios`). Models are fitted to
        the record before the scenario's changes, and every draw the scenario leaves
        alone is the one the base forecast makes with the same seed.
    executor : concurrent.futures.Executor, optional
        Runs the blocks of simulations (a process pool, a Dask client's
        ``get_executor()``, ...); default threads over this machine's cores. The numbers
        are the same whatever runs them (see :mod:`forecastlib.simulation.blocks`).

    Returns
    -------
    OutturnResult

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
    ...                           actuals=sample.actuals, simulations=500, seed=7)
    >>> row = result.lines.loc[("LAC Placements", "Residential homes")]
    >>> bool(row["lower"] < row["mean"] < row["upper"]), row["rag"]
    (True, 'red')
    """
    if not 0 < interval < 1:
        raise ConfigError(f"interval must be between 0 and 1 (exclusive), got {interval!r}")
    if int(simulations) != simulations or simulations < 1:
        raise ConfigError(f"simulations must be a positive whole number, got {simulations!r}")
    policy = policy or RagPolicy()
    placements, budget, actuals, _ = reconcile_line_names(placements, budget, actuals)
    as_at_day, year = resolve_year(as_at)
    if scenario is not None:
        scenario.check_dates(pd.Timestamp(as_at_day).date())
        models = models or DemandModels.fit(placements, as_at_day, new_starts=new_starts)
        placements = apply_to_record(placements, scenario, as_at_day)
    table = deterministic_outturn(placements, budget, as_at, actuals=actuals,
                                  use_planned_ends=use_planned_ends, policy=policy,
                                  profile=profile)
    accrued = accrue(placements, as_at_day, year=year, use_planned_ends=use_planned_ends)
    open_rows = open_without_end(accrued)
    if not new_starts and not open_rows.any() and scenario is None:
        return _exact(table, policy, interval, accrued)

    models = models or DemandModels.fit(placements, as_at_day, new_starts=new_starts)
    if not new_starts:
        models = replace(models, starts=None, prices=None)
    months, offsets = remaining_grid(as_at_day, year)
    changes = (start_changes(scenario, models, projected_start_months(models, months))
               if scenario is not None else None)
    simulated, known, known_running = simulate_remaining(
        placements, as_at_day, models, simulations=int(simulations), seed=seed,
        use_planned_ends=use_planned_ends, year=year, start_changes=changes, accrued=accrued,
        executor=executor)
    lines = table.index
    remaining = np.zeros((len(lines), int(simulations), len(months)))
    process = np.zeros((len(lines), int(simulations)))
    no_common = np.zeros((len(lines), int(simulations)))
    running = np.zeros((len(lines), int(simulations)), dtype=np.int64)
    known = known.reindex(lines).fillna(0.0).to_numpy()
    remaining += known[:, None, :]
    running += known_running["running"].reindex(lines).fillna(0).to_numpy(dtype=np.int64)[:, None]
    process += known[:, -1:] if len(months) else 0.0
    no_common += known[:, -1:] if len(months) else 0.0
    where = lines.get_indexer(simulated.lines)
    remaining[where] += simulated.paths
    process[where] += simulated.process_only
    if simulated.no_common is not None:
        no_common[where] += simulated.no_common
    running[where] += simulated.running
    actual = table["actual_to_date"].to_numpy()
    paths = actual[:, None, None] + remaining
    process = actual[:, None] + process
    no_common = actual[:, None] + no_common
    if scenario is not None and len(months):
        before = paths[:, :, -1].copy()
        adjust_spend(scenario, paths, running, SpendContext(lines, as_at_day, offsets, actual,
                                                             models, seed))
        process += paths[:, :, -1] - before  # the scenario's effect, simulation by simulation
        no_common += paths[:, :, -1] - before
    outturns = paths[:, :, -1] if len(months) else np.repeat(actual[:, None], simulations, 1)

    out = table.drop(columns=["forecast"]).copy()
    out["committed"] = known[:, -1] if len(months) else 0.0
    for name, values in _summary(outturns, table["budget"].to_numpy(), interval).items():
        out[name] = values
    for name, values in policy.assess(out["budget"], out["mean"], lump=out["lump"]).items():
        out[name] = values

    totals = outturns.sum(axis=0)
    budget_total = float(out["budget"].sum())
    figures = {name: float(np.asarray(v).ravel()[0]) for name, v in
               _summary(totals[None, :], np.array([budget_total]), interval).items()}
    assessed = policy.assess([budget_total], [figures["mean"]])
    total = pd.Series({
        "budget": budget_total, "expected_to_date": float(out["expected_to_date"].sum()),
        "actual_to_date": float(actual.sum()), "committed": float(out["committed"].sum()),
        **figures, "variance": float(assessed["variance"][0]),
        "variance_pct": float(assessed["variance_pct"][0]),
        "rag": str(assessed["rag"][0]),
        "commentary_needed": bool(assessed["commentary_needed"][0]),
    }, name=("Total", ""), dtype=object)
    notes = [note for note in table.attrs["notes"] if "committed to the end" not in note]
    notes += simulated.notes
    if open_rows.any():
        notes.append(f"{int(open_rows.sum())} open placements have no end date or usable "
                     "planned end: their ends are drawn from their line's length of stay.")
    if not new_starts:
        notes.append("New starts are left out (--no-new-starts).")
    if scenario is not None:
        notes.append(f"Scenario applied: {scenario.name} ({len(scenario.changes)} changes).")
        notes += scenario.notes
    return OutturnResult(lines=out, total=total, as_at=as_at_day, year=year,
                         interval=float(interval), simulations=int(simulations), notes=notes,
                         outturns=outturns, paths=paths, months=months,
                         year_end_running=running, process_only=process,
                         no_common=no_common)
