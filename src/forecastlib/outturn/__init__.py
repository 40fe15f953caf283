"""Outturn: year-end forecasts per budget line, variance, RAG and commentary flags."""

from forecastlib.outturn.deterministic import (
    OUTTURN_COLUMNS,
    deterministic_outturn,
    outturn_total,
)
from forecastlib.outturn.forecast import (
    NewStartsNotModelledWarning,
    OutturnResult,
    forecast_outturn,
)
from forecastlib.outturn.rag import RagPolicy

__all__ = [
    "OUTTURN_COLUMNS",
    "NewStartsNotModelledWarning",
    "OutturnResult",
    "RagPolicy",
    "deterministic_outturn",
    "forecast_outturn",
    "outturn_total",
]
