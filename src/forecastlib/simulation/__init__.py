"""Simulation: the vectorised per-placement projection behind probabilistic outturns."""

from forecastlib.simulation.blocks import SIM_BLOCK
from forecastlib.simulation.engine import (
    DemandModels,
    SimulatedOutturn,
    StartChanges,
    simulate_remaining,
)
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook
from forecastlib.simulation.start_moments import MOMENTS_ABOVE, start_moments

__all__ = [
    "MOMENTS_ABOVE",
    "SIM_BLOCK",
    "DemandModels",
    "NewStarts",
    "OpenBook",
    "SimulatedOutturn",
    "StartChanges",
    "simulate_remaining",
    "start_moments",
]
