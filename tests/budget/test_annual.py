"""Annual budgets, disagreement reporting, spend profiles and ledger actuals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import budget_book
from pydantic import ValidationError

from forecastlib.budget import SpendProfile, annual_budgets, expected_to_date, ledger_to_date
from forecastlib.errors import DataValidationError
from forecastlib.records import read_actuals


def test_formula_budget_for_each_unit():
    budgets = annual_budgets(budget_book(
        {"service": "LAC", "category": "IFA", "budget_placements": 263,
         "budget_unit_cost": 784.53},
        {"service": "Fostering", "category": "Basic", "budget_placements": 212,
         "budget_unit_cost": 172.89, "weeks_per_year": 56},
        {"service": "SEN", "category": "ASD", "budget_placements": 98,
         "budget_unit_cost": 62_908, "unit": "year", "weeks_per_year": 39},
        {"service": "OP", "category": "Homecare", "budget_placements": 1608,
         "budget_unit_cost": 15.70, "unit": "hour", "units_per_week": 10.1},
    ))
    expected = {("LAC", "IFA"): 263 * 784.53 * 52, ("Fostering", "Basic"): 212 * 172.89 * 56,
                ("SEN", "ASD"): 98 * 62_908, ("OP", "Homecare"): 1608 * 15.70 * 10.1 * 52}
    for line, amount in expected.items():
        assert round(budgets.loc[line, "annual_budget"], 2) == round(amount, 2)
        assert budgets.loc[line, "budget_difference"] != budgets.loc[line, "budget_difference"]


def test_given_budget_stands_and_the_difference_is_reported():
    budgets = annual_budgets(budget_book(
        {"service": "LAC", "category": "Res", "budget_placements": 22,
         "budget_unit_cost": 2656.43, "annual_budget": 3_018_000},
        {"service": "LAC", "category": "Same", "budget_placements": 1,
         "budget_unit_cost": 100, "annual_budget": 5200.2},
        {"service": "LAC", "category": "", "annual_budget": 868_000},
    ))
    assert budgets.loc[("LAC", "Res"), "annual_budget"] == 3_018_000
    assert round(budgets.loc[("LAC", "Res"), "budget_difference"], 2) == round(
        3_018_000 - 22 * 2656.43 * 52, 2)
    assert budgets.loc[("LAC", "Same"), "budget_difference"] == 0  # within 50p: rounding
    assert np.isnan(budgets.loc[("LAC", ""), "budget_difference"])


def test_flat_profile_is_by_day_and_custom_profile_by_month():
    annual = pd.Series([365_000.0])
    assert expected_to_date(annual, "2017-10-31", 2017).iloc[0] == pytest.approx(214_000)
    assert expected_to_date(annual, "2017-03-31", 2017).iloc[0] == 0
    assert expected_to_date(annual, "2018-06-30", 2017).iloc[0] == pytest.approx(365_000)
    march_heavy = SpendProfile(weights=[1] * 11 + [13])
    assert march_heavy.share_to(np.datetime64("2018-02-28"), 2017) == pytest.approx(11 / 24)
    half_april = SpendProfile(weights=[1] * 12).share_to(np.datetime64("2017-04-15"), 2017)
    assert half_april == pytest.approx(0.5 / 12)


@pytest.mark.parametrize("weights", [[1] * 11, [1] * 11 + [-1], [0] * 12])
def test_profile_weights_are_validated(weights):
    with pytest.raises(ValidationError):
        SpendProfile(weights=weights)


def test_ledger_sums_closed_periods_and_refuses_later_ones():
    actuals = read_actuals(pd.DataFrame({
        "service": ["LAC", "LAC", "LAC"], "category": ["IFA", "IFA", ""],
        "period": ["1", "7", "2"], "amount": ["100", "50.5", "-20"]}), name="actuals.csv")
    summed = ledger_to_date(actuals, "2017-10-31", 2017)
    assert summed[("LAC", "IFA")] == 150.5 and summed[("LAC", "")] == -20
    with pytest.raises(DataValidationError) as caught:
        ledger_to_date(actuals, "2017-09-30", 2017)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "period")]
    with pytest.raises(DataValidationError, match="last day of a period"):
        ledger_to_date(actuals, "2017-10-15", 2017)
