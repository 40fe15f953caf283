"""Demand: new starts, lengths of stay and prices learnt from the placement history."""

from forecastlib.demand.backtest import cross_validation, evaluate
from forecastlib.demand.history import (
    SpellHistory,
    default_history_start,
    durations,
    episode_spells,
    line_starts,
    monthly_starts,
    segments,
    spells,
)
from forecastlib.demand.moves import MoveModel
from forecastlib.demand.pooled import PooledGrowthModel
from forecastlib.demand.prices import PriceModel
from forecastlib.demand.series import ProjectionWarning, project_series
from forecastlib.demand.starts import StartsModel
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.demand.survival import FAMILIES, LengthOfStayModel

__all__ = [
    "FAMILIES",
    "LengthOfStayModel",
    "MoveModel",
    "PooledGrowthModel",
    "PriceModel",
    "ProjectionWarning",
    "SpellHistory",
    "StartsModel",
    "StayDraws",
    "cross_validation",
    "default_history_start",
    "durations",
    "episode_spells",
    "evaluate",
    "line_starts",
    "monthly_starts",
    "project_series",
    "segments",
    "spells",
]
