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

The forecast runs straight down, each step taking the one before's output::

    forecast_outturn(files' frames, date-like as_at, options)      the boundary
      -> ForecastInputs          names reconciled, AsAt parsed once, record accrued
      -> transform_inputs        the scenario's record and start-rate changes
      -> commitment_table        actuals to date + committed (the exact basis)
      -> SimulatedPaths          remaining spend simulated, known commitments added
      -> transform_paths         the scenario's changes to spend
      -> OutturnResult           summaries, RAG, notes

:func:`outturn_from_inputs` runs the steps after the boundary, for callers that
already hold :class:`~forecastlib.scenarios.transform.ForecastInputs` (the movement, the
command line's scenario and base forecasts).
"""

from __future__ import annotations

import numbers
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from forecastlib.accrual.engine import open_without_end
from forecastlib.budget import SpendProfile
from forecastlib.errors import ConfigError
from forecastlib.outturn.deterministic import commitment_table, outturn_total
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult, central_summary
from forecastlib.scenarios.schema import Scenario
from forecastlib.scenarios.transform import (
    NO_CHANGE,
    ForecastInputs,
    SimulatedPaths,
    SpendContext,
    Transformation,
)
from forecastlib.simulation import MOMENTS_ABOVE, DemandModels, ForkedWorkers, simulate_remaining

__all__ = ["ForecastOptions", "OutturnResult", "forecast_outturn", "outturn_from_inputs"]

_QUANTILES = ("mean", "p50", "lower", "upper")


@dataclass(frozen=True)
class ForecastOptions:
    """How a forecast simulates and summarises: one object for every caller.

    Parameters
    ----------
    interval : float, default 0.8
        Coverage of the central interval, in (0, 1).
    simulations : int, default 10000
    seed : int, optional
        Seed of every random stream (``None`` is seed 0).
    policy : RagPolicy, optional
        RAG and commentary thresholds (default ``RagPolicy()``).
    profile : SpendProfile, optional
        Budget profile for ``expected_to_date`` (default flat by day).
    moments_above : float or None, default MOMENTS_ABOVE
        Lines expecting at least this many events a simulation (open placements ending
        this year, new starts) draw that part from its exact moments given the
        simulation's parameters (:mod:`~forecastlib.simulation.book_paths`,
        :mod:`~forecastlib.simulation.start_moments`); ``None`` simulates every
        placement one by one (exact).

    Examples
    --------
    >>> ForecastOptions(simulations=500, seed=7).interval
    0.8
    >>> ForecastOptions(interval=1.2)
    Traceback (most recent call last):
    ...
    forecastlib.errors.ConfigError: interval must be between 0 and 1 (exclusive), got 1.2
    """

    interval: float = 0.8
    simulations: int = 10_000
    seed: int | None = None
    policy: RagPolicy = field(default_factory=RagPolicy)
    profile: SpendProfile | None = None
    moments_above: float | None = MOMENTS_ABOVE

    def __post_init__(self) -> None:
        if not 0 < self.interval < 1:
            raise ConfigError(f"interval must be between 0 and 1 (exclusive), "
                              f"got {self.interval!r}")
        if int(self.simulations) != self.simulations or self.simulations < 1:
            raise ConfigError(f"simulations must be a positive whole number, "
                              f"got {self.simulations!r}")
        if self.moments_above is not None and not (
                isinstance(self.moments_above, numbers.Real)
                and not isinstance(self.moments_above, bool) and self.moments_above > 0):
            raise ConfigError("moments_above must be a positive number of events a "
                              f"simulation or None, got {self.moments_above!r}")
        object.__setattr__(self, "interval", float(self.interval))
        object.__setattr__(self, "simulations", int(self.simulations))
        if self.policy is None:
            object.__setattr__(self, "policy", RagPolicy())


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
    executor: Executor | ForkedWorkers | None = None,
    moments_above: float | None = MOMENTS_ABOVE,
) -> OutturnResult:
    """Forecast the year-end outturn of every budget line, as a distribution.

    Parameters
    ----------
    placements, budget : DataFrame
        Validated inputs.
    as_at : date-like or AsAt
        Last day of actuals (parsed here, once: see :class:`~forecastlib.calendar.AsAt`).
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
    executor : concurrent.futures.Executor or ForkedWorkers, optional
        Runs the blocks of simulations (a process pool, a Dask client's
        ``get_executor()``, ...); default threads over this machine's cores. The numbers
        are the same whatever runs them (see :mod:`forecastlib.simulation.blocks`).
        :class:`~forecastlib.simulation.forked.ForkedWorkers` runs them in processes
        forked from this one, and fits the demand models in two (the command line's
        choice: see :mod:`forecastlib.simulation.forked`).
    moments_above : float or None, default MOMENTS_ABOVE
        Lines expecting at least this many events a simulation (open placements ending,
        new starts) draw them from their exact moments given the simulation's
        parameters; ``None`` simulates every placement (exact).

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
    options = ForecastOptions(interval=interval, simulations=simulations, seed=seed,
                              policy=policy or RagPolicy(), profile=profile,
                              moments_above=moments_above)
    inputs = ForecastInputs.prepare(placements, budget, as_at, actuals,
                                    use_planned_ends=use_planned_ends, new_starts=new_starts,
                                    models=models)
    return outturn_from_inputs(inputs, options, scenario, executor=executor)


def outturn_from_inputs(inputs: ForecastInputs, options: ForecastOptions | None = None,
                        transformation: Transformation | None = None, *,
                        executor: Executor | ForkedWorkers | None = None
                        ) -> OutturnResult:
    """The forecast's steps after the boundary: normalised inputs to a result.

    Parameters
    ----------
    inputs : ForecastInputs
        From :meth:`ForecastInputs.prepare` (nothing is parsed again).
    options : ForecastOptions, optional
    transformation : Transformation, optional
        A :class:`~forecastlib.scenarios.Scenario`, or anything with its interface
        (default: none, the base forecast).
    executor : concurrent.futures.Executor or ForkedWorkers, optional
        Runs the blocks of simulations (see :func:`forecast_outturn`).

    Returns
    -------
    OutturnResult

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> from forecastlib.scenarios.transform import ForecastInputs
    >>> sample = load_sample()
    >>> inputs = ForecastInputs.prepare(sample.placements, sample.budget, sample.as_at,
    ...                                 sample.actuals, new_starts=False,
    ...                                 use_planned_ends=True)
    >>> result = outturn_from_inputs(inputs, ForecastOptions(simulations=300, seed=1))
    >>> result.simulations, str(result.as_at)
    (300, '2017-10-31')
    """
    options = options or ForecastOptions()
    transformation = NO_CHANGE if transformation is None else transformation
    inputs = transformation.transform_inputs(inputs).accrue()
    table = commitment_table(inputs, options.policy, options.profile)
    open_rows = open_without_end(inputs.accrued)
    if not inputs.new_starts and not open_rows.any() and transformation is NO_CHANGE:
        return _exact(table, inputs, options)
    inputs = fitted_inputs(inputs, executor)
    paths = _simulate(inputs, table, options, executor)
    paths = transformation.transform_paths(paths, SpendContext(inputs.as_at, inputs.models,
                                                               options.seed))
    notes = [note for note in table.attrs["notes"] if "committed to the end" not in note]
    notes += paths.notes
    if open_rows.any():
        notes.append(f"{int(open_rows.sum())} open placements have no end date or usable "
                     "planned end: their ends are drawn from their line's length of stay.")
    if not inputs.new_starts:
        notes.append("New starts are left out (--no-new-starts).")
    notes += transformation.describe()
    return _summarise(table, paths, inputs, options, notes)


def fitted_inputs(inputs: ForecastInputs, executor: Executor | ForkedWorkers | None = None
                  ) -> ForecastInputs:
    """``inputs.fitted()``; with :class:`ForkedWorkers`, models not yet fitted are fitted
    in two processes (``DemandModels.fit(..., fork=True)``: the same models)."""
    if inputs.models is None and isinstance(executor, ForkedWorkers) and executor.count(2) > 1:
        inputs = replace(inputs, models=DemandModels.fit(
            inputs.placements, inputs.as_at.day, new_starts=inputs.new_starts, fork=True))
    return inputs.fitted()


def _simulate(inputs: ForecastInputs, table: pd.DataFrame, options: ForecastOptions,
              executor: Executor | ForkedWorkers | None = None) -> SimulatedPaths:
    """Remaining spend simulated per line, with the known commitments and actuals added."""
    simulations = options.simulations
    simulated, known, known_running = simulate_remaining(
        inputs.placements, inputs.as_at, inputs.models, simulations=simulations,
        seed=options.seed, use_planned_ends=inputs.use_planned_ends, year=inputs.as_at.year,
        start_changes=inputs.start_changes, accrued=inputs.accrued, executor=executor,
        moments_above=options.moments_above)
    lines = table.index
    months = len(inputs.as_at.month_ends)
    process = np.zeros((len(lines), simulations))
    no_common = np.zeros((len(lines), simulations))
    running = np.zeros((len(lines), simulations), dtype=np.int64)
    known = known.reindex(lines).fillna(0.0).to_numpy()
    # one lines x simulations x months array, added to in place line by line (a loop
    # over lines): no temporary copies of it (each is 34 MB for 35 lines x 10,000 x 12)
    remaining = np.empty((len(lines), simulations, months))
    remaining[:] = known[:, None, :]
    running += known_running["running"].reindex(lines).fillna(0).to_numpy(dtype=np.int64)[:, None]
    process += known[:, -1:] if months else 0.0
    no_common += known[:, -1:] if months else 0.0
    where = lines.get_indexer(simulated.lines)
    for position, row in enumerate(where):
        remaining[row] += simulated.paths[position]
    process[where] += simulated.process_only
    if simulated.no_common is not None:
        no_common[where] += simulated.no_common
    running[where] += simulated.running
    actual = table["actual_to_date"].to_numpy()
    remaining += actual[:, None, None]
    return SimulatedPaths(
        lines=lines, paths=remaining, running=running,
        process_only=actual[:, None] + process, no_common=actual[:, None] + no_common,
        actual=actual, committed=known[:, -1] if months else np.zeros(len(lines)),
        notes=list(simulated.notes))


def _figures(draws: np.ndarray, budget: np.ndarray, interval: float) -> dict[str, np.ndarray]:
    return {**central_summary(draws, interval), "sd": draws.std(axis=-1),
            "prob_overspend": (draws > budget[..., None]).mean(axis=-1)}


def _summarise(table: pd.DataFrame, paths: SimulatedPaths, inputs: ForecastInputs,
               options: ForecastOptions, notes: list[str]) -> OutturnResult:
    """Per-line and total figures, RAG and commentary from the simulated outturns."""
    policy, interval = options.policy, options.interval
    outturns = paths.outturns
    out = table.drop(columns=["forecast"]).copy()
    out["committed"] = paths.committed
    for name, values in _figures(outturns, table["budget"].to_numpy(), interval).items():
        out[name] = values
    for name, values in policy.assess(out["budget"], out["mean"], lump=out["lump"]).items():
        out[name] = values

    totals = outturns.sum(axis=0)
    budget_total = float(out["budget"].sum())
    figures = {name: float(np.asarray(v).ravel()[0]) for name, v in
               _figures(totals[None, :], np.array([budget_total]), interval).items()}
    assessed = policy.assess([budget_total], [figures["mean"]])
    total = pd.Series({
        "budget": budget_total, "expected_to_date": float(out["expected_to_date"].sum()),
        "actual_to_date": float(paths.actual.sum()), "committed": float(out["committed"].sum()),
        **figures, "variance": float(assessed["variance"][0]),
        "variance_pct": float(assessed["variance_pct"][0]),
        "rag": str(assessed["rag"][0]),
        "commentary_needed": bool(assessed["commentary_needed"][0]),
    }, name=("Total", ""), dtype=object)
    return OutturnResult(lines=out, total=total, as_at=inputs.as_at.day, year=inputs.as_at.year,
                         interval=interval, simulations=paths.simulations, notes=notes,
                         outturns=outturns, paths=paths.paths, months=inputs.as_at.months,
                         year_end_running=paths.running, process_only=paths.process_only,
                         no_common=paths.no_common)


def _exact(table: pd.DataFrame, inputs: ForecastInputs, options: ForecastOptions
           ) -> OutturnResult:
    """The result when nothing is random: every figure is the commitment basis's."""
    lines = table.copy()
    for column in _QUANTILES:
        lines[column] = table["forecast"]
    lines["sd"] = 0.0
    lines["prob_overspend"] = (table["forecast"] > table["budget"]).astype(float)
    lines = lines.drop(columns=["forecast"])
    total = outturn_total(table, options.policy)
    total = pd.concat([total.drop("forecast"),
                       pd.Series({q: total["forecast"] for q in _QUANTILES}, dtype=object),
                       pd.Series({"sd": 0.0, "prob_overspend": float(
                           total["forecast"] > total["budget"])}, dtype=object)])
    total.name = ("Total", "")
    accrued = inputs.accrued
    ends = accrued["effective_end"].to_numpy(dtype="datetime64[D]")
    running = ((np.isnat(ends) | (ends >= inputs.as_at.year_end))
               & (accrued["days_in_year"].to_numpy() > 0))
    counts = (pd.Series(running, index=pd.MultiIndex.from_frame(accrued[["service", "category"]]))
              .groupby(level=[0, 1]).sum().reindex(table.index).fillna(0))
    return OutturnResult(lines=lines, total=total, as_at=inputs.as_at.day,
                         year=inputs.as_at.year, interval=options.interval, simulations=0,
                         notes=list(table.attrs["notes"]),
                         year_end_running=counts.to_numpy(dtype=np.int64)[:, None])
