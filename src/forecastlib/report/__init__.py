"""Reports: key activity tables, outturn tables and the contract's JSON and CSV."""

from forecastlib.report.export import result_to_csv, result_to_json_dict
from forecastlib.report.key_activity import (
    KEY_ACTIVITY_COLUMNS,
    key_activity,
    volume_price_split,
)
from forecastlib.report.plots import plot_fan_chart, plot_tornado
from forecastlib.report.safe_cells import neutralise_formulas
from forecastlib.report.tables import format_key_activity, format_outturn, gbp_thousands

__all__ = [
    "KEY_ACTIVITY_COLUMNS",
    "format_key_activity",
    "format_outturn",
    "gbp_thousands",
    "key_activity",
    "neutralise_formulas",
    "plot_fan_chart",
    "plot_tornado",
    "result_to_csv",
    "result_to_json_dict",
    "volume_price_split",
]
