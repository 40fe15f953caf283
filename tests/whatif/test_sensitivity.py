"""Sensitivity surface, tornado, Sobol indices and goal-seek."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import budget_book, moving_record

import forecastlib as fl

HOMES = ("LAC Placements", "Residential homes")


@pytest.fixture(scope="module")
def surface_case(sample, sample_models):
    models = sample_models
    result = fl.forecast_outturn(sample.placements, sample.budget, sample.as_at,
                                 actuals=sample.actuals, simulations=600, seed=2, models=models)
    surface = fl.OutturnSurface.from_forecast(result, sample.placements, models,
                                              simulations=600, seed=2)
    return models, result, surface


def test_surface_reproduces_the_forecast_and_moves_as_it_should(surface_case):
    _, result, surface = surface_case
    assert surface.total()[0] == pytest.approx(result.total["mean"], rel=1e-9)
    label = "LAC Placements / Residential homes"
    i = result.lines.index.get_loc(HOMES)
    prices = surface.evaluate({f"price|{label}": np.array([1.0, 1.1])})[:, i]
    remaining = prices[0] - result.lines.loc[HOMES, "actual_to_date"]
    assert prices[1] - prices[0] == pytest.approx(0.1 * remaining)
    stays = surface.evaluate({f"stay|{label}": np.array([0.8, 1.0, 1.2])})[:, i]
    assert stays[0] < stays[1] < stays[2]
    starts = surface.evaluate({f"starts|{label}": np.array([0.5, 1.5])})[:, i]
    assert starts[0] < stays[1] < starts[1]
    assert f"price|{label}" in surface.parameters() and "inflation" in surface.parameters()
    with pytest.raises(KeyError, match="unknown assumption"):
        surface.evaluate({"price|No / Line": np.array([1.0])})


def test_tornado_and_sobol_rank_the_assumptions(surface_case):
    _, _, surface = surface_case
    ranges = {"price|LAC Placements / Residential homes": (0.9, 1.1),
              "price|LAC Placements / Residential - disability": (0.9, 1.1),
              "stay|LAC Placements / Residential homes": (0.8, 1.2),
              "inflation": (-0.02, 0.02)}
    table = fl.tornado(surface, ranges)
    assert table.index[0] == "price|LAC Placements / Residential homes"
    assert (table["swing"].diff().dropna() <= 0).all()
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = fl.plot_tornado(table)
    assert len(ax.patches) == 2 * len(ranges)
    indices = fl.sobol_table(surface, ranges, samples=512)
    assert indices.index[0] == "price|LAC Placements / Residential homes"
    assert indices["first_order"].sum() == pytest.approx(1.0, abs=0.1)  # nearly additive
    assert (indices["total_order"] >= indices["first_order"] - 0.02).all()


def test_goal_seek_and_its_helpers(sample, surface_case):
    models, result, _ = surface_case
    assert fl.goal_seek(lambda x: x**2, 9.0, 0.0, 10.0) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="not reached"):
        fl.goal_seek(lambda x: x, 20.0, 0.0, 10.0)
    line = ("Older People", "Residential")
    extra = fl.placements_before_red(result, line, 700, "2017-11-01", 26)
    row = result.lines.loc[line]
    red_at = max(0.05 * row["budget"], 50_000)
    assert row["mean"] + extra * 700 / 7 * 151 - row["budget"] == pytest.approx(red_at)
    assert fl.placements_before_red(result, HOMES, 3000, "2017-11-01", 10) == 0.0
    target = ("In-house Fostering", "In-house residential")  # under budget in the sample
    share = fl.share_to_balance(sample.placements, sample.budget, sample.as_at, HOMES, target,
                                "2017-11-01", models=models, actuals=sample.actuals,
                                simulations=200, lines=[target])
    assert 0 < share < 1


def test_savings_delivery_is_an_assumption_with_a_savings_plan(sample, surface_case):
    models, result, _ = surface_case
    plan = fl.Scenario.model_validate({"name": "plan", "changes": [
        {"kind": "savings", "service": "Learning Disability", "category": "Residential",
         "amount": 365_000, "start": "2018-01-01"}]})
    surface = fl.OutturnSurface.from_forecast(result, sample.placements, models,
                                              simulations=200, seed=2, savings=plan)
    assert "savings" in surface.parameters()
    none, all_of_it = surface.total({"savings": np.array([0.0, 1.0])})
    assert none - all_of_it == pytest.approx(1000 * 90)
    table = fl.tornado(surface, {"savings": (0.0, 1.0)})
    assert table.loc["savings", "swing"] == pytest.approx(90_000)


def test_moved_in_cost_is_paid_at_the_receiving_lines_price_by_hand():
    index = pd.MultiIndex.from_tuples([("S", "A"), ("S", "B")],
                                      names=["service", "category"])
    grid = np.full((2, 11), 200.0)
    surface = fl.OutturnSurface(index, budget=np.zeros(2), actual=np.array([0.0, 100.0]),
                                known=np.zeros(2), open_grid=np.zeros((2, 11)), new_grid=grid,
                                new_years=np.zeros(2), moved_in=np.array([0.0, 500.0]))
    # B: 100 + 1.1 x (0 + 0 + 2 x 200 + 500) = 1090; A: 0 + 1 x (1 x 200) = 200
    values = {"price|S / B": np.array([1.1]), "starts|S / B": np.array([2.0])}
    np.testing.assert_allclose(surface.evaluate(values)[0], [200.0, 1090.0])
    # the moved-in 500 does not scale with B's own starts
    starts = surface.evaluate({"starts|S / B": np.array([0.0, 1.0])})[:, 1]
    np.testing.assert_allclose(starts, [600.0, 800.0])


def test_moved_in_cost_is_split_from_the_lines_own_new_starts():
    placements = moving_record()
    as_at = np.datetime64("2017-06-30")
    models = fl.DemandModels.fit(placements, as_at)
    budget = budget_book({"service": "LAC Placements", "category": "IFA",
                          "annual_budget": 1000})
    result = fl.forecast_outturn(placements, budget, as_at, simulations=300, seed=4,
                                 models=models)
    surface = fl.OutturnSurface.from_forecast(result, placements, models, simulations=300,
                                              seed=4)
    assert surface.total()[0] == pytest.approx(result.total["mean"], rel=1e-9)
    assert (surface.moved_in > 0).all()  # residential <-> fostering both ways
    # with no new starts of its own, a line still pays for the spells moving in
    label = {line: f"{line[0]} / {line[1]}" for line in surface.lines}
    none = surface.evaluate({f"starts|{name}": np.zeros(1) for name in label.values()})[0]
    assert (none - surface.actual - surface.known
            >= surface.moved_in + surface.open_grid[:, 5] - 1e-6).all()


