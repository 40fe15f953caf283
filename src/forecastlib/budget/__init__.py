"""Budget: annual budgets per line, spend profiles and ledger actuals."""

from forecastlib.budget.annual import SpendProfile, annual_budgets, expected_to_date
from forecastlib.budget.ledger import ledger_to_date

__all__ = ["SpendProfile", "annual_budgets", "expected_to_date", "ledger_to_date"]
