"""Reports: key activity tables, outturn tables, the contract's JSON and CSV, the movement
since last month, charts and the Excel committee pack.

The committee pack (:func:`committee_pack`) is imported when first used, and with it
``openpyxl``: a forecast printed or saved as JSON or CSV does not load it.
"""

from typing import TYPE_CHECKING

from forecastlib.report.export import result_to_csv, result_to_json_dict, year_end_counts
from forecastlib.report.key_activity import (
    KEY_ACTIVITY_COLUMNS,
    key_activity,
    volume_price_split,
)
from forecastlib.report.movement import (
    COMPONENT_LABELS,
    format_movement,
    movement_to_csv,
    movement_to_json_dict,
)
from forecastlib.report.plots import (
    assumption_label,
    cumulative_actuals,
    plot_fan_chart,
    plot_tornado,
    plot_variance,
    plot_waterfall,
)
from forecastlib.report.safe_cells import neutralise_formulas
from forecastlib.report.tables import format_key_activity, format_outturn, gbp_thousands

if TYPE_CHECKING:
    from forecastlib.report.workbook import committee_pack

__all__ = [
    "COMPONENT_LABELS",
    "KEY_ACTIVITY_COLUMNS",
    "assumption_label",
    "committee_pack",
    "cumulative_actuals",
    "format_movement",
    "format_key_activity",
    "format_outturn",
    "gbp_thousands",
    "key_activity",
    "movement_to_csv",
    "movement_to_json_dict",
    "neutralise_formulas",
    "plot_fan_chart",
    "plot_tornado",
    "plot_variance",
    "plot_waterfall",
    "result_to_csv",
    "result_to_json_dict",
    "volume_price_split",
    "year_end_counts",
]


def __getattr__(name: str) -> object:
    if name == "committee_pack":  # openpyxl only for a pack
        from forecastlib.report.workbook import committee_pack

        return committee_pack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
