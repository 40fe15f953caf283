"""Accrual: daily cost and income of placements, to date, committed and by period."""

from forecastlib.accrual.activity import line_activity, line_costs_by_period
from forecastlib.accrual.engine import accrue, accrue_by_period
from forecastlib.accrual.rates import PriceTerms, effective_ends, price_terms

__all__ = [
    "PriceTerms",
    "accrue",
    "accrue_by_period",
    "effective_ends",
    "line_activity",
    "line_costs_by_period",
    "price_terms",
]
