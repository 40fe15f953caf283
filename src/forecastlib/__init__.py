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

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from forecastlib.errors import ConfigError as ConfigError
from forecastlib.errors import DataValidationError as DataValidationError
from forecastlib.errors import ForecastlibError as ForecastlibError
from forecastlib.errors import Problem as Problem

if TYPE_CHECKING:  # for readers and type checkers; at run time, names load when used
    from forecastlib.accrual import *  # noqa: F403
    from forecastlib.budget import *  # noqa: F403
    from forecastlib.calendar import AsAt as AsAt
    from forecastlib.datasets import *  # noqa: F403
    from forecastlib.demand import *  # noqa: F403
    from forecastlib.lines import LINE_KEYS as LINE_KEYS
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

#: The subpackages whose ``__all__`` the top level re-exports, in order.
_SUBPACKAGES = ("accrual", "budget", "datasets", "demand", "outturn", "records", "report",
                "scenarios", "simulation", "whatif")
#: Names of the foundation modules the top level re-exports.
_FOUNDATION = {"AsAt": "forecastlib.calendar", "LINE_KEYS": "forecastlib.lines"}
_OWN = ["AsAt", "LINE_KEYS", "ConfigError", "DataValidationError", "ForecastlibError",
        "Problem", "__version__", "calendar"]


def _public() -> list[str]:
    """Every public name (importing every subpackage): the top level's ``__all__``."""
    names = list(_OWN)
    for package in _SUBPACKAGES:
        names += import_module(f"forecastlib.{package}").__all__
    return names


def __getattr__(name: str) -> object:
    """The subpackages and their public names, imported when first used (so that a
    command pays only for what it runs: ``forecastlib demo`` never loads ``openpyxl``)."""
    if name in _SUBPACKAGES or name == "calendar":
        return import_module(f"forecastlib.{name}")
    if name in _FOUNDATION:
        return getattr(import_module(_FOUNDATION[name]), name)
    if name == "__all__":
        return _public()
    if not name.startswith("__"):
        for package in _SUBPACKAGES:
            module = import_module(f"forecastlib.{package}")
            if name in module.__all__:
                return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_public()) | set(_SUBPACKAGES))
