"""compare: scenario runs spread over an executor give the same table."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pytest

from forecastlib.outturn import forecast_outturn
from forecastlib.scenarios import Scenario
from forecastlib.simulation import DemandModels
from forecastlib.whatif import compare


@pytest.fixture(scope="module")
def runs(sample):
    placements = sample.placements[sample.placements["service"] == "LAC Placements"]
    budget = sample.budget[sample.budget["service"] == "LAC Placements"]
    scenario = Scenario.model_validate({"name": "more homes", "changes": [
        {"kind": "extra_placements", "service": "LAC Placements",
         "category": "Residential homes", "count": 3, "start": "2017-12-01",
         "unit_cost": 4000}]})
    base = partial(forecast_outturn, placements, budget, sample.as_at, simulations=300,
                   seed=5,
                   models=DemandModels.fit(placements, sample.as_at))
    return base, partial(base, scenario=scenario)


def test_scenario_runs_give_the_same_table_wherever_they_run(runs):
    base, scenario = runs
    done = compare(base(), scenario(), names=["more homes"])
    assert done.loc[("more homes", "Total", ""), "delta_mean"] > 0
    here = compare(base, scenario, names=["more homes"])
    pd.testing.assert_frame_equal(here, done)
    with ThreadPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(compare(base, scenario, names=["more homes"],
                                              executor=pool), done)
    with ProcessPoolExecutor(2) as pool:
        pd.testing.assert_frame_equal(compare(base, scenario, names=["more homes"],
                                              executor=pool), done)
    # a finished base beside a run to do
    mixed = compare(base(), scenario, names=["more homes"], executor=None)
    np.testing.assert_array_equal(mixed.to_numpy(), done.to_numpy())
