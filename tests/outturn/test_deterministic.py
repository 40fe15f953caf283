"""The deterministic outturn, RAG policy and the forecast entry point."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book, budget_book
from pydantic import ValidationError

from forecastlib.errors import ConfigError
from forecastlib.outturn import (
    RagPolicy,
    deterministic_outturn,
    forecast_outturn,
    outturn_total,
)
from forecastlib.records import read_actuals

AS_AT = "2017-10-31"


def small_case():
    placements = book(
        {"start_date": "2017-04-01", "unit_cost": 700, "category": "Res"},
        {"start_date": "2017-04-01", "planned_end_date": "2017-11-30", "unit_cost": 350,
         "category": "IFA"},
        {"start_date": "2017-06-01", "unit_cost": 70, "category": "Unbudgeted"},
    )
    budget = budget_book(
        {"service": "LAC Placements", "category": "Res", "budget_placements": 1,
         "budget_unit_cost": 500},
        {"service": "LAC Placements", "category": "IFA", "annual_budget": 40_000},
        {"service": "LAC Placements", "category": "", "annual_budget": 10_000},
    )
    return placements, budget


def test_forecast_is_accrued_to_date_plus_committed_per_line():
    placements, budget = small_case()
    table = deterministic_outturn(placements, budget, AS_AT)
    res = table.loc[("LAC Placements", "Res")]
    assert round(res.actual_to_date, 2) == 21_400 and round(res.committed, 2) == 15_100
    assert round(res.forecast, 2) == 36_500
    assert round(res.variance, 2) == round(36_500 - 500 * 52, 2)
    ifa = table.loc[("LAC Placements", "IFA")]
    assert round(ifa.forecast, 2) == 50 * (214 + 30)
    assert res.actual_source == "accrued"


def test_lines_with_only_a_budget_or_only_placements_both_appear():
    placements, budget = small_case()
    table = deterministic_outturn(placements, budget, AS_AT)
    assert ("LAC Placements", "") in table.index  # budget, no placements
    unbudgeted = table.loc[("LAC Placements", "Unbudgeted")]  # placements, no budget
    assert unbudgeted.budget == 0 and unbudgeted.forecast > 0 and unbudgeted.rag == "green"
    assert np.isnan(unbudgeted.variance_pct)
    notes = " ".join(table.attrs["notes"])
    assert "spend but no budget" in notes and "budget but no placements" in notes


def test_ledger_actuals_replace_accrued_actuals():
    placements, budget = small_case()
    actuals = read_actuals(pd.DataFrame({"service": ["LAC Placements"] * 2,
                                         "category": ["Res", "Other"], "period": ["1", "2"],
                                         "amount": ["1000", "5"]}))
    table = deterministic_outturn(placements, budget, AS_AT, actuals=actuals)
    assert table.loc[("LAC Placements", "Res"), "actual_to_date"] == 1000
    assert table.loc[("LAC Placements", "Res"), "forecast"] == pytest.approx(16_100)
    assert table.loc[("LAC Placements", "Other"), "forecast"] == 5  # ledger-only line kept
    assert (table["actual_source"] == "ledger").all()


def test_total_row_sums_money_and_rates_itself():
    placements, budget = small_case()
    table = deterministic_outturn(placements, budget, AS_AT)
    total = outturn_total(table)
    assert total["forecast"] == pytest.approx(table["forecast"].sum())
    assert total["rag"] in {"green", "amber", "red"}


def test_default_rag_bands_and_commentary_rule():
    policy = RagPolicy()
    budgets = [1_000_000] * 5 + [0, 20_000_000]
    variances = [-900_000, 10_000, 10_001, 49_999, 60_000, 10_001, 399_999]
    assert policy.rate(budgets, variances).tolist() == [
        "green", "green", "amber", "amber", "red", "amber", "amber"]
    assert policy.needs_commentary([1_000_000, 1_000_000, 20_000_000, 20_000_000],
                                   [100_000, -100_001, 400_000, -400_001]).tolist() == [
        False, True, False, True]
    strict = RagPolicy(rate_underspends=True)
    assert strict.rate([1_000_000], [-900_000]).tolist() == ["red"]
    with pytest.raises(ValidationError):
        RagPolicy(red_share=0.001)


def test_forecast_outturn_is_exact_when_nothing_is_random():
    placements = book(
        {"start_date": "2017-04-01", "planned_end_date": "2018-01-31", "unit_cost": 700,
         "category": "Res"},
        {"start_date": "2017-04-01", "end_date": "2017-06-30", "unit_cost": 350,
         "category": "IFA"},
    )
    _, budget = small_case()
    result = forecast_outturn(placements, budget, AS_AT, new_starts=False)
    assert (result.lines["mean"] == result.lines["lower"]).all()
    assert (result.lines["p50"] == result.lines["upper"]).all()
    assert result.simulations == 0 and "OutturnResult(" in repr(result)
    assert round(result.lines.loc[("LAC Placements", "Res"), "mean"], 2) == 100 * 306


def test_open_placements_without_an_end_are_simulated_and_planned_ends_can_be_ignored():
    placements, budget = small_case()
    result = forecast_outturn(placements, budget, AS_AT, new_starts=False, simulations=400,
                              seed=1)
    assert result.simulations == 400
    res = result.lines.loc[("LAC Placements", "Res")]
    assert res["lower"] <= res["mean"] <= res["upper"]
    assert res["mean"] <= 36_500 + 1e-6  # can end early, never run past year-end
    ignored = forecast_outturn(placements, budget, AS_AT, new_starts=False,
                               use_planned_ends=False, simulations=400, seed=1)
    ifa = ("LAC Placements", "IFA")  # no spell has ever ended: stays run on
    assert ignored.lines.loc[ifa, "mean"] > result.lines.loc[ifa, "mean"]
    assert any("drawn from" in note for note in ignored.notes)


@pytest.mark.parametrize(("keyword", "value"), [("interval", 1.0), ("interval", 0),
                                                ("simulations", 0)])
def test_forecast_options_are_checked(keyword, value):
    placements, budget = small_case()
    with pytest.raises(ConfigError, match=keyword):
        forecast_outturn(placements, budget, AS_AT, new_starts=False, **{keyword: value})
