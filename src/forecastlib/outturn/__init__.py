"""Outturn: year-end forecasts per budget line, variance, RAG and commentary flags."""

from forecastlib.outturn.deterministic import (
    OUTTURN_COLUMNS,
    deterministic_outturn,
    outturn_total,
)
from forecastlib.outturn.rag import RagPolicy

__all__ = ["OUTTURN_COLUMNS", "RagPolicy", "deterministic_outturn", "outturn_total"]
