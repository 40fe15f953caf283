"""Demand: new starts, lengths of stay and prices learnt from the placement history."""

from forecastlib.demand.backtest import cross_validation, evaluate
from forecastlib.demand.history import default_history_start, durations, monthly_starts, spells
from forecastlib.demand.prices import PriceModel
from forecastlib.demand.series import ProjectionWarning, project_series
from forecastlib.demand.starts import StartsModel
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.demand.survival import FAMILIES, LengthOfStayModel

__all__ = [
    "FAMILIES",
    "LengthOfStayModel",
    "PriceModel",
    "ProjectionWarning",
    "StartsModel",
    "StayDraws",
    "cross_validation",
    "default_history_start",
    "durations",
    "evaluate",
    "monthly_starts",
    "project_series",
    "spells",
]
