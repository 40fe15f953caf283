"""Demand: new starts, lengths of stay and prices learnt from the placement history."""

from forecastlib.demand.history import default_history_start, durations, monthly_starts, spells
from forecastlib.demand.survival import FAMILIES, LengthOfStayModel

__all__ = [
    "FAMILIES",
    "LengthOfStayModel",
    "default_history_start",
    "durations",
    "monthly_starts",
    "spells",
]
