"""Records: reading and validating the input files into typed frames."""

from forecastlib.records.line_names import reconcile_line_names
from forecastlib.records.readers import read_actuals, read_budget, read_placements, read_table
from forecastlib.records.schema import (
    UNITS,
    ActualRecord,
    BudgetRecord,
    PlacementRecord,
)
from forecastlib.records.ssda903 import (
    DEFAULT_PRICES,
    place_category,
    read_ssda903,
    read_ssda903_folder,
)
from forecastlib.records.validate import validate_table

__all__ = [
    "DEFAULT_PRICES",
    "UNITS",
    "ActualRecord",
    "BudgetRecord",
    "PlacementRecord",
    "read_actuals",
    "read_budget",
    "place_category",
    "read_placements",
    "read_ssda903",
    "read_ssda903_folder",
    "reconcile_line_names",
    "read_table",
    "validate_table",
]
