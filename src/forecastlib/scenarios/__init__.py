"""Scenarios: what-if changes to the forecast's inputs (the record, start rates and moves,
spend paths), applied through one interface (:class:`Transformation`) to the forecast's
boundary objects (:class:`ForecastInputs`, :class:`SimulatedPaths`). Comparing and probing
forecasts lives a layer up, in :mod:`forecastlib.whatif`."""

from forecastlib.scenarios.schema import (
    DemandGrowth,
    EndPlacements,
    ExtraPlacements,
    MixShift,
    Savings,
    Scenario,
    ScenarioError,
    UnitCostChange,
    load_scenario,
    merge_scenarios,
)
from forecastlib.scenarios.transform import (
    NO_CHANGE,
    ForecastInputs,
    SimulatedPaths,
    SpendContext,
    Transformation,
)

__all__ = [
    "NO_CHANGE",
    "DemandGrowth",
    "EndPlacements",
    "ExtraPlacements",
    "ForecastInputs",
    "MixShift",
    "Savings",
    "Scenario",
    "ScenarioError",
    "SimulatedPaths",
    "SpendContext",
    "Transformation",
    "UnitCostChange",
    "load_scenario",
    "merge_scenarios",
]
