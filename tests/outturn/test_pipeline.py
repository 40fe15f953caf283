"""The forecast's boundary: the as-at date and line names normalised once, typed objects
after it, and expected remaining days that stay on their rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import book, budget_book
from hypothesis import given, settings
from hypothesis import strategies as st

import forecastlib as fl
import forecastlib.calendar as calendar
import forecastlib.scenarios.transform as transform
from forecastlib.calendar import AsAt, financial_year, fy_end
from forecastlib.outturn.expected import expected_remaining_days
from forecastlib.scenarios import load_scenario
from forecastlib.scenarios.transform import ForecastInputs
from forecastlib.simulation.engine import open_books


@pytest.fixture
def parses(monkeypatch):
    """Count every date-like turned into a day (the one parser behind AsAt.of)."""
    calls = []
    original = calendar._parse_day

    def counted(value):
        calls.append(value)
        return original(value)

    monkeypatch.setattr(calendar, "_parse_day", counted)
    return calls


@pytest.fixture
def reconciles(monkeypatch):
    calls = []
    original = transform.reconcile_line_names

    def counted(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(transform, "reconcile_line_names", counted)
    return calls


def test_forecast_parses_as_at_and_reconciles_names_once(sample, sample_models, parses,
                                                         reconciles):
    fl.forecast_outturn(sample.placements, sample.budget, "2017-10-31",
                        actuals=sample.actuals, simulations=100, seed=1)
    assert parses == ["2017-10-31"] and len(reconciles) == 1
    parses.clear()
    reconciles.clear()
    scenario = load_scenario({"name": "s", "changes": [
        {"kind": "savings", "service": "Learning Disability", "category": "Residential",
         "amount": 1_000, "start": "2018-01-01"},
        {"kind": "demand_growth", "service": "*", "percent": 10, "start": "2017-12-01"}]})
    fl.forecast_outturn(sample.placements, sample.budget, dt.date(2017, 10, 31),
                        actuals=sample.actuals, simulations=100, seed=1,
                        models=sample_models, scenario=scenario)
    assert len(parses) == 1 and len(reconciles) == 1


def test_exact_forecast_and_movement_parse_once_per_date(parses):
    placements = book({"start_date": "2017-04-01", "planned_end_date": "2018-03-31",
                       "unit_cost": 700})
    budget = budget_book({"service": "LAC Placements", "category": "Residential homes",
                          "annual_budget": 30_000})
    result = fl.forecast_outturn(placements, budget, "2017-10-31", new_starts=False)
    assert result.simulations == 0 and len(parses) == 1
    parses.clear()
    fl.movement(placements, placements, budget, "2017-09-30", "2017-10-31", new_starts=False)
    assert parses == ["2017-09-30", "2017-10-31"]
    parses.clear()
    fl.deterministic_outturn(placements, budget, np.datetime64("2017-10-31"))
    assert len(parses) == 1


def test_as_at_is_read_not_parsed_again(parses):
    as_at = AsAt.of("2017-10-31")
    assert AsAt.of(as_at) is as_at and len(parses) == 1
    assert AsAt.of(as_at, 2017) is as_at
    earlier = AsAt.of(as_at, 2018)  # a year override keeps the day, parses nothing
    assert earlier.day == as_at.day and earlier.year == 2018 and len(parses) == 1
    assert [str(d) for d in as_at.month_ends] == ["2017-11-30", "2017-12-31", "2018-01-31",
                                                  "2018-02-28", "2018-03-31"]
    assert as_at.offsets.tolist() == [30.0, 61.0, 92.0, 120.0, 151.0]
    assert as_at.date == dt.date(2017, 10, 31) and as_at.period == 7
    with pytest.raises(TypeError):
        AsAt("2017-10-31", 2017)
    with pytest.raises(ValueError):
        AsAt.of("not a date")
    with pytest.raises(TypeError):
        ForecastInputs(pd.DataFrame(), pd.DataFrame(), None, "2017-10-31")


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31)))
@settings(max_examples=60, deadline=None)
def test_as_at_months_left_are_the_year_month_ends_after_the_day(day):
    as_at = AsAt.of(day)
    assert as_at.year == int(financial_year(np.datetime64(day)))
    ends = as_at.month_ends
    assert (ends > as_at.day).all() and (ends <= fy_end(as_at.year)).all()
    assert len(ends) == 12 - as_at.period + (as_at.day != np.datetime64(
        pd.Timestamp(day) + pd.offsets.MonthEnd(0), "D"))
    np.testing.assert_array_equal(as_at.offsets, (ends - as_at.day).astype(int))
    assert len(as_at.months) == len(ends)


def test_expected_days_follow_their_rows_and_match_the_open_books(sample, sample_models):
    inputs = ForecastInputs.prepare(sample.placements, sample.budget, sample.as_at,
                                    sample.actuals, models=sample_models).accrue()
    days = expected_remaining_days(inputs)
    # the same record in reverse order: every row keeps its own expected days
    backwards = sample.placements.iloc[::-1].reset_index(drop=True)
    reversed_inputs = ForecastInputs.prepare(backwards, sample.budget, sample.as_at,
                                             sample.actuals, models=sample_models)
    np.testing.assert_allclose(expected_remaining_days(reversed_inputs)[::-1], days)
    # per line, daily price x expected days is the open book's exact mean
    books = open_books(inputs.placements, inputs.accrued, inputs.as_at.day,
                       inputs.as_at.offsets, sample_models.stays, sample_models.moves)
    terms = fl.accrual.price_terms(inputs.placements)
    daily = terms.cost_numerator / terms.cost_denominator - terms.income_per_week / 7.0
    lines = list(zip(inputs.placements["service"], inputs.placements["category"]))
    by_line = pd.Series(daily * days).groupby(pd.Index(lines)).sum()
    for line, open_book in list(books.items())[:6]:
        assert by_line[line] == pytest.approx(open_book.expected_cost()[0], rel=1e-9)


def test_expected_days_stop_at_a_cap_and_are_zero_for_known_ends(sample_models):
    placements = book({"start_date": "2017-04-01", "unit_cost": 700},
                      {"start_date": "2017-04-01", "unit_cost": 700,
                       "latest_end_date": "2017-11-09"},
                      {"start_date": "2017-04-01", "end_date": "2017-12-31",
                       "unit_cost": 700})
    budget = budget_book({"service": "LAC Placements", "category": "Residential homes",
                          "annual_budget": 30_000})
    inputs = ForecastInputs.prepare(placements, budget, "2017-10-31", new_starts=False,
                                    models=sample_models)
    days = expected_remaining_days(inputs)
    assert 0 < days[1] <= 9 and days[1] < days[0] <= 151 and days[2] == 0
