"""Scenario lines named as data files name them (case and spaces ignored), and the one
Transformation interface a forecast applies scenarios through."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from builders import book, budget_book

import forecastlib as fl
from forecastlib.outturn.forecast import ForecastOptions, outturn_from_inputs
from forecastlib.scenarios import ScenarioError, load_scenario
from forecastlib.scenarios.transform import (
    NO_CHANGE,
    ForecastInputs,
    SimulatedPaths,
    SpendContext,
    Transformation,
)

AS_AT = "2017-10-31"


def _record():
    placements = book({"start_date": "2017-04-01", "planned_end_date": "2018-03-31",
                       "unit_cost": 700, "category": "Residential homes"},
                      {"start_date": "2017-04-01", "planned_end_date": "2018-03-31",
                       "unit_cost": 350, "category": "IFA"})
    budget = budget_book({"service": "LAC Placements", "category": "Residential homes",
                          "annual_budget": 30_000})
    return placements, budget


def _forecast(changes):
    placements, budget = _record()
    scenario = load_scenario({"name": "s", "changes": changes})
    return fl.forecast_outturn(placements, budget, AS_AT, new_starts=False, simulations=10,
                               seed=1, scenario=scenario)


@pytest.mark.parametrize("service, category", [
    ("LAC Placements", "Residential homes"),
    ("lac placements", "RESIDENTIAL HOMES"),
    (" LAC  Placements ", "Residential\u00a0homes"),
])
def test_savings_and_unit_costs_find_their_line_whatever_the_case_and_spaces(service,
                                                                            category):
    line = ("LAC Placements", "Residential homes")
    saved = _forecast([{"kind": "savings", "service": service, "category": category,
                        "amount": 365_000, "start": "2018-01-01"}])
    # 36,500 committed at 100 a day, less 1,000 a day for the 90 days from 1 January
    assert round(saved.lines.loc[line, "mean"], 2) == 36_500 - 90_000
    raised = _forecast([{"kind": "unit_cost_change", "service": service,
                         "category": category, "percent": 10, "start": "2018-01-01"}])
    assert round(raised.lines.loc[line, "mean"], 2) == 36_500 + 0.10 * 100 * 90
    assert round(raised.lines.loc[("LAC Placements", "IFA"), "mean"], 2) == 18_250


def test_end_placements_by_count_ignores_case_and_spaces():
    ended = _forecast([{"kind": "end_placements", "service": "lac placements",
                        "category": "residential homes", "count": 1, "date": "2017-11-30"}])
    # 214 days to the 31 October as-at and 30 of November, at 100 a day
    assert round(ended.lines.loc[("LAC Placements", "Residential homes"), "mean"], 2) == 24_400


def test_a_line_named_nowhere_is_still_refused():
    with pytest.raises(ScenarioError, match="no line"):
        _forecast([{"kind": "savings", "service": "LAC Placements", "category": "Homes",
                    "amount": 1_000, "start": "2018-01-01"}])


def test_extra_placements_keep_their_stream_when_spelt_differently(sample, sample_models):
    line = ("LAC Placements", "Residential homes")
    runs = []
    for service, category in (line, ("lac placements", "residential  HOMES")):
        scenario = load_scenario({"name": "x", "changes": [
            {"kind": "extra_placements", "service": service, "category": category,
             "count": 3, "start": "2017-11-01", "unit_cost": 4_000}]})
        runs.append(fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                                        actuals=sample.actuals, simulations=200, seed=2,
                                        models=sample_models, scenario=scenario))
    np.testing.assert_array_equal(runs[0].outturns, runs[1].outturns)


class _AddToMarch:
    """A transformation of paths alone: a fixed sum added to one line in March."""

    def __init__(self, line, amount):
        self.line, self.amount = line, amount

    def transform_inputs(self, inputs: ForecastInputs) -> ForecastInputs:
        return inputs

    def transform_paths(self, paths: SimulatedPaths, context: SpendContext
                        ) -> SimulatedPaths:
        changed = paths.paths.copy()
        changed[paths.lines.get_loc(self.line), :, -1] += self.amount
        return replace(paths, paths=changed)

    def describe(self) -> list[str]:
        return [f"added {self.amount}"]


def test_any_transformation_goes_through_the_one_interface(sample, sample_models):
    inputs = ForecastInputs.prepare(sample.placements, sample.budget, sample.as_at,
                                    sample.actuals, models=sample_models)
    options = ForecastOptions(simulations=200, seed=4)
    base = outturn_from_inputs(inputs, options)
    line = ("LAC Placements", "Independent Fostering")
    added = _AddToMarch(line, 1_000.0)
    assert isinstance(added, Transformation) and isinstance(NO_CHANGE, Transformation)
    result = outturn_from_inputs(inputs, options, added)
    i = base.lines.index.get_loc(line)
    np.testing.assert_allclose(result.outturns[i] - base.outturns[i], 1_000.0)
    others = np.arange(len(base.lines)) != i
    np.testing.assert_array_equal(result.outturns[others], base.outturns[others])
    assert result.notes[-1] == "added 1000.0"
    # the public entry point is the same pipeline
    public = fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                                 actuals=sample.actuals, simulations=200, seed=4,
                                 models=sample_models)
    np.testing.assert_array_equal(public.outturns, base.outturns)


def test_a_scenario_is_a_transformation():
    scenario = load_scenario({"name": "s", "changes": [
        {"kind": "savings", "service": "LD", "category": "Res", "amount": 5,
         "start": "2018-01-01"}]})
    assert isinstance(scenario, Transformation)
    assert scenario.describe()[0] == "Scenario applied: s (1 changes)."
