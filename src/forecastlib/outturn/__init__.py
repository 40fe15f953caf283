"""Outturn: year-end forecasts per budget line, variance, RAG and commentary flags."""

from forecastlib.outturn.backtest import (
    BacktestResult,
    backtest_outturn,
    calibrate_outturn,
    record_as_at,
)
from forecastlib.outturn.deterministic import (
    OUTTURN_COLUMNS,
    deterministic_outturn,
    outturn_total,
)
from forecastlib.outturn.forecast import ForecastOptions, forecast_outturn, outturn_from_inputs
from forecastlib.outturn.movement import MOVEMENT_COMPONENTS, Movement, movement
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult

__all__ = [
    "MOVEMENT_COMPONENTS",
    "Movement",
    "OUTTURN_COLUMNS",
    "BacktestResult",
    "ForecastOptions",
    "OutturnResult",
    "RagPolicy",
    "backtest_outturn",
    "calibrate_outturn",
    "deterministic_outturn",
    "forecast_outturn",
    "movement",
    "outturn_from_inputs",
    "outturn_total",
    "record_as_at",
]
