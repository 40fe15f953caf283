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
from forecastlib.scenarios.sensitivity import (
    OutturnSurface,
    goal_seek,
    placements_before_red,
    share_to_balance,
    sobol_table,
    tornado,
)

__all__ = [
    "DemandGrowth",
    "EndPlacements",
    "ExtraPlacements",
    "MixShift",
    "OutturnSurface",
    "Savings",
    "Scenario",
    "ScenarioError",
    "UnitCostChange",
    "compare",
    "goal_seek",
    "load_scenario",
    "merge_scenarios",
    "placements_before_red",
    "share_to_balance",
    "sobol_table",
    "tornado",
]
