"""The forecast's boundary objects and the one interface a scenario acts through.

A forecast runs straight down::

    ForecastInputs  --transform_inputs-->  ForecastInputs  --simulate-->  SimulatedPaths
                    --transform_paths-->   SimulatedPaths  --summarise--> OutturnResult

:class:`ForecastInputs` holds the inputs normalised once at the boundary (line names
reconciled, the as-at as a :class:`~forecastlib.calendar.AsAt`, the record accrued,
demand models fitted); :class:`SimulatedPaths` holds the simulated cumulative spend per
line. A :class:`Transformation` changes the one and then the other; a
:class:`~forecastlib.scenarios.Scenario` is one, and :data:`NO_CHANGE` is the base
forecast's.

Examples
--------
>>> import pandas as pd
>>> from forecastlib.records import read_budget, read_placements
>>> book = read_placements(pd.DataFrame({"placement_id": ["P1"], "client_id": ["C1"],
...     "service": ["LAC"], "category": ["IFA"], "start_date": ["2017-04-01"],
...     "unit_cost": ["700"]}))
>>> budget = read_budget(pd.DataFrame({"service": ["lac"], "category": ["ifa "],
...                                    "annual_budget": ["40000"]}))
>>> inputs = ForecastInputs.prepare(book, budget, "2017-10-31")
>>> inputs.as_at.year, inputs.placements["category"].tolist()  # the budget's spelling
(2017, ['ifa'])
>>> float(inputs.accrue().accrued["net_to_date"].iloc[0])  # 214 days at 100 a day
21400.0
>>> NO_CHANGE.transform_inputs(inputs) is inputs
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from forecastlib.accrual import accrue
from forecastlib.calendar import AsAt
from forecastlib.records.line_names import reconcile_line_names
from forecastlib.simulation.engine import DemandModels, StartChanges

__all__ = ["NO_CHANGE", "ForecastInputs", "SimulatedPaths", "SpendContext", "Transformation"]


@dataclass(frozen=True, eq=False)
class ForecastInputs:
    """A forecast's inputs, normalised once: what every later step takes.

    Attributes
    ----------
    placements, budget : DataFrame
        Validated frames with one spelling per line.
    actuals : DataFrame or None
        Ledger actuals, with the same spellings.
    as_at : AsAt
        The forecast date and its financial year.
    use_planned_ends, new_starts : bool
        The forecast's options (see :func:`~forecastlib.outturn.forecast_outturn`).
    models : DemandModels or None
        Fitted demand models (``None`` until :meth:`fitted`).
    start_changes : StartChanges or None
        Start-rate factors and moves between lines (from a scenario).
    notes : tuple of str
        The readers' notes and the line names merged.
    accrued : DataFrame or None
        :func:`~forecastlib.accrual.accrue` of ``placements`` (``None`` until
        :meth:`accrue`; a new record drops it).
    """

    placements: pd.DataFrame
    budget: pd.DataFrame
    actuals: pd.DataFrame | None
    as_at: AsAt
    use_planned_ends: bool = True
    new_starts: bool = True
    models: DemandModels | None = None
    start_changes: StartChanges | None = None
    notes: tuple[str, ...] = ()
    accrued: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.as_at, AsAt):
            raise TypeError(f"ForecastInputs.as_at must be an AsAt, got {self.as_at!r}; "
                            "build inputs with ForecastInputs.prepare")

    @classmethod
    def prepare(cls, placements: pd.DataFrame, budget: pd.DataFrame, as_at: object,
                actuals: pd.DataFrame | None = None, *, year: int | None = None,
                use_planned_ends: bool = True, new_starts: bool = True,
                models: DemandModels | None = None) -> ForecastInputs:
        """The boundary: line names reconciled and ``as_at`` parsed, once."""
        placements, budget, actuals, notes = reconcile_line_names(placements, budget, actuals)
        return cls(placements, budget, actuals, AsAt.of(as_at, year),
                   use_planned_ends=use_planned_ends, new_starts=new_starts, models=models,
                   notes=tuple(notes))

    def accrue(self) -> ForecastInputs:
        """These inputs with the record accrued (itself when it already is)."""
        if self.accrued is not None:
            return self
        return replace(self, accrued=accrue(self.placements, self.as_at,
                                            use_planned_ends=self.use_planned_ends))

    def fitted(self) -> ForecastInputs:
        """These inputs with demand models fitted to the record (when not given); without
        new starts, the models' starts and prices are dropped."""
        models = self.models
        if models is None:
            models = DemandModels.fit(self.placements, self.as_at.day,
                                      new_starts=self.new_starts)
        if not self.new_starts and (models.starts is not None or models.prices is not None):
            models = replace(models, starts=None, prices=None)
        return self if models is self.models else replace(self, models=models)

    def with_placements(self, placements: pd.DataFrame) -> ForecastInputs:
        """These inputs with a changed record (to be accrued again)."""
        return replace(self, placements=placements, accrued=None)


