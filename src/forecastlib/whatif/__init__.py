"""What-if analysis on forecasts: scenario against base (:func:`compare`), the expected
outturn as a function of the assumptions (:class:`OutturnSurface`), tornado, Sobol indices
and goal-seek. Sits above :mod:`forecastlib.outturn`: it runs and reads forecasts, while
:mod:`forecastlib.scenarios` only describes and applies changes to their inputs."""

from forecastlib.whatif.compare import compare
from forecastlib.whatif.sensitivity import (
    OutturnSurface,
    goal_seek,
    placements_before_red,
    share_to_balance,
    sobol_table,
    tornado,
)

__all__ = [
    "OutturnSurface",
    "compare",
    "goal_seek",
    "placements_before_red",
    "share_to_balance",
    "sobol_table",
    "tornado",
]
