"""Scenarios: what-if changes applied on top of the outturn forecast."""

from forecastlib.scenarios.compare import compare
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
    "compare",
    "load_scenario",
    "merge_scenarios",
]