@dataclass(frozen=True, eq=False)
class SimulatedPaths:
    """Simulated cumulative spend per line, actuals to date included.

    Attributes
    ----------
    lines : Index
        The forecast's lines ``(service, category)``.
    paths : ndarray
        ``(lines, simulations, months)`` cumulative spend at each remaining month-end.
    running : ndarray
        ``(lines, simulations)`` placements in place at year-end.
    process_only, no_common : ndarray
        ``(lines, simulations)`` outturns with parameters held at their estimates, and
        without the common demand shock.
    actual : ndarray
        ``(lines,)`` actuals to date.
    committed : ndarray
        ``(lines,)`` exact remaining cost of placements with a known end.
    notes : list of str
    """

    lines: pd.Index
    paths: np.ndarray
    running: np.ndarray
    process_only: np.ndarray
    no_common: np.ndarray
    actual: np.ndarray
    committed: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def simulations(self) -> int:
        return int(self.paths.shape[1])

    @property
    def outturns(self) -> np.ndarray:
        """``(lines, simulations)`` year-end outturns (actuals when no month is left)."""
        if self.paths.shape[2]:
            return self.paths[:, :, -1]
        return np.repeat(self.actual[:, None], self.simulations, axis=1)


@dataclass(frozen=True)
class SpendContext:
    """What changes to spend paths need beside the paths: the date, models and seed."""

    as_at: AsAt
    models: DemandModels | None
    seed: int | None

    @property
    def offsets(self) -> np.ndarray:
        """Days from as-at to each remaining month-end."""
        return self.as_at.offsets

    def days_from(self, start: object) -> np.ndarray:
        """Days from ``max(start, as_at + 1)`` to each remaining month-end (>= 0)."""
        first = max((np.datetime64(start, "D") - self.as_at.day).astype(int), 1)
        return np.clip(self.offsets - first + 1, 0, None)


@runtime_checkable
class Transformation(Protocol):
    """A change to a forecast, applied through one interface.

    ``transform_inputs`` changes the inputs before simulation (the record, fitted
    models, start-rate changes); ``transform_paths`` changes the simulated spend after
    it (unit costs, savings, extra placements); ``describe`` gives the notes the result
    carries. Draws a transformation needs come from its own streams, so everything it
    leaves alone is what the base forecast draws with the same seed.
    """

    def transform_inputs(self, inputs: ForecastInputs) -> ForecastInputs: ...

    def transform_paths(self, paths: SimulatedPaths, context: SpendContext
                        ) -> SimulatedPaths: ...

    def describe(self) -> list[str]: ...


class _NoChange:
    """The base forecast's transformation: everything as it is."""

    def transform_inputs(self, inputs: ForecastInputs) -> ForecastInputs:
        return inputs

    def transform_paths(self, paths: SimulatedPaths, context: SpendContext
                        ) -> SimulatedPaths:
        return paths

    def describe(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        return "NO_CHANGE"


#: The identity :class:`Transformation` (the base forecast).
NO_CHANGE = _NoChange()
