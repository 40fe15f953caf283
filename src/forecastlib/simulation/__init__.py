"""Simulation: the vectorised per-placement projection behind probabilistic outturns."""

from forecastlib.simulation.blocks import SIM_BLOCK
from forecastlib.simulation.book_paths import MOMENTS_ABOVE, BookPaths, path_moments
from forecastlib.simulation.engine import (
    DemandModels,
    SimulatedOutturn,
    StartChanges,
    simulate_remaining,
)
from forecastlib.simulation.forked import ForkedWorkers
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook
from forecastlib.simulation.start_moments import start_moments

__all__ = [
    "MOMENTS_ABOVE",
    "SIM_BLOCK",
    "BookPaths",
    "DemandModels",
    "ForkedWorkers",
    "NewStarts",
    "OpenBook",
    "SimulatedOutturn",
    "StartChanges",
    "path_moments",
    "simulate_remaining",
    "start_moments",
]
