"""Scenarios: what-if changes to the forecast's inputs (the record, start rates and moves,
spend paths). Comparing and probing forecasts lives a layer up, in :mod:`forecastlib.whatif`."""

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

__all__ = [
    "DemandGrowth",
    "EndPlacements",
    "ExtraPlacements",
    "MixShift",
    "Savings",
    "Scenario",
    "ScenarioError",
    "UnitCostChange",
    "load_scenario",
    "merge_scenarios",
]
