"""Simulation: the vectorised per-placement projection behind probabilistic outturns."""

from forecastlib.simulation.blocks import SIM_BLOCK
from forecastlib.simulation.engine import (
    DemandModels,
    SimulatedOutturn,
    StartChanges,
    simulate_remaining,
)
from forecastlib.simulation.forked import ForkedWorkers
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook

__all__ = [
    "SIM_BLOCK",
    "DemandModels",
    "ForkedWorkers",
    "NewStarts",
    "OpenBook",
    "SimulatedOutturn",
    "StartChanges",
    "simulate_remaining",
]
