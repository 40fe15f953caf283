"""forecastlib: year-end outturn forecasts for UK local-authority demand-led budgets.

The data flow, one subpackage a step::

    records (read + validate) -> accrual (daily cost) -> budget (annual, profile, ledger)
        -> demand (starts, lengths of stay, prices, project_series)
        -> simulation (open placements' ends, new starts) -> outturn (distribution,
        variance, RAG) -> report (key activity, tables, JSON, CSV)

Examples
--------
>>> import forecastlib as fl
>>> sample = fl.load_sample()
>>> result = fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
...                              actuals=sample.actuals, simulations=200, seed=1)
>>> result.total["rag"]
'amber'
"""

from importlib.metadata import PackageNotFoundError, version

from forecastlib import (
    accrual,
    budget,
    calendar,
    datasets,
    demand,
    outturn,
    records,
    report,
    scenarios,
    simulation,
    whatif,
)
from forecastlib.accrual import *  # noqa: F403
from forecastlib.budget import *  # noqa: F403
from forecastlib.calendar import AsAt
from forecastlib.datasets import *  # noqa: F403
from forecastlib.demand import *  # noqa: F403
from forecastlib.errors import ConfigError, DataValidationError, ForecastlibError, Problem
from forecastlib.lines import LINE_KEYS
from forecastlib.outturn import *  # noqa: F403
from forecastlib.records import *  # noqa: F403
from forecastlib.report import *  # noqa: F403
from forecastlib.scenarios import *  # noqa: F403
from forecastlib.simulation import *  # noqa: F403
from forecastlib.whatif import *  # noqa: F403

try:
    __version__ = version("forecastlib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "AsAt",
    "LINE_KEYS",
    "ConfigError",
    "DataValidationError",
    "ForecastlibError",
    "Problem",
    "__version__",
    "calendar",
    *accrual.__all__,
    *budget.__all__,
    *datasets.__all__,
    *demand.__all__,
    *outturn.__all__,
    *records.__all__,
    *report.__all__,
    *scenarios.__all__,
    *simulation.__all__,
    *whatif.__all__,
]
